"""Conversions between core values (Record, StageReport) and the scoring protos, plus chunking.

Chunks are bounded by record count (`scoring.stream_chunk`) and by an approximate byte budget, so
no message comes near the server's message size limit however large the records are.

A `StageReport.extra` dict travels typed: the usage figures (`core.usage.USAGE_KEYS`) as
`StageSummary.usage`, the stage's own figures as the `figures` oneof; `report_from_responses` rebuilds
the same dict, so a report through gRPC equals the in-process one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2

from codeinstruct.core.records import Record
from codeinstruct.core.usage import USAGE_KEYS
from codeinstruct.scoring.config import DedupMethod
from codeinstruct.scoring.ranking import RankBy
from codeinstruct.scoring.types import StageReport
from codeinstruct.v1 import common_pb2, scoring_pb2

logger = logging.getLogger(__name__)

CHUNK_BYTES = 4 * 1024 * 1024
# Scores that are counts: Struct stores every number as a double, these come back as int.
INT_SCORES = ("n_tests",)
DEDUP_METHODS: dict[scoring_pb2.DedupMethod, DedupMethod] = {
    scoring_pb2.DEDUP_METHOD_EXACT: "exact", scoring_pb2.DEDUP_METHOD_MINHASH: "minhash",
    scoring_pb2.DEDUP_METHOD_ROUGEL: "rougel"}
RANK_KEYS: dict[scoring_pb2.RankKey, RankBy] = {
    scoring_pb2.RANK_KEY_N_TESTS: "n_tests", scoring_pb2.RANK_KEY_LM_SCORE: "lm_score"}
SANDBOX_STAGES = ("validate_semi_instruct", "execution_filter")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in (sorted(value) if isinstance(value, set) else value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def to_struct(data: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(_jsonable(data), message)
    return message


def from_struct(message: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(message)


def _str_map(data: dict[str, Any]) -> dict[str, str]:
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items() if v is not None}


def record_to_proto(record: Record) -> common_pb2.Record:
    return common_pb2.Record(
        id=record.id, method=record.method, task=record.task, language=record.language,
        instruction=record.instruction, response=record.response, code=record.code,
        entry_point=record.entry_point, tests=[common_pb2.TestCase(input=t["input"], output=t["output"])
                                               for t in record.tests],
        scores=to_struct(record.scores), source=_str_map(record.source), generator=_str_map(record.generator))


def record_from_proto(message: common_pb2.Record) -> Record:
    scores = from_struct(message.scores)
    for key in INT_SCORES:
        value = scores.get(key)
        if isinstance(value, float) and value.is_integer():
            scores[key] = int(value)
    record = Record(
        id=message.id, method=message.method, task=message.task or "generation", language=message.language or "python",
        instruction=message.instruction, response=message.response, code=message.code,
        entry_point=message.entry_point, tests=[{"input": t.input, "output": t.output} for t in message.tests],
        scores=scores, source=dict(message.source), generator=dict(message.generator))
    return record.validate()


def chunks(records: Sequence[Any], size: int, sizer: Any = None) -> Iterator[list[Any]]:
    """Consecutive slices of at most `size` items and about CHUNK_BYTES (a single big item goes alone)."""
    batch: list[Any] = []
    used = 0
    for item in records:
        weight = sizer(item) if sizer else 0
        if batch and (len(batch) >= size or used + weight > CHUNK_BYTES):
            yield batch
            batch, used = [], 0
        batch.append(item)
        used += weight
    if batch:
        yield batch


def record_bytes(record: Record) -> int:
    return len(record.instruction) + len(record.response) + len(record.code) + len(str(record.source)) + \
        sum(len(t["input"]) + len(t["output"]) for t in record.tests) + 256


def _usage_to_proto(figures: Mapping[str, Any]) -> scoring_pb2.StageUsage | None:
    present = {key: figures[key] for key in USAGE_KEYS if key in figures}
    return scoring_pb2.StageUsage(**present) if present else None


def _usage_from_proto(message: scoring_pb2.StageUsage) -> dict[str, Any]:
    return {key: getattr(message, key) for key in USAGE_KEYS if message.HasField(key)}  # type: ignore[arg-type]


def _figures_to_proto(stage: str, extra: dict[str, Any], summary: scoring_pb2.StageSummary) -> None:
    """Move the stage's own figures out of `extra` into `summary`'s `figures` oneof."""
    if stage in SANDBOX_STAGES:
        figures = summary.sandbox
        figures.SetInParent()
        if "kept_tests" in extra:
            figures.kept_tests = int(extra.pop("kept_tests"))
            figures.dropped_inputs.update({str(k): int(v) for k, v in extra.pop("dropped_inputs", {}).items()})
        for method, usage in extra.pop("by_method", {}).items():
            figures.by_method[str(method)].CopyFrom(_usage_to_proto(usage) or scoring_pb2.StageUsage())
    elif stage == "select_by_lm_score":
        summary.lm_score.snippets = int(extra.pop("snippets", 0))
    elif stage == "discriminate":
        summary.discriminate.SetInParent()
        pools = extra.pop("pools", None)
        if pools is not None:
            summary.discriminate.pools.good, summary.discriminate.pools.bad = int(pools["good"]), int(pools["bad"])
    elif stage == "dedup":
        numbers = {name: number for number, name in DEDUP_METHODS.items()}
        summary.dedup.method = numbers.get(extra.pop("method", ""), scoring_pb2.DEDUP_METHOD_UNSPECIFIED)
        if "lcs_computed" in extra:
            summary.dedup.lcs_computed = int(extra.pop("lcs_computed"))
    elif stage == "decontaminate":
        summary.decontaminate.SetInParent()
        for name, hits in extra.pop("hits", {}).items():
            summary.decontaminate.hits[str(name)].CopyFrom(scoring_pb2.BenchmarkHits(
                records=hits["records"], ngram_overlap=hits["ngram_overlap"], substring_match=hits["substring_match"],
                paraphrase=hits["paraphrase"], items=[str(i) for i in hits["items"]]))
    elif stage == "coreset":
        summary.coreset.order.extend(str(i) for i in extra.pop("order", []))
    elif stage == "rank":
        summary.rank.by = {name: number for number, name in RANK_KEYS.items()}[extra.pop("by")]


def _figures_from_proto(summary: scoring_pb2.StageSummary) -> dict[str, Any]:
    """The stage's figures as the core's `StageReport.extra` keys."""
    kind = summary.WhichOneof("figures")
    if kind == "sandbox":
        sandbox = summary.sandbox
        extra: dict[str, Any] = {}
        if sandbox.HasField("kept_tests"):
            extra = {"dropped_inputs": dict(sandbox.dropped_inputs), "kept_tests": sandbox.kept_tests}
        return {**extra, "by_method": {m: _usage_from_proto(u) for m, u in sandbox.by_method.items()}}
    if kind == "lm_score":
        return {"snippets": summary.lm_score.snippets}
    if kind == "discriminate":
        pools = summary.discriminate.pools
        return {"pools": {"good": pools.good, "bad": pools.bad}} if summary.discriminate.HasField("pools") else {}
    if kind == "dedup":
        extra = {"method": DEDUP_METHODS.get(summary.dedup.method, "")}
        if summary.dedup.HasField("lcs_computed"):
            extra["lcs_computed"] = summary.dedup.lcs_computed
        return extra
    if kind == "decontaminate":
        return {"hits": {name: {"records": h.records, "ngram_overlap": h.ngram_overlap,
                                "substring_match": h.substring_match, "paraphrase": h.paraphrase,
                                "items": list(h.items)} for name, h in summary.decontaminate.hits.items()}}
    if kind == "coreset":
        return {"order": list(summary.coreset.order)}
    if kind == "rank":
        return {"by": RANK_KEYS.get(summary.rank.by, "n_tests")}
    return {}


def summary_to_proto(report: StageReport) -> scoring_pb2.StageSummary:
    """The report's counts and figures; an empty `extra` (an empty dataset) leaves usage and figures unset."""
    summary = scoring_pb2.StageSummary(stage=report.stage, kept=len(report.kept), dropped=len(report.dropped),
                                       reasons=report.reasons())
    extra = dict(report.extra)
    if not extra:
        return summary
    usage = _usage_to_proto(extra)
    if usage is not None:
        summary.usage.CopyFrom(usage)
    for key in USAGE_KEYS:
        extra.pop(key, None)
    _figures_to_proto(report.stage, extra, summary)
    if extra:
        logger.warning("stage %s: figures %s have no StageSummary field; not sent", report.stage, sorted(extra))
    return summary


