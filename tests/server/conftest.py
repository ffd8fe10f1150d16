"""Servers and channels for the bootstrap tests, hosting the echo service of tests/support/server.py."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from codeinstruct.core.config import ServerConfig
from codeinstruct.server.bootstrap import GrpcServer
from tests.support.server import echo_spec


@pytest.fixture
def make_server() -> Iterator:
    servers: list[GrpcServer] = []

    def factory(**overrides) -> GrpcServer:
        config = ServerConfig(host="127.0.0.1", port=0, grace_period_s=1.0, **overrides)
        server = GrpcServer(config, [echo_spec()])
        server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop(grace=0)


@pytest.fixture
def channel_to():
    channels: list[grpc.Channel] = []

    def factory(server: GrpcServer) -> grpc.Channel:
        channel = grpc.insecure_channel(server.address)
        channels.append(channel)
        return channel

    yield factory
    for channel in channels:
        channel.close()
