"""Conversions between core values (Record, StageReport) and the scoring protos, plus chunking.

Chunks are bounded by record count (`scoring.stream_chunk`) and by an approximate byte budget, so
no message comes near the server's message size limit however large the records are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2

from codeinstruct.core.records import Record
from codeinstruct.scoring.types import StageReport
from codeinstruct.v1 import common_pb2, scoring_pb2

CHUNK_BYTES = 4 * 1024 * 1024
# Scores that are counts: Struct stores every number as a double, these come back as int.
INT_SCORES = ("n_tests",)


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


def _ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def from_struct(message: struct_pb2.Struct, integers: bool = False) -> dict[str, Any]:
    """A Struct as a dict; `integers` turns whole-number doubles back into ints (counts)."""
    data = json_format.MessageToDict(message)
    return _ints(data) if integers else data


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


def summary_to_proto(report: StageReport) -> scoring_pb2.StageSummary:
    return scoring_pb2.StageSummary(stage=report.stage, kept=len(report.kept), dropped=len(report.dropped),
                                    reasons=report.reasons(), extra=to_struct(report.extra))


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
            report.stage = message.summary.stage
            report.extra = from_struct(message.summary.extra, integers=True)
    return report
