"""MBPP files: the original (`mbpp.jsonl`) and the sanitized set (`sanitized-mbpp.json`).

Original rows: task_id, text, code, test_list, test_setup_code, challenge_test_list. Sanitized
rows: task_id, prompt, code, test_imports, test_list (source_file unused). The model is asked the
task with its tests, as in the MBPP paper ("{text} Your code should pass these tests: ...") and
writes the whole program; the check is the setup code (original) or the test imports (sanitized)
followed by the asserts of `test_list` (the challenge tests are not run, as in the paper's figures).
The file is evaluated as given: the paper's test split is task_id 11-510.

Example:
    codeinstruct eval mbpp --file mbpp.jsonl --samples samples.jsonl --limit 50
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from codeinstruct.evaluation.loaders.common import Loaded, finish, need, read_rows
from codeinstruct.evaluation.problems import Problem

ASK = "{text}\nYour code should pass these tests:\n\n{tests}\n"
_CALL = re.compile(r"assert\s+(?:not\s+)?\(?\s*(?:math\.isclose\(\s*|set\(\s*)?([A-Za-z_]\w*)\s*\(")
_DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.M)


def entry_point(tests: list[str], code: str) -> str:
    """The function the asserts call (the first name called in the first assert), else the code's first def."""
    for test in tests:
        match = _CALL.search(test)
        if match:
            return match.group(1)
    match = _DEF.search(code)
    return match.group(1) if match else ""


def problem(row: dict[str, Any], where: str) -> Problem:
    sanitized = "prompt" in row and "text" not in row
    need(row, ("task_id", "prompt" if sanitized else "text", "code", "test_list"), where=where)
    tests = [str(t) for t in row["test_list"]]
    text = str(row["prompt"] if sanitized else row["text"]).strip()
    setup = "\n".join(row.get("test_imports") or []) if sanitized else str(row.get("test_setup_code") or "")
    code = str(row["code"]).replace("\r\n", "\n")
    checks = (setup + "\n" if setup.strip() else "") + "\n".join(tests)
    return Problem(task_id=str(row["task_id"]), language="python", prompt=ASK.format(text=text, tests="\n".join(tests)),
                   test=checks, entry_point=entry_point(tests, code), canonical_solution=code, mode="full",
                   metadata={"variant": "sanitized" if sanitized else "original"})


def load(path: str | Path | None, language: str | None = None, limit: int | None = None) -> Loaded:
    """MBPP problems (original or sanitized, told apart by their fields)."""
    problems = [problem(row, f"{path}: item {number}") for number, row in enumerate(read_rows(path), 1)]
    return finish(problems, Counter(), limit, language)
