"""SandboxService through gRPC: a real server on 127.0.0.1 and the `loopback` target."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from codeinstruct.core.config import ServerConfig
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.client import SandboxClient
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox
from codeinstruct.sandbox.service import FULL_NAME, make_spec
from codeinstruct.server.bootstrap import GrpcServer
from codeinstruct.server.status import details_of
from codeinstruct.v1 import sandbox_pb2, sandbox_pb2_grpc
from tests.sandbox.conftest import sandbox_config


@pytest.fixture(scope="module")
def server(sandbox: Sandbox) -> Iterator[GrpcServer]:
    instance = GrpcServer(ServerConfig(host="127.0.0.1", port=0, reflection=True), [make_spec(sandbox=sandbox)])
    instance.start()
    yield instance
    instance.stop(grace=1.0)


@pytest.fixture
def client(server: GrpcServer) -> Iterator[SandboxClient]:
    with SandboxClient(server.address) as instance:
        yield instance


def test_execute_and_info(client: SandboxClient) -> None:
    result = client.execute("print(input() * 2)", stdin="ab")
    assert (result.status, result.stdout) == (Status.OK, "abab\n")
    info = client.info()
    assert "python" in info["languages"] and "seccomp" in info["isolation_layers"]
    assert info["default_limits"].timeout_s == 5.0


def test_batch_streams_results(client: SandboxClient) -> None:
    runs = [{"code": f"print({i})"} for i in range(6)] + [{"code": "while True:\n    pass", "limits": {"timeout_s": 1}}]
    results = dict(client.execute_batch(runs, concurrency=2))
    assert sorted(results) == list(range(7))
    assert results[3].stdout == "3\n" and results[6].status is Status.TIMEOUT


def test_run_tests_and_capture(client: SandboxClient) -> None:
    result = client.run_tests("def f(x):\n    return x + 1\n", "python", "f",
                              [{"input": "f(1)", "output": "2"}, {"input": "f(2)", "output": "4"}])
    assert (result.status, result.passed, result.total) == (Status.WRONG_ANSWER, 1, 2)
    assert result.cases[1].actual_output == "3"
    humaneval = client.run_tests("def f():\n    return None\ndef check(c):\n    assert c() is None\n", "python", "f",
                                 [{"input": "check(f)", "output": "None"}], harness="humaneval")
    assert humaneval.status is Status.OK
    outputs = client.capture_outputs("def f(x):\n    return x * 3\n", "python", "f", ["f('a')"])
    assert outputs[0].output == "'aaa'"


def test_invalid_limits_are_invalid_argument_naming_the_field(client: SandboxClient, server: GrpcServer) -> None:
    with pytest.raises(InvalidInput) as caught:
        client.execute("print(1)", limits={"timeout_s": 10_000})
    assert caught.value.field == "limits.timeout_s"
    channel = grpc.insecure_channel(server.address)
    stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
    with pytest.raises(grpc.RpcError) as raw:
        stub.Execute(sandbox_pb2.ExecuteRequest(code="1", language="brainfuck"))
    assert raw.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details_of(raw.value)["fields"] == ["language"]
    channel.close()


def test_health_reports_the_service(server: GrpcServer) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(server.address) as channel:
        response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=FULL_NAME))
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_loopback_target() -> None:
    config = sandbox_config(workers=1, uid_base=sandbox_config().uid_base + 2)
    with SandboxClient("loopback", config=SandboxConfig(workers=1, uid_base=config.uid_base)) as client:
        assert client.execute("print('in process')").stdout == "in process\n"
