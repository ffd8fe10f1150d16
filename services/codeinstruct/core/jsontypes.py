"""Types of the JSON-shaped values that cross service interfaces (seeds, request settings, job
specs and results): what a JSON document can hold, so no `Any` crosses a seam."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = Mapping[str, JsonValue]


def whole_numbers(value: Any) -> Any:
    """`value` with whole floats turned back into ints, at any depth.

    A protobuf Struct (request settings, KFP artifact metadata) stores every number as a double, so
    counts, rounds and indexes come back as 3.0; this gives them back as 3.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    return value
