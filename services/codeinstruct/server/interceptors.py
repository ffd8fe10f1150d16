"""Server interceptors: bearer-token auth, request scope (deadline + cancellation), error mapping
and Prometheus metrics. Applied once by the bootstrap, so servicers stay plain translations.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from prometheus_client import Counter, Gauge, Histogram

from codeinstruct.core import deadline, errors
from codeinstruct.server.status import status_code_for, to_status

logger = logging.getLogger(__name__)

# Health checks and reflection stay open so probes and grpcurl work without a token.
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

RPC_TOTAL = Counter("codeinstruct_rpc_total", "RPCs handled", ["method", "code"])
RPC_SECONDS = Histogram("codeinstruct_rpc_seconds", "RPC handling time", ["method"],
                        buckets=(0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800))
RPC_IN_FLIGHT = Gauge("codeinstruct_rpc_in_flight", "RPCs being handled", ["method"])


def _abort(context: grpc.ServicerContext, exc: BaseException, method: str) -> None:
    if isinstance(exc, errors.CodeinstructError):
        logger.info("%s failed: %s (%s)", method, exc.message, type(exc).__name__)
    else:
        logger.exception("%s crashed", method)
    context.abort_with_status(to_status(exc))


def _scope_timeout(context: grpc.ServicerContext) -> float | None:
    left = context.time_remaining()
    # grpc reports a huge value when the client set no deadline.
    return None if left is None or left > 10**8 else left


@contextlib.contextmanager
def _handled(method: str, context: grpc.ServicerContext) -> Iterator[None]:
    """Run one handler under the caller's deadline, map its exception to a status, record metrics."""
    start, code = time.perf_counter(), "OK"
    RPC_IN_FLIGHT.labels(method).inc()
    try:
        with deadline.scope(_scope_timeout(context), context.is_active):
            yield
    except Exception as exc:
        code = status_code_for(exc).name
        _abort(context, exc, method)  # raises: the handler ends with the mapped status
    finally:
        RPC_IN_FLIGHT.labels(method).dec()
        RPC_TOTAL.labels(method, code).inc()
        RPC_SECONDS.labels(method).observe(time.perf_counter() - start)


class ServerInterceptor(grpc.ServerInterceptor):
    """Wraps every handler: auth first, then scope, exception mapping and metrics."""

    def __init__(self, auth_token: str | None = None):
        self._auth_token = auth_token

    def _authorized(self, details: grpc.HandlerCallDetails) -> bool:
        if not self._auth_token or details.method.startswith(OPEN_PREFIXES):
            return True
        metadata = dict(details.invocation_metadata or ())
        header = str(metadata.get("authorization", ""))
        expected = f"Bearer {self._auth_token}"
        return hmac.compare_digest(header.encode(), expected.encode())

    def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Any],
                          details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method
        if not self._authorized(details):
            def deny(request: Any, context: grpc.ServicerContext) -> Any:
                RPC_TOTAL.labels(method, "UNAUTHENTICATED").inc()
                context.abort_with_status(to_status(errors.Unauthenticated(
                    "missing or wrong bearer token: send metadata 'authorization: Bearer <token>'",
                    reason="BEARER_TOKEN_INVALID")))
            if handler.response_streaming:
                return grpc.unary_stream_rpc_method_handler(deny) if not handler.request_streaming else \
                    grpc.stream_stream_rpc_method_handler(deny)
            return grpc.unary_unary_rpc_method_handler(deny) if not handler.request_streaming else \
                grpc.stream_unary_rpc_method_handler(deny)
        if method.startswith(OPEN_PREFIXES):
            return handler

        def wrap_unary(behavior: Callable[..., Any]) -> Callable[..., Any]:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
                with _handled(method, context):
                    return behavior(request, context)
            return wrapped

        def wrap_stream(behavior: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
            def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                with _handled(method, context):
                    yield from behavior(request, context)
            return wrapped

        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                wrap_unary(handler.unary_unary), handler.request_deserializer, handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                wrap_stream(handler.unary_stream), handler.request_deserializer, handler.response_serializer)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                wrap_unary(handler.stream_unary), handler.request_deserializer, handler.response_serializer)
        return grpc.stream_stream_rpc_method_handler(
            wrap_stream(handler.stream_stream), handler.request_deserializer, handler.response_serializer)
