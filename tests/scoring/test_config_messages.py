"""ScoringConfig validation and layering; proto conversion and bounded chunks."""

from __future__ import annotations

import pytest

from codeinstruct.core.config import build
from codeinstruct.core.errors import InvalidInput
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.messages import CHUNK_BYTES, chunks, record_bytes, record_from_proto, record_to_proto
from codeinstruct.scoring.types import StageReport
from tests.support.scoring import make


def scoring_config(data: dict, overrides: dict | None = None) -> ScoringConfig:
    return build(ScoringConfig, "scoring", data=data, overrides=overrides)


def test_config_layers_and_rejects_bad_values(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"scoring": {"rougel_threshold": 0.6, "engine": {"engine": "transformers", "batch_size": 4}}}
    assert scoring_config(data).rougel_threshold == 0.6
    monkeypatch.setenv("CODEINSTRUCT_SCORING__MINHASH_THRESHOLD", "0.9")
    assert scoring_config(data, overrides={"rougel_threshold": 0.5}).rougel_threshold == 0.5
    assert scoring_config(data).minhash_threshold == 0.9
    with pytest.raises(InvalidInput) as err:
        scoring_config({"scoring": {"rougel_treshold": 0.6}})
    assert err.value.field == "scoring.rougel_treshold"
    with pytest.raises(InvalidInput) as err:
        ScoringConfig(minhash_threshold=1.5)
    assert err.value.field == "scoring.minhash_threshold"
    with pytest.raises(InvalidInput):
        ScoringConfig(discriminator_pool_size=2, discriminator_shots=3)


def test_record_round_trip_keeps_types() -> None:
    record = make("Do it in Python.", "def f():\n    return 1\n", entry_point="f",
                  tests=[{"input": "f()", "output": "1"}], scores={"n_tests": 1, "lm_score": 0.75,
                                                                  "discriminator": "yes"},
                  source={"parent_id": "p", "code": "def f(): return 1"}, generator={"model": "m"})
    back = record_from_proto(record_to_proto(record))
    assert back.to_dict() == record.to_dict()
    assert isinstance(back.scores["n_tests"], int)


def test_chunks_are_bounded_by_count_and_bytes() -> None:
    small = [make(f"r{i}") for i in range(7)]
    assert [len(c) for c in chunks(small, 3, record_bytes)] == [3, 3, 1]
    # response and code are both counted: each record weighs about 0.4 of the byte budget
    big = [make("big", "x" * int(CHUNK_BYTES * 0.2)) for _ in range(5)]
    assert [len(c) for c in chunks(big, 100, record_bytes)] == [2, 2, 1]
    huge = [make("huge", "x" * CHUNK_BYTES) for _ in range(2)]  # over the budget: one per message
    assert [len(c) for c in chunks(huge, 100, record_bytes)] == [1, 1]


def test_stage_report_counts_categories() -> None:
    report = StageReport("x")
    report.keep(make("a"))
    report.drop(make("b"), "exact_duplicate: of 1")
    report.drop(make("c"), "exact_duplicate: of 2")
    report.drop(make("d"), "no_code")
    report.extra["method"] = "exact"
    assert report.counts() == {"stage": "x", "kept": 1, "dropped": 3, "method": "exact",
                               "reasons": {"exact_duplicate": 2, "no_code": 1}}
