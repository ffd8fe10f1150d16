"""TLS and Prometheus metrics on a real server."""

from __future__ import annotations

import socket
import subprocess
import urllib.request
from pathlib import Path

import grpc
import pytest

from codeinstruct.core.config import ServerConfig
from codeinstruct.server.bootstrap import GrpcServer
from codeinstruct.server.client import call, open_channel
from codeinstruct.v1 import sandbox_pb2, sandbox_pb2_grpc
from tests.support.server import echo_spec


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_tls_with_token(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    server = GrpcServer(ServerConfig(host="127.0.0.1", tls_cert=cert, tls_key=key, auth_token="tok"),
                        [echo_spec()])
    server.start()
    try:
        channel = open_channel(server.address, auth_token="tok", tls_ca=cert)
        stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
        assert call(stub.Execute, sandbox_pb2.ExecuteRequest(code="secure")).result.stdout == "secure"
        channel.close()
        # A plaintext client cannot talk to the TLS port.
        with grpc.insecure_channel(server.address) as plain:
            with pytest.raises(grpc.RpcError) as info:
                sandbox_pb2_grpc.SandboxServiceStub(plain).Execute(sandbox_pb2.ExecuteRequest(code="x"), timeout=3)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(grace=0)


def test_prometheus_metrics_count_rpcs() -> None:
    port = free_port()
    server = GrpcServer(ServerConfig(host="127.0.0.1", metrics_port=port), [echo_spec()])
    server.start()
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
            stub.Execute(sandbox_pb2.ExecuteRequest(code="m"), timeout=5)
            with pytest.raises(grpc.RpcError):
                stub.Execute(sandbox_pb2.ExecuteRequest(code="m", language="cobol"), timeout=5)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        method = "/codeinstruct.v1.SandboxService/Execute"
        assert f'codeinstruct_rpc_total{{code="OK",method="{method}"}}' in text
        assert f'codeinstruct_rpc_total{{code="INVALID_ARGUMENT",method="{method}"}}' in text
        assert "codeinstruct_rpc_seconds_bucket" in text
    finally:
        server.stop(grace=0)
