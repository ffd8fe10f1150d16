"""The one schema every evaluation suite speaks: problems in, results out.

A suite (published file or built-in derivation) is a list of `Problem`s. A sample (the model's
answer, or a given completion) is checked by running `program(problem, sample)` in the sandbox in
the problem's language: the program exits 0 exactly when the sample is right (HumanEval's and
MultiPL-E's convention: prompt + completion + test code, the test code raising or exiting non-zero
on a wrong answer). Each suite's result (`SuiteResult`) holds per-problem statuses, pass@k with the
unbiased estimator, and the counts of problems run and skipped with reasons, so "0.0 on 6 of 164"
never reads as a full result.

Example:
    problems = humaneval_problems(limit=5)                     # evaluation.humaneval
    result = run_suite("humaneval", problems, sandbox=sandbox, samples=samples)  # evaluation.runner
    result = SuiteResult.from_verdicts("humaneval", problems, verdicts, k=(1,), skipped={"limit": 159})
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from codeinstruct.evaluation.humaneval import estimate_pass_at_k

# How a sample joins the problem: appended to the prompt (a completion, HumanEval style), the
# whole program (a chat answer's code block, which redefines the function), or (Python) bound as a
# string literal to the name `code` for the test to run (DS-1000's `test_execution(code)`).
Mode = Literal["completion", "full", "literal"]
# How the program is run: as a script (exit 0 = pass), or the way openai/human-eval's
# `check_correctness` runs it (exec in empty globals, stdio swallowed, destructive functions disabled,
# pass only on a positive marker the program prints after the check returned).
Harness = Literal["script", "humaneval"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem of a suite.

    `prompt` is what the model is asked (a function header with docstring for completion suites,
    or an instruction for instruction suites such as MBPP/fix/explain); `test` is code in
    `language` that checks the solution and exits non-zero on a wrong answer (for Python, e.g. a
    `check(candidate)` function and its call: put the call in `test`). `preamble` is code the
    checked program starts with (imports the prompt does not show). `canonical_solution` is the
    reference completion when the suite has one (scores 1.0 by construction of a valid suite).
    `harness` "humaneval" runs prompt + sample + test exactly as human-eval does (`program`).
    `requires` names Python modules the check imports (DS-1000's numpy, pandas ...): the runner
    checks the sandbox has them before running anything and says which are missing.
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
    harness: Harness = "script"
    requires: tuple[str, ...] = ()


# Printed (to the real stdout) by a "humaneval" program once check() returned; stdout of the
# checked code itself is swallowed, so only a completed check prints it.
PASS_MARKER = "__codeinstruct_humaneval_passed__"

_HUMANEVAL_WRAPPER = """\
import builtins as _b, faulthandler as _fh, io as _io, os as _os, shutil as _sh, subprocess as _sp, sys as _sys
_write, _exit = _os.write, _os._exit
class _Sink(_io.StringIO):
    def write(self, text): return len(text)
    def read(self, *a): raise OSError
    def readline(self, *a): raise OSError
    def readlines(self, *a): raise OSError
    def readable(self): return False
_os.environ["OMP_NUM_THREADS"] = "1"
_fh.disable()
for _m, _names in ((_os, {os_names!r}), (_sh, ("rmtree", "move", "chown")), (_sp, ("Popen",)),
                   (_b, ("exit", "quit", "help"))):
    for _n in _names:
        setattr(_m, _n, None)
for _n in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
    _sys.modules[_n] = None
_sys.stdout = _sys.stderr = _sys.stdin = _Sink()
try:
    exec(compile({source!r}, "<humaneval>", "exec"), {{}})
except BaseException as _e:
    try:
        _text = "failed: " + str(_e)
    except BaseException:
        _text = "failed: "
    _write(2, _text[-2000:].encode("utf-8", "backslashreplace"))
    _exit(1)
_write(1, {marker!r}.encode())
_exit(0)
"""
_HUMANEVAL_OS = ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
                 "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown",
                 "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir")


SOLUTION_MODULE = "__solution__"


def program(problem: Problem, sample: str) -> str:
    """The program the sandbox runs for `sample`: exits 0 exactly when the sample is right.

    A "humaneval" problem's program also prints `PASS_MARKER` (see `passed`): its check source is
    human-eval's exactly (prompt + completion + newline + test, the test ending with `check(...)`).
    """
    if problem.harness == "humaneval":
        source = problem.prompt + sample + "\n" + problem.test + "\n"
        return _HUMANEVAL_WRAPPER.format(os_names=_HUMANEVAL_OS, source=source, marker=PASS_MARKER)
    if problem.mode == "literal":
        body = f"code = {sample!r}"
    else:
        body = problem.prompt + sample if problem.mode == "completion" else sample
    parts = [problem.preamble, body, problem.test]
    if problem.language == "python" and "__future__" not in body:
        # Run the module body under another name, as evaluators that exec in fresh globals do: a
        # sample's `if __name__ == "__main__":` demo block is not part of its answer.
        parts.insert(0, f"__name__ = {SOLUTION_MODULE!r}")
    return "\n".join(part.rstrip("\n") for part in parts if part) + "\n"


def passed(problem: Problem, exit_code: int, ok: bool, stdout: str) -> bool:
    """Whether a run of `program(problem, ...)` means the sample is right."""
    if not ok or exit_code != 0:
        return False
    return problem.harness != "humaneval" or stdout.endswith(PASS_MARKER)


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
