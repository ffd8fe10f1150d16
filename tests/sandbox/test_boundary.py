"""SandboxService at the boundary: every bad request is INVALID_ARGUMENT naming the request field,
with a specific reason, before any code runs; the server stays SERVING and the next run is healthy.

A real server on 127.0.0.1 over the session's real (fully isolated) Sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from codeinstruct.core.config import ServerConfig
from codeinstruct.sandbox.core import Sandbox
from codeinstruct.sandbox.service import FULL_NAME, make_spec
from codeinstruct.server.bootstrap import GrpcServer
from codeinstruct.v1 import common_pb2, sandbox_pb2, sandbox_pb2_grpc
from tests.support.boundary import Case, cases_named, check_case

pb = sandbox_pb2
CODE = "print(1)"
ADD = "def add(a, b):\n    return a + b\n"
TEST = common_pb2.TestCase(input="add(1, 2)", output="3")
MIB = 1 << 20


def _limits(**values: float) -> pb.Limits:
    return pb.Limits(**values)  # type: ignore[arg-type]


CASES = cases_named([
    # Execute: code required and bounded, language supported, limits in range
    Case("Execute", pb.ExecuteRequest(), "code", "FIELD_REQUIRED"),
    Case("Execute", pb.ExecuteRequest(code="x" * (MIB + 1)), "code", "TOO_LARGE"),
    Case("Execute", pb.ExecuteRequest(code=CODE, stdin="x" * (16 * MIB + 1)), "stdin", "TOO_LARGE"),
    Case("Execute", pb.ExecuteRequest(code=CODE, language="cobol"), "language", "UNSUPPORTED_LANGUAGE"),
    Case("Execute", pb.ExecuteRequest(code=CODE, language="Python"), "language", "UNSUPPORTED_LANGUAGE",
         label="language-case"),
    Case("Execute", pb.ExecuteRequest(code=CODE, limits=_limits(timeout_s=-1)), "limits.timeout_s", "OUT_OF_RANGE"),
    Case("Execute", pb.ExecuteRequest(code=CODE, limits=_limits(timeout_s=61)), "limits.timeout_s", "OUT_OF_RANGE",
         label="timeout-above-max"),
    Case("Execute", pb.ExecuteRequest(code=CODE, limits=_limits(timeout_s=float("nan"))), "limits.timeout_s",
         "OUT_OF_RANGE", label="timeout-nan"),
    Case("Execute", pb.ExecuteRequest(code=CODE, limits=_limits(memory_mb=-5)), "limits.memory_mb", "OUT_OF_RANGE"),
    Case("Execute", pb.ExecuteRequest(code=CODE, limits=_limits(memory_mb=1 << 20)), "limits.memory_mb",
         "OUT_OF_RANGE", label="memory-above-max"),
    Case("Execute", pb.ExecuteRequest(code=CODE, limits=_limits(max_output_bytes=10)), "limits.max_output_bytes",
         "OUT_OF_RANGE"),
    # ExecuteBatch: runs required and capped, each run checked with its index, concurrency in range
    Case("ExecuteBatch", pb.ExecuteBatchRequest(), "runs", "FIELD_REQUIRED"),
    Case("ExecuteBatch", pb.ExecuteBatchRequest(runs=[pb.ExecuteRequest(code="1")] * 10001), "runs",
         "TOO_MANY_ITEMS"),
    Case("ExecuteBatch", pb.ExecuteBatchRequest(runs=[pb.ExecuteRequest(code=CODE), pb.ExecuteRequest()]),
         "runs[1].code", "FIELD_REQUIRED"),
    Case("ExecuteBatch", pb.ExecuteBatchRequest(runs=[pb.ExecuteRequest(code=CODE)] * 2 + [
        pb.ExecuteRequest(code=CODE, language="ruby")]), "runs[2].language", "UNSUPPORTED_LANGUAGE"),
    Case("ExecuteBatch", pb.ExecuteBatchRequest(runs=[pb.ExecuteRequest(code=CODE, limits=_limits(timeout_s=-2))]),
         "runs[0].limits.timeout_s", "OUT_OF_RANGE"),
    Case("ExecuteBatch", pb.ExecuteBatchRequest(runs=[pb.ExecuteRequest(code=CODE)], concurrency=-1), "concurrency",
         "OUT_OF_RANGE"),
    Case("ExecuteBatch", pb.ExecuteBatchRequest(runs=[pb.ExecuteRequest(code=CODE)], concurrency=65), "concurrency",
         "OUT_OF_RANGE", label="concurrency-above-cap"),
    # RunTests: code and tests required, harness known and consistent, entry point a name
    Case("RunTests", pb.RunTestsRequest(code=ADD, entry_point="add"), "tests", "FIELD_REQUIRED"),
    Case("RunTests", pb.RunTestsRequest(entry_point="add", tests=[TEST]), "code", "FIELD_REQUIRED"),
    Case("RunTests", pb.RunTestsRequest(code=ADD, entry_point="add", tests=[TEST], harness=99),  # type: ignore[arg-type]
         "harness", "UNKNOWN_ENUM_VALUE"),
    Case("RunTests", pb.RunTestsRequest(code=ADD, tests=[TEST], harness=pb.TEST_HARNESS_HUMANEVAL), "entry_point",
         "FIELD_REQUIRED"),
    Case("RunTests", pb.RunTestsRequest(code="console.log(1)", language="javascript", tests=[TEST],
                                        harness=pb.TEST_HARNESS_HUMANEVAL), "language", "UNSUPPORTED_LANGUAGE"),
    Case("RunTests", pb.RunTestsRequest(code="console.log(1)", language="javascript", entry_point="add",
                                        tests=[TEST]), "entry_point", "UNSUPPORTED_LANGUAGE"),
    Case("RunTests", pb.RunTestsRequest(code=ADD, entry_point="add(1)", tests=[TEST]), "entry_point", "INVALID_NAME"),
    Case("RunTests", pb.RunTestsRequest(code=ADD, entry_point="add", tests=[TEST] * 1001), "tests", "TOO_MANY_ITEMS"),
    Case("RunTests", pb.RunTestsRequest(code=ADD, tests=[TEST, common_pb2.TestCase(input="x" * (16 * MIB + 1))]),
         "tests[1].input", "TOO_LARGE"),
    Case("RunTests", pb.RunTestsRequest(code=ADD, entry_point="add", tests=[TEST], language="cobol"), "language",
         "UNSUPPORTED_LANGUAGE"),
    Case("RunTests", pb.RunTestsRequest(code=ADD, entry_point="add", tests=[TEST], limits=_limits(memory_mb=8)),
         "limits.memory_mb", "OUT_OF_RANGE"),
    # CaptureOutputs: code and inputs required, capped
    Case("CaptureOutputs", pb.CaptureOutputsRequest(code=ADD, entry_point="add"), "inputs", "FIELD_REQUIRED"),
    Case("CaptureOutputs", pb.CaptureOutputsRequest(inputs=["1"]), "code", "FIELD_REQUIRED"),
    Case("CaptureOutputs", pb.CaptureOutputsRequest(code=ADD, inputs=["1"] * 1001), "inputs", "TOO_MANY_ITEMS"),
    Case("CaptureOutputs", pb.CaptureOutputsRequest(code=ADD, inputs=["1", "x" * (16 * MIB + 1)]), "inputs[1]",
         "TOO_LARGE"),
    Case("CaptureOutputs", pb.CaptureOutputsRequest(code=CODE, inputs=["1"], language="go"), "language",
         "UNSUPPORTED_LANGUAGE"),
    Case("CaptureOutputs", pb.CaptureOutputsRequest(code=CODE, inputs=["1"], limits=_limits(timeout_s=1e9)),
         "limits.timeout_s", "OUT_OF_RANGE"),
])


@pytest.fixture(scope="module")
def channel(sandbox: Sandbox) -> Iterator[grpc.Channel]:
    server = GrpcServer(ServerConfig(host="127.0.0.1", port=0), [make_spec(sandbox=sandbox)])
    server.start()
    with grpc.insecure_channel(server.address) as opened:
        yield opened
    server.stop(grace=1.0)


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> sandbox_pb2_grpc.SandboxServiceStub:
    return sandbox_pb2_grpc.SandboxServiceStub(channel)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_request(case: Case, stub: sandbox_pb2_grpc.SandboxServiceStub, channel: grpc.Channel) -> None:
    check_case(case, stub, channel, FULL_NAME)


def test_malformed_bytes_are_invalid_argument(channel: grpc.Channel) -> None:
    """A client we did not write sends bytes that are no ExecuteRequest."""
    raw = channel.unary_unary(f"/{FULL_NAME}/Execute")
    with pytest.raises(grpc.RpcError) as caught:
        raw(b"\x0a\xff\xff\xff\xff\x0f", timeout=10)  # field 1 claims a length far past the end
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_good_requests_still_answer(stub: sandbox_pb2_grpc.SandboxServiceStub) -> None:
    info = stub.GetSandboxInfo(pb.GetSandboxInfoRequest(), timeout=30)
    assert info.max_code_bytes == MIB and info.max_tests == 1000 and info.max_concurrency == 64
    tests = stub.RunTests(pb.RunTestsRequest(code=ADD, entry_point="add", tests=[TEST],
                                             harness=pb.TEST_HARNESS_HUMANEVAL), timeout=60)
    assert (tests.status, tests.passed, tests.total) == (common_pb2.SANDBOX_STATUS_OK, 1, 1)
    captured = stub.CaptureOutputs(pb.CaptureOutputsRequest(code="print(input()[::-1])", inputs=["ab"],
                                                            limits=_limits(timeout_s=5, memory_mb=256)), timeout=60)
    assert [o.output for o in captured.outputs] == ["ba\n"]
    batch = list(stub.ExecuteBatch(pb.ExecuteBatchRequest(
        runs=[pb.ExecuteRequest(code=f"print({i})") for i in range(3)], concurrency=64), timeout=60))
    assert sorted(r.index for r in batch) == [0, 1, 2]


def test_after_the_bad_requests_the_next_run_is_healthy(stub: sandbox_pb2_grpc.SandboxServiceStub) -> None:
    """Runs last in this module: the bad requests above left nothing behind."""
    reply = stub.Execute(pb.ExecuteRequest(code="print(input() * 2)", stdin="ab"), timeout=60)
    assert (reply.result.status, reply.result.stdout) == (common_pb2.SANDBOX_STATUS_OK, "abab\n")
