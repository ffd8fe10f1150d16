"""ScoringService: the gRPC door to the scoring stages (thin: collect records, call the core, stream back).

The sandbox (for validation and the execution filter) is reached through `SandboxClient` at
`scoring.sandbox_target` (`inprocess` hosts one here); the engine (LM-Score, discriminator) comes
from the `scoring.engine` settings and is loaded on first use, then shared and serialized.

    codeinstruct serve scoring --port 50053
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.scoring import (
    coreset_selection,
    decontamination,
    deduplication,
    discriminator,
    lm_select,
    ranking,
    validation,
)
from codeinstruct.scoring.config import ScoringConfig, scoring_config
from codeinstruct.scoring.messages import chunks, record_bytes, record_from_proto, record_to_proto, report_responses
from codeinstruct.scoring.types import StageReport
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.v1 import scoring_pb2, scoring_pb2_grpc

logger = logging.getLogger(__name__)

SERVICE_NAME = "codeinstruct.v1.ScoringService"
DEDUP_METHODS = {scoring_pb2.DEDUP_METHOD_EXACT: "exact", scoring_pb2.DEDUP_METHOD_MINHASH: "minhash",
                 scoring_pb2.DEDUP_METHOD_ROUGEL: "rougel"}
RANK_KEYS = {scoring_pb2.RANK_KEY_UNSPECIFIED: "n_tests", scoring_pb2.RANK_KEY_N_TESTS: "n_tests",
             scoring_pb2.RANK_KEY_LM_SCORE: "lm_score"}


class Resources:
    """The sandbox client and the engine, created on first use and closed with the service."""

    def __init__(self, config: ScoringConfig, file_data: dict[str, Any]):
        self.config = config
        self.file_data = file_data
        self._lock = threading.Lock()
        self.engine_lock = threading.Lock()
        self._sandbox: Any = None
        self._engine: Any = None
        self._discriminator: discriminator.Discriminator | None = None

    def sandbox(self) -> Any:
        with self._lock:
            if self._sandbox is None:
                from codeinstruct.sandbox.client import SandboxClient

                self._sandbox = SandboxClient(self.config.sandbox_target, self.file_data)
            return self._sandbox

    def engine(self) -> Any:
        with self._lock:
            if self._engine is None:
                from codeinstruct.engines import engine_config, load_engine

                self._engine = load_engine(engine_config(self.file_data, "scoring"))
            return self._engine

    def discriminator(self) -> discriminator.Discriminator:
        engine = self.engine()
        with self._lock:
            if self._discriminator is None:
                self._discriminator = discriminator.Discriminator(engine, self.config)
            return self._discriminator

    def close(self) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
            if self._engine is not None:
                self._engine.close()
            self._sandbox = self._engine = self._discriminator = None


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
    def __init__(self, resources: Resources):
        self.resources = resources
        self.config = resources.config

    def _stage(self, requests: Iterator[Any], response_cls: Any,
               run: Callable[[Any, list[Any], list[Any]], StageReport]) -> Iterator[Any]:
        first, records, messages = _collect(requests)
        report = run(first, records, messages)
        yield from report_responses(report, response_cls, self.config.stream_chunk)

    def ValidateSemiInstruct(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.ValidateSemiInstructResponse, lambda f, r, m:
                           validation.validate_semi_instruct(r, self.resources.sandbox(), config=self.config))

    def FilterByExecution(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.FilterByExecutionResponse, lambda f, r, m:
                           validation.execution_filter(r, self.resources.sandbox(), config=self.config))

    def SelectByLmScore(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        def run(first: Any, records: list[Any], messages: list[Any]) -> StageReport:
            engine = self.resources.engine()
            with self.resources.engine_lock:
                return lm_select.select_by_lm_score(records, engine, config=self.config)
        return self._stage(request_iterator, scoring_pb2.SelectByLmScoreResponse, run)

    def Discriminate(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        def run(first: Any, records: list[Any], messages: list[Any]) -> StageReport:
            if first.rules_only:
                return discriminator.discriminate(records, None, config=self.config, use_llm=False)
            judge = self.resources.discriminator()
            with self.resources.engine_lock:
                return discriminator.discriminate(records, judge.engine, config=self.config, discriminator=judge)
        return self._stage(request_iterator, scoring_pb2.DiscriminateResponse, run)

    def Dedup(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        def run(first: Any, records: list[Any], messages: list[Any]) -> StageReport:
            method = DEDUP_METHODS.get(first.method, self.config.dedup_method)
            return deduplication.dedup(records, method, first.threshold or None, config=self.config)
        return self._stage(request_iterator, scoring_pb2.DedupResponse, run)

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
            return decontamination.decontaminate(records, specs or ["humaneval"], config=self.config)
        return self._stage(request_iterator, scoring_pb2.DecontaminateResponse, run)

    def SelectCoreset(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        return self._stage(request_iterator, scoring_pb2.SelectCoresetResponse, lambda f, r, m:
                           coreset_selection.coreset(r, f.k, f.seed, config=self.config))

    def Rank(self, request_iterator: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        first, records, _ = _collect(request_iterator)
        ordered = ranking.rank(records, RANK_KEYS.get(first.by, "n_tests"))
        for batch in chunks(ordered, self.config.stream_chunk, record_bytes):
            yield scoring_pb2.RankResponse(records=[record_to_proto(r) for r in batch])


def make_spec(file_data: dict | None = None, *, config: ScoringConfig | None = None) -> ServiceSpec:
    """The scoring service for `codeinstruct serve scoring` (and `ScoringClient("inprocess")`)."""
    file_data = dict(file_data or {})
    config = config or scoring_config(file_data)
    resources = Resources(config, file_data)
    servicer = ScoringServicer(resources)
    return ServiceSpec(SERVICE_NAME, lambda server: scoring_pb2_grpc.add_ScoringServiceServicer_to_server(
        servicer, server), resources.close)
