"""ScoringService through ScoringClient: a real gRPC server on 127.0.0.1 (loopback target), records
streamed in small chunks both ways, errors mapped back to core exceptions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.scoring.client import ScoringClient
from codeinstruct.scoring.deduplication import dedup
from codeinstruct.settings import Settings
from tests.support.scoring import UID_BASE, make

SETTINGS = Settings.from_mapping({
    "scoring": {"decontam_embedding_threshold": 0.0, "stream_chunk": 2, "test_timeout_s": 2.0},
    "sandbox": {"workers": 1, "uid_base": UID_BASE + 2}}, use_env=False)


@pytest.fixture(scope="module")
def client() -> Iterator[ScoringClient]:
    with ScoringClient("loopback", SETTINGS.scoring, SETTINGS.sandbox) as instance:
        yield instance


def test_dedup_streams_and_matches_the_core(client: ScoringClient) -> None:
    # Copies differ in layout and names only (identical records would share an id: DUPLICATE_ID).
    records = [make(f"Write a Python function number {i % 3}.", f"def f{i}():\n    return {i % 3}  # copy {i}\n")
               for i in range(7)]
    remote = client.dedup(records, "exact")
    local = dedup(records, "exact")
    assert [r.to_dict() for r in remote.kept] == [r.to_dict() for r in local.kept]
    assert [(r.id, why) for r, why in remote.dropped] == [(r.id, why) for r, why in local.dropped]
    assert remote.stage == "dedup" and remote.counts()["reasons"] == {"exact_duplicate": 4}


def test_rank_keeps_order_and_types(client: ScoringClient) -> None:
    records = [make(f"r{i}", scores={"n_tests": n, "lm_score": 0.5}) for i, n in enumerate([1, 3, 2, 3, 0])]
    ordered = client.rank(records, "n_tests")
    assert [r.instruction for r in ordered] == ["r1", "r3", "r2", "r0", "r4"]
    assert ordered[0].scores == {"n_tests": 3, "lm_score": 0.5} and isinstance(ordered[0].scores["n_tests"], int)


def test_decontaminate_sends_user_benchmarks(client: ScoringClient, tmp_path: Path) -> None:
    bench = tmp_path / "private.jsonl"
    solution = "def secret_sauce(values):\n    return [v * 17 + 3 for v in values if v % 5 == 2 and v > 40]\n"
    bench.write_text(json.dumps({"id": "p1", "prompt": "Transform values.", "solution": solution}) + "\n")
    records = [make("Transform the values in Python.", solution), make("Say hi in Python.", "print('hi')\n")]
    report = client.decontaminate(records, ["humaneval", bench])
    assert [r.instruction for r in report.kept] == ["Say hi in Python."]
    assert report.extra["hits"]["private"]["items"] == ["p1"]
    assert report.extra["hits"]["humaneval"]["records"] == 0


def test_validation_through_the_service(client: ScoringClient) -> None:
    record = make("Double a number in Python.", "def double(x):\n    return x + x\n", method="semi_instruct",
                  entry_point="double", source={"code": "def double(x):\n    return 2 * x\n"},
                  tests=[{"input": "double(4)", "output": ""}, {"input": "double('ab')", "output": ""}])
    report = client.validate_semi_instruct([record])
    assert report.kept[0].tests == [{"input": "double(4)", "output": "8"},
                                    {"input": "double('ab')", "output": "'abab'"}]
    assert report.kept[0].scores["n_tests"] == 2
    assert report.kept[0].id == record.id


def test_errors_come_back_as_core_exceptions(client: ScoringClient) -> None:
    with pytest.raises(InvalidInput) as err:
        client.dedup([make()], "minhash", threshold=1.5)
    assert "threshold" in err.value.message
    with pytest.raises(InvalidInput):
        client.rank([make()], "size")


@pytest.mark.slow
def test_lm_score_selection_through_the_service(client: ScoringClient) -> None:
    code = "def add(a, b):\n    return a + b\n"
    records = [make("Write a Python function that adds two numbers.", code, method="inverse_instruct",
                    source={"parent_id": "s1"}),
               make("Write a Python function that prints a poem.", code, method="inverse_instruct",
                    source={"parent_id": "s1"})]
    report = client.select_by_lm_score(records)  # loads the embedded engine from scoring.engine
    assert len(report.kept) == 1 and report.counts()["reasons"] == {"lower_lm_score": 1}
    scores = [r.scores["lm_score"] for r in (*report.kept, report.dropped[0][0])]
    assert scores[0] >= scores[1] and all(0.0 <= s <= 1.0 for s in scores)


def test_every_stage_through_the_client_keeps_its_typed_interface(client: ScoringClient) -> None:
    records = [make(f"Write a Python function returning {i}.", f"def f{i}():\n    return {i}\n") for i in range(3)]
    assert len(client.coreset(records, 0).kept) == 3  # k 0: every record, as in-process
    assert client.discriminate(records, use_llm=False).counts()["kept"] == 3
    assert [r.id for r in client.execution_filter(records).kept] == [r.id for r in records]
    empty = client.dedup([], "exact")
    assert (empty.stage, empty.kept, empty.dropped) == ("dedup", [], [])
    assert client.rank([]) == []
    with pytest.raises(InvalidInput) as err:
        client.dedup([records[0], records[0]], "exact")
    assert (err.value.field, err.value.reason) == ("records[1].id", "DUPLICATE_ID")
