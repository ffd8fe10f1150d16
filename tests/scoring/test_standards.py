"""`verify` holds each method's records to that method's own standard, through the real sandbox:
a good record of every method is kept (and says which standard it met), a bad one is dropped with
the reason, and no record is dropped for lacking tests its method never makes."""

from __future__ import annotations

from typing import Any

import pytest

from codeinstruct.core.records import Record
from codeinstruct.scoring import validation
from codeinstruct.scoring.config import ScoringConfig

DOUBLE = "def double(a):\n    return a * 2\n"
RUNS = "def greet(name):\n    return 'hi ' + name\n"
CRASHES = "import no_such_module_here\n"
GOLD = [{"input": "double(2)", "output": "4"}, {"input": "double(5)", "output": "10"}]
# A repair record: the instruction carries the broken code, the response the fix.
BROKEN = "def double(a):\n    return a * 3\n"
REPAIR = f"Fix the bug in the Python function below so that it doubles a.\n\n```python\n{BROKEN}```"


def _verify(records: list[Record], sandbox: Any, **kwargs: Any) -> tuple[list[Record], dict[str, str]]:
    report = validation.verify(records, sandbox, config=ScoringConfig(sandbox_concurrency=2), **kwargs)
    return report.kept, {record.instruction: reason.split(":", 1)[0] for record, reason in report.dropped}


CASES = {
    "semi_instruct": (
        Record(method="semi_instruct", instruction="good", code=DOUBLE, entry_point="double", tests=GOLD,
               source={"code": "def double(a):\n    return a + a\n"}),
        [(Record(method="semi_instruct", instruction="source disagrees", code=DOUBLE, entry_point="double",
                 tests=GOLD, source={"code": "def double(a):\n    return a + 1\n"}), "source_WRONG_ANSWER"),
         (Record(method="semi_instruct", instruction="trivial", code="def same(a):\n    return a\n",
                 entry_point="same", tests=[{"input": "same(1)", "output": "1"}, {"input": "same(2)", "output": "2"}],
                 source={"code": "def same(a):\n    return a\n"}), "trivial_tests"),
         (Record(method="semi_instruct", instruction="untested", code=DOUBLE, entry_point="double",
                 source={"code": DOUBLE}), "no_tests")],
        "semi_instruct:gold_tests", "tests"),
    "inverse_instruct": (
        Record(method="inverse_instruct", instruction="good", code=RUNS, scores={"lm_score": 0.9, "lm_best": True}),
        [(Record(method="inverse_instruct", instruction="not best", code=RUNS, scores={"lm_score": 0.2}),
          "not_lm_best"),
         (Record(method="inverse_instruct", instruction="crashes", code=CRASHES, scores={"lm_best": True}),
          "RUNTIME_ERROR")],
        "inverse_instruct:runs_lm_best", "runs"),
    "evol_instruct": (
        Record(method="evol_instruct", instruction="good", code=DOUBLE, entry_point="double", tests=GOLD,
               scores={"evol_round": 2, "evol_heuristic": "constraints"}),
        [(Record(method="evol_instruct", instruction="not evolved", code=RUNS), "not_evolved"),
         (Record(method="evol_instruct", instruction="wrong", code=BROKEN, entry_point="double", tests=GOLD,
                 scores={"evol_round": 1}), "WRONG_ANSWER"),
         (Record(method="evol_instruct", instruction="syntax", code="def f(:\n", scores={"evol_round": 1}),
          "SYNTAX_ERROR")],
        "evol_instruct:evolved_runs", "tests"),
    "wavecoder": (
        Record(method="wavecoder", task="repair", instruction=REPAIR, code=DOUBLE, entry_point="double", tests=GOLD,
               scores={"discriminator": "yes"}),
        [(Record(method="wavecoder", instruction="judged no", code=RUNS, scores={"discriminator": "no"}),
          "not_judged"),
         (Record(method="wavecoder", task="translation", instruction="crashes", code=CRASHES,
                 scores={"discriminator": "yes"}), "RUNTIME_ERROR"),
         # The "fix" is the broken code itself: its tests do not catch the bug.
         (Record(method="wavecoder", task="repair", instruction="bug not caught\n\n```python\n" + DOUBLE + "```",
                 code=DOUBLE, entry_point="double", tests=GOLD, scores={"discriminator": "yes"}),
          "repair_bug_not_caught")],
        "wavecoder:judged_runs", "repair_tests"),
    "self_instruct": (
        Record(method="self_instruct", instruction="good", code="print(sum(range(4)))"),
        [(Record(method="self_instruct", instruction="crashes", code=CRASHES), "RUNTIME_ERROR"),
         (Record(method="self_instruct", task="generation", instruction="no code", response="I cannot."),
          "no_code")],
        "self_instruct:runs", "runs"),
}


@pytest.mark.parametrize("method", list(CASES))
def test_each_method_standard_accepts_a_good_record_and_rejects_bad_ones(method: str, sandbox: Any) -> None:
    good, bad, standard, verified = CASES[method]
    kept, dropped = _verify([good, *(record for record, _ in bad)], sandbox)
    assert [r.instruction for r in kept] == [good.instruction], dropped
    assert kept[0].scores["standard"] == standard and kept[0].scores["verified"] == verified
    assert dropped == {record.instruction: reason for record, reason in bad}


def test_no_record_is_dropped_for_tests_its_method_never_makes(sandbox: Any) -> None:
    untested = [CASES[m][0] for m in ("inverse_instruct", "self_instruct")] + [
        Record(method="wavecoder", task="summarization", instruction="explain", response="It doubles a.",
               scores={"discriminator": "yes"}),
        Record(method="evol_instruct", instruction="stdin", code="print(int(input()) * 2)", scores={"evol_round": 1})]
    kept, dropped = _verify(untested, sandbox)  # default: only semi_instruct must carry tests
    assert dropped == {}
    assert [r.scores["verified"] for r in kept] == ["runs", "runs", "nothing_to_run", "parses"]
    kept, dropped = _verify(untested, sandbox, require_tests=["self_instruct", "evol_instruct"])
    assert dropped == {"good": "no_tests", "stdin": "no_tests"}


def test_verify_reports_sandbox_seconds_per_method(sandbox: Any) -> None:
    report = validation.verify([CASES["semi_instruct"][0], CASES["self_instruct"][0]], sandbox)
    figures = report.counts()
    assert figures["sandbox_runs"] >= 3 and figures["sandbox_seconds"] > 0
    by_method = figures["by_method"]
    assert set(by_method) == {"semi_instruct", "self_instruct"}
    total = by_method["semi_instruct"]["sandbox_seconds"] + by_method["self_instruct"]["sandbox_seconds"]
    assert abs(total - figures["sandbox_seconds"]) < 0.01
