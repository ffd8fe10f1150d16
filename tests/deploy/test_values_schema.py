"""The `config` part of values.schema.json is generated from the typed settings and rejects what the
application would reject at start-up: misplaced keys, enum typos, secrets in the ConfigMap."""

from __future__ import annotations

import json

import pytest

from codeinstruct import settings_schema
from codeinstruct.settings import Settings
from tests.deploy.deploy_support import CHART, render, render_error, skip_without_helm

SCHEMA = CHART / "values.schema.json"


def test_checked_in_schema_is_generated_from_the_current_settings() -> None:
    current = SCHEMA.read_text()
    assert settings_schema.render(json.loads(current)) == current, (
        "values.schema.json is stale: run "
        "`python -m codeinstruct.settings_schema charts/codeinstruct/values.schema.json`")


def test_every_section_and_field_of_the_settings_is_in_the_schema() -> None:
    root, defs = settings_schema.config_schema()
    assert set(root["properties"]) == set(Settings().to_mapping())
    engine = defs["settings.EngineConfig"]["anyOf"][0]["properties"]
    assert engine["engine"]["enum"] == ["transformers", "vllm", "openai"]
    assert "api_key" not in engine  # secrets come from Secrets, never from the ConfigMap
    assert "auth_token" not in defs["settings.ServerConfig"]["properties"]



@pytest.mark.requires_helm
@skip_without_helm
@pytest.mark.parametrize(("key", "value", "message"), [
    ("config.generation.model", "x", "at '/config/generation': additional properties 'model' not allowed"),
    ("config.generation.engine.engine", "vlm", "value must be one of 'transformers', 'vllm', 'openai'"),
    ("config.scoring.engine", "vlm", "at '/config/scoring/engine'"),
    ("services.scoring.config.scoring.engin.model", "x", "additional properties 'engin' not allowed"),
    ("config.sandbox.isolation", "ful", "at '/config/sandbox/isolation'"),
    ("config.training.dtype", "float16", "at '/config/training/dtype'"),
    ("config.sandbox.workers", "two", "at '/config/sandbox/workers'"),
    ("config.scoring.engine.api_key", "sk-x", "additional properties 'api_key' not allowed"),
])
def test_config_values_are_checked_against_the_settings(key: str, value: str, message: str) -> None:
    error = render_error(set_values={key: value})
    assert "values don't meet the specifications of the schema" in error
    assert message in error


@pytest.mark.requires_helm
@skip_without_helm
def test_the_engine_shorthand_and_nested_sections_are_accepted() -> None:
    objects = render(set_values={"config.generation.engine": "transformers", "config.generation.evol.rounds": "2",
                                 "config.training.jobs.kubernetes.num_nodes": "2"}).objects
    assert objects
