"""Each pipeline runs locally (kfp.local, real model, real sandbox) on a few seeds; what it writes
re-verifies: every record's tests pass when re-run on its code (and on source.code for semi_instruct).

Slow: each run loads the embedded model in its generation/scoring/training steps. Sizes are the
smallest that still exercise every step (2 shards, a handful of seeds, 2 training steps, 1 problem).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from codeinstruct.cli.main import main
from codeinstruct.core.records import Record, read_records, write_jsonl_atomic
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.settings import Settings
from codeinstruct.targets import INPROCESS, open_sandbox
from codeinstruct_pipelines.local import run_local

pytestmark = pytest.mark.slow

SMALL: dict[str, Any] = {
    "pipelines": {"num_shards": 1, "parallelism": 1, "seeds_limit": 2, "eval_limit": 1, "coreset_size": 2,
                  "method_seeds": {"semi_instruct": 3}},
    "generation": {"max_tokens": 320, "inverse": {"samples": 2, "max_tokens": 64}, "evol": {"max_tokens": 96}},
    "training": {"max_steps": 2, "batch_size": 2, "max_length": 256, "eval": {"max_tokens": 48},
                 "save_every_steps": 100},
}

# Human-written functions with deterministic outputs: the semi_instruct seeds of the CLI test.
SEEDS = [
    "def clamp(value, low, high):\n    \"\"\"Limit value to the range [low, high].\"\"\"\n"
    "    return max(low, min(high, value))\n",
    "def count_vowels(text):\n    \"\"\"Count the vowels in text.\"\"\"\n"
    "    return sum(1 for ch in text.lower() if ch in 'aeiou')\n",
    "def running_sum(numbers):\n    \"\"\"Prefix sums of a list of numbers.\"\"\"\n    total, out = 0, []\n"
    "    for n in numbers:\n        total += n\n        out.append(total)\n    return out\n",
]


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox(INPROCESS, SandboxConfig()) as box:
        yield box


def assert_reverifies(records: list[Record], sandbox: Any) -> None:
    """Re-run each record's tests on its code, and on source.code for semi_instruct (DESIGN section 4)."""
    for record in records:
        assert record.tests, f"{record.id} has no tests"
        codes = [record.code] + ([record.source["code"]] if record.method == "semi_instruct" else [])
        for code in codes:
            result = sandbox.run_tests(code, record.language, record.entry_point, record.tests)
            assert result.passed == result.total == len(record.tests), (record.id, result)


def assert_run_folder(out: Path) -> tuple[list[Record], dict]:
    records = list(read_records(out / "dataset.jsonl"))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["records"] == len(records)
    assert metrics["stages"], "the stage ledger is empty"
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    return records, metrics


def test_cli_run_semi_instruct_writes_records_that_pass_their_tests(tmp_path: Path, sandbox: Any) -> None:
    seeds = tmp_path / "seeds.jsonl"
    write_jsonl_atomic(seeds, [{"code": code, "language": "python", "source": {"origin": "test"}} for code in SEEDS])
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({**SMALL, "pipelines": {**SMALL["pipelines"], "num_shards": 2, "seeds_limit": 0}}))
    out = tmp_path / "out"
    assert main(["run", "semi_instruct", "--local", "--seeds", str(seeds), "--config", str(config),
                 "--output", str(out)]) == 0
    records, metrics = assert_run_folder(out)
    stages = [s["stage"] for s in metrics["stages"]]
    assert stages[:2] == ["semi_instruct/seeds", "semi_instruct/generate"]
    assert "semi_instruct/validate" in stages and "semi_instruct/dedup" in stages
    generated = metrics["stages"][1]
    assert generated["shards"] == 2 and generated["input"] == 3  # fanned out over two shards, fanned back in
    if not records:
        pytest.skip(f"the embedded model produced no semi_instruct record that passed validation "
                    f"(funnel: {[(s['stage'], s['kept'], s.get('reasons')) for s in metrics['stages']]}); "
                    f"nothing to re-verify")
    for record in records:
        assert record.method == "semi_instruct" and record.source.get("code")
    assert_reverifies(records, sandbox)


