"""Explain-then-write (two engine calls, the second sees only the description) and self-consistency,
with a scripted engine and the real sandbox."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.engines.base import Engine, SamplingParams, per_prompt
from codeinstruct.evaluation import explain, plus
from codeinstruct.evaluation.consistency import call_inputs, self_consistency
from codeinstruct.evaluation.problems import program
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox

UID_BASE = 63000 + (os.getpid() % 500) * 4 + 2800


class ScriptedEngine(Engine):
    model_name = engine_name = "scripted"

    def __init__(self, answer) -> None:
        self.answer = answer
        self.prompts: list[str] = []

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        self.prompts.extend(prompts)
        paired = zip(prompts, per_prompt(params, len(prompts)), strict=True)
        return [[self.answer(prompt, i) for i in range(p.n)] for prompt, p in paired]

    def apply_chat_template(self, messages, add_generation_prompt=True):
        return "".join(m["content"] for m in messages)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def lm_score(self, instructions, codes):
        return [0.5] * len(instructions)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=2, uid_base=UID_BASE)) as box:
        yield box


def test_explain_then_write_passes_with_the_right_code_and_never_shows_the_solution(sandbox: Sandbox) -> None:
    problems, skipped = explain.problems(limit=3)
    assert skipped == {"limit": 161} and all(p.mode == "full" for p in problems)
    canonical = {p.entry_point: p.canonical_solution for p in problems}

    def answer(prompt: str, index: int) -> str:
        if prompt.startswith("Provide a concise"):
            name = re.search(r"the function (\w+)", prompt).group(1)  # type: ignore[union-attr]
            return f"It computes {name} number {index}.\n```python\nleaked()\n```"
        name = re.search(r"def (\w+)", prompt).group(1)  # type: ignore[union-attr]
        code = canonical[name] if index == 0 else f"def {name}(*a):\n    return None\n"
        return f"```python\n{code}```"

    engine = ScriptedEngine(answer)
    samples = explain.describe_then_solve(engine, problems, SamplingParams(n=2, max_tokens=64))
    assert [s["task_id"] for s in samples] == [p.task_id for p in problems for _ in range(2)]
    assert all("leaked" not in s["explanation"] for s in samples)
    describes = [p for p in engine.prompts if p.startswith("Provide a concise")]
    solves = [p for p in engine.prompts if not p.startswith("Provide a concise")]
    assert len(describes) == 3 and len(solves) == 6
    for problem in problems:
        assert '"""' not in problem.prompt and problem.prompt in problem.metadata["describe"]
        body = problem.canonical_solution.split('"""')[-1].strip()
        assert not any(body in s for s in solves)  # call 2 sees the description and the signature only
    ok = {s["task_id"]: sandbox.execute(program(p, s["completion"]), "python").exit_code == 0
          for p in problems for s in samples if s["task_id"] == p.task_id and "number 0" in s["explanation"]}
    assert all(ok.values()) and len(ok) == 3
    canonical_runs = [sandbox.execute(program(p, p.canonical_solution), "python") for p in problems]
    assert all(r.exit_code == 0 for r in canonical_runs)
    with pytest.raises(InvalidInput):
        explain.describe_then_solve(engine, plus.problems(limit=1, sandbox=sandbox, extra=0)[0],
                                    SamplingParams())


def test_self_consistency_counts_agreeing_regenerations(sandbox: Sandbox) -> None:
    problems, _ = plus.problems(limit=3, sandbox=sandbox, extra=0)  # HumanEval problems, completion mode
    assert call_inputs(problems[0])[0].startswith("has_close_elements(")
    canonical = {p.entry_point: p.prompt + p.canonical_solution for p in problems}

    def answers(regenerated_right: bool):
        def answer(prompt: str, index: int) -> str:
            if prompt.startswith("Describe what"):
                return "A task."
            name = re.search(r"(?:def |function `)(\w+)", prompt).group(1)  # type: ignore[union-attr]
            if prompt.startswith("Complete") or regenerated_right:
                return f"```python\n{canonical[name]}```"
            return f"```python\ndef {name}(*args):\n    return 0\n```"
        return answer

    agree = self_consistency(ScriptedEngine(answers(True)), problems, sandbox=sandbox)
    assert agree.pass_at_k == {"pass@1": 1.0} and agree.problems_run == 3 and agree.problems_total == 3
    differ = self_consistency(ScriptedEngine(answers(False)), problems, sandbox=sandbox)
    assert differ.pass_at_k == {"pass@1": 0.0} and differ.per_problem[0]["first_failure"]
