"""`ScoringClient`: the scoring stages through gRPC, against a deployed service or one started in-process.

Methods mirror the core functions and return the same `StageReport`s (ranking returns records).
Each call is one stream: the stage's options message first, then the records in bounded chunks
(`scoring.stream_chunk`); results come back in chunks with the summary last.

Example:
    with ScoringClient("loopback") as scoring:        # or ScoringClient("scoring.ns.svc:50053")
        report = scoring.dedup(records, method="minhash")
        print(report.counts())
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.scoring.config import DedupMethod, ScoringConfig
from codeinstruct.scoring.core import BenchmarkSpec
from codeinstruct.scoring.decontamination import Benchmark, load_benchmark_file
from codeinstruct.scoring.messages import (
    chunks,
    record_bytes,
    record_from_proto,
    record_to_proto,
    report_from_responses,
)
from codeinstruct.scoring.ranking import RankBy
from codeinstruct.scoring.types import StageReport
from codeinstruct.server.client import ServiceClient, stream
from codeinstruct.v1 import scoring_pb2, scoring_pb2_grpc

DEDUP_METHODS: dict[str, scoring_pb2.DedupMethod] = {
    "exact": scoring_pb2.DEDUP_METHOD_EXACT, "minhash": scoring_pb2.DEDUP_METHOD_MINHASH,
    "rougel": scoring_pb2.DEDUP_METHOD_ROUGEL}
RANK_KEYS: dict[str, scoring_pb2.RankKey] = {
    "n_tests": scoring_pb2.RANK_KEY_N_TESTS, "lm_score": scoring_pb2.RANK_KEY_LM_SCORE}


class ScoringClient(ServiceClient):
    """A `ScorerLike` over gRPC. `target` is `host:port` or `loopback` (a service started in this
    process from `config` and `sandbox_config`; `codeinstruct.targets.open_scorer` gives a plain
    `Scorer` instead). `config.stream_chunk` bounds the request messages."""

    def __init__(self, target: str = "loopback", config: ScoringConfig | None = None,
                 sandbox_config: SandboxConfig | None = None, *, auth_token: str | None = None):
        from codeinstruct.scoring.service import make_spec

        self.target = target
        self.config = config or ScoringConfig()
        channel = self._connect(target, lambda: make_spec(self.config, sandbox_config), auth_token=auth_token)
        self._stub = scoring_pb2_grpc.ScoringServiceStub(channel)

    def _requests(self, request_cls: Any, records: Sequence[Record], options: Any) -> Iterator[Any]:
        """The stream protocol: the options message first, then the records in bounded chunks."""
        yield request_cls(options=options)
        for batch in chunks(list(records), self.config.stream_chunk, record_bytes):
            yield request_cls(records=scoring_pb2.RecordChunk(records=[record_to_proto(r) for r in batch]))

    def _run(self, rpc: Any, request_cls: Any, records: Sequence[Record], options: Any) -> StageReport:
        return report_from_responses(stream(rpc, self._requests(request_cls, records, options)))

    def validate_semi_instruct(self, records: Sequence[Record]) -> StageReport:
        return self._run(self._stub.ValidateSemiInstruct, scoring_pb2.ValidateSemiInstructRequest, records,
                         scoring_pb2.ValidateSemiInstructOptions())

    def execution_filter(self, records: Sequence[Record]) -> StageReport:
        return self._run(self._stub.FilterByExecution, scoring_pb2.FilterByExecutionRequest, records,
                         scoring_pb2.FilterByExecutionOptions())

    def select_by_lm_score(self, records: Sequence[Record]) -> StageReport:
        return self._run(self._stub.SelectByLmScore, scoring_pb2.SelectByLmScoreRequest, records,
                         scoring_pb2.SelectByLmScoreOptions())

    def discriminate(self, records: Sequence[Record], *, use_llm: bool = True) -> StageReport:
        return self._run(self._stub.Discriminate, scoring_pb2.DiscriminateRequest, records,
                         scoring_pb2.DiscriminateOptions(rules_only=not use_llm))

    def dedup(self, records: Sequence[Record], method: DedupMethod | None = None,
              threshold: float | None = None) -> StageReport:
        """`method` None: the service's `scoring.dedup_method`."""
        if method is not None and method not in DEDUP_METHODS:
            raise InvalidInput(f"dedup method must be one of {list(DEDUP_METHODS)}, got {method!r}", field="method")
        options = scoring_pb2.DedupOptions(
            method=DEDUP_METHODS[method] if method else scoring_pb2.DEDUP_METHOD_UNSPECIFIED,
            threshold=threshold or 0.0)
        return self._run(self._stub.Dedup, scoring_pb2.DedupRequest, records, options)

    def decontaminate(self, records: Sequence[Record],
                      benchmarks: Sequence[BenchmarkSpec] = ("humaneval",)) -> StageReport:
        """`benchmarks`: "humaneval", benchmark JSONL paths (read here and sent) or loaded Benchmarks."""
        names: list[str] = []
        problems: list[scoring_pb2.BenchmarkProblem] = []
        for spec in benchmarks:
            if isinstance(spec, str) and spec.lower() == "humaneval":
                names.append("humaneval")
                continue
            bench = spec if isinstance(spec, Benchmark) else load_benchmark_file(spec)
            problems += [scoring_pb2.BenchmarkProblem(benchmark=bench.name, id=item.id, texts=list(item.texts),
                                                      question=item.question) for item in bench.items]

        def requests() -> Iterator[scoring_pb2.DecontaminateRequest]:
            yield from self._requests(scoring_pb2.DecontaminateRequest, records,
                                      scoring_pb2.DecontaminateOptions(benchmarks=names))
            for batch in chunks(problems, self.config.stream_chunk,
                                lambda p: sum(len(t) for t in p.texts) + len(p.question) + 64):
                yield scoring_pb2.DecontaminateRequest(problems=scoring_pb2.BenchmarkProblemChunk(problems=batch))

        return report_from_responses(stream(self._stub.Decontaminate, requests()))

    def coreset(self, records: Sequence[Record], k: int, seed: int = 0) -> StageReport:
        """Keep `k` records; `k` 0 keeps every record."""
        return self._run(self._stub.SelectCoreset, scoring_pb2.SelectCoresetRequest, records,
                         scoring_pb2.SelectCoresetOptions(k=k, seed=seed))

    def rank(self, records: Sequence[Record], by: RankBy = "n_tests") -> list[Record]:
        if by not in RANK_KEYS:
            raise InvalidInput(f"rank by must be one of {list(RANK_KEYS)}, got {by!r}", field="by")
        responses = stream(self._stub.Rank, self._requests(scoring_pb2.RankRequest, records,
                                                           scoring_pb2.RankOptions(by=RANK_KEYS[by])))
        return [record_from_proto(r) for message in responses for r in message.records]
