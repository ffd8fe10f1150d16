"""Typed, validated configuration: one frozen dataclass per component.

Values come, lowest precedence first, from the dataclass defaults, a YAML file (one mapping per
section: `server:`, `sandbox:`, `generation:`, `scoring:`, `training:`), environment overrides
(`CODEINSTRUCT_<SECTION>__<FIELD>`, see `codeinstruct.core.env`) and command-line flags. Unknown
keys are rejected with the section and key named, so a typo never passes silently.

Example:
    >>> from codeinstruct.core.config import ServerConfig, build
    >>> build(ServerConfig, "server", data={"server": {"port": 50061}}).port
    50061
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml

from codeinstruct.core import env
from codeinstruct.core.errors import InvalidInput

T = TypeVar("T")

SECTIONS = ("server", "sandbox", "generation", "scoring", "training", "pipelines")


def load_file(path: str | Path | None) -> dict[str, Any]:
    """Read a YAML config file (or the one named by CODEINSTRUCT_CONFIG); {} when there is none."""
    if path is None:
        path = env.config_path()
        if path is None:
            return {}
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"config file {str(path)!r} does not exist", field="config")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"config file {str(path)!r} is not valid YAML: {exc}", field="config") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"config file {str(path)!r} must hold a mapping of sections", field="config")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise InvalidInput(f"config file {str(path)!r} has unknown section(s) {unknown}; "
                           f"known: {list(SECTIONS)}", field="config")
    return data


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Turn a YAML/env/flag value into the field's declared type, or raise naming `where`."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        if isinstance(value, str) and value.lower() in {"none", "null"} and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        # `bool | dict[...] | tuple[...]`: the first type the value fits; the last one's error otherwise.
        for candidate in inner[:-1]:
            try:
                return _coerce(value, candidate, where)
            except InvalidInput:
                continue
        return _coerce(value, inner[-1], where)
    if origin is Literal:
        if value not in args:
            raise InvalidInput(f"{where} must be one of {list(args)}, got {value!r}", field=where)
        return value
    if origin in (tuple, list):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise InvalidInput(f"{where} must be a list, got {value!r}", field=where)
        item_type = args[0] if args else str
        items = [_coerce(v, item_type, where) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, Mapping):
            raise InvalidInput(f"{where} must be a mapping, got {value!r}", field=where)
        return dict(value)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.lower() in {"0", "false", "no", "off"}:
            return False
        raise InvalidInput(f"{where} must be true or false, got {value!r}", field=where)
    if annotation in (int, float):
        if isinstance(value, bool):
            raise InvalidInput(f"{where} must be a number, got {value!r}", field=where)
        try:
            number = annotation(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{where} must be {annotation.__name__}, got {value!r}", field=where) from None
        if annotation is int and isinstance(value, float) and value != number:
            raise InvalidInput(f"{where} must be a whole number, got {value!r}", field=where)
        return number
    if annotation is Path:
        return Path(str(value)).expanduser()
    if annotation is str:
        if isinstance(value, (dict, list)):
            raise InvalidInput(f"{where} must be a string, got {value!r}", field=where)
        return str(value)
    return value


def build(cls: type[T], section: str, *, data: Mapping[str, Any] | None = None,
          overrides: Mapping[str, Any] | None = None, use_env: bool = True, origin: str = "flag") -> T:
    """Build config dataclass `cls` for `section` of the parsed file `data`, the environment and flags.

    `overrides` are flag values; entries whose value is None (a flag not given) are ignored. A field
    whose type is itself a config dataclass is a nested section (`generation.engine`,
    `generation.evol`): its file value is a mapping, its overrides a mapping (or a built instance),
    its environment variables `CODEINSTRUCT_<SECTION>_<FIELD>__<KEY>`. `origin` names where the
    overrides came from in error messages ("flag", "request").
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    return _build(cls, section, section, (data or {}).get(section) or {}, overrides or {}, use_env, origin)


def _build(cls: type[T], where: str, env_name: str, section_data: Any, overrides: Mapping[str, Any],
           use_env: bool, origin: str = "flag") -> T:
    shorthand = getattr(cls, "SHORTHAND", None)
    if isinstance(section_data, str) and shorthand:  # `engine: vllm` means `engine: {engine: vllm}`
        section_data = {shorthand: section_data}
    if not isinstance(section_data, Mapping):
        raise InvalidInput(f"config section {where!r} must be a mapping, got {section_data!r}", field=where)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    nested = {name for name in fields if dataclasses.is_dataclass(hints[name])}
    merged: dict[str, Any] = {}
    layers: list[tuple[str, Mapping[str, Any]]] = [("file", section_data)]
    if use_env:
        layers.append(("environment", env.section_overrides(env_name)))
    layers.append((origin, {k: v for k, v in overrides.items() if v is not None}))
    presets = getattr(cls, "PRESETS", None)
    if presets:
        layers = _with_preset(layers, presets, where)
    for origin, layer in layers:
        for key, value in layer.items():
            if not isinstance(key, str) or key not in fields:
                raise InvalidInput(f"unknown {where} setting {key!r} (from {origin}); "
                                   f"known: {sorted(fields)}", field=f"{where}.{key}")
            if key in nested and origin == "environment":
                raise InvalidInput(f"{where}.{key} is a section: set its fields with "
                                   f"{env.PREFIX}{env_name.upper()}_{key.upper()}__<FIELD>", field=f"{where}.{key}")
            if key not in nested:
                merged[key] = _coerce(value, hints[key], f"{where}.{key}")
    for key in nested:
        flag = overrides.get(key)
        if isinstance(flag, hints[key]):
            merged[key] = flag  # a built section given whole
            continue
        if flag is not None and not isinstance(flag, Mapping):
            raise InvalidInput(f"{where}.{key} is a section: give a mapping of its fields, got {flag!r} "
                               f"(from {origin})", field=f"{where}.{key}")
        merged[key] = _build(hints[key], f"{where}.{key}", f"{env_name}_{key}", section_data.get(key) or {},
                             flag or {}, use_env, origin)
    try:
        return cls(**merged)
    except InvalidInput:
        raise
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"invalid {where} config: {exc}", field=where) from exc


