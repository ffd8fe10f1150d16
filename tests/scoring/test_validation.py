"""Semi-Instruct validation and the execution filter, on hand-written cases against the REAL sandbox."""

from __future__ import annotations

from typing import Any

from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.validation import execution_filter, trivial_tests, validate_semi_instruct
from tests.support.scoring import make

CONFIG = ScoringConfig(test_timeout_s=1.0)

REVERSE = "def rev(s):\n    return s[::-1]\n"
REVERSE_REFINED = ("def rev(s):\n    \"\"\"Reverse s.\"\"\"\n    out = ''\n    for ch in s:\n        out = ch + out\n"
                   "    return out\n")
REVERSE_WRONG_ON_EMPTY = "def rev(s):\n    if not s:\n        return None\n    return s[::-1]\n"


def semi(code: str, original: str, inputs: list[str], entry_point: str = "rev", **fields: Any):
    return make("Reverse a string in Python.", code, method="semi_instruct", entry_point=entry_point,
                tests=[{"input": i, "output": ""} for i in inputs], source={"code": original, "origin": "test"},
                **fields)


def test_semi_instruct_hand_written_cases(sandbox: Any) -> None:
    inputs = ["rev('abc')", "rev('')", "rev('ab ba')"]
    matches = semi(REVERSE_REFINED, REVERSE, inputs)
    differs = semi(REVERSE_WRONG_ON_EMPTY, REVERSE, inputs)
    crashes = semi("def div(a, b):\n    return int(a / b) if a * b >= 0 else -(-a // b)\n",
                   "def div(a, b):\n    return a // b\n", ["div(6, 3)", "div(1, 0)", "div(7, 2)"], "div")
    hangs = semi("def up(n):\n    return n + 1\n", "def up(n):\n    while n > 5:\n        pass\n    return n + 1\n",
                 ["up(1)", "up(9)"], "up")
    broken = semi("def rev(s)\n    return s[::-1]\n", REVERSE, inputs)
    stdin = semi("import sys\nprint(sys.stdin.read().strip().upper())\n", "print(input().upper())\n",
                 ["abc\n", "Hello World\n"], "")
    no_source = semi(REVERSE, "", inputs)
    no_good_input = semi(REVERSE, REVERSE, ["rev(1)", "rev(None)"])

    report = validate_semi_instruct([matches, differs, crashes, hangs, broken, stdin, no_source, no_good_input],
                                    sandbox, config=CONFIG)
    kept = {r.id: r for r in report.kept}
    assert set(kept) == {matches.id, crashes.id, hangs.id, stdin.id}
    # gold outputs come from the ORIGINAL code, repr() of the value (DESIGN section 4)
    assert kept[matches.id].tests == [{"input": "rev('abc')", "output": "'cba'"}, {"input": "rev('')", "output": "''"},
                                      {"input": "rev('ab ba')", "output": "'ab ba'"}]
    assert kept[matches.id].scores["n_tests"] == 3
    # the input the original crashes on (and the one it hangs on) is dropped, the rest kept
    assert kept[crashes.id].tests == [{"input": "div(6, 3)", "output": "2"}, {"input": "div(7, 2)", "output": "3"}]
    assert kept[crashes.id].scores["n_tests"] == 2
    assert kept[hangs.id].tests == [{"input": "up(1)", "output": "2"}]
    assert kept[stdin.id].tests == [{"input": "abc\n", "output": "ABC\n"},
                                    {"input": "Hello World\n", "output": "HELLO WORLD\n"}]
    reasons = dict(report.dropped and [(r.id, reason) for r, reason in report.dropped])
    assert reasons[differs.id].startswith("output_mismatch: \"rev('')\" gave 'None'")
    assert reasons[broken.id].startswith("refined_syntax_error")
    assert reasons[no_source.id].startswith("no_source_code")
    assert reasons[no_good_input.id].startswith("no_valid_inputs")
    counts = report.counts()
    assert counts["reasons"] == {"output_mismatch": 1, "refined_syntax_error": 1, "no_source_code": 1,
                                 "no_valid_inputs": 1}
    assert counts["dropped_inputs"] == {"original_runtime_error": 3, "original_timeout": 1}
    assert counts["kept_tests"] == 3 + 2 + 1 + 2