@pytest.mark.parametrize("method", ["inverse_instruct", "evol_instruct", "wavecoder", "self_instruct"])
def test_method_pipeline_runs_locally(method: str, tmp_path: Path, sandbox: Any) -> None:
    data = run_local(method, output_dir=tmp_path, settings=Settings.from_mapping(SMALL), echo=lambda line: None)
    records, metrics = assert_run_folder(tmp_path)
    assert data["records"] == len(records)
    first = metrics["stages"][0]
    if method == "wavecoder":  # raw-code selection upstream of generation: the coreset picked 2 of the pool
        assert first["stage"] == "wavecoder/select raw code" and first["applied"] and first["input"] > 2
    else:
        assert first["stage"] == f"{method}/seeds"
    assert first["kept"] == 2
    assert all(r.method == method for r in records)
    for record in records:
        if record.tests:
            assert_reverifies([record], sandbox)
    assert_cost(metrics, method)


def assert_cost(metrics: dict, method: str) -> None:
    """Generation spent tokens and engine seconds; a sandbox stage that checked records, sandbox seconds."""
    stages = {s["stage"]: s for s in metrics["stages"]}
    # evol_instruct's pipeline runs its rounds one generation job each
    generate = stages[f"{method}/round 1: generate" if method == "evol_instruct" else f"{method}/generate"]
    assert generate["tokens_in"] > 0 and generate["tokens_out"] > 0 and generate["engine_seconds"] > 0
    for name in (f"{method}/execute", f"{method}/validate", f"{method}/round 1: execute"):
        if name in stages and stages[name]["input"]:
            assert stages[name]["sandbox_runs"] > 0 and stages[name]["sandbox_seconds"] > 0, stages[name]
    cost = metrics["cost"][method]
    assert cost["tokens"] >= generate["tokens_in"] + generate["tokens_out"] and cost["seconds"] > 0
    assert cost["kept"] == metrics["by_method"].get(method, 0)


def test_train_eval_and_end_to_end_run_locally(tmp_path: Path, sandbox: Any) -> None:
    config = {**SMALL, "pipelines": {**SMALL["pipelines"], "methods": ["semi_instruct"]}}
    e2e = tmp_path / "e2e"
    data = run_local("end_to_end", output_dir=e2e, settings=Settings.from_mapping(config), echo=lambda line: None)
    records, metrics = assert_run_folder(e2e)
    names = [s["stage"] for s in metrics["stages"]]
    for stage in ("merge methods", "dedup", "decontaminate", "verify", "curriculum"):
        assert stage in names, names
    assert set(metrics["evaluation"]["before"]) == {"pass@1"}
    assert_reverifies(records, sandbox)
    assert "data:image/png;base64," in (e2e / "report.html").read_text()
    # train_eval on records written by hand (the end_to_end dataset may be tiny with the embedded model).
    dataset = tmp_path / "records.jsonl"
    write_jsonl_atomic(dataset, [Record(method="semi_instruct", instruction=f"Return {i} times x.",
                                        response=f"def f(x):\n    return {i} * x\n",
                                        code=f"def f(x):\n    return {i} * x\n", entry_point="f",
                                        tests=[{"input": "f(2)", "output": str(2 * i)}],
                                        scores={"n_tests": 1}) for i in range(4)])
    te = tmp_path / "te"
    result = run_local("train_eval", output_dir=te, seeds_path=dataset,
                       settings=Settings.from_mapping(SMALL), echo=lambda line: None)
    assert result["training"]["steps"] == 2 and len(result["training"]["losses"]) == 2
    assert set(result["evaluation"]["after"]) == {"pass@1"}
    assert (te / "plots" / "loss.png").is_file()
    assert data["records"] == len(records)