def summary_from_proto(summary: scoring_pb2.StageSummary) -> StageReport:
    """An empty report (no records) with the summary's stage and figures as `extra`."""
    extra = _figures_from_proto(summary)
    if summary.HasField("usage"):
        extra.update(_usage_from_proto(summary.usage))
    return StageReport(summary.stage, extra=extra)


def report_responses(report: StageReport, response_cls: Any, size: int) -> Iterator[Any]:
    """The report as a stream of `response_cls` messages; the summary rides on the last one."""
    items: list[tuple[str, Any]] = [("kept", r) for r in report.kept] + [("dropped", d) for d in report.dropped]

    def sizer(item: tuple[str, Any]) -> int:
        return record_bytes(item[1] if item[0] == "kept" else item[1][0])

    batches = list(chunks(items, size, sizer)) or [[]]
    for number, batch in enumerate(batches):
        message = response_cls(
            kept=[record_to_proto(r) for kind, r in batch if kind == "kept"],
            dropped=[scoring_pb2.DroppedRecord(record=record_to_proto(d[0]), reason=d[1])
                     for kind, d in batch if kind == "dropped"])
        if number == len(batches) - 1:
            message.summary.CopyFrom(summary_to_proto(report))
        yield message


def report_from_responses(responses: Iterator[Any]) -> StageReport:
    report = StageReport("")
    for message in responses:
        report.kept.extend(record_from_proto(r) for r in message.kept)
        report.dropped.extend((record_from_proto(d.record), d.reason) for d in message.dropped)
        if message.HasField("summary"):
            summary = summary_from_proto(message.summary)
            report.stage, report.extra = summary.stage, summary.extra
    return report
