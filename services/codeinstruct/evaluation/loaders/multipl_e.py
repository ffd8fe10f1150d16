"""MultiPL-E files (nuprl/MultiPL-E, e.g. `humaneval-js.jsonl` or a JSON list exported from the dataset).

Each row: name ("HumanEval_0_has_close_elements"), language ("py", "js", "cpp", "java", "go", "rs",
...), prompt (signature + translated docstring), doctests, original, prompt_terminology, tests (the
translated assertions) and stop_tokens. As in MultiPL-E, the program is prompt + completion + tests
and passes when it exits 0; a completion stops at the row's stop tokens. Languages the sandbox does
not run are skipped and counted by language. Two Java adjustments, because the sandbox names the
file after the public class and runs the JVM without `-ea` (MultiPL-E runs `java -ea Problem`):
`class Problem` becomes `public class Problem`, and each `assert(x);` line of the tests becomes
`if (!(x)) throw new AssertionError();`. Every Java prompt imports org.javatuples (a jar MultiPL-E
puts on the class path, the sandbox does not): the import is dropped, and rows that use its types
(Pair, Triplet, ...) are skipped and counted.

Example:
    codeinstruct eval multipl-e --file humaneval-js.jsonl --samples samples.jsonl
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from codeinstruct.evaluation.loaders.common import Loaded, finish, need, read_rows, sandbox_language
from codeinstruct.evaluation.problems import Problem

KEYS = ("name", "language", "prompt", "tests")
ALIASES = {"py": "python", "js": "javascript", "cpp": "cpp", "java": "java", "python": "python",
           "javascript": "javascript"}
_JAVA_ASSERT = re.compile(r"^(\s*)assert\s*\((.*)\);\s*$", re.M)
_JAVA_CLASS = re.compile(r"^class Problem\b", re.M)
_JAVATUPLES_IMPORT = re.compile(r"^import org\.javatuples\.\*;\n", re.M)
_JAVATUPLES = re.compile(r"\b(?:Unit|Pair|Triplet|Quartet|Quintet|Sextet|Septet|Octet|Ennead|Decade|KeyValue|"
                         r"LabelValue)\s*[<.]")
_DECLARATIONS = {"python": re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", re.M),
                 "javascript": re.compile(r"^\s*function\s+([A-Za-z_$][\w$]*)\s*\(", re.M),
                 "cpp": re.compile(r"([A-Za-z_]\w*)\s*\([^()]*\)\s*\{\s*$", re.M),
                 "java": re.compile(r"([A-Za-z_]\w*)\s*\([^()]*\)\s*\{\s*$", re.M)}


def declared_function(prompt: str, language: str) -> str:
    """The name of the last function the prompt declares (the one the completion finishes)."""
    names = _DECLARATIONS[language].findall(prompt)
    return names[-1] if names else ""


def java_tests(tests: str) -> str:
    return _JAVA_ASSERT.sub(r"\1if (!(\2)) throw new AssertionError();", tests)


def problem(row: dict[str, Any], language: str) -> Problem:
    prompt, tests = str(row["prompt"]), str(row["tests"])
    if language == "java":
        prompt = _JAVATUPLES_IMPORT.sub("", _JAVA_CLASS.sub("public class Problem", prompt, count=1))
        tests = java_tests(tests)
    return Problem(task_id=str(row["name"]), language=language, prompt=prompt, test=tests,
                   entry_point=declared_function(prompt, language), mode="completion",
                   metadata={"stop": list(row.get("stop_tokens") or []), "source_language": row["language"]})


def load(path: str | Path | None, language: str | None = None, limit: int | None = None) -> Loaded:
    """MultiPL-E problems in the sandbox's languages (all of the file's, or `language` only)."""
    skipped: Counter[str] = Counter()
    problems = []
    for number, row in enumerate(read_rows(path), 1):
        need(row, KEYS, where=f"{path}: item {number}")
        chosen = sandbox_language(str(row["language"]), ALIASES, skipped)
        if chosen is None:
            continue
        if chosen == "java" and _JAVATUPLES.search(str(row["prompt"]) + str(row["tests"])):
            skipped["java needs org.javatuples"] += 1
            continue
        problems.append(problem(row, chosen))
    return finish(problems, skipped, limit, language)
