"""ScoringService: the gRPC door to the scoring stages (thin: read and check the stream, call `Scorer`, stream back).

Stream protocol (scoring.proto says the same for clients): a stage's FIRST request message may carry
its `options`; every later one a `records` chunk (Decontaminate also `problems` chunks). The whole
stream is read and checked before the stage runs: options after the first message
(OPTIONS_NOT_FIRST), unknown enum numbers, ranges, size caps, record ids unique across the stream and
what the stage needs of each record (`checks`), each error naming the request path (`options.method`,
`records[12].id`, records numbered across the stream). An empty dataset is answered with an empty
summary without running the stage. The summary rides on the last response message.

`Scorer` (core.py) opens the sandbox at `scoring.sandbox_target` (`inprocess`: one in this process)
and the `scoring.engine` on first use; the engine is shared and serialized.

    codeinstruct serve scoring --port 50053
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.scoring import decontamination
from codeinstruct.scoring.checks import MAX_PROBLEMS, MAX_RECORDS
from codeinstruct.scoring.config import DedupMethod, ScoringConfig
from codeinstruct.scoring.core import Scorer
from codeinstruct.scoring.messages import (
    DEDUP_METHODS,
    RANK_KEYS,
    chunks,
    record_bytes,
    record_from_proto,
    record_to_proto,
    report_responses,
    summary_to_proto,
)
from codeinstruct.scoring.types import StageReport
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.server.strict import register_strict
from codeinstruct.server.validate import at_most, in_range, known_enum, required
from codeinstruct.v1 import scoring_pb2, scoring_pb2_grpc

logger = logging.getLogger(__name__)

SERVICE_NAME = "codeinstruct.v1.ScoringService"
BUILTIN_BENCHMARKS = ("humaneval",)


@dataclasses.dataclass
class Stream:
    """A stage's request stream, read whole: the options (defaults when none were sent) and the data."""

    options: Any
    records: list[Record]
    problems: list[scoring_pb2.BenchmarkProblem]


def _record(message: Any, index: int) -> Record:
    """A record of the stream as a core Record; errors name `records[index].<field>`."""
    try:
        return record_from_proto(message)
    except InvalidInput as exc:
        field = f"records[{index}].{exc.field}" if exc.field else f"records[{index}]"
        value = getattr(message, exc.field, None) if exc.field else None
        reason = "FIELD_REQUIRED" if value == "" else "INVALID_VALUE"
        raise InvalidInput(f"records[{index}]: {exc.message}", field=field, reason=reason) from exc


def read_stream(requests: Iterator[Any], options_cls: Any) -> Stream:
    """Read every request message, enforcing the protocol (options first, then data chunks)."""
    options = None
    records: list[Record] = []
    problems: list[scoring_pb2.BenchmarkProblem] = []
    for index, message in enumerate(requests):
        kind = message.WhichOneof("payload")
        if kind == "options":
            if index:
                raise InvalidInput(f"message {index} of the stream carries options; options are accepted only in "
                                   "the first message (message 0), records after it", field="options",
                                   reason="OPTIONS_NOT_FIRST")
            options = message.options
        elif kind == "records":
            chunk = message.records.records
            at_most(range(len(records) + len(chunk)), MAX_RECORDS, "records")
            records.extend([_record(r, number) for number, r in enumerate(chunk, len(records))])
        elif kind == "problems":
            at_most(range(len(problems) + len(message.problems.problems)), MAX_PROBLEMS, "problems")
            problems.extend(message.problems.problems)
        else:
            raise InvalidInput(f"message {index} of the stream sets no payload; each message carries options "
                               "(first message only) or a chunk", field="payload", reason="FIELD_REQUIRED")
    return Stream(options if options is not None else options_cls(), records, problems)


def _dedup_options(options: scoring_pb2.DedupOptions) -> tuple[DedupMethod | None, float | None]:
    known_enum(options.method, scoring_pb2.DedupMethod.DESCRIPTOR, "options.method")
    in_range(options.threshold, "options.threshold", minimum=0.0, maximum=1.0, above=True,
             zero_means="the method's configured threshold")
    return DEDUP_METHODS.get(options.method), options.threshold or None


