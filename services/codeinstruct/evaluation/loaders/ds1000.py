"""DS-1000 (`ds1000.jsonl` of xlangai/DS-1000): data-science problems checked by each row's own code.

Each row: prompt (the question, ending where the solution goes), reference_code, metadata
(problem_id, library_problem_id, library, test_case_cnt, perturbation_type, ...) and code_context
(the checking code, defining `test_execution(solution)` and for some problems `test_string`). As in
DS-1000's evaluation, the program is code_context + `code = <the answer as a string>` +
`test_execution(code)` (+ `test_string(code)` when defined) and passes when it exits 0. The checks
import numpy, pandas, scipy, matplotlib, sklearn, tensorflow or torch: the problem lists the modules
its code_context imports (`Problem.requires`) and the runner refuses to start, naming each missing
module, when the sandbox's Python lacks one (the sandbox image must provide them). DS-1000 allows
120 s per program; the suite's default limit is lower (`--timeout`).

Example:
    codeinstruct eval ds-1000 --file ds1000.jsonl --samples answers.jsonl --limit 20
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from codeinstruct.evaluation.loaders.common import Loaded, finish, need, read_rows
from codeinstruct.evaluation.problems import Problem

KEYS = ("prompt", "reference_code", "metadata", "code_context")
LIBRARIES = {"numpy": ("numpy",), "pandas": ("numpy", "pandas"), "scipy": ("numpy", "scipy"),
             "matplotlib": ("numpy", "matplotlib"), "sklearn": ("numpy", "sklearn"),
             "tensorflow": ("numpy", "tensorflow"), "pytorch": ("numpy", "torch")}
STOP = ("</code>", "# SOLUTION END", "END SOLUTION")


def imported_modules(code: str) -> set[str]:
    """Top-level modules a piece of code imports, standard library left out."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names}


def problem(row: dict[str, Any]) -> Problem:
    metadata = dict(row["metadata"])
    context = str(row["code_context"])
    library = str(metadata.get("library", "")).lower()
    requires = tuple(sorted(set(LIBRARIES.get(library, ())) | imported_modules(context)))
    test = "test_execution(code)" + ("\ntest_string(code)" if "test_string(" in context else "")
    return Problem(task_id=str(metadata.get("problem_id", "")), language="python", prompt=str(row["prompt"]),
                   test=test, preamble=context, canonical_solution=str(row["reference_code"]), mode="literal",
                   requires=requires, metadata={"library": metadata.get("library", ""), "stop": list(STOP),
                                                "perturbation_type": metadata.get("perturbation_type", "")})


def load(path: str | Path | None, language: str | None = None, limit: int | None = None,
         library: str | None = None) -> Loaded:
    """DS-1000 problems (of one `library` when given, e.g. "Numpy")."""
    skipped: Counter[str] = Counter()
    problems = []
    for number, row in enumerate(read_rows(path), 1):
        need(row, KEYS, where=f"{path}: line {number}")
        if library and str(row["metadata"].get("library", "")).lower() != library.lower():
            skipped[f"library {row['metadata'].get('library')} not asked"] += 1
            continue
        problems.append(problem(row))
    return finish(problems, skipped, limit, language)
