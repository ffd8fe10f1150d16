"""Types of the JSON-shaped values that cross service interfaces (seeds, request settings, job
specs and results): what a JSON document can hold, so no `Any` crosses a seam."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = Mapping[str, JsonValue]