def test_tests_a_trivial_function_passes_drop_the_record(sandbox: Any) -> None:
    # a no-op "refinement" of unquote matches the original on inputs without quotes to remove
    unquote = "def unquote(s):\n    return s.strip('\"')\n"
    noop = semi("def unquote(s):\n    return s.replace('x', 'x')\n", unquote, ["unquote('ab')", "unquote('c d')"],
                "unquote")
    constant = semi("def odd(n):\n    return False\n", "def odd(n):\n    return n % 2 == 1\n",
                    ["odd(2)", "odd(4)"], "odd")
    telling = semi("def unquote(s):\n    return s.strip('\"')\n", unquote, ["unquote('ab')", "unquote('\"cd\"')"],
                   "unquote")
    report = validate_semi_instruct([noop, constant, telling], sandbox, config=CONFIG)
    assert [r.id for r in report.kept] == [telling.id]
    reasons = {r.id: reason for r, reason in report.dropped}
    assert reasons[noop.id] == "trivial_tests: returning the argument unchanged passes every test (2)"
    assert reasons[constant.id] == "trivial_tests: a function always returning 'False' passes all 2 tests"
    # the check can be switched off
    off = ScoringConfig(test_timeout_s=1.0, semi_reject_trivial_tests=False)
    assert len(validate_semi_instruct([noop, constant], sandbox, config=off).kept) == 2


def test_trivial_tests_rules() -> None:
    assert trivial_tests([{"input": "f('a')", "output": "'a'"}], "f")  # one identity test
    assert trivial_tests([{"input": "f([1, 2])", "output": "[1, 2]"}, {"input": "f(())", "output": "()"}], "f")
    assert trivial_tests([{"input": "abc\n", "output": "abc\n"}], "")  # a program echoing stdin
    assert trivial_tests([{"input": "f(1)", "output": "2"}], "f") is None  # one test with a real answer
    assert trivial_tests([{"input": "f(1, 1)", "output": "1"}], "f") is None  # two arguments: no identity
    assert trivial_tests([{"input": "f(x)", "output": "x"}], "f") is None  # not a literal
    assert trivial_tests([{"input": "f(1)", "output": "1"}, {"input": "f(2)", "output": "4"}], "f") is None


def test_unrepeatable_outputs_are_not_gold(sandbox: Any) -> None:
    record = semi("def mk(x):\n    return object() if x else 1\n", "def mk(x):\n    return object() if x else 1\n",
                  ["mk(1)", "mk(0)"], "mk")
    report = validate_semi_instruct([record], sandbox, config=CONFIG)
    assert report.kept[0].tests == [{"input": "mk(0)", "output": "1"}]
    assert report.extra["dropped_inputs"] == {"original_unrepeatable_output": 1}


def test_execution_filter(sandbox: Any) -> None:
    runs = make("Add two numbers in Python.", "def add(a, b):\n    return a + b\n")
    syntax = make("Add two numbers in Python.", "def add(a, b)\n    return a + b\n")
    crash_on_import = make("Use a library.", "import not_a_real_module_xyz\n\ndef f():\n    return 1\n")
    passing = make("Add.", "def add(a, b):\n    return a + b\n", entry_point="add",
                   tests=[{"input": "add(1, 2)", "output": "3"}, {"input": "add('a', 'b')", "output": "'ab'"}])
    failing = make("Add.", "def add(a, b):\n    return a - b\n", entry_point="add",
                   tests=[{"input": "add(2, 0)", "output": "2"}, {"input": "add(1, 2)", "output": "3"}])
    stdin_program = make("Echo in Python.", "name = input()\nprint('hi', name)\n")
    summary = make("Summarize this code.", "", response="It adds two numbers.", method="wavecoder",
                   task="summarization")
    no_code = make("Write code.", "", response="I cannot.", method="wavecoder", task="generation")
    records = [runs, syntax, crash_on_import, passing, failing, stdin_program, summary, no_code]
    report = execution_filter(records, sandbox, config=CONFIG)
    assert [r.id for r in report.kept] == [runs.id, passing.id, stdin_program.id, summary.id]
    assert report.counts()["reasons"] == {"syntax_error": 1, "runtime_error": 1, "tests_wrong_answer": 1,
                                          "no_code": 1}
    reasons = {r.id: reason for r, reason in report.dropped}
    assert "not_a_real_module_xyz" in reasons[crash_on_import.id]
    assert reasons[failing.id] == "tests_wrong_answer: passed 1/2"  # add(2, 0) is right by chance
