"""Training recipes: the optimizer (AdamW, Adafactor), warmup in steps, the effective batch size, the
InverseCoder paper preset, and a ranked dataset keeping its order unless shuffling is asked for."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from codeinstruct.core.config import build, to_mapping, updated
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.settings import Settings
from codeinstruct.training import checkpoints
from codeinstruct.training.config import TrainingConfig
from codeinstruct.training.data import ranked_by
from codeinstruct.training.trainer import train
from tests.support.training import make_records

PAPER = {"mode": "full", "optimizer": "adafactor", "learning_rate": 5e-5, "warmup_steps": 15,
         "lr_scheduler": "linear", "effective_batch_size": 512, "max_length": 1024}


def tiny(model: Path, **overrides) -> TrainingConfig:
    values = {"model": str(model), "batch_size": 4, "learning_rate": 1e-2, "epochs": 2, "num_threads": 1,
              "save_every_steps": 100, "lora_r": 4}
    values.update(overrides)
    return TrainingConfig(**values)


def ranked_records(n: int = 8) -> list[Record]:
    records = make_records(n)
    for i, record in enumerate(records):
        record.scores["n_tests"] = n - i  # what scoring.ranking.rank(by="n_tests") gives: most tests first
    return records


# -- settings ----------------------------------------------------------------------------------------

def test_warmup_steps_and_ratio_together_are_refused() -> None:
    with pytest.raises(InvalidInput, match="not both") as info:
        TrainingConfig(warmup_steps=10, warmup_ratio=0.1)
    assert info.value.field == "training.warmup_steps"


def test_effective_batch_size_derives_the_accumulation() -> None:
    config = TrainingConfig(batch_size=4, effective_batch_size=32)
    assert config.accumulation_steps() == 8 and config.accumulation_steps(world=2) == 4
    assert TrainingConfig(batch_size=4, gradient_accumulation_steps=3).accumulation_steps() == 3
    with pytest.raises(InvalidInput, match="not a multiple of batch_size 4") as info:
        TrainingConfig(batch_size=4, effective_batch_size=30)
    assert info.value.field == "training.effective_batch_size"
    with pytest.raises(InvalidInput, match="not both"):
        TrainingConfig(batch_size=4, effective_batch_size=32, gradient_accumulation_steps=2)
    with pytest.raises(InvalidInput, match="3 process"):
        config.accumulation_steps(world=3)


def test_recipe_fields_change_the_fingerprint_and_the_preset_name_does_not() -> None:
    base = TrainingConfig().fingerprint_settings()
    for change in ({"optimizer": "adafactor"}, {"warmup_steps": 5}, {"effective_batch_size": 16}):
        assert TrainingConfig(**change).fingerprint_settings() != base
    assert "preset" not in base


def test_the_paper_preset_fills_what_the_file_does_not_set() -> None:
    config = Settings.from_mapping({"training": {"preset": "inverse_instruct_paper"}}, use_env=False).training
    assert {k: getattr(config, k) for k in PAPER} == PAPER and config.accumulation_steps() == 128
    own = Settings.from_mapping({"training": {"preset": "inverse_instruct_paper", "learning_rate": 2e-5,
                                              "batch_size": 8}}, use_env=False).training
    assert own.learning_rate == 2e-5 and own.optimizer == "adafactor" and own.accumulation_steps() == 64
    paper_8 = TrainingConfig.with_preset("inverse_instruct_paper", batch_size=8)
    assert paper_8 == dataclasses.replace(own, learning_rate=5e-5)
    # a preset named in request overrides (gRPC, job specs: `updated`) applies over the current settings
    applied = updated(TrainingConfig(learning_rate=1e-3), "training", {"preset": "inverse_instruct_paper"})
    assert applied.learning_rate == 5e-5 and applied.mode == "full"
    # what a job spec carries rebuilds the same settings
    assert build(TrainingConfig, "training", data={"training": to_mapping(own)}, use_env=False) == own


def test_an_unknown_preset_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput, match=r"unknown training\.preset 'inverse_paper'.*inverse_instruct_paper") as info:
        Settings.from_mapping({"training": {"preset": "inverse_paper"}}, use_env=False)
    assert info.value.field == "training.preset"
    with pytest.raises(InvalidInput, match="unknown preset 'nope'"):
        TrainingConfig(preset="nope")


def test_a_preset_setting_conflicting_with_the_file_is_named() -> None:
    with pytest.raises(InvalidInput, match="not both") as info:
        Settings.from_mapping({"training": {"preset": "inverse_instruct_paper", "warmup_ratio": 0.1}}, use_env=False)
    assert info.value.field == "training.warmup_steps"


# -- the trainer -------------------------------------------------------------------------------------

def test_adafactor_with_warmup_steps_trains_and_resumes_exactly(tiny_model: Path, tmp_path: Path) -> None:
    config = tiny(tiny_model, mode="full", optimizer="adafactor", learning_rate=1e-3, warmup_steps=2,
                  save_every_steps=2)
    reference = train(make_records(8), tmp_path / "reference", config)
    lrs = [row["learning_rate"] for row in reference["losses"]]
    assert reference["steps"] == 4 and lrs[:3] == pytest.approx([0.0, 5e-4, 1e-3]) and lrs[3] < 1e-3
    state = torch.load(checkpoints.latest(tmp_path / "reference") / "optimizer.pt", weights_only=False)["state"]
    assert any("exp_avg_sq_row" in s for s in state.values())  # Adafactor's factored second moments

    first = train(make_records(8), tmp_path / "resumed", dataclasses.replace(config, max_steps=2))
    assert first["steps"] == 2
    resumed = train(make_records(8), tmp_path / "resumed", config)
    assert resumed["resumed_from"].endswith("step-000002")
    assert [r["loss"] for r in resumed["losses"]] == pytest.approx([r["loss"] for r in reference["losses"]],
                                                                   rel=1e-6)


def test_effective_batch_size_trains_like_the_same_accumulation(tiny_model: Path, tmp_path: Path) -> None:
    by_effective = train(make_records(8), tmp_path / "a", tiny(tiny_model, effective_batch_size=8, shuffle=True))
    by_steps = train(make_records(8), tmp_path / "b", tiny(tiny_model, gradient_accumulation_steps=2, shuffle=True))
    assert by_effective["steps"] == by_steps["steps"] == 2
    assert by_effective["stages"][0]["accumulation_steps"] == 2
    assert [r["loss"] for r in by_effective["losses"]] == [r["loss"] for r in by_steps["losses"]]


# -- ranked data keeps its order -----------------------------------------------------------------------

def test_ranked_by_recognises_a_curriculum_order() -> None:
    assert ranked_by(ranked_records()) == "n_tests"
    assert ranked_by(list(reversed(ranked_records()))) is None  # ascending is not a ranking's order
    constant = make_records(4)
    for record in constant:
        record.scores["n_tests"] = 3
    assert ranked_by(constant) is None  # a constant score orders nothing
    tail = ranked_records(4) + make_records(2, tag="u")  # records without the score go last
    assert ranked_by(tail) == "n_tests" and ranked_by(tail[-1:] + tail[:-1]) is None
    by_lm = make_records(3)
    for record, score in zip(by_lm, (0.9, 0.5, 0.1), strict=True):
        record.scores["lm_score"] = score
    assert ranked_by(by_lm) == "lm_score"
    positioned = make_records(3)
    for i, record in enumerate(positioned):
        record.scores["rank"] = i + 1
    assert ranked_by(positioned) == "rank" and ranked_by(make_records(5)) is None


def test_a_ranked_dataset_keeps_its_order_unless_shuffling_is_asked(tiny_model: Path, tmp_path: Path) -> None:
    assert TrainingConfig().shuffle is None and Settings.from_mapping({}, use_env=False).training.shuffle is None
    default = train(ranked_records(), tmp_path / "default", tiny(tiny_model, max_steps=2))
    kept = train(ranked_records(), tmp_path / "kept", tiny(tiny_model, max_steps=2, curriculum=True))
    shuffled = train(ranked_records(), tmp_path / "shuffled", tiny(tiny_model, max_steps=2, shuffle=True))
    assert default["stages"][0]["shuffled"] is False and default["stages"][0]["ranked_by"] == "n_tests"
    assert [r["loss"] for r in default["losses"]] == [r["loss"] for r in kept["losses"]]
    assert shuffled["stages"][0]["shuffled"] is True
    assert [r["loss"] for r in default["losses"]] != [r["loss"] for r in shuffled["losses"]]
    # unranked data is shuffled by default
    assert train(make_records(8), tmp_path / "plain", tiny(tiny_model, max_steps=1))["stages"][0]["shuffled"]


def test_shuffle_true_with_curriculum_is_refused() -> None:
    with pytest.raises(InvalidInput, match="contradicts curriculum") as info:
        TrainingConfig(curriculum=True, shuffle=True)
    assert info.value.field == "training.shuffle"
