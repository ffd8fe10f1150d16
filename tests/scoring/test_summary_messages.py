"""StageSummary carries each stage's figures typed: the report rebuilt from the messages equals the
in-process report (same keys, same value types), for every stage's real figures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codeinstruct.core.records import Record
from codeinstruct.core.usage import Usage
from codeinstruct.scoring import coreset_selection, decontamination, deduplication, discriminator, validation
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.messages import report_from_responses, report_responses, summary_to_proto
from codeinstruct.scoring.types import StageReport
from codeinstruct.v1 import scoring_pb2
from tests.support.scoring import make

CONFIG = ScoringConfig(decontam_embedding_threshold=0.0, test_timeout_s=2.0)


def _records() -> list[Record]:
    return [make(f"Write a Python function returning {i % 2}.", f"def f{i}():\n    return {i % 2}\n", method=method,
                 entry_point=f"f{i}", tests=[{"input": f"f{i}()", "output": str(i % 2)}],
                 source={"code": f"def f{i}():\n    return {i % 2}\n"})
            for i, method in enumerate(["semi_instruct", "semi_instruct", "wavecoder"])]


def _round_trip(report: StageReport) -> StageReport:
    return report_from_responses(report_responses(report, scoring_pb2.DedupResponse, 2))


def _same(report: StageReport) -> None:
    back = _round_trip(report)
    assert back.stage == report.stage
    assert json.dumps(back.extra, sort_keys=True) == json.dumps(report.extra, sort_keys=True)
    assert [r.id for r in back.kept] == [r.id for r in report.kept]


@pytest.mark.parametrize("method", ["exact", "minhash", "rougel"])
def test_dedup_figures(method: Any) -> None:
    _same(deduplication.dedup(_records(), method, config=CONFIG))


def test_decontaminate_figures() -> None:
    records = _records()
    bench = decontamination.Benchmark("private", (decontamination.BenchmarkItem(
        "p1", ("Write a Python function returning 0. def f0(): return 0 and more words to make it long enough",), ""),))
    report = decontamination.decontaminate(records, ["humaneval", bench], config=CONFIG)
    assert set(report.extra["hits"]) == {"humaneval", "private"}
    _same(report)


def test_coreset_and_rules_only_discriminator_figures() -> None:
    _same(coreset_selection.coreset(_records(), 5, config=CONFIG))
    _same(discriminator.discriminate(_records(), None, config=CONFIG, use_llm=False))


def test_sandbox_stage_figures(sandbox: Any) -> None:
    semi = validation.validate_semi_instruct(_records(), sandbox, config=CONFIG)
    assert "kept_tests" in semi.extra and set(semi.extra["by_method"]) == {"semi_instruct", "wavecoder"}
    _same(semi)
    plain = validation.execution_filter(_records(), sandbox, config=CONFIG)
    assert "kept_tests" not in plain.extra
    _same(plain)


def test_engine_stage_figures() -> None:
    usage = Usage()
    usage.tokens_in, usage.engine_seconds = 120, 1.25
    _same(StageReport("select_by_lm_score", extra={"snippets": 2, **usage.as_stats()}))
    _same(StageReport("discriminate", extra={"pools": {"good": 1, "bad": 0}, **usage.as_stats()}))


def test_rank_and_empty_summaries() -> None:
    _same(StageReport("rank", extra={"by": "lm_score"}))
    empty = summary_to_proto(StageReport("dedup"))
    assert not empty.HasField("usage") and empty.WhichOneof("figures") is None
