"""The HumanEvalFix-style suite: every kept bug fails a test in the sandbox, the canonical fix passes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.evaluation import fix
from codeinstruct.evaluation.problems import program
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox

UID_BASE = 63000 + (os.getpid() % 500) * 4 + 2400


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=2, uid_base=UID_BASE)) as box:
        yield box


def test_canonical_fix_passes_and_the_buggy_function_fails(sandbox: Sandbox) -> None:
    problems, skipped = fix.problems(limit=6, sandbox=sandbox)
    assert len(problems) == 6 and len(problems) + sum(skipped.values()) == 164 and skipped["limit"] > 0
    for problem in problems:
        assert problem.mode == "full" and problem.language == "python"
        buggy = problem.metadata["buggy_solution"]
        assert buggy != problem.canonical_solution and problem.metadata["failing_output"]
        assert problem.metadata["failing_output"] in problem.prompt and '"""' not in problem.prompt.split("Tests:")[0]
        right = sandbox.execute(program(problem, problem.canonical_solution), "python")
        wrong = sandbox.execute(program(problem, buggy), "python")
        assert right.exit_code == 0 and str(right.status) == "OK", (problem.task_id, right.stderr)
        assert wrong.exit_code != 0, problem.task_id


def test_bugs_are_deterministic_and_seeded(sandbox: Sandbox) -> None:
    first, _ = fix.problems(limit=3, sandbox=sandbox, seed=0)
    again, _ = fix.problems(limit=3, sandbox=sandbox, seed=0)
    other, _ = fix.problems(limit=3, sandbox=sandbox, seed=1)
    assert [p.metadata["buggy_solution"] for p in first] == [p.metadata["buggy_solution"] for p in again]
    assert [p.metadata["buggy_solution"] for p in first] != [p.metadata["buggy_solution"] for p in other]


def test_language_is_checked() -> None:
    with pytest.raises(InvalidInput) as error:
        fix.problems(language="java")
    assert error.value.field == "language"


def test_without_docstring_keeps_the_code() -> None:
    code = 'def f(x):\n    """Doc\n    more."""\n    return x + 1\n'
    assert fix.without_docstring(code) == "def f(x):\n    return x + 1\n"


@pytest.mark.slow
def test_whole_suite_every_bug_fails_and_every_fix_passes(sandbox: Sandbox) -> None:
    problems, skipped = fix.problems(sandbox=sandbox)
    assert len(problems) >= 100 and "limit" not in skipped
    runs = [{"code": program(p, s), "language": "python"} for p in problems
            for s in (p.canonical_solution, p.metadata["buggy_solution"])]
    results = dict(sandbox.execute_batch(runs))
    for index, problem in enumerate(problems):
        assert results[2 * index].exit_code == 0, problem.task_id
        assert results[2 * index + 1].exit_code != 0, problem.task_id
