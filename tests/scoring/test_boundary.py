"""ScoringService at the boundary: every bad stream is INVALID_ARGUMENT naming the request field, with a
specific reason, before the stage runs; the server stays SERVING; good streams still answer OK.

A real server on 127.0.0.1 (one per module) over an in-process sandbox of its own uid range. Records
are numbered across the stream (`records[2]` may sit in the second chunk).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from codeinstruct.core.config import ServerConfig
from codeinstruct.core.errors import InvalidInput
from codeinstruct.scoring.checks import MAX_PROBLEMS, MAX_RECORDS
from codeinstruct.scoring.core import Scorer
from codeinstruct.scoring.service import SERVICE_NAME, make_spec
from codeinstruct.server.bootstrap import GrpcServer
from codeinstruct.server.status import details_of
from codeinstruct.settings import Settings
from codeinstruct.v1 import common_pb2, scoring_pb2, scoring_pb2_grpc
from tests.support.boundary import Case, assert_serving, call, cases_named, check_case
from tests.support.scoring import UID_BASE, make

pb = scoring_pb2
SETTINGS = Settings.from_mapping({
    "scoring": {"decontam_embedding_threshold": 0.0, "stream_chunk": 2, "test_timeout_s": 2.0},
    "sandbox": {"workers": 1, "uid_base": UID_BASE + 3}}, use_env=False)

# rpc -> (request message, options message)
STAGES: dict[str, tuple[Any, Any]] = {
    "ValidateSemiInstruct": (pb.ValidateSemiInstructRequest, pb.ValidateSemiInstructOptions),
    "FilterByExecution": (pb.FilterByExecutionRequest, pb.FilterByExecutionOptions),
    "SelectByLmScore": (pb.SelectByLmScoreRequest, pb.SelectByLmScoreOptions),
    "Discriminate": (pb.DiscriminateRequest, pb.DiscriminateOptions),
    "Dedup": (pb.DedupRequest, pb.DedupOptions),
    "Decontaminate": (pb.DecontaminateRequest, pb.DecontaminateOptions),
    "SelectCoreset": (pb.SelectCoresetRequest, pb.SelectCoresetOptions),
    "Rank": (pb.RankRequest, pb.RankOptions),
}


def rec(i: int, **fields: Any) -> common_pb2.Record:
    """A record every stage accepts (its own id, instruction, code and original code)."""
    values: dict[str, Any] = {
        "id": f"r{i}", "method": "semi_instruct", "instruction": f"Write a Python function returning {i}.",
        "code": f"def f{i}():\n    return {i}\n", "source": {"code": f"def f{i}():\n    return {i}\n"}}
    values.update(fields)
    return common_pb2.Record(**values)


def msgs(rpc: str, options: Any = None, *chunks: list[common_pb2.Record]) -> list[Any]:
    """A stream: the options message (when given), then one message per chunk of records."""
    request_cls, _ = STAGES[rpc]
    head = [request_cls(options=options)] if options is not None else []
    return head + [request_cls(records=pb.RecordChunk(records=chunk)) for chunk in chunks]


def opts(rpc: str, **values: Any) -> Any:
    return STAGES[rpc][1](**values)


def problem(pid: str = "p1", texts: tuple[str, ...] = ("def secret(): return 42",), **fields: Any) -> Any:
    return pb.BenchmarkProblem(id=pid, texts=list(texts), **fields)


def decon(options: Any, *problem_chunks: list[Any]) -> list[Any]:
    """Options, one record, then the problem chunks."""
    return [pb.DecontaminateRequest(options=options), pb.DecontaminateRequest(records=pb.RecordChunk(records=[rec(0)])),
            *(pb.DecontaminateRequest(problems=pb.BenchmarkProblemChunk(problems=c)) for c in problem_chunks)]


def _protocol_cases() -> list[Case]:
    """The stream protocol, the same for every stage."""
    cases = []
    for rpc, (request_cls, options_cls) in STAGES.items():
        cases += [
            Case(rpc, [*msgs(rpc, options_cls(), [rec(0)]), request_cls(options=options_cls())], "options",
                 "OPTIONS_NOT_FIRST", label="options-after-records"),
            Case(rpc, [request_cls(records=pb.RecordChunk(records=[rec(0)])), request_cls(options=options_cls())],
                 "options", "OPTIONS_NOT_FIRST", label="options-second-without-first"),
            Case(rpc, [request_cls(options=options_cls()), request_cls()], "payload", "FIELD_REQUIRED"),
            # r1 comes again in the second chunk: numbered across the stream
            Case(rpc, msgs(rpc, options_cls(), [rec(0), rec(1)], [rec(1, instruction="Other text in Python.")]),
                 "records[2].id", "DUPLICATE_ID"),
            # identical records without ids get the same content id
            Case(rpc, msgs(rpc, options_cls(), [rec(0, id=""), rec(0, id="")]), "records[1].id", "DUPLICATE_ID",
                 label="identical-records-without-ids"),
            Case(rpc, msgs(rpc, options_cls(), [rec(0), rec(1, method="")]), "records[1].method", "FIELD_REQUIRED"),
            Case(rpc, msgs(rpc, options_cls(), [rec(0)], [rec(1, method="bogus")]), "records[1].method",
                 "INVALID_VALUE", label="records[1].method-unknown"),
            Case(rpc, msgs(rpc, options_cls(), [rec(0, task="poetry")]), "records[0].task", "INVALID_VALUE"),
        ]
    return cases


CASES = cases_named([
    *_protocol_cases(),
    # ValidateSemiInstruct: the original code is the stage's input
    Case("ValidateSemiInstruct", msgs("ValidateSemiInstruct", None, [rec(0), rec(1, source={})]),
         "records[1].source.code", "FIELD_REQUIRED"),
    Case("ValidateSemiInstruct", msgs("ValidateSemiInstruct", None, [rec(0)], [rec(1, source={"code": "  "})]),
         "records[1].source.code", "FIELD_REQUIRED", label="source-code-blank"),
    # SelectByLmScore: the (instruction, code) pair that is scored
    Case("SelectByLmScore", msgs("SelectByLmScore", None, [rec(0, instruction="")]), "records[0].instruction",
         "FIELD_REQUIRED"),
    Case("SelectByLmScore", msgs("SelectByLmScore", None, [rec(0), rec(1, code="", response="")]), "records[1].code",
         "FIELD_REQUIRED"),
    # Dedup options
    Case("Dedup", msgs("Dedup", opts("Dedup", method=7), [rec(0)]), "options.method", "UNKNOWN_ENUM_VALUE"),
    Case("Dedup", msgs("Dedup", opts("Dedup", threshold=1.5), [rec(0)]), "options.threshold", "OUT_OF_RANGE"),
    Case("Dedup", msgs("Dedup", opts("Dedup", threshold=-0.1)), "options.threshold", "OUT_OF_RANGE",
         label="threshold-negative-empty-stream"),
    Case("Dedup", msgs("Dedup", opts("Dedup", threshold=float("nan")), [rec(0)]), "options.threshold",
         "OUT_OF_RANGE", label="threshold-nan"),
    # Rank options
    Case("Rank", msgs("Rank", opts("Rank", by=9), [rec(0)]), "options.by", "UNKNOWN_ENUM_VALUE"),
    # SelectCoreset options
    Case("SelectCoreset", msgs("SelectCoreset", opts("SelectCoreset", k=-1), [rec(0)]), "options.k", "OUT_OF_RANGE"),
    # Decontaminate: built-in names, user problems (numbered across the stream), caps
    Case("Decontaminate", decon(pb.DecontaminateOptions(benchmarks=["humaneval", "mbpp"])), "options.benchmarks[1]",
         "UNKNOWN_BENCHMARK"),
    Case("Decontaminate", decon(pb.DecontaminateOptions(benchmarks=[""])), "options.benchmarks[0]",
         "UNKNOWN_BENCHMARK", label="benchmark-empty-name"),
    Case("Decontaminate", decon(pb.DecontaminateOptions(), [problem("p1")], [problem("")]), "problems[1].id",
         "FIELD_REQUIRED"),
    Case("Decontaminate", decon(pb.DecontaminateOptions(), [problem("p1", ())]), "problems[0].texts",
         "FIELD_REQUIRED"),
    Case("Decontaminate", decon(pb.DecontaminateOptions(), [problem("p1", ("", " "))]), "problems[0].texts",
         "FIELD_REQUIRED", label="texts-blank"),
    Case("Decontaminate", decon(pb.DecontaminateOptions(), [problem("p1")], [problem("p2"), problem("p1")]),
         "problems[2].id", "DUPLICATE_ID"),
    Case("Decontaminate", decon(pb.DecontaminateOptions(), [problem("p1")] * (MAX_PROBLEMS + 1)), "problems",
         "TOO_MANY_ITEMS"),
])


@pytest.fixture(scope="module")
def server() -> Iterator[GrpcServer]:
    instance = GrpcServer(ServerConfig(host="127.0.0.1", port=0), [make_spec(SETTINGS.scoring, SETTINGS.sandbox)])
    instance.start()
    yield instance
    instance.stop(grace=1.0)


@pytest.fixture(scope="module")
def channel(server: GrpcServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as instance:
        yield instance


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> scoring_pb2_grpc.ScoringServiceStub:
    return scoring_pb2_grpc.ScoringServiceStub(channel)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_request(case: Case, stub: scoring_pb2_grpc.ScoringServiceStub, channel: grpc.Channel) -> None:
    check_case(case, stub, channel, SERVICE_NAME)


def test_error_text_names_the_message_and_the_value(stub: scoring_pb2_grpc.ScoringServiceStub) -> None:
    late = [*msgs("Dedup", opts("Dedup"), [rec(0)], [rec(1)]), pb.DedupRequest(options=opts("Dedup"))]
    error = call(stub, Case("Dedup", late, "options", "OPTIONS_NOT_FIRST"))
    assert error is not None and "message 3" in str(error.details())
    error = call(stub, Case("Dedup", msgs("Dedup", opts("Dedup", threshold=1.5)), "", ""))
    assert error is not None and "1.5" in str(error.details())


def test_undecodable_message_is_invalid_argument(channel: grpc.Channel) -> None:
    raw = channel.stream_stream(f"/{SERVICE_NAME}/Dedup", request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as failed:
        list(raw(iter([b"\x0a\x05\xff\xff"]), timeout=30))
    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(failed.value)["reason"] == "MALFORMED_REQUEST"
    assert_serving(channel, SERVICE_NAME)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_too_many_records(channel: grpc.Channel) -> None:
    """MAX_RECORDS + 1 records in one chunk (encoded by hand: a million messages would not fit in this test's
    memory budget): TOO_MANY_ITEMS before a single record is converted."""
    chunk = b"\x0a\x00" * (MAX_RECORDS + 1)  # RecordChunk.records: empty Records
    request = b"\x12" + _varint(len(chunk)) + chunk  # DedupRequest.records
    raw = channel.stream_stream(f"/{SERVICE_NAME}/Dedup", request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as failed:
        list(raw(iter([request]), timeout=60))
    details = details_of(failed.value)
    assert (failed.value.code(), details["reason"], details["fields"]) == (
        grpc.StatusCode.INVALID_ARGUMENT, "TOO_MANY_ITEMS", ["records"]), failed.value.details()
    assert_serving(channel, SERVICE_NAME)


def _answer(stub: scoring_pb2_grpc.ScoringServiceStub, rpc: str, requests: list[Any]) -> list[Any]:
    return list(getattr(stub, rpc)(iter(requests), timeout=120))


@pytest.mark.parametrize("rpc", list(STAGES))
@pytest.mark.parametrize("with_options", [True, False], ids=["options-only", "no-messages"])
def test_empty_dataset_answers_an_empty_summary(stub: scoring_pb2_grpc.ScoringServiceStub, rpc: str,
                                                with_options: bool) -> None:
    responses = _answer(stub, rpc, msgs(rpc, opts(rpc)) if with_options else [])
    assert len(responses) == 1 and responses[0].HasField("summary")
    summary = responses[0].summary
    assert (summary.kept, summary.dropped, dict(summary.reasons)) == (0, 0, {}) and summary.stage


def _summary(responses: list[Any]) -> Any:
    assert all(not r.HasField("summary") for r in responses[:-1]) and responses[-1].HasField("summary")
    return responses[-1].summary


GOOD: list[tuple[str, list[Any], int, int]] = [  # rpc, stream, kept, dropped
    # rec 2 repeats rec 0 up to names: dropped as an exact duplicate
    ("Dedup", msgs("Dedup", opts("Dedup", method=pb.DEDUP_METHOD_EXACT), [rec(0), rec(1)],
                   [rec(2, instruction="Write a Python function returning 0.", code="def g():\n  return 0\n")]),
     2, 1),
    ("Dedup", msgs("Dedup", None, [rec(0)], [rec(1)]), 2, 0),  # no options: the configured method
    ("Dedup", msgs("Dedup", opts("Dedup", method=pb.DEDUP_METHOD_ROUGEL, threshold=1.0), [rec(0), rec(1)]), 2, 0),
    ("SelectCoreset", msgs("SelectCoreset", opts("SelectCoreset"), [rec(0), rec(1)], [rec(2)]), 3, 0),  # k 0: all
    ("SelectCoreset", msgs("SelectCoreset", opts("SelectCoreset", k=5, seed=3), [rec(0), rec(1)]), 2, 0),
    ("Discriminate", msgs("Discriminate", opts("Discriminate", rules_only=True), [rec(0)]), 1, 0),
    ("FilterByExecution", msgs("FilterByExecution", opts("FilterByExecution"),
                               [rec(0), rec(1, code="raise SystemExit(3)\n")]), 1, 1),
    ("Decontaminate", decon(pb.DecontaminateOptions(benchmarks=["HumanEval"])), 1, 0),
    ("Decontaminate", [pb.DecontaminateRequest(options=pb.DecontaminateOptions()),
                       pb.DecontaminateRequest(problems=pb.BenchmarkProblemChunk(problems=[problem(
                           "p1", ("def f0():\n    return 0\n",), benchmark="private")])),
                       pb.DecontaminateRequest(records=pb.RecordChunk(records=[rec(0), rec(1)]))], 2, 0),
]


@pytest.mark.parametrize(("rpc", "requests", "kept", "dropped"), GOOD, ids=[f"{g[0]}-{i}" for i, g in enumerate(GOOD)])
def test_good_requests_still_answer(stub: scoring_pb2_grpc.ScoringServiceStub, channel: grpc.Channel, rpc: str,
                                    requests: list[Any], kept: int, dropped: int) -> None:
    summary = _summary(_answer(stub, rpc, requests))
    assert (summary.kept, summary.dropped) == (kept, dropped), summary
    assert_serving(channel, SERVICE_NAME)


def test_rank_streams_records_then_the_summary(stub: scoring_pb2_grpc.ScoringServiceStub) -> None:
    records = [rec(i, scores={"n_tests": n}) for i, n in enumerate([1, 3, 2, 0, 5])]
    responses = _answer(stub, "Rank", msgs("Rank", opts("Rank", by=pb.RANK_KEY_N_TESTS), records[:2], records[2:]))
    assert [r.id for m in responses for r in m.records] == ["r4", "r1", "r2", "r0", "r3"]
    summary = _summary(responses)
    assert (summary.stage, summary.kept, summary.rank.by) == ("rank", 5, pb.RANK_KEY_N_TESTS)


def test_inprocess_scorer_agrees() -> None:
    """The same record checks and the same k rule hold for an in-process Scorer."""
    with Scorer(SETTINGS.scoring, SETTINGS.sandbox) as scorer:
        twins = [make("Write a Python function.", "def f():\n    return 1\n")] * 2
        with pytest.raises(InvalidInput) as err:
            scorer.dedup(twins, "exact")
        assert (err.value.field, err.value.reason) == ("records[1].id", "DUPLICATE_ID")
        with pytest.raises(InvalidInput) as err:
            scorer.validate_semi_instruct([make("Double x in Python.", "def d(x):\n    return 2 * x\n")])
        assert (err.value.field, err.value.reason) == ("records[0].source.code", "FIELD_REQUIRED")
        records = [make(f"Write Python function {i}.", f"def f{i}():\n    return {i}\n") for i in range(3)]
        assert len(scorer.coreset(records, 0).kept) == 3
