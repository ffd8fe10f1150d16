"""The final `verify` stage re-runs every record's own tests in the real sandbox (semi_instruct: on
the source code too), so a published dataset only holds records that pass them."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeinstruct.core.records import Record, read_records, write_jsonl_atomic
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.settings import Settings
from codeinstruct.targets import INPROCESS, open_sandbox
from codeinstruct_pipelines import steps

DOUBLE = "def f(a):\n    return a * 2\n"


def _semi(code: str, source: str, test: tuple[str, str]) -> Record:
    return Record(method="semi_instruct", instruction=f"double {test[0]}", code=code, entry_point="f",
                  tests=[{"input": test[0], "output": test[1]}], source={"code": source})


@pytest.fixture(scope="module")
def box():
    with open_sandbox(INPROCESS, SandboxConfig()) as sandbox:
        yield sandbox


def test_verify_keeps_passing_records_and_names_each_failure(box) -> None:
    evolved = {"evol_round": 1}
    records = [
        _semi(DOUBLE, "def f(a):\n    return a + a\n", ("f(2)", "4")),
        _semi(DOUBLE, "def f(a):\n    return a + 1\n", ("f(3)", "6")),      # the source disagrees
        Record(method="evol_instruct", instruction="z", code="def f(a):\n    return a\n", entry_point="f",
               tests=[{"input": "f(3)", "output": "6"}], scores=evolved),     # wrong answer
        Record(method="self_instruct", instruction="w", code="print(1)"),  # no tests: runs cleanly
        Record(method="evol_instruct", instruction="s", code="print(int(input()) * 2)",
               tests=[{"input": "4\n", "output": "8\n"}], scores=evolved),  # stdin/stdout program
        Record(method="evol_instruct", instruction="t", code="def f(:\n", entry_point="f",
               tests=[{"input": "f()", "output": "1"}], scores=evolved),      # syntax error
        Record(method="semi_instruct", instruction="u", code=DOUBLE, entry_point="f",
               source={"code": DOUBLE}),                                      # semi_instruct makes tests
    ]
    kept, reasons = steps.verify_records(records, box)
    assert [r.instruction for r in kept] == ["double f(2)", "w", "s"]
    assert reasons == {"source_WRONG_ANSWER": 1, "WRONG_ANSWER": 1, "no_tests": 1, "SYNTAX_ERROR": 1}
    assert [(r.scores["standard"], r.scores["verified"]) for r in kept] == [
        ("semi_instruct:gold_tests", "tests"), ("self_instruct:runs", "runs"), ("evol_instruct:evolved_runs", "tests")]


def test_verify_can_keep_records_without_tests_whose_code_runs(box) -> None:
    record = Record(method="self_instruct", instruction="w", code="print(1)")
    crashing = Record(method="self_instruct", instruction="c", code="import no_such_module_here\n")
    broken = Record(method="self_instruct", instruction="b", code="def f(:\n")
    kept, reasons = steps.verify_records([record, crashing, broken], box, require_tests=False)
    assert kept == [record]
    assert reasons == {"RUNTIME_ERROR": 1, "SYNTAX_ERROR": 1}
    # Requiring tests of self_instruct drops the record that has none.
    kept, reasons = steps.verify_records([record], box, require_tests=["self_instruct"])
    assert kept == [] and reasons == {"no_tests": 1}


def test_verify_stage_writes_only_survivors(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_jsonl_atomic(source, [_semi(DOUBLE, DOUBLE, ("f(5)", "10")), _semi(DOUBLE, DOUBLE, ("f(5)", "11"))])
    stats = steps.run_stage("verify", source, tmp_path / "out.jsonl", settings=Settings(), label="verify")
    assert [r.tests[0]["output"] for r in read_records(tmp_path / "out.jsonl")] == ["10"]
    assert stats["input"] == 2 and stats["kept"] == 1 and stats["reasons"] == {"WRONG_ANSWER": 1}
    assert stats["require_tests"] == ["semi_instruct"] and stats["standards"] == {"semi_instruct:gold_tests": 1}
    # The sandbox's own run times, in total and per method.
    assert stats["sandbox_runs"] >= 3 and 0 < stats["sandbox_seconds"] < stats["seconds"] + 1
    semi = stats["by_method"]["semi_instruct"]
    assert semi["input"] == 2 and semi["kept"] == 1 and semi["sandbox_seconds"] == stats["sandbox_seconds"]
