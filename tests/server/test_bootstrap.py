"""The shared bootstrap on a real server bound to 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from codeinstruct.core.errors import DeadlineExceeded, InvalidInput
from codeinstruct.server.client import call, connect, stream
from codeinstruct.server.status import details_of
from codeinstruct.v1 import sandbox_pb2, sandbox_pb2_grpc
from tests.support.server import SERVICE, echo_spec

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def health_status(channel: grpc.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status


def test_health_reflection_and_rpc(make_server, channel_to) -> None:
    channel = channel_to(make_server())
    assert health_status(channel) == SERVING
    assert health_status(channel, SERVICE) == SERVING
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                          timeout=5)
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} <= names
    # The stable v1 name answers too (same protocol as v1alpha): a client that tries v1 first works.
    v1 = channel.stream_stream("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                               request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                               response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    answers = list(v1(iter([reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE)]), timeout=5))
    assert answers[0].file_descriptor_response.file_descriptor_proto
    reply = sandbox_pb2_grpc.SandboxServiceStub(channel).Execute(sandbox_pb2.ExecuteRequest(code="hi"), timeout=5)
    assert reply.result.stdout == "hi"


def test_bad_argument_is_invalid_argument_with_field_violation(make_server, channel_to) -> None:
    channel = channel_to(make_server())
    stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.Execute(sandbox_pb2.ExecuteRequest(code="x", language="cobol"), timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = details_of(info.value)
    assert details["fields"] == ["language"]
    assert details["reason"] == "INVALID_INPUT"
    assert "cobol" in str(details["message"])
    # The same in a server stream, naming the nested field.
    with pytest.raises(grpc.RpcError) as info:
        list(stub.ExecuteBatch(sandbox_pb2.ExecuteBatchRequest(runs=[
            sandbox_pb2.ExecuteRequest(code="a"), sandbox_pb2.ExecuteRequest(code="b", language="cobol")]),
            timeout=5))
    assert details_of(info.value)["fields"] == ["runs[1].language"]
    assert health_status(channel) == SERVING
    assert health_status(channel, SERVICE) == SERVING


def test_unexpected_errors_are_internal_without_leaking_details(make_server, channel_to) -> None:
    channel = channel_to(make_server())
    with pytest.raises(grpc.RpcError) as info:
        sandbox_pb2_grpc.SandboxServiceStub(channel).Execute(sandbox_pb2.ExecuteRequest(code="crash"), timeout=5)
    assert info.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (info.value.details() or "")
    assert health_status(channel) == SERVING


def test_deadline_is_honoured_in_the_core(make_server, channel_to) -> None:
    channel = channel_to(make_server())
    stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
    start = time.monotonic()
    with pytest.raises(grpc.RpcError) as info:
        stub.Execute(sandbox_pb2.ExecuteRequest(code="sleep:5"), timeout=0.3)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - start < 2
    # The client helper maps it back to the core exception.
    with pytest.raises(DeadlineExceeded):
        call(stub.Execute, sandbox_pb2.ExecuteRequest(code="sleep:5"), timeout=0.3)


def test_bearer_token_auth(make_server) -> None:
    server = make_server(auth_token="t0ken")
    with grpc.insecure_channel(server.address) as channel:
        stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.Execute(sandbox_pb2.ExecuteRequest(code="x"), timeout=5)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert details_of(info.value)["reason"] == "BEARER_TOKEN_INVALID"
        assert "authorization: Bearer" in info.value.details()
        assert health_status(channel) == SERVING  # probes need no token
        reply = stub.Execute(sandbox_pb2.ExecuteRequest(code="x"), timeout=5,
                             metadata=[("authorization", "Bearer t0ken")])
        assert reply.result.stdout == "x"
    with connect(server.address, echo_spec, auth_token="t0ken") as channel:
        reply = call(sandbox_pb2_grpc.SandboxServiceStub(channel).Execute, sandbox_pb2.ExecuteRequest(code="y"))
        assert reply.result.stdout == "y"


def test_loopback_target_and_error_mapping() -> None:
    with connect("loopback", echo_spec) as channel:
        stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
        assert call(stub.Execute, sandbox_pb2.ExecuteRequest(code="z")).result.stdout == "z"
        with pytest.raises(InvalidInput) as info:
            list(stream(stub.ExecuteBatch, sandbox_pb2.ExecuteBatchRequest(
                runs=[sandbox_pb2.ExecuteRequest(code="a", language="cobol")])))
        assert info.value.field == "runs[0].language"


def test_a_client_refuses_inprocess_and_names_the_way_to_the_core() -> None:
    with pytest.raises(InvalidInput, match=r"targets\.open_") as info, connect("inprocess", echo_spec):
        pass
    assert info.value.field == "target"


def test_message_size_is_bounded(make_server, channel_to) -> None:
    channel = channel_to(make_server(max_message_mb=1))
    with pytest.raises(grpc.RpcError) as info:
        sandbox_pb2_grpc.SandboxServiceStub(channel).Execute(
            sandbox_pb2.ExecuteRequest(code="x" * (2 * 1024 * 1024)), timeout=5)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


SERVER_SCRIPT = textwrap.dedent("""
    import logging, sys
    sys.path.insert(0, {root!r})
    from tests.support.server import echo_spec
    from codeinstruct.core.config import ServerConfig
    from codeinstruct.server.bootstrap import GrpcServer
    logging.basicConfig(level=logging.INFO)
    server = GrpcServer(ServerConfig(host="127.0.0.1", port=0, drain_delay_s=1.0, grace_period_s=1.0),
                        [echo_spec()])
    server.start()
    server.install_signal_handlers()
    print(server.port, flush=True)
    server.wait()
    print("stopped", flush=True)
""")


def test_sigterm_turns_health_not_serving_before_stopping(tmp_path: Path) -> None:
    root = str(Path(__file__).resolve().parents[2])  # the repository: tests.support is importable from it
    proc = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT.format(root=root)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service=SERVICE),
                                                              timeout=20)
            assert next(watch).status == SERVING
            os.kill(proc.pid, signal.SIGTERM)
            assert next(watch).status == NOT_SERVING
            # Still answering (draining) while it reports NOT_SERVING ...
            assert health_status(channel) == NOT_SERVING
            assert proc.poll() is None
        # ... and then it stops by itself.
        assert proc.wait(timeout=15) == 0
        assert proc.stdout.readline().strip() == "stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
