"""Evaluation: HumanEval pass@k end to end (embedded model + real sandbox), self-consistency, helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.training.evaluate import (
    evaluate_model,
    extract_code,
    humaneval_prompt,
    inputs_from_tests,
    select_problems,
    self_consistency,
)


def test_problem_selection_inputs_and_code_extraction() -> None:
    problems = select_problems(3)
    assert [p["task_id"] for p in problems] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    calls = inputs_from_tests(problems[0])
    assert calls and all(c.startswith("has_close_elements(") for c in calls)
    assert len(select_problems(None)) == 164
    assert extract_code("Sure:\n```python\ndef f():\n    return 1\n```\nDone") == "def f():\n    return 1\n"
    assert extract_code("```python\ndef f():\n    return 1") == "def f():\n    return 1\n"
    assert humaneval_prompt(problems[0], "completion", engine=None) == problems[0]["prompt"]


def test_k_needs_enough_samples() -> None:
    with pytest.raises(InvalidInput, match="at least 10 samples"):
        evaluate_model("default", limit=1, k=(1, 10), n_samples=2)


@pytest.mark.slow
def test_humaneval_and_self_consistency_on_the_embedded_model(tmp_path: Path) -> None:
    from codeinstruct.engines import EngineConfig, load_engine
    from codeinstruct.sandbox.config import SandboxConfig
    from codeinstruct.sandbox.core import Sandbox
    from codeinstruct.training.config import EvalConfig, TrainingConfig

    config = TrainingConfig(eval=EvalConfig(max_tokens=96))
    events: list[dict] = []
    with load_engine(EngineConfig()) as engine, Sandbox(SandboxConfig()) as sandbox:
        result = evaluate_model("default", limit=2, config=config, engine=engine, sandbox=sandbox,
                                output=tmp_path / "results.jsonl", progress=events.append)
        assert result["n_problems"] == 2 and result["n_samples"] == 1
        assert 0.0 <= result["pass@1"] <= 1.0
        rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
        assert [r["task_id"] for r in rows] == ["HumanEval/0", "HumanEval/1"]
        assert all(r["completion"] and r["result"] for r in rows)
        assert result["pass@1"] == sum(r["passed"] for r in rows) / 2
        assert events[-1] == {"phase": "scoring", "done": 2, "total": 2}
        consistency = self_consistency("default", limit=1, config=config, engine=engine, sandbox=sandbox)
        assert consistency["n_problems"] == 1 and 0.0 <= consistency["self_consistency"] <= 1.0
        # the problem counted, or skipped with its reason (a 135M model's first program may fail every input)
        assert consistency["counted"] + sum(consistency["skipped"].values()) == 1
        assert all(row["statuses"][0] in ("CONSISTENT", "DIFFERS") for row in consistency["rows"])
