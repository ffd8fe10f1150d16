"""JSON Schema of the config file, generated from the typed settings (`Settings` and its sections).

The Helm chart validates its `config` values (and each `services.<name>.config`) with this schema, so
a misplaced key (`config.generation.model`) or a value outside a `Literal` (`engine: vlm`) fails at
`helm template` / `helm install` instead of as a crash loop. The schema is checked in as part of
`charts/codeinstruct/values.schema.json` (`$defs.configSections` and the `$defs["settings.<Class>"]` it
refers to); tests/deploy/test_values_schema.py fails when it is stale. Regenerate with:

    python -m codeinstruct.settings_schema charts/codeinstruct/values.schema.json

What the schema checks: section and field names (unknown ones are rejected), types, `Literal`
choices and the engine shorthand (`engine: vllm`). Range checks (`__post_init__`) stay with the
application. `$defs["settings.engine.engine"]` and `["settings.engine.dtype"]` are the engine's
choices, for the chart's own `model` values. Secret fields (`server.auth_token`, `engine.api_key`)
are left out on purpose: they come from Secrets through the environment, never from the ConfigMap.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from codeinstruct.core.config import SECTIONS
from codeinstruct.engines.config import EngineConfig
from codeinstruct.settings import Settings

PREFIX = "settings."  # the schemas of the config dataclasses are $defs["settings.<Class>"]


def type_schema(annotation: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of one field type (the types `core.config._coerce` accepts)."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [type_schema(a, defs) for a in args if a is not type(None)]
        if type(None) in args:
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (tuple, list):
        items = type_schema(args[0], defs) if args and args[0] is not Any else {}
        # A comma-separated string is a list too (the form environment variables use).
        return {"anyOf": [{"type": "array", "items": items}, {"type": "string"}]}
    if origin is dict:
        value = args[1] if len(args) == 2 else Any
        return {"type": "object", "additionalProperties": {} if value is Any else type_schema(value, defs)}
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return section_ref(annotation, defs)
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is float:
        return {"type": "number"}
    if annotation in (str, Path):
        return {"type": "string"}
    if annotation is Any:
        return {}
    raise TypeError(f"no JSON Schema for config type {annotation!r}")


def section_ref(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    """A `$ref` to the schema of config dataclass `cls`, adding it (and its nested sections) to `defs`."""
    name = PREFIX + cls.__name__
    ref = {"$ref": f"#/$defs/{name}"}
    if name in defs:
        return ref
    defs[name] = {}  # reserve the name first: nested sections may refer back
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.metadata.get("secret"):
            continue
        field_schema = type_schema(hints[f.name], defs)
        help_text = f.metadata.get("help")
        properties[f.name] = ({**field_schema, "description": help_text} if help_text and "$ref" not in field_schema
                              else field_schema)
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if cls.__doc__:
        schema["description"] = " ".join(cls.__doc__.split())
    shorthand = getattr(cls, "SHORTHAND", None)
    if shorthand:  # `engine: vllm` in a file means `engine: {engine: vllm}`
        schema = {"anyOf": [schema, type_schema(hints[shorthand], defs)]}
    defs[name] = schema
    return ref


def config_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """(schema of the whole config mapping, the section schemas it refers to by name)."""
    defs: dict[str, Any] = {}
    hints = typing.get_type_hints(Settings)
    properties = {section: section_ref(hints[section], defs) for section in SECTIONS}
    # The chart's `model` values (engine, dtype) take the engine's choices.
    engine_hints = typing.get_type_hints(EngineConfig)
    for field_name in ("engine", "dtype"):
        defs[f"{PREFIX}engine.{field_name}"] = type_schema(engine_hints[field_name], defs)
    root = {"type": "object", "additionalProperties": False, "properties": properties,
            "description": "application config (/etc/codeinstruct/config.yaml): one mapping per section, "
                           "generated from codeinstruct.settings by codeinstruct.settings_schema"}
    return root, dict(sorted(defs.items()))


def update_values_schema(values_schema: dict[str, Any]) -> dict[str, Any]:
    """`values_schema` (the chart's) with `$defs.configSections` and `$defs["settings.*"]` generated afresh."""
    root, defs = config_schema()
    kept = {k: v for k, v in values_schema.get("$defs", {}).items() if not k.startswith(PREFIX)}
    return {**values_schema, "$defs": {**kept, "configSections": root, **defs}}


def render(values_schema: dict[str, Any]) -> str:
    return json.dumps(update_values_schema(values_schema), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codeinstruct.settings_schema", description=__doc__.split("\n")[0])
    parser.add_argument("values_schema", type=Path, help="the chart's values.schema.json, updated in place")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is not up to date; write nothing")
    args = parser.parse_args(argv)
    current = args.values_schema.read_text(encoding="utf-8")
    fresh = render(json.loads(current))
    if args.check:
        return 0 if fresh == current else 1
    args.values_schema.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
