"""The one schema every evaluation suite speaks: problems in, results out.

A suite (published file or built-in derivation) is a list of `Problem`s. A sample (the model's
answer, or a given completion) is checked by running `program(problem, sample)` in the sandbox in
the problem's language: the program exits 0 exactly when the sample is right (HumanEval's and
MultiPL-E's convention: prompt + completion + test code, the test code raising or exiting non-zero
on a wrong answer). Each suite's result (`SuiteResult`) holds per-problem statuses, pass@k with the
unbiased estimator, and the counts of problems run and skipped with reasons, so "0.0 on 6 of 164"
never reads as a full result.

Example:
    problems = humaneval_problems(limit=5)
    result = SuiteResult.from_samples("humaneval", problems, samples, verdicts, k=(1,), skipped={})
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from codeinstruct.evaluation.humaneval import estimate_pass_at_k

# How a sample joins the problem: appended to the prompt (a completion, HumanEval style), or the
# whole program (a chat answer's code block, which redefines the function).
Mode = Literal["completion", "full"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem of a suite.

    `prompt` is what the model is asked (a function header with docstring for completion suites,
    or an instruction for instruction suites such as MBPP/fix/explain); `test` is code in
    `language` that checks the solution and exits non-zero on a wrong answer (for Python, e.g. a
    `check(candidate)` function and its call: put the call in `test`). `preamble` is code the
    checked program starts with (imports the prompt does not show). `canonical_solution` is the
    reference completion when the suite has one (scores 1.0 by construction of a valid suite).
    """

    task_id: str
    language: str
    prompt: str
    test: str
    entry_point: str = ""
    canonical_solution: str = ""
    preamble: str = ""
    mode: Mode = "completion"
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def program(problem: Problem, sample: str) -> str:
    """The program the sandbox runs for `sample`: exits 0 exactly when the sample is right."""
    body = problem.prompt + sample if problem.mode == "completion" else sample
    parts = [problem.preamble, body, problem.test]
    return "\n".join(part.rstrip("\n") for part in parts if part) + "\n"


@dataclasses.dataclass(frozen=True)
class SampleVerdict:
    """One sample's outcome: the sandbox status, and the first failure's output (cut) when it failed."""

    task_id: str
    passed: bool
    status: str
    output: str = ""


@dataclasses.dataclass(frozen=True)
class SuiteResult:
    """A suite's figures (the schema of metrics.json's `evaluation`, the report tables, the RPC)."""

    suite: str
    problems_total: int
    problems_run: int
    skipped: Mapping[str, int]
    pass_at_k: Mapping[str, float]
    per_problem: Sequence[Mapping[str, Any]]
    language: str = "python"

    @classmethod
    def from_verdicts(cls, suite: str, problems: Sequence[Problem], verdicts: Sequence[SampleVerdict],
                      k: Sequence[int], *, skipped: Mapping[str, int] | None = None,
                      total: int | None = None) -> SuiteResult:
        """pass@k (unbiased, over the problems run; a k above some problem's sample count is left
        out) and per problem: samples, statuses, first failure's output."""
        by_task: defaultdict[str, list[SampleVerdict]] = defaultdict(list)
        for verdict in verdicts:
            by_task[verdict.task_id].append(verdict)
        run = [p for p in problems if by_task.get(p.task_id)]
        counts = np.array([len(by_task[p.task_id]) for p in run])
        correct = np.array([sum(v.passed for v in by_task[p.task_id]) for p in run])
        figures = {f"pass@{value}": float(estimate_pass_at_k(counts, correct, value).mean())
                   for value in k if len(run) and (counts >= value).all()}
        rows = []
        for problem in run:
            samples = by_task[problem.task_id]
            failed = next((v for v in samples if not v.passed), None)
            rows.append({"task_id": problem.task_id, "language": problem.language,
                         "statuses": [v.status for v in samples], "passed": sum(v.passed for v in samples),
                         "first_failure": failed.output if failed else ""})
        languages = Counter(p.language for p in problems)
        skipped = dict(skipped or {})
        return cls(suite=suite, problems_total=total if total is not None else len(problems) + sum(skipped.values()),
                   problems_run=len(run), skipped=skipped, pass_at_k=figures, per_problem=rows,
                   language=languages.most_common(1)[0][0] if languages else "python")

    def to_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "language": self.language, "problems_total": self.problems_total,
                "problems_run": self.problems_run, "skipped": dict(self.skipped), **dict(self.pass_at_k),
                "per_problem": [dict(row) for row in self.per_problem]}

    def headline(self) -> str:
        """e.g. "pass@1 0.333 on 6 of 164 problems (158 skipped: limit)"."""
        scores = ", ".join(f"{name} {value:.3f}" for name, value in self.pass_at_k.items()) or "no pass@k"
        skipped = ", ".join(f"{reason} {n}" for reason, n in self.skipped.items())
        return (f"{scores} on {self.problems_run} of {self.problems_total} problems"
                + (f" (skipped: {skipped})" if skipped else ""))
