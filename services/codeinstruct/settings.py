"""`Settings`: every config section as one typed object, built once at an entrypoint and passed down.

The command line (`--config FILE`), `codeinstruct serve`, a KFP component (`steps.parse_config`) and a
training worker (its job spec) each build one `Settings`; everything below them receives the typed
section it needs (`settings.generation`, `settings.sandbox.` ...), never the parsed YAML.
Values come, lowest precedence first, from the dataclass defaults, the YAML file, the environment
(`CODEINSTRUCT_<SECTION>__<FIELD>`, nested sections `CODEINSTRUCT_<SECTION>_<NESTED>__<FIELD>`) and
flags (`overrides`).

Example:
    >>> from codeinstruct.settings import Settings
    >>> settings = Settings.from_mapping({"generation": {"evol": {"rounds": 2}}}, use_env=False)
    >>> settings.generation.evol.rounds, settings.generation.engine.model
    (2, 'default')
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from codeinstruct.core.config import SECTIONS, ServerConfig, build, load_file, to_mapping
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.training.config import TrainingConfig


@dataclasses.dataclass(frozen=True)
class Settings:
    """All configuration of one process, as typed sections (the YAML file's top-level keys)."""

    server: ServerConfig = dataclasses.field(default_factory=ServerConfig)
    sandbox: SandboxConfig = dataclasses.field(default_factory=SandboxConfig)
    generation: GenerationConfig = dataclasses.field(default_factory=GenerationConfig)
    scoring: ScoringConfig = dataclasses.field(default_factory=ScoringConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    pipelines: PipelinesConfig = dataclasses.field(default_factory=PipelinesConfig)
    # The parsed YAML these settings were built from (before the environment and flags): what a local
    # pipeline run hands its steps as `config_yaml`, so each step rebuilds the same settings.
    source: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None = None, *,
                     overrides: Mapping[str, Mapping[str, Any]] | None = None, use_env: bool = True) -> Settings:
        """Settings from parsed YAML (`{section: {...}}`), the environment and per-section flag overrides."""
        data = dict(data or {})
        unknown = sorted(set(data) - set(SECTIONS))
        if unknown:
            raise InvalidInput(f"unknown config section(s) {unknown}; known: {list(SECTIONS)}", field="config")
        overrides = overrides or {}
        types = typing.get_type_hints(cls)
        sections = {name: build(types[name], name, data=data, overrides=overrides.get(name), use_env=use_env)
                    for name in SECTIONS}
        return cls(**sections, source=data)

    @classmethod
    def load(cls, path: str | Path | None = None, *, defaults: Mapping[str, Any] | None = None,
             overrides: Mapping[str, Mapping[str, Any]] | None = None) -> Settings:
        """Settings from a YAML file (default: CODEINSTRUCT_CONFIG, else none) merged key by key over
        `defaults` (a preset such as the demo's), then the environment and `overrides`."""
        return cls.from_mapping(merge_mappings(defaults or {}, load_file(path)), overrides=overrides)

    def to_mapping(self) -> dict[str, Any]:
        """Plain values (no secrets) that `from_mapping` turns back into equal settings: what a job spec,
        a pipeline's `config_yaml` or a child process is handed."""
        return {name: to_mapping(getattr(self, name)) for name in SECTIONS}

    def replace(self, **sections: Any) -> Settings:
        return dataclasses.replace(self, **sections)


def merge_mappings(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override`'s keys replace `base`'s, nested mappings merged key by key."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in base.items()}
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_mappings(out[key], value)
        else:
            out[key] = value
    return out

