"""Our HumanEval repair suite, by the HumanEvalFix method (Muennighoff et al., OctoPack, 2023).

Suite `humaneval-fix` (ours; the published HumanEvalFix file loads with `--file`): each HumanEval
canonical solution gets ONE bug from the mutation generator the WaveCoder repair task uses
(`generation/bugs.py`: a comparison, `==`/`!=`, `+`/`-`, `and`/`or`, a boolean or an integer off by
one), seeded per task. Each buggy variant runs against the problem's tests in the sandbox; a
variant that still passes is discarded (counted as `bug_passes_tests`), so every problem has a bug
the tests see. The model gets the buggy function without its docstring, the tests, and the failing
test's output, and answers with the whole fixed function (mode "full": the answer replaces the
function; imports and helpers of the prompt come first as the problem's preamble).

Differences from HumanEvalFix: the bugs are mechanical (HumanEvalFix's are hand-written, some
spanning several tokens), and the failing output is shown (HumanEvalFix shows the tests only).

Example:
    with open_sandbox("inprocess", SandboxConfig()) as box:
        problems, skipped = fix.problems(limit=10, sandbox=box)    # skipped: {"bug_passes_tests": 2, ...}
"""

from __future__ import annotations

import ast
import contextlib
import logging
import random
from collections.abc import Iterator
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.evaluation.problems import Problem
from codeinstruct.sandbox.types import BatchRun

logger = logging.getLogger(__name__)

SUITE = "humaneval-fix"
METHOD = "HumanEvalFix (OctoPack, Muennighoff et al., 2023) with mechanical bugs, by codeinstruct"
ATTEMPTS = 8  # bug draws per problem before it counts as `no_bug_site`
OUTPUT_CHARS = 1200
TIMEOUT_S = 10.0
INSTRUCTION = ("Fix bugs in {name}. The tests below fail; the failing output is shown. Answer with the whole fixed "
               "function in one ```python code block.\n\n```python\n{code}```\n\nTests:\n```python\n{tests}```\n\n"
               "Failing output:\n```\n{output}\n```")


@contextlib.contextmanager
def sandbox_or_default(sandbox: SandboxLike | None) -> Iterator[SandboxLike]:
    """`sandbox` as given, or an in-process sandbox with the default config, closed after."""
    if sandbox is not None:
        yield sandbox
        return
    from codeinstruct.sandbox.config import SandboxConfig
    from codeinstruct.targets import INPROCESS, open_sandbox

    with open_sandbox(INPROCESS, SandboxConfig()) as box:
        yield box


def split_prompt(prompt: str, entry_point: str) -> tuple[str, ast.FunctionDef]:
    """(everything of the prompt but the entry point's definition, that definition's node)."""
    tree = ast.parse(prompt)
    target = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point), None)
    if target is None:
        raise InvalidInput(f"the prompt defines no function {entry_point!r}", field="entry_point")
    lines = prompt.splitlines(keepends=True)
    start = min([target.lineno, *(d.lineno for d in target.decorator_list)]) - 1
    return "".join(lines[:start]), target


def without_docstring(function_code: str) -> str:
    """A function's source with its docstring removed (kept as written otherwise)."""
    tree = ast.parse(function_code)
    node = tree.body[0]
    if not (isinstance(node, ast.FunctionDef) and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant) and isinstance(node.body[0].value.value, str)):
        return function_code
    doc = node.body[0]
    lines = function_code.splitlines(keepends=True)
    kept = lines[:doc.lineno - 1] + lines[doc.end_lineno or doc.lineno:]
    if len(node.body) == 1:
        kept.insert(doc.lineno - 1, " " * doc.col_offset + "pass\n")
    return "".join(kept)


def test_code(problem: dict[str, Any]) -> str:
    """The problem's test module and its call: raises (exit non-zero) on a wrong answer."""
    return f"{problem['test'].rstrip()}\n\ncheck({problem['entry_point']})\n"


def _bug(problem: dict[str, Any], seed: int) -> Any:
    """A bug inside the canonical solution (not in the prompt's helpers), or None."""
    from codeinstruct.engines.base import derive_seed
    from codeinstruct.generation.bugs import introduce_bug

    code = problem["prompt"] + problem["canonical_solution"]
    first_body_line = problem["prompt"].count("\n") + 1
    rng = random.Random(derive_seed(seed, problem["task_id"], "fix"))
    for _ in range(ATTEMPTS):
        bug = introduce_bug(code, rng)
        if bug is not None and bug.line >= first_body_line:
            return bug
    return None


def problems(limit: int | None = None, language: str = "python", *, sandbox: SandboxLike | None = None,
             seed: int = 0, source: dict[str, dict[str, Any]] | None = None) -> tuple[list[Problem], dict[str, int]]:
    """The first `limit` HumanEval problems with a bug their tests catch, and skipped counts by reason."""
    from codeinstruct.evaluation.humaneval import python_problems

    ordered = python_problems(SUITE, language, limit, source)
    skipped: dict[str, int] = {}
    candidates: list[tuple[dict[str, Any], Any]] = []
    for problem in ordered:
        bug = _bug(problem, seed)
        if bug is None:
            skipped["no_bug_site"] = skipped.get("no_bug_site", 0) + 1
        else:
            candidates.append((problem, bug))
    out: list[Problem] = []
    with sandbox_or_default(sandbox) as box:
        # check in chunks so a small limit runs few programs
        chunk = max(4, (limit or len(candidates)) + 2)
        index = 0
        while index < len(candidates) and (limit is None or len(out) < limit):
            batch = candidates[index:index + chunk]
            runs: list[BatchRun] = [{"code": f"{bug.code.rstrip()}\n\n{test_code(problem)}", "language": "python",
                                     "limits": {"timeout_s": TIMEOUT_S}} for problem, bug in batch]
            results = dict(box.execute_batch(runs))
            for offset, (problem, bug) in enumerate(batch):
                if limit is not None and len(out) >= limit:
                    break
                index += 1
                result = results[offset]
                if str(result.status) == "OK" and result.exit_code == 0:
                    skipped["bug_passes_tests"] = skipped.get("bug_passes_tests", 0) + 1
                    continue
                output = (result.stderr or result.detail or str(result.status)).strip()[-OUTPUT_CHARS:]
                out.append(_problem(problem, bug, output))
        if index < len(candidates):
            skipped["limit"] = len(candidates) - index
    logger.info("%s: %d problem(s), skipped %s", SUITE, len(out), skipped or "none")
    return out, skipped


def _problem(problem: dict[str, Any], bug: Any, output: str) -> Problem:
    preamble, _ = split_prompt(problem["prompt"], problem["entry_point"])
    fixed = problem["prompt"][len(preamble):] + problem["canonical_solution"]
    buggy = bug.code[len(preamble):]
    shown = without_docstring(buggy)
    prompt = INSTRUCTION.format(name=problem["entry_point"], code=shown, tests=problem["test"].strip() + "\n",
                                output=output)
    number = problem["task_id"].rpartition("/")[2]
    return Problem(task_id=f"HumanEvalFix-ours/{number}", language="python", prompt=prompt,
                   test=test_code(problem), entry_point=problem["entry_point"], canonical_solution=fixed,
                   preamble=preamble.rstrip("\n"), mode="full",
                   metadata={"suite": SUITE, "method": METHOD, "source_task_id": problem["task_id"],
                             "buggy_solution": buggy, "bug": {"line": bug.line - preamble.count("\n"),
                                                              "before": bug.before, "after": bug.after},
                             "failing_output": output})