def _with_preset(layers: list[tuple[str, Mapping[str, Any]]], presets: Mapping[str, Mapping[str, Any]],
                 where: str) -> list[tuple[str, Mapping[str, Any]]]:
    """A section with `PRESETS` (`training.preset`): the named preset's values go just under the
    highest layer that names it, so that layer's own values (and every higher layer's) win."""
    for index in range(len(layers) - 1, -1, -1):
        origin, layer = layers[index]
        if "preset" not in layer:
            continue
        name = layer["preset"]
        if not name:
            return layers
        if name not in presets:
            raise InvalidInput(f"unknown {where}.preset {name!r} (from {origin}); known: {sorted(presets)}",
                               field=f"{where}.preset")
        return [*layers[:index], (f"preset {name}", presets[name]), *layers[index:]]
    return layers


def to_mapping(config: Any, *, secrets: bool = False) -> dict[str, Any]:
    """A config dataclass as plain YAML/JSON values that `build` reads back to an equal object.

    Fields marked `metadata={"secret": True}` (tokens, API keys) are left out unless `secrets`: they
    come from the environment of whichever process rebuilds the config, never from a job spec.
    """
    return {f.name: _plain(getattr(config, f.name), secrets) for f in dataclasses.fields(config)
            if secrets or not f.metadata.get("secret")}


def _plain(value: Any, secrets: bool) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_mapping(value, secrets=secrets)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, secrets) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v, secrets) for k, v in value.items()}
    return value


def updated(config: T, section: str, overrides: Mapping[str, Any], *, origin: str = "flag") -> T:
    """`config` with `overrides` (a mapping, nested for nested sections) applied and validated again.

    The environment is not read again: `config` already holds it. `origin` is named in errors.
    """
    return build(type(config), section, data={section: to_mapping(config, secrets=True)}, overrides=overrides,
                 use_env=False, origin=origin)


def check(condition: bool, where: str, message: str) -> None:
    """`__post_init__` helper: raise InvalidInput naming the field when `condition` is false."""
    if not condition:
        raise InvalidInput(f"{where}: {message}", field=where)


def describe(cls: type) -> list[tuple[str, str, str]]:
    """(name, default, help) for every field: used by `--help` texts and the docs."""
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else "")
        rows.append((f.name, repr(default), str(f.metadata.get("help", ""))))
    return rows


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Settings every gRPC server shares (section `server`)."""

    host: str = dataclasses.field(default="0.0.0.0", metadata={"help": "address to bind"})
    port: int = dataclasses.field(default=0, metadata={
        "help": "port to bind; 0 takes the service's default port (or a free one in tests)"})
    max_workers: int = dataclasses.field(default=16, metadata={"help": "RPC handler threads"})
    max_message_mb: int = dataclasses.field(default=64, metadata={
        "help": "largest request/response message in MiB (larger payloads must stream)"})
    grace_period_s: float = dataclasses.field(default=20.0, metadata={
        "help": "seconds in-flight RPCs get after SIGTERM before the server stops"})
    drain_delay_s: float = dataclasses.field(default=0.0, metadata={
        "help": "seconds to stay up reporting NOT_SERVING before stopping, so load balancers drain"})
    reflection: bool = dataclasses.field(default=True, metadata={"help": "serve gRPC reflection"})
    metrics_port: int = dataclasses.field(default=0, metadata={
        "help": "Prometheus /metrics HTTP port; 0 disables"})
    auth_token: str | None = dataclasses.field(default=None, metadata={
        "secret": True, "help": "bearer token required on every RPC but health/reflection (default: "
                "CODEINSTRUCT_AUTH_TOKEN; unset: no auth)"})
    tls_cert: Path | None = dataclasses.field(default=None, metadata={
        "help": "PEM certificate chain; with tls_key enables TLS (default: CODEINSTRUCT_TLS_CERT)"})
    tls_key: Path | None = dataclasses.field(default=None, metadata={"help": "PEM private key"})

    def __post_init__(self) -> None:
        check(0 <= self.port <= 65535, "server.port", f"must be 0..65535, got {self.port}")
        check(0 <= self.metrics_port <= 65535, "server.metrics_port", f"must be 0..65535, got {self.metrics_port}")
        check(1 <= self.max_workers <= 1024, "server.max_workers", f"must be 1..1024, got {self.max_workers}")
        check(1 <= self.max_message_mb <= 1024, "server.max_message_mb",
              f"must be 1..1024, got {self.max_message_mb}")
        check(self.grace_period_s >= 0, "server.grace_period_s", f"must be >= 0, got {self.grace_period_s}")
        check(self.drain_delay_s >= 0, "server.drain_delay_s", f"must be >= 0, got {self.drain_delay_s}")
        check((self.tls_cert is None) == (self.tls_key is None), "server.tls_cert",
              "tls_cert and tls_key must be given together")
        if self.auth_token is None and env.auth_token():
            object.__setattr__(self, "auth_token", env.auth_token())
        if self.tls_cert is None and self.tls_key is None:
            cert, key = env.tls_files()
            if cert and key:
                object.__setattr__(self, "tls_cert", cert)
                object.__setattr__(self, "tls_key", key)

    @property
    def max_message_bytes(self) -> int:
        return self.max_message_mb * 1024 * 1024
