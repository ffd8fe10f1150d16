"""Our HumanEval explain-then-write suite, by the HumanEvalExplain method (OctoPack, 2023).

Suite `humaneval-explain` (ours; the published HumanEvalPack explain file loads with `--file`).
Two model calls per sample: (1) the model explains the canonical solution, shown WITHOUT the
docstring, in at most as many characters as the docstring had (HumanEvalExplain's limit); (2) a
fresh conversation gets only that explanation and the function's signature and writes the
function. The second call's code is the sample (mode "full": it replaces the function; the
prompt's imports and helpers are the preamble); pass@k over the n explanations of a problem.
Fenced code in an explanation is removed before call 2, so the code cannot be copied through.

Example:
    problems, skipped = explain.problems(limit=10)
    samples = explain.describe_then_solve(engine, problems, SamplingParams(n=1, max_tokens=384))
    # -> [{"task_id", "completion", "explanation"}], checked like any other suite's samples
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.evaluation.fix import split_prompt, test_code, without_docstring
from codeinstruct.evaluation.problems import Problem

if TYPE_CHECKING:
    from codeinstruct.engines.base import Engine, SamplingParams

logger = logging.getLogger(__name__)

SUITE = "humaneval-explain"
METHOD = "HumanEvalExplain (OctoPack, Muennighoff et al., 2023) on HumanEval's canonical solutions, by codeinstruct"
DESCRIBE = ("Provide a concise natural language description of the function {name} using at most {limit} "
            "characters. Do not include code.\n\n```python\n{code}```")
SOLVE = ("Write functional code in Python according to the description.\n\n{description}\n\n"
         "Start from this signature and answer with the whole function in one ```python code block:\n"
         "```python\n{signature}```")
MIN_LIMIT = 100  # a docstring shorter than this still leaves room for a usable description
_FENCED = re.compile(r"```.*?(?:```|$)", re.S)
_CODE_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.S)


def _signature(function_code: str) -> str:
    """The `def` line(s) of a function source, up to its body."""
    node = ast.parse(function_code).body[0]
    if not isinstance(node, ast.FunctionDef):
        raise InvalidInput("expected one function definition", field="canonical_solution")
    lines = function_code.splitlines(keepends=True)
    return "".join(lines[:node.body[0].lineno - 1])


def problems(limit: int | None = None, language: str = "python",
             source: dict[str, dict[str, Any]] | None = None) -> tuple[list[Problem], dict[str, int]]:
    """HumanEval problems set up for explain-then-write, and the skipped counts ("limit" for the rest)."""
    from codeinstruct.evaluation.humaneval import python_problems

    ordered = python_problems(SUITE, language, limit, source)
    chosen = ordered[:limit] if limit else ordered
    out = []
    for problem in chosen:
        preamble, node = split_prompt(problem["prompt"], problem["entry_point"])
        function = problem["prompt"][len(preamble):] + problem["canonical_solution"]
        shown = without_docstring(function)
        docstring = ast.get_docstring(node) or ""
        limit_chars = max(MIN_LIMIT, len(docstring))
        number = problem["task_id"].rpartition("/")[2]
        out.append(Problem(
            task_id=f"HumanEvalExplain-ours/{number}", language="python", prompt=shown, test=test_code(problem),
            entry_point=problem["entry_point"], canonical_solution=function, preamble=preamble.rstrip("\n"),
            mode="full", metadata={"suite": SUITE, "method": METHOD, "source_task_id": problem["task_id"],
                                   "signature": _signature(shown), "limit_chars": limit_chars,
                                   "describe": DESCRIBE.format(name=problem["entry_point"], limit=limit_chars,
                                                               code=shown)}))
    skipped = {"limit": len(ordered) - len(chosen)} if len(chosen) < len(ordered) else {}
    return out, skipped


def clean_description(text: str, limit_chars: int) -> str:
    """An explanation with fenced code removed, cut to `limit_chars`."""
    return _FENCED.sub("", text).strip()[:limit_chars].strip()


def solve_request(problem: Problem, description: str) -> str:
    """Call 2's request: the description and the signature, nothing of the solution."""
    return SOLVE.format(description=description, signature=problem.metadata["signature"])


def describe_then_solve(engine: Engine, problems: Sequence[Problem],
                        params: SamplingParams) -> list[dict[str, str]]:
    """Call 1 (params.n explanations per problem), then call 2 (one function per explanation, greedy
    at params' other settings). Returns samples {"task_id", "completion", "explanation"}, n per problem."""
    if not problems:
        return []
    missing = [p.task_id for p in problems if "describe" not in p.metadata or "signature" not in p.metadata]
    if missing:
        raise InvalidInput(f"problems {missing[:3]} are not explain problems (no describe/signature metadata)",
                           field="problems")
    explanations = engine.chat([[{"role": "user", "content": str(p.metadata["describe"])}] for p in problems],
                               params)
    pairs = [(problem, clean_description(text, int(problem.metadata["limit_chars"])))
             for problem, texts in zip(problems, explanations, strict=True) for text in texts]
    once = dataclasses.replace(params, n=1)
    answers = engine.chat([[{"role": "user", "content": solve_request(p, d)}] for p, d in pairs], once)
    samples = []
    for (problem, description), answer in zip(pairs, answers, strict=True):
        match = _CODE_BLOCK.search(answer[0])
        code = (match.group(1) if match else answer[0]).strip("\n") + "\n"
        samples.append({"task_id": problem.task_id, "completion": code, "explanation": description})
    logger.info("%s: %d sample(s) for %d problem(s)", SUITE, len(samples), len(problems))
    return samples
