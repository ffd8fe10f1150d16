"""InverseCoder's self-consistency on a suite: does M(M^-1(M(x))) behave like M(x)?

For each Python problem the model writes code (M(x)), summarizes that code into an instruction
(M^-1), and writes code again from its own summary (M(M^-1(M(x)))). Both programs run on the
inputs of the problem's tests (the `candidate(...)` calls, without the expected values) in the
sandbox; a problem is consistent when every input gives the same output, or the same failure
status. Problems whose first program runs on no input are skipped (`first_program_fails`), as are
problems without test inputs (`no_test_inputs`). The figure is a `SuiteResult` whose pass@1 is
the share of consistent problems, so it reports like every other suite.

Example:
    problems, _ = explain.problems(limit=10)          # or any Python suite's problems
    result = self_consistency(engine, humaneval_problems, sandbox=box)
    result.pass_at_k["pass@1"]                         # share of consistent problems
"""

from __future__ import annotations

import ast
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.statuses import Status
from codeinstruct.evaluation.problems import Problem, SampleVerdict, SuiteResult

if TYPE_CHECKING:
    from codeinstruct.engines.base import Engine

logger = logging.getLogger(__name__)

SUITE = "self-consistency"
WRITE = ("Complete the following Python function. Answer with the whole function in one ```python code block."
         "\n\n```python\n{prompt}```")
SUMMARIZE = ("Describe what the following Python function does as a precise programming task, so that someone "
             "could re-implement it. Mention the function name {name} and its arguments. Do not include code."
             "\n\n```python\n{code}```")
REGENERATE = "{instruction}\n\nWrite the Python function `{name}`. Answer with one ```python code block."
_CODE_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.S)


def _code(text: str) -> str:
    match = _CODE_BLOCK.search(text)
    return (match.group(1) if match else text).strip("\n") + "\n"


def call_inputs(problem: Problem, limit: int = 10) -> list[str]:
    """Call expressions of the entry point from the problem's tests (`candidate(...)` renamed)."""
    try:
        tree = ast.parse(problem.test)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "candidate":
            node.func.id = problem.entry_point
            calls.append(ast.unparse(node))
    return list(dict.fromkeys(calls))[:limit]


def self_consistency(engine: Engine, problems: Sequence[Problem], *, sandbox: SandboxLike, max_tokens: int = 384,
                     suite: str = SUITE) -> SuiteResult:
    """The share of `problems` (Python, with `candidate(...)` tests) on which the model is self-consistent."""
    from codeinstruct.engines import SamplingParams

    wrong = [p.task_id for p in problems if p.language != "python" or not p.entry_point]
    if wrong:
        raise InvalidInput(f"self-consistency runs Python functions; not usable: {wrong[:3]}", field="problems")
    code_params = SamplingParams(max_tokens=max_tokens, stop=("\n```",))
    brief = SamplingParams(max_tokens=min(max_tokens, 128))

    def ask(texts: list[str], params: SamplingParams) -> list[str]:
        return [out[0] for out in engine.chat([[{"role": "user", "content": t}] for t in texts], params)]

    firsts = [_code(text) for text in ask([WRITE.format(prompt=p.prompt) for p in problems], code_params)]
    summaries = ask([SUMMARIZE.format(name=p.entry_point, code=c) for p, c in zip(problems, firsts, strict=True)],
                    brief)
    seconds = [_code(text) for text in ask([REGENERATE.format(instruction=s.strip(), name=p.entry_point)
                                            for p, s in zip(problems, summaries, strict=True)], code_params)]
    counted: list[Problem] = []
    verdicts: list[SampleVerdict] = []
    skipped: dict[str, int] = {}
    for problem, first, second in zip(problems, firsts, seconds, strict=True):
        inputs = call_inputs(problem)
        if not inputs:
            skipped["no_test_inputs"] = skipped.get("no_test_inputs", 0) + 1
            continue
        preamble = f"{problem.preamble}\n" if problem.preamble else ""
        if problem.mode == "completion":
            preamble += problem.prompt + "\n"  # the header's imports; the answer redefines the function
        before = sandbox.capture_outputs(preamble + first, "python", problem.entry_point, inputs)
        if not any(o.status is Status.OK for o in before):
            skipped["first_program_fails"] = skipped.get("first_program_fails", 0) + 1
            continue
        after = sandbox.capture_outputs(preamble + second, "python", problem.entry_point, inputs)
        differ = next((f"{a.input}: {a.status} {a.output!r} then {b.status} {b.output!r}"
                       for a, b in zip(before, after, strict=True) if (a.status, a.output) != (b.status, b.output)),
                      "")
        counted.append(problem)
        verdicts.append(SampleVerdict(problem.task_id, not differ, "CONSISTENT" if not differ else "DIFFERS",
                                      differ[:500]))
    result = SuiteResult.from_verdicts(suite, counted, verdicts, k=(1,), skipped=skipped)
    logger.info("%s: %s", suite, result.headline())
    return result
