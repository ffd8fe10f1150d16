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
    records = [
        _semi(DOUBLE, "def f(a):\n    return a + a\n", ("f(2)", "4")),
        _semi(DOUBLE, "def f(a):\n    return a + 1\n", ("f(3)", "6")),      # the source disagrees
        Record(method="evol_instruct", instruction="z", code="def f(a):\n    return a\n", entry_point="f",
               tests=[{"input": "f(3)", "output": "6"}]),                     # wrong answer
        Record(method="self_instruct", instruction="w", code="print(1)"),  # nothing to re-run
        Record(method="evol_instruct", instruction="s", code="print(int(input()) * 2)",
               tests=[{"input": "4\n", "output": "8\n"}]),                    # stdin/stdout program
        Record(method="evol_instruct", instruction="t", code="def f(:\n", entry_point="f",
               tests=[{"input": "f()", "output": "1"}]),                      # syntax error
    ]
    kept, reasons = steps.verify_records(records, box)
    assert [r.instruction for r in kept] == ["double f(2)", "s"]
    assert reasons == {"source_WRONG_ANSWER": 1, "WRONG_ANSWER": 1, "no_tests": 1, "SYNTAX_ERROR": 1}


def test_verify_can_keep_records_without_tests_whose_code_runs(box) -> None:
    record = Record(method="self_instruct", instruction="w", code="print(1)")
    crashing = Record(method="self_instruct", instruction="c", code="import no_such_module_here\n")
    broken = Record(method="self_instruct", instruction="b", code="def f(:\n")
    kept, reasons = steps.verify_records([record, crashing, broken], box, require_tests=False)
    assert kept == [record]
    assert reasons == {"RUNTIME_ERROR": 1, "SYNTAX_ERROR": 1}


def test_verify_stage_writes_only_survivors(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_jsonl_atomic(source, [_semi(DOUBLE, DOUBLE, ("f(5)", "10")), _semi(DOUBLE, DOUBLE, ("f(5)", "11"))])
    stats = steps.run_stage("verify", source, tmp_path / "out.jsonl", settings=Settings(), label="verify")
    assert [r.tests[0]["output"] for r in read_records(tmp_path / "out.jsonl")] == ["10"]
    assert stats["input"] == 2 and stats["kept"] == 1 and stats["reasons"] == {"WRONG_ANSWER": 1}
