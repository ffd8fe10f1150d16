"""HumanEvalPack files (bigcode/humanevalpack, one JSONL per language: python, js, cpp, java, go, rust).

Each row: task_id ("Python/0", "JavaScript/0", "CPP/0", "Java/0", "Go/0", "Rust/0"), prompt
(declaration + docstring), declaration, canonical_solution, buggy_solution, bug_type,
failure_symptoms, entry_point, import, test_setup, test (ends with its own call), example_test,
signature, docstring, instruction. Three tasks, as in OctoPack's bigcode harness:
- `synthesize`: the model completes `prompt`; program = prompt + completion + test;
- `fix` (HumanEvalFixTests): the model sees "Fix bugs in {entry_point}." with the declaration,
  the buggy function and the tests, and writes the function again after the declaration; program =
  declaration + answer + test (the canonical solution passes, the buggy one fails);
- `explain` (HumanEvalExplain): the model describes the canonical solution in at most
  len(docstring) characters, then, from that description alone, writes the function after the
  declaration (`explain_run`); with `--samples` the given code is checked the same way.
The harness's import helpers are the programs' preamble (numpy and boost left out: the sandbox has
neither). JavaScript tests use `console.assert`, which Node only prints: the bigcode harness fails a
run that writes to stderr; here the preamble makes a failed `console.assert` throw instead. Go and
Rust rows are skipped and counted (the sandbox does not run them).

Example:
    codeinstruct eval humanevalpack-fix --file humanevalpack-js.jsonl --language javascript --samples s.jsonl
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from codeinstruct.evaluation.loaders.common import Loaded, finish, need, read_rows, sandbox_language
from codeinstruct.evaluation.problems import Problem

Task = Literal["synthesize", "fix", "explain"]
KEYS = ("task_id", "prompt", "declaration", "canonical_solution", "test", "entry_point")
ALIASES = {"Python": "python", "JavaScript": "javascript", "CPP": "cpp", "Java": "java", "Go": "go", "Rust": "rust"}
PREAMBLES = {
    "python": "\n".join(["import math", "import re", "import sys", "import copy", "import datetime", "import itertools",
                         "import collections", "import heapq", "import statistics", "import functools",
                         "import hashlib", "import string", "from typing import *", "from collections import *"]),
    "cpp": "\n".join([*(f"#include<{h}>" for h in ("stdlib.h", "algorithm", "cmath", "math.h", "numeric", "stdio.h",
                                                   "vector", "set", "map", "queue", "stack", "list", "deque", "string",
                                                   "climits", "cstring", "iostream", "sstream", "fstream")),
                      "using namespace std;"]),
    "javascript": ("console.assert = (condition, ...message) => {\n"
                   "  if (!condition) throw new Error(['Assertion failed', ...message].join(' '));\n"
                   "};"),
}
DESCRIBE = "Provide a concise natural language description of the code using at most {n} characters."
SYNTHESIZE = "Write functional code in {name} according to the description.\n\n{description}"
FIX = "Fix bugs in {entry_point}."
NAMES = {"python": "Python", "javascript": "JavaScript", "cpp": "C++", "java": "Java"}


def problem(row: dict[str, Any], language: str, task: Task) -> Problem:
    declaration, test = str(row["declaration"]), str(row["test"])
    metadata: dict[str, Any] = {"task": task, "bug_type": row.get("bug_type", ""),
                                "buggy_solution": row.get("buggy_solution", ""), "docstring": row.get("docstring", "")}
    if task == "synthesize":
        prompt = str(row["prompt"])
    else:
        prompt = declaration
        if task == "fix":
            context = declaration + str(row.get("buggy_solution", "")) + "\n" + test
            metadata["instruction"] = f"{context}\n{FIX.format(entry_point=row['entry_point'])}"
        else:
            metadata["describe"] = (declaration + str(row["canonical_solution"]) + "\n"
                                    + DESCRIBE.format(n=len(str(row.get("docstring", "")))))
    return Problem(task_id=str(row["task_id"]), language=language, prompt=prompt, test=test,
                   entry_point=str(row["entry_point"]), canonical_solution=str(row["canonical_solution"]),
                   preamble=PREAMBLES.get(language, ""), mode="completion", metadata=metadata)


def load(path: str | Path | None, language: str | None = None, limit: int | None = None, *,
         task: Task = "synthesize") -> Loaded:
    """HumanEvalPack problems of one task, in the sandbox's languages."""
    skipped: Counter[str] = Counter()
    problems = []
    for number, row in enumerate(read_rows(path), 1):
        need(row, KEYS, where=f"{path}: line {number}")
        if task == "fix":
            need(row, ("buggy_solution",), where=f"{path}: line {number}")
        chosen = sandbox_language(ALIASES.get(str(row["task_id"]).split("/")[0], str(row["task_id"])),
                                  {}, skipped)
        if chosen is not None:
            problems.append(problem(row, chosen, task))
    return finish(problems, skipped, limit, language)


def describe_cut(text: str, problem: Problem) -> str:
    """A description as the harness keeps it: at most len(docstring) characters, lines of the code removed."""
    text = text.strip()[:len(str(problem.metadata.get("docstring", "")))].rstrip()
    for line in problem.canonical_solution.splitlines():
        if len(line.strip()) > 20 and line.strip() in text:
            text = text.replace(line.strip(), "")
    return text


def with_descriptions(problems: Sequence[Problem], descriptions: Sequence[str]) -> list[Problem]:
    """Explain problems whose instruction is the description (what the second call writes code from)."""
    return [dataclasses.replace(p, metadata={**p.metadata, "instruction": SYNTHESIZE.format(
        name=NAMES.get(p.language, p.language), description=d)}) for p, d in zip(problems, descriptions, strict=True)]
