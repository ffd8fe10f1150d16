"""The EvalPlus-style suite: extra tests from mutated inputs with the canonical solution as oracle."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.evaluation import plus
from codeinstruct.evaluation.assertions import cases
from codeinstruct.evaluation.humaneval import load_problems
from codeinstruct.evaluation.problems import program
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox

UID_BASE = 63000 + (os.getpid() % 500) * 4 + 2600


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=2, uid_base=UID_BASE)) as box:
        yield box


@pytest.fixture(scope="module")
def suite(sandbox: Sandbox) -> list:
    problems, skipped = plus.problems(limit=4, sandbox=sandbox)
    assert len(problems) == 4 and skipped == {"limit": 160}
    return problems


def test_canonical_solutions_pass_the_extra_tests(sandbox: Sandbox, suite: list) -> None:
    for problem in suite:
        assert problem.metadata["extra_tests"] > 0 and problem.metadata["base_tests"] > 0
        result = sandbox.execute(program(problem, problem.canonical_solution), "python")
        assert result.exit_code == 0, (problem.task_id, result.stderr[-500:])
    figures = plus.summary(suite)
    assert figures["extra_tests"] == sum(p.metadata["extra_tests"] for p in suite) > 20


def test_a_solution_fitted_to_the_base_tests_fails_an_extra_one(sandbox: Sandbox, suite: list) -> None:
    original = load_problems()["HumanEval/0"]
    base = {repr(list(case.args)) for case in cases(original["test"])}
    fitted = (f"    base = {base!r}\n"
              "    answer = any(i != j and abs(a - b) < threshold\n"
              "                 for i, a in enumerate(numbers) for j, b in enumerate(numbers))\n"
              "    return answer if repr([numbers, threshold]) in base else not answer\n")
    humaneval = original["prompt"] + fitted + original["test"] + "\ncheck(has_close_elements)\n"
    assert sandbox.execute(humaneval, "python").exit_code == 0  # passes HumanEval's own tests
    problem = next(p for p in suite if p.metadata["source_task_id"] == "HumanEval/0")
    result = sandbox.execute(program(problem, fitted), "python")
    assert result.exit_code != 0 and "should be" in result.stderr


def test_the_extra_tests_are_seeded(sandbox: Sandbox, suite: list) -> None:
    again, _ = plus.problems(limit=1, sandbox=sandbox)
    assert again[0].test == suite[0].test
    other, _ = plus.problems(limit=1, sandbox=sandbox, seed=7)
    assert other[0].test != suite[0].test


def test_mutations_keep_the_type() -> None:
    rng = random.Random(0)
    for value in (3, 2.5, "abc", [1, 2, 3], ["x", "y"], (1, "a"), True, [[1], [2, 3]]):
        for _ in range(20):
            changed = plus.mutate(value, rng)
            assert type(changed) is type(value)
            if isinstance(value, list) and changed and value:
                assert type(changed[0]) is type(value[0])
    inputs = plus.new_inputs([(1, "ab")], random.Random(1), count=10)
    assert len(inputs) == len({repr(i) for i in inputs}) == 10 and (1, "ab") not in inputs


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(InvalidInput) as error:
        plus.problems(language="cpp")
    assert error.value.field == "language"
    with pytest.raises(InvalidInput) as error:
        plus.problems(extra=-1)
    assert error.value.field == "extra"


@pytest.mark.slow
def test_whole_suite_canonical_passes(sandbox: Sandbox) -> None:
    problems, skipped = plus.problems(sandbox=sandbox)
    assert len(problems) == 164 and skipped == {}
    assert plus.summary(problems)["extra_tests"] > 2000
    runs = [{"code": program(p, p.canonical_solution), "language": "python", "limits": {"timeout_s": 10}}
            for p in problems]
    for index, result in sandbox.execute_batch(runs):
        assert result.exit_code == 0, problems[index].task_id