def _benchmarks(stream: Stream) -> list[str | decontamination.Benchmark]:
    """The built-in benchmark names and the user problems, checked, as `Scorer.decontaminate` takes them."""
    names: list[str] = []
    for index, name in enumerate(stream.options.benchmarks):
        if name.lower() not in BUILTIN_BENCHMARKS:
            raise InvalidInput(f"options.benchmarks[{index}] {name!r} is not a built-in benchmark (built-in: "
                               f"{', '.join(BUILTIN_BENCHMARKS)}); send the problems of other benchmarks as "
                               "`problems` chunks", field=f"options.benchmarks[{index}]", reason="UNKNOWN_BENCHMARK")
        names.append(name.lower())
    grouped: dict[str, dict[str, decontamination.BenchmarkItem]] = {}
    for index, problem in enumerate(stream.problems):
        path = f"problems[{index}]"
        required(problem.id, f"{path}.id", "the problem's id within its benchmark")
        required(any(text.strip() for text in problem.texts), f"{path}.texts",
                 "at least one non-empty text (prompt, solution, tests)")
        items = grouped.setdefault(problem.benchmark or "user", {})
        if problem.id in items:
            raise InvalidInput(f"{path}.id {problem.id!r} repeats an earlier problem of benchmark "
                               f"{problem.benchmark or 'user'!r}; ids must be unique within a benchmark",
                               field=f"{path}.id", reason="DUPLICATE_ID")
        items[problem.id] = decontamination.BenchmarkItem(problem.id, tuple(problem.texts), problem.question)
    specs: list[str | decontamination.Benchmark] = list(dict.fromkeys(names))
    specs += [decontamination.Benchmark(name, tuple(items.values())) for name, items in grouped.items()]
    return specs or ["humaneval"]


class ScoringServicer(scoring_pb2_grpc.ScoringServiceServicer):
    def __init__(self, scorer: Scorer):
        self.scorer = scorer
        self.config = scorer.config

    def _stage(self, requests: Iterator[Any], options_cls: Any, response_cls: Any, stage: str,
               run: Callable[[Stream], Callable[[], StageReport]]) -> Iterator[Any]:
        """Read and check the stream (`run` checks the options and returns the stage call), then run it."""
        stream = read_stream(requests, options_cls)
        call = run(stream)
        report = call() if stream.records else StageReport(stage)
        yield from report_responses(report, response_cls, self.config.stream_chunk)

    def ValidateSemiInstruct(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.ValidateSemiInstructOptions,
                           scoring_pb2.ValidateSemiInstructResponse, "validate_semi_instruct",
                           lambda s: lambda: self.scorer.validate_semi_instruct(s.records))

    def FilterByExecution(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.FilterByExecutionOptions,
                           scoring_pb2.FilterByExecutionResponse, "execution_filter",
                           lambda s: lambda: self.scorer.execution_filter(s.records))

    def SelectByLmScore(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.SelectByLmScoreOptions,
                           scoring_pb2.SelectByLmScoreResponse, "select_by_lm_score",
                           lambda s: lambda: self.scorer.select_by_lm_score(s.records))

    def Discriminate(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.DiscriminateOptions, scoring_pb2.DiscriminateResponse,
                           "discriminate",
                           lambda s: lambda: self.scorer.discriminate(s.records, use_llm=not s.options.rules_only))

    def Dedup(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        def run(stream: Stream) -> Callable[[], StageReport]:
            method, threshold = _dedup_options(stream.options)
            return lambda: self.scorer.dedup(stream.records, method, threshold)
        return self._stage(request_iterator, scoring_pb2.DedupOptions, scoring_pb2.DedupResponse, "dedup", run)

    def Decontaminate(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        def run(stream: Stream) -> Callable[[], StageReport]:
            specs = _benchmarks(stream)
            return lambda: self.scorer.decontaminate(stream.records, specs)
        return self._stage(request_iterator, scoring_pb2.DecontaminateOptions, scoring_pb2.DecontaminateResponse,
                           "decontaminate", run)

    def SelectCoreset(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        def run(stream: Stream) -> Callable[[], StageReport]:
            in_range(stream.options.k, "options.k", minimum=0)
            return lambda: self.scorer.coreset(stream.records, stream.options.k, stream.options.seed)
        return self._stage(request_iterator, scoring_pb2.SelectCoresetOptions, scoring_pb2.SelectCoresetResponse,
                           "coreset", run)

    def Rank(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        stream = read_stream(request_iterator, scoring_pb2.RankOptions)
        known_enum(stream.options.by, scoring_pb2.RankKey.DESCRIPTOR, "options.by")
        by = RANK_KEYS.get(stream.options.by, "n_tests")
        report = StageReport("rank")
        if stream.records:
            report.kept = self.scorer.rank(stream.records, by)
            report.extra["by"] = by
        batches = list(chunks(report.kept, self.config.stream_chunk, record_bytes)) or [[]]
        for number, batch in enumerate(batches):
            message = scoring_pb2.RankResponse(records=[record_to_proto(r) for r in batch])
            if number == len(batches) - 1:
                message.summary.CopyFrom(summary_to_proto(report))
            yield message


def make_spec(config: ScoringConfig | None = None, sandbox_config: SandboxConfig | None = None) -> ServiceSpec:
    """The scoring service for `codeinstruct serve scoring` (and `ScoringClient("loopback")`)."""
    scorer = Scorer(config, sandbox_config)
    servicer = ScoringServicer(scorer)
    return ServiceSpec(SERVICE_NAME, lambda server: register_strict(
        scoring_pb2_grpc.add_ScoringServiceServicer_to_server, servicer, server), scorer.close)
