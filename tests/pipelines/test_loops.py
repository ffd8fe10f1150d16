"""The methods' loops run locally end to end (kfp.local, the embedded model, the real sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codeinstruct.core.records import read_records
from codeinstruct.settings import Settings
from codeinstruct_pipelines.local import run_local

pytestmark = pytest.mark.slow

TINY: dict[str, Any] = {
    "pipelines": {"num_shards": 1, "parallelism": 1, "seeds_limit": 2, "eval_limit": 1},
    "generation": {"max_tokens": 320, "inverse": {"samples": 2, "max_tokens": 64}},
    "training": {"batch_size": 2, "max_length": 256, "eval": {"max_tokens": 48}, "save_every_steps": 100},
}


def test_inverse_instruct_trains_m_generates_and_judges_with_it_then_trains_new_then_original(
        tmp_path: Path) -> None:
    metrics = run_local("inverse_instruct", output_dir=tmp_path, settings=Settings.from_mapping(TINY),
                        echo=lambda line: None)
    stages = {entry["stage"]: entry for entry in metrics["stages"]}
    generated, judged = stages["inverse_instruct/generate"], stages["inverse_instruct/lm-score"]
    # Generation and LM-Score ran on M, the model the loop trained on the original corpus (not the base).
    assert generated["model"] == judged["judge_model"] and Path(generated["model"]).is_dir()
    assert (Path(generated["model"]) / "adapter_config.json").is_file() or \
        (Path(generated["model"]) / "config.json").is_file()
    assert judged["snippets"] == 2 and judged["kept"] <= 2  # best instruction per snippet
    assert "inverse_instruct/decontaminate" in stages
    # The final model: the new data for 1 epoch first, then the original corpus for 2.
    schedule = metrics["training"]["stages"]
    assert [(s["name"], s["epochs"]) for s in schedule] == [("new", 1.0), ("original", 2.0)]
    assert schedule[1]["records"] == 2 and all(s["steps"] >= 1 for s in schedule)
    records = list(read_records(tmp_path / "dataset.jsonl"))
    assert records and all(r.method == "inverse_instruct" and isinstance(r.scores.get("lm_score"), float)
                           for r in records)
    assert set(metrics["evaluation"]["after"]) == {"pass@1"}
