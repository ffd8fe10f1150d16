"""Ablation runner on the tiny model: one trained model per arm plus the mix, all evaluated, one table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.engines.config import EngineConfig
from codeinstruct.training.ablation import run_ablation
from codeinstruct.training.config import EvalConfig, TrainingConfig
from tests.support.training import make_records


def test_ablation_trains_each_arm_and_the_mix_and_writes_the_table(tiny_model: Path, tmp_path: Path) -> None:
    config = TrainingConfig(model=str(tiny_model), num_threads=1, epochs=1, batch_size=4, merge_lora=True,
                            eval=EvalConfig(max_tokens=4))
    result = run_ablation({"semi": make_records(4, tag="s"), "inverse": make_records(8, tag="i")},
                          tmp_path / "ablation", config, eval_limit=1,
                          engine_config=EngineConfig(model=str(tiny_model)))
    arms = [row["arm"] for row in result["rows"]]
    assert arms == ["base", "semi", "inverse", "mix"]
    by_arm = {row["arm"]: row for row in result["rows"]}
    assert by_arm["mix"]["records"] == 12 and by_arm["mix"]["steps"] == 3
    assert by_arm["semi"]["steps"] == 1 and by_arm["inverse"]["steps"] == 2
    assert all(0.0 <= row["pass@1"] <= 1.0 for row in result["rows"])
    table = (tmp_path / "ablation" / "ablation.md").read_text()
    assert table.splitlines()[0] == "| arm | records | steps | final loss | pass@1 |"
    assert len(table.splitlines()) == 6
    assert json.loads((tmp_path / "ablation" / "ablation.json").read_text())["rows"] == result["rows"]
    assert (tmp_path / "ablation" / "mix" / "config.json").is_file()


def test_arm_names_must_be_folder_names(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        run_ablation({"../x": []}, tmp_path, TrainingConfig())
    with pytest.raises(InvalidInput):
        run_ablation({"mix": []}, tmp_path, TrainingConfig())
