"""Client side of the shared transport: channels to a deployed service or to one started in-process.

A client target is either `host:port` (a deployed service, e.g. the Helm chart's Service) or
`loopback`: the same service is started inside this process on 127.0.0.1 with a free port and
reached through real gRPC (tests, trials of the wire format). `inprocess` is not a client target:
it means the core object in this process, which `codeinstruct.targets.open_*` give without gRPC.
Calls propagate the current request deadline and turn failed RPCs back into core exceptions.

Example:
    with connect("loopback", make_spec=lambda: sandbox_spec(SandboxConfig())) as channel:
        stub = sandbox_pb2_grpc.SandboxServiceStub(channel)
        result = call(stub.Execute, request)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import grpc

from codeinstruct.core import deadline, env
from codeinstruct.core.config import ServerConfig
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.lifecycle import Closing
from codeinstruct.server.bootstrap import GrpcServer, ServiceSpec, channel_options
from codeinstruct.server.status import error_from_rpc

logger = logging.getLogger(__name__)

LOOPBACK = "loopback"
INPROCESS = "inprocess"  # not a client target; see codeinstruct.targets
T = TypeVar("T")


class _BearerToken(grpc.AuthMetadataPlugin):
    def __init__(self, token: str):
        self._token = token

    def __call__(self, context: grpc.AuthMetadataContext, callback: grpc.AuthMetadataPluginCallback) -> None:
        callback((("authorization", f"Bearer {self._token}"),), None)


class _TokenInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds the bearer token on plaintext channels (call credentials need TLS)."""

    def __init__(self, token: str):
        self._metadata = (("authorization", f"Bearer {token}"),)

    def _details(self, details: Any) -> Any:
        metadata = tuple(details.metadata or ()) + self._metadata
        return details._replace(metadata=metadata) if hasattr(details, "_replace") else _Details(details, metadata)

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)


class _Details(grpc.ClientCallDetails):
    def __init__(self, base: Any, metadata: tuple[tuple[str, str], ...]):
        self.method = base.method
        self.timeout = base.timeout
        self.metadata = metadata
        self.credentials = base.credentials
        self.wait_for_ready = getattr(base, "wait_for_ready", None)
        self.compression = getattr(base, "compression", None)


def open_channel(target: str, *, auth_token: str | None = None, tls_ca: Path | None = None,
                 max_message_mb: int = 64) -> grpc.Channel:
    """A channel to `host:port`; token and TLS CA default to the environment (core.env)."""
    if target == INPROCESS:
        raise InvalidInput(f"a client needs a gRPC target: host:port, or {LOOPBACK!r} for a service started here; "
                           f"{INPROCESS!r} (the core in this process, no gRPC) is what codeinstruct.targets.open_* "
                           "give", field="target")
    if not target or target == LOOPBACK or ":" not in target:
        raise InvalidInput(f"service target must be host:port or {LOOPBACK!r}, got {target!r}", field="target")
    token = auth_token if auth_token is not None else env.auth_token()
    options = channel_options(ServerConfig(max_message_mb=max_message_mb))
    ca = tls_ca if tls_ca is not None else env.tls_files()[0]
    if ca is not None:
        credentials = grpc.ssl_channel_credentials(root_certificates=Path(ca).read_bytes())
        if token:
            credentials = grpc.composite_channel_credentials(
                credentials, grpc.metadata_call_credentials(_BearerToken(token)))
        return grpc.secure_channel(target, credentials, options=options)
    channel = grpc.insecure_channel(target, options=options)
    return grpc.intercept_channel(channel, _TokenInterceptor(token)) if token else channel


@contextlib.contextmanager
def connect(target: str, make_spec: Callable[[], ServiceSpec], *, auth_token: str | None = None,
            server_config: ServerConfig | None = None) -> Iterator[grpc.Channel]:
    """Yield a channel to `target`; for `loopback`, host the service here for the block's duration."""
    if target != LOOPBACK:
        channel = open_channel(target, auth_token=auth_token)
        try:
            yield channel
        finally:
            channel.close()
        return
    config = server_config or ServerConfig(host="127.0.0.1", port=0, reflection=False, grace_period_s=5.0)
    server = GrpcServer(config, [make_spec()])
    server.start()
    logger.debug("in-process %s on %s", server.specs[0].full_name, server.address)
    channel = open_channel(server.address, auth_token=config.auth_token or "", max_message_mb=config.max_message_mb)
    try:
        yield channel
    finally:
        channel.close()
        server.stop(grace=1.0)


class ServiceClient(Closing):
    """Lifecycle shared by the service clients: one channel (remote, or a service hosted in-process)
    held from construction until `close()`; usable as a context manager."""

    def _connect(self, target: str, make_spec: Callable[[], ServiceSpec], *,
                 auth_token: str | None = None) -> grpc.Channel:
        self._stack = contextlib.ExitStack()
        return self._stack.enter_context(connect(target, make_spec, auth_token=auth_token))

    def close(self) -> None:
        self._stack.close()


def call(method: Callable[..., T], request: Any, *, timeout: float | None = None) -> T:
    """Unary call with the propagated deadline; failures come back as core exceptions."""
    try:
        return method(request, timeout=deadline.timeout(timeout))
    except grpc.RpcError as exc:
        raise error_from_rpc(exc) from None


def stream(method: Callable[..., Iterator[T]], request: Any, *, timeout: float | None = None) -> Iterator[T]:
    """Server-streaming call with the propagated deadline; failures come back as core exceptions."""
    try:
        yield from method(request, timeout=deadline.timeout(timeout))
    except grpc.RpcError as exc:
        raise error_from_rpc(exc) from None
