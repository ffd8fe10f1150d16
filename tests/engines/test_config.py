"""EngineConfig and SamplingParams validation (fast)."""

import pytest

from codeinstruct.core.config import build
from codeinstruct.core.errors import InvalidInput
from codeinstruct.engines import EngineConfig, SamplingParams
from codeinstruct.engines.base import derive_seed, per_prompt, truncate_at_stop
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.scoring.config import ScoringConfig


def engine_config(data, section="generation"):
    """The nested engine section of `section` (generation or scoring), as an entrypoint's Settings builds it."""
    cls = GenerationConfig if section == "generation" else ScoringConfig
    return build(cls, section, data=data).engine


def test_engine_config_reads_the_nested_mapping_of_a_section():
    data = {"generation": {"engine": {"model": "/models/x", "batch_size": 4}},
            "scoring": {"engine": "openai"}}
    cfg = engine_config(data, "generation")
    assert (cfg.engine, cfg.model, cfg.batch_size) == ("transformers", "/models/x", 4)
    with pytest.raises(InvalidInput, match="base_url"):
        engine_config(data, "scoring")  # shorthand accepted, then validated


def test_engine_config_env_override(monkeypatch):
    monkeypatch.setenv("CODEINSTRUCT_SCORING_ENGINE__BATCH_SIZE", "32")
    assert engine_config({}, "scoring").batch_size == 32


def test_engine_config_rejects_unknown_and_bad_values():
    with pytest.raises(InvalidInput, match="modle"):
        engine_config({"generation": {"engine": {"modle": "x"}}})
    with pytest.raises(InvalidInput, match=r"engine\.batch_size"):
        EngineConfig(batch_size=0)
    with pytest.raises(InvalidInput, match="engine"):
        engine_config({"generation": {"engine": {"engine": "tgi"}}})


def test_public_dict_hides_the_api_key():
    cfg = EngineConfig(engine="openai", base_url="http://127.0.0.1:1/v1", api_key="secret")
    assert "api_key" not in cfg.public_dict()
    assert "secret" not in repr(cfg.public_dict())


def test_sampling_params_validation_names_the_field():
    with pytest.raises(InvalidInput, match=r"sampling\.top_p"):
        SamplingParams(top_p=0)
    with pytest.raises(InvalidInput, match=r"sampling\.stop"):
        SamplingParams(stop=("",))
    assert SamplingParams(stop=["a"]).stop == ("a",)  # type: ignore[arg-type]


def test_sample_seeds_are_distinct_and_stable():
    params = SamplingParams(temperature=1.0, seed=5, n=3)
    seeds = [params.sample_seed(i) for i in range(3)]
    assert len(set(seeds)) == 3
    assert seeds == [SamplingParams(temperature=1.0, seed=5, n=3).sample_seed(i) for i in range(3)]
    assert SamplingParams().sample_seed(0) is None
    assert derive_seed(0, "a") != derive_seed(0, "b")


def test_per_prompt_and_stop_truncation():
    assert len(per_prompt(SamplingParams(), 3)) == 3
    with pytest.raises(InvalidInput, match="2 sampling params for 3 prompts"):
        per_prompt([SamplingParams(), SamplingParams()], 3)
    assert truncate_at_stop("abc\n\ndef", ("\n\n", "d")) == "abc"
    assert truncate_at_stop("abc", ()) == "abc"
