from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import (
    JsonlWriter,
    Record,
    read_jsonl,
    read_records,
    write_jsonl_atomic,
    write_text_atomic,
)


def make(i: int) -> Record:
    return Record(method="seed", instruction=f"task {i}", code=f"def f():\n    return {i}\n",
                  tests=[{"input": "f()", "output": repr(i)}], source={"origin": "test", "license": "MIT"})


def test_id_is_stable_and_content_addressed() -> None:
    assert make(1).id == make(1).id
    assert make(1).id != make(2).id
    changed = make(1)
    changed.generator["fingerprint"] = "other-settings"
    assert Record(**{**changed.to_dict(), "id": ""}).id != make(1).id


def test_round_trip_and_field_contract(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    write_jsonl_atomic(path, [make(1), make(2)])
    rows = list(read_jsonl(path))
    assert list(rows[0]) == ["id", "method", "task", "language", "instruction", "response", "code",
                             "entry_point", "tests", "scores", "source", "generator"]
    assert [r.id for r in read_records(path)] == [make(1).id, make(2).id]


def test_atomic_writes_get_the_mode_open_would_give(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "report.md", "# report\n")
        assert (tmp_path / "report.md").stat().st_mode & 0o777 == 0o640  # not mkstemp's 0o600
        (tmp_path / "shared.json").write_text("{}")
        (tmp_path / "shared.json").chmod(0o664)
        write_text_atomic(tmp_path / "shared.json", '{"a": 1}')
        assert (tmp_path / "shared.json").stat().st_mode & 0o777 == 0o664  # an existing file keeps its mode
        assert (tmp_path / "shared.json").read_text() == '{"a": 1}'
    finally:
        os.umask(previous)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md", "shared.json"]  # no temp files left


@pytest.mark.parametrize("patch, field", [
    ({"method": "magic"}, "method"),
    ({"task": "poetry"}, "task"),
    ({"tests": [{"input": "x"}]}, "tests"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_records_name_the_field(patch: dict, field: str) -> None:
    data = {**make(1).to_dict(), **patch}
    with pytest.raises(InvalidInput) as info:
        Record.from_dict(data)
    assert info.value.field == field


def test_bad_jsonl_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\nnot json\n')
    with pytest.raises(InvalidInput, match=r"bad.jsonl:2"):
        list(read_jsonl(path))


def test_writer_resumes_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    writer = JsonlWriter(path)
    writer.open()
    assert writer.write(make(1)) and writer.write(make(2))
    writer.close(complete=False)  # an interrupted run leaves only the partial file
    assert not path.exists()
    with JsonlWriter(path) as again:
        assert again.resumed == 2 and make(1).id in again
        assert not again.write(make(1))
        assert again.write(make(3))
    assert [r["instruction"] for r in read_jsonl(path)] == ["task 1", "task 2", "task 3"]
    assert not path.with_name("out.jsonl.partial").exists()


def test_writer_survives_kill_9(tmp_path: Path) -> None:
    """A process killed mid-run loses nothing it reported written, and a rerun adds no duplicate."""
    path = tmp_path / "out.jsonl"
    script = textwrap.dedent(f"""
        import sys, time
        from codeinstruct.core.records import JsonlWriter, Record
        with JsonlWriter({str(path)!r}) as w:
            for i in range(1000):
                w.write(Record(method="seed", instruction=f"task {{i}}"))
                print(i, flush=True)
                time.sleep(0.01)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = [proc.stdout.readline() for _ in range(20)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(seen) == 20
    with JsonlWriter(path) as writer:
        assert writer.resumed >= 20
        for i in range(30):
            writer.write(Record(method="seed", instruction=f"task {i}"))
    ids = [json.loads(line)["id"] for line in path.read_text().splitlines()]
    assert len(ids) == len(set(ids)) >= 30
