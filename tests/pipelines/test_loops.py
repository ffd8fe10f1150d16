"""The methods' loops run locally end to end (kfp.local, the embedded model, the real sandbox)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codeinstruct.core.records import Record, read_records, write_jsonl_atomic
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.scoring.validation import verify
from codeinstruct.settings import Settings
from codeinstruct.targets import INPROCESS, open_sandbox
from codeinstruct_pipelines.local import run_local

pytestmark = pytest.mark.slow


def assert_meets_its_standard(records: list[Record]) -> None:
    """Re-check every record in a fresh sandbox against its method's acceptance standard."""
    with open_sandbox(INPROCESS, SandboxConfig()) as box:
        report = verify(records, box, require_tests=False)
    assert len(report.kept) == len(records), report.reasons()


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
    assert_meets_its_standard(records)
    assert set(metrics["evaluation"]["after"]) == {"pass@1"}


# Seed pairs with tests, so the held-out split can check them.
EVOL_SEEDS = [
    {"id": f"seed-{name}", "instruction": instruction, "code": code, "entry_point": name, "language": "python",
     "tests": [{"input": call, "output": output} for call, output in calls], "source": {"origin": "test"}}
    for name, instruction, code, calls in [
        ("clamp", "Write a Python function `clamp(value, low, high)` that limits value to [low, high].",
         "def clamp(value, low, high):\n    return max(low, min(high, value))\n",
         [("clamp(5, 0, 3)", "3"), ("clamp(-1, 0, 3)", "0")]),
        ("double", "Write a Python function `double(x)` that returns twice x.",
         "def double(x):\n    return 2 * x\n", [("double(4)", "8"), ("double(-2)", "-4")]),
        ("last", "Write a Python function `last(items)` that returns the last element of a list.",
         "def last(items):\n    return items[-1]\n", [("last([1, 2, 3])", "3")]),
        ("is_even", "Write a Python function `is_even(n)` that tells whether n is even.",
         "def is_even(n):\n    return n % 2 == 0\n", [("is_even(4)", "True"), ("is_even(7)", "False")]),
    ]]


@pytest.mark.timeout(1200)  # two rounds, each generating, training and evaluating: about 4 minutes on 2 idle cores
def test_evol_instruct_rounds_merge_with_the_seeds_and_the_stopping_rule_gates_each_round(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    write_jsonl_atomic(seeds, EVOL_SEEDS)
    settings = Settings.from_mapping({**TINY, "pipelines": {**TINY["pipelines"], "seeds_limit": 0, "evol_rounds": 2},
                                      "generation": {"max_tokens": 160, "evol": {"max_tokens": 96}},
                                      "training": {**TINY["training"], "max_steps": 2}})
    metrics = run_local("evol_instruct", output_dir=tmp_path / "out", seeds_path=seeds, settings=settings,
                        echo=lambda line: None, arguments={"stop_when_worse": True, "heldout_fraction": 0.25})
    stages = {entry["stage"]: entry for entry in metrics["stages"]}
    assert stages["evol_instruct/held-out split"]["held_out"] == 1
    gates = [stages[f"evol_instruct/round {k}: gate"] for k in (1, 2)]
    assert len(gates[0]["history"]) == 1  # round 1 trained and measured on the held-out seed
    assert gates[1]["history"][:1] == gates[0]["history"] and gates[1]["went_on"] is True
    records = list(read_records(tmp_path / "out" / "dataset.jsonl"))
    rounds = {r.scores["evol_round"] for r in records}
    assert 0 in rounds  # the ORIGINAL seed pairs are part of the data (WizardCoder's seeds + evolutions)
    held = next(s["id"] for s in EVOL_SEEDS if s["id"] not in {r.source.get("parent_id") for r in records})
    assert held  # the held-out seed and its lineage never reach the data
    assert max(rounds) <= gates[1]["best_round"]
    assert_meets_its_standard(records)
