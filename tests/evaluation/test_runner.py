"""The suite runner: generation overlapped with checking, given samples, progress, output rows, jobs of suites."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.evaluation.humaneval import humaneval_problems
from codeinstruct.evaluation.prompts import join_answer, prompt_text, python_body, to_sample
from codeinstruct.evaluation.runner import run_suite
from codeinstruct.evaluation.suites import SuiteRequest
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox

UID_BASE = 63000 + (os.getpid() % 500) * 4 + 4000


class ScriptedEngine:
    """Answers each prompt with the canonical solution in a chat code block (every other one wrong)."""

    def __init__(self, problems: list, wrong: set[str]):
        self.by_prompt = {p.prompt: p for p in problems}
        self.wrong = wrong
        self.calls: list[int] = []

    def apply_chat_template(self, messages: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        return "<user>" + messages[0]["content"]

    def generate(self, prompts: list[str], params: Any) -> list[list[str]]:
        self.calls.append(len(prompts))
        out = []
        for text in prompts:
            problem = next(p for key, p in self.by_prompt.items() if key in text)
            body = "    return None\n" if problem.task_id in self.wrong else problem.canonical_solution
            out.append([f"Here:\n```python\n{problem.prompt}{body}```"] * params.n)
        return out

    def info(self) -> dict[str, Any]:
        return {"base_model": "scripted"}

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=2, uid_base=UID_BASE)) as box:
        yield box


def test_generation_and_checking_overlap_and_report(sandbox: Sandbox, tmp_path: Path) -> None:
    problems = humaneval_problems(5)
    engine = ScriptedEngine(problems, wrong={"HumanEval/1"})
    events: list[dict] = []
    result = run_suite("humaneval", problems, sandbox=sandbox, engine=engine, k=(1,), batch_size=2,  # type: ignore[arg-type]
                       skipped={"limit": 159}, total=164, output=tmp_path / "rows.jsonl", progress=events.append)
    assert engine.calls == [2, 2, 1]
    assert result.pass_at_k == {"pass@1": 0.8} and result.problems_run == 5 and result.problems_total == 164
    assert result.headline() == "pass@1 0.800 on 5 of 164 problems (skipped: limit 159)"
    failed = next(row for row in result.per_problem if row["task_id"] == "HumanEval/1")
    assert failed["statuses"] == ["RUNTIME_ERROR"] and "failed:" in failed["first_failure"]
    assert events[-1] == {"phase": "scoring", "done": 5, "total": 5}
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in rows] == [True, False, True, True, True]
    with pytest.raises(InvalidInput, match="either samples or an engine"):
        run_suite("humaneval", problems, sandbox=sandbox)


def test_prompts_join_chat_answers_per_language() -> None:
    from codeinstruct.evaluation.problems import Problem

    js = Problem("t", "javascript", "function f(x){\n", "test();", entry_point="f")
    assert join_answer(js, "function f(x){\n  return x;\n}\nconsole.log(f(1));\n") == "  return x;\n}\n"
    cpp = Problem("t", "cpp", "long f(long x) {\n", "}\nint main(){}", entry_point="f")
    assert join_answer(cpp, "long f(long x) {\n  if (x) { return 1; }\n  return x;\n}\n") == \
        "  if (x) { return 1; }\n  return x;\n"
    java = Problem("t", "java", "class Solution {\n    public int f(int x) {\n", "public class Main {}",
                   entry_point="f")
    assert join_answer(java, "class Solution {\n    public int f(int x) {\n        return x;\n    }\n}\n") == \
        "        return x;\n    }\n}\n"
    bare = Problem("t", "python", "def f(x):\n", "", entry_point="f")
    assert python_body(bare, "import math\ndef f(x):\n    return x\n") == "    return x\n"
    assert to_sample(bare, "```python\ndef f(x):\n    return x\n```", "chat") == "    return x\n"
    assert prompt_text(humaneval_problems(1)[0], "completion", None) == humaneval_problems(1)[0].prompt


def test_suite_requests_are_checked() -> None:
    SuiteRequest("humaneval").check()
    with pytest.raises(InvalidInput, match="unknown suite"):
        SuiteRequest("nope").check()
    with pytest.raises(InvalidInput, match="published file"):
        SuiteRequest("mbpp").check()
    with pytest.raises(InvalidInput, match="no 'java' problems"):
        SuiteRequest("mbpp", file="x", language="java").check()
    assert SuiteRequest("multipl-e", "f", "cpp").label == "multipl-e-cpp"


def test_evaluate_model_and_evaluate_suites_keep_their_reports(sandbox: Sandbox, tmp_path: Path) -> None:
    from codeinstruct.training.evaluate import evaluate_model, evaluate_suites

    problems = humaneval_problems(3)
    engine = ScriptedEngine(problems, wrong={"HumanEval/2"})
    summary = evaluate_model("scripted", limit=3, engine=engine, sandbox=sandbox,  # type: ignore[arg-type]
                             output=tmp_path / "he.jsonl")
    assert summary["pass@1"] == pytest.approx(2 / 3) and summary["n_problems"] == 3 and summary["passed"] == 2
    rows = [json.loads(line) for line in (tmp_path / "he.jsonl").read_text().splitlines()]
    assert set(rows[0]) == {"task_id", "completion", "result", "passed"} and rows[0]["result"] == "passed"
    assert rows[2]["result"].startswith("failed:")
    report = evaluate_suites("scripted", [SuiteRequest("humaneval", limit=2)], engine=engine,  # type: ignore[arg-type]
                             sandbox=sandbox, output=tmp_path / "rows.jsonl")
    suite = report["suites"][0]
    assert suite["suite"] == "humaneval" and suite["pass@1"] == 1.0 and suite["problems_total"] == 164
    assert suite["skipped"] == {"limit": 162} and (tmp_path / "rows-humaneval.jsonl").is_file()
