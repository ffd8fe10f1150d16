"""ScoringService: the gRPC door to the scoring stages (thin: collect records, call `Scorer`, stream back).

`Scorer` (core.py) opens the sandbox at `scoring.sandbox_target` (`inprocess`: one in this process)
and the `scoring.engine` on first use; the engine is shared and serialized.

    codeinstruct serve scoring --port 50053
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.scoring import decontamination
from codeinstruct.scoring.config import DedupMethod, ScoringConfig
from codeinstruct.scoring.core import Scorer
from codeinstruct.scoring.messages import chunks, record_bytes, record_from_proto, record_to_proto, report_responses
from codeinstruct.scoring.ranking import RankBy
from codeinstruct.scoring.types import StageReport
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.v1 import scoring_pb2, scoring_pb2_grpc

logger = logging.getLogger(__name__)

SERVICE_NAME = "codeinstruct.v1.ScoringService"
DEDUP_METHODS: dict[int, DedupMethod] = {
    scoring_pb2.DEDUP_METHOD_EXACT: "exact", scoring_pb2.DEDUP_METHOD_MINHASH: "minhash",
    scoring_pb2.DEDUP_METHOD_ROUGEL: "rougel"}
RANK_KEYS: dict[int, RankBy] = {
    scoring_pb2.RANK_KEY_UNSPECIFIED: "n_tests", scoring_pb2.RANK_KEY_N_TESTS: "n_tests",
    scoring_pb2.RANK_KEY_LM_SCORE: "lm_score"}


def _collect(requests: Iterator[Any]) -> tuple[Any, list[Any], list[Any]]:
    """(first message, all records, all messages): options come from the first message."""
    first = None
    records: list[Record] = []
    messages: list[Any] = []
    for message in requests:
        first = first if first is not None else message
        records.extend(record_from_proto(r) for r in message.records)
        messages.append(message)
    if first is None:
        raise InvalidInput("the request stream was empty", field="records")
    return first, records, messages


class ScoringServicer(scoring_pb2_grpc.ScoringServiceServicer):
    def __init__(self, scorer: Scorer):
        self.scorer = scorer
        self.config = scorer.config

    def _stage(self, requests: Iterator[Any], response_cls: Any,
               run: Callable[[Any, list[Any], list[Any]], StageReport]) -> Iterator[Any]:
        first, records, messages = _collect(requests)
        report = run(first, records, messages)
        yield from report_responses(report, response_cls, self.config.stream_chunk)

    def ValidateSemiInstruct(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.ValidateSemiInstructResponse, lambda f, r, m:
                           self.scorer.validate_semi_instruct(r))

    def FilterByExecution(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.FilterByExecutionResponse, lambda f, r, m:
                           self.scorer.execution_filter(r))

    def SelectByLmScore(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.SelectByLmScoreResponse, lambda f, r, m:
                           self.scorer.select_by_lm_score(r))

    def Discriminate(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.DiscriminateResponse, lambda f, r, m:
                           self.scorer.discriminate(r, use_llm=not f.rules_only))

    def Dedup(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.DedupResponse, lambda f, r, m:
                           self.scorer.dedup(r, DEDUP_METHODS.get(f.method), f.threshold or None))

    def Decontaminate(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        def run(first: Any, records: list[Any], messages: list[Any]) -> StageReport:
            specs: list[str | decontamination.Benchmark] = list(first.benchmarks)
            grouped: dict[str, list[decontamination.BenchmarkItem]] = {}
            for message in messages:
                for p in message.problems:
                    grouped.setdefault(p.benchmark or "user", []).append(
                        decontamination.BenchmarkItem(p.id, tuple(p.texts), p.question))
            specs += [decontamination.Benchmark(name, tuple(items)) for name, items in grouped.items()]
            for spec in first.benchmarks:
                if spec.lower() != "humaneval":
                    raise InvalidInput(f"unknown built-in benchmark {spec!r} (built-in: humaneval); send the "
                                       "problems of other benchmarks in `problems`", field="benchmarks")
            return self.scorer.decontaminate(records, specs or ["humaneval"])
        return self._stage(request_iterator, scoring_pb2.DecontaminateResponse, run)

    def SelectCoreset(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.SelectCoresetResponse, lambda f, r, m:
                           self.scorer.coreset(r, f.k, f.seed))

    def Rank(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        first, records, _ = _collect(request_iterator)
        ordered = self.scorer.rank(records, RANK_KEYS.get(first.by, "n_tests"))
        for batch in chunks(ordered, self.config.stream_chunk, record_bytes):
            yield scoring_pb2.RankResponse(records=[record_to_proto(r) for r in batch])


def make_spec(config: ScoringConfig | None = None, sandbox_config: SandboxConfig | None = None) -> ServiceSpec:
    """The scoring service for `codeinstruct serve scoring` (and `ScoringClient("loopback")`)."""
    scorer = Scorer(config, sandbox_config)
    servicer = ScoringServicer(scorer)
    return ServiceSpec(SERVICE_NAME, lambda server: scoring_pb2_grpc.add_ScoringServiceServicer_to_server(
        servicer, server), scorer.close)
