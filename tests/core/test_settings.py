"""Settings: every section typed and nested, built once; round trips without secrets; fingerprints."""

from __future__ import annotations

import dataclasses

import pytest

from codeinstruct.core.config import to_mapping, updated
from codeinstruct.core.errors import InvalidInput
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.settings import Settings, merge_mappings
from codeinstruct.training.config import TrainingConfig


def test_nested_sections_come_from_file_environment_and_flags(monkeypatch: pytest.MonkeyPatch,
                                                              clean_env: None) -> None:
    data = {"generation": {"engine": "vllm", "evol": {"rounds": 3}},
            "scoring": {"engine": {"model": "/models/judge"}},
            "training": {"jobs": {"kubernetes": {"namespace": "ml"}}, "eval": {"max_tokens": 7}}}
    monkeypatch.setenv("CODEINSTRUCT_GENERATION_EVOL__TEMPERATURE", "0.5")
    monkeypatch.setenv("CODEINSTRUCT_GENERATION_ENGINE__BATCH_SIZE", "3")
    settings = Settings.from_mapping(data, overrides={"generation": {"evol": {"rounds": 4}}})
    assert settings.generation.engine.engine == "vllm" and settings.generation.engine.batch_size == 3
    assert (settings.generation.evol.rounds, settings.generation.evol.temperature) == (4, 0.5)
    assert settings.scoring.engine.model == "/models/judge" and settings.generation.inverse.samples == 10
    assert settings.training.jobs.kubernetes.namespace == "ml" and settings.training.eval.max_tokens == 7


@pytest.mark.parametrize("data, field", [
    ({"generation": {"evol": {"roundz": 2}}}, "generation.evol.roundz"),
    ({"generation": {"semi": {"prompting": "chatty"}}}, "generation.semi.prompting"),
    ({"generation": {"evol": {"heuristics": ["faster"]}}}, "generation.evol.heuristics"),
    ({"training": {"jobs": {"kubernetes": {"gpus": -1}}}}, "training.jobs.kubernetes.gpus"),
    ({"training": {"k8s_namespace": "ml"}}, "training.k8s_namespace"),
    ({"sever": {}}, "config"),
])
def test_bad_values_name_the_nested_field(data: dict, field: str, clean_env: None) -> None:
    with pytest.raises(InvalidInput) as info:
        Settings.from_mapping(data)
    assert info.value.field == field


def test_a_nested_section_cannot_be_set_whole_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                                   clean_env: None) -> None:
    monkeypatch.setenv("CODEINSTRUCT_GENERATION__EVOL", "3")
    with pytest.raises(InvalidInput, match="CODEINSTRUCT_GENERATION_EVOL__"):
        Settings.from_mapping({})


def test_to_mapping_round_trips_without_secrets(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> None:
    data = {"generation": {"engine": {"engine": "openai", "base_url": "http://x:1/v1", "api_key": "k3y"},
                           "wavecoder": {"tasks": ["repair"]}},
            "server": {"auth_token": "t0ken"}, "training": {"jobs": {"jobs_dir": "/tmp/j"}}}
    settings = Settings.from_mapping(data, use_env=False)
    plain = settings.to_mapping()
    assert "k3y" not in repr(plain) and "t0ken" not in repr(plain)
    again = Settings.from_mapping(plain, use_env=False)
    assert again.generation.wavecoder == settings.generation.wavecoder
    assert again.training == settings.training
    assert again.generation.engine.api_key == "" and again.server.auth_token is None
    # updated() keeps the secrets of the section it changes
    changed = updated(settings.generation, "generation", {"inverse": {"samples": 2}})
    assert changed.engine.api_key == "k3y" and changed.inverse.samples == 2 and changed.evol == settings.generation.evol


def test_demo_style_defaults_merge_key_by_key(tmp_path, clean_env: None) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("generation:\n  inverse: {max_tokens: 99}\n")
    preset = {"generation": {"inverse": {"samples": 2}, "max_tokens": 320}}
    settings = Settings.load(config, defaults=preset)
    assert (settings.generation.inverse.samples, settings.generation.inverse.max_tokens) == (2, 99)
    assert settings.source == merge_mappings(preset, {"generation": {"inverse": {"max_tokens": 99}}})


def test_a_methods_fingerprint_is_its_section_and_the_shared_fields_it_reads() -> None:
    base = GenerationConfig()
    other_method = dataclasses.replace(base, wavecoder=dataclasses.replace(base.wavecoder, temperature=0.1))
    assert other_method.method_settings("inverse_instruct") == base.method_settings("inverse_instruct")
    assert other_method.method_settings("wavecoder") != base.method_settings("wavecoder")
    answers = dataclasses.replace(base, answer_temperature=0.9)
    assert answers.method_settings("evol_instruct") != base.method_settings("evol_instruct")
    assert answers.method_settings("semi_instruct") == base.method_settings("semi_instruct")


def test_training_fingerprint_leaves_out_run_time_and_service_settings() -> None:
    base = TrainingConfig()
    runtime = updated(base, "training", {"max_steps": 5, "save_every_steps": 3, "num_threads": 2,
                                         "jobs": {"backend": "kubernetes"}, "eval": {"max_tokens": 9}})
    assert runtime.fingerprint_settings() == base.fingerprint_settings()
    assert updated(base, "training", {"learning_rate": 0.1}).fingerprint_settings() != base.fingerprint_settings()
    assert set(base.fingerprint_settings()) <= set(to_mapping(base)) - {"jobs", "eval", "stages", "max_steps"}
