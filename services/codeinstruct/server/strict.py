"""Register a generated servicer so that a request that does not decode is INVALID_ARGUMENT.

grpcio answers INTERNAL ("Exception deserializing request!") when a request's bytes are not a valid
message, before any handler or interceptor runs: to a caller that is the server's fault. Here the
deserializer never raises; a request that does not decode reaches the handler as `MalformedRequest`,
which raises `InvalidInput` inside the interceptor's error mapping, so the caller gets
INVALID_ARGUMENT with a message naming the message type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from codeinstruct.core.errors import InvalidInput


class MalformedRequest:
    """Stands in for a request message whose bytes did not decode."""

    def __init__(self, type_name: str, error: Exception):
        self.type_name = type_name
        self.error = error

    def reject(self) -> InvalidInput:
        return InvalidInput(f"the request is not a valid {self.type_name} message: {self.error or 'bad encoding'}",
                            reason="MALFORMED_REQUEST")


def _lenient(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None
    owner = getattr(deserializer, "__self__", None)
    type_name = getattr(owner, "DESCRIPTOR", None)
    name = type_name.full_name if type_name is not None else "request"

    def parse(data: bytes) -> Any:
        try:
            return deserializer(data)
        except (DecodeError, ValueError, TypeError, RuntimeError) as exc:
            return MalformedRequest(name, exc)

    return parse


def _checked(request: Any) -> Any:
    if isinstance(request, MalformedRequest):
        raise request.reject()
    return request


def _checked_stream(requests: Iterator[Any]) -> Iterator[Any]:
    for request in requests:
        yield _checked(request)


def _guard(behavior: Callable[[Any, grpc.ServicerContext], Any], streaming: bool) -> Callable[..., Any]:
    def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
        return behavior(_checked_stream(request) if streaming else _checked(request), context)

    return wrapped


def _strict(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    replaced: dict[str, Any] = {"request_deserializer": _lenient(handler.request_deserializer)}
    for kind in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
        behavior = getattr(handler, kind)
        if behavior is None:
            continue
        replaced[kind] = _guard(behavior, handler.request_streaming)
    return handler._replace(**replaced)  # type: ignore[attr-defined]


class _Capture:
    """Stands in for the server while generated code registers its handlers."""

    def __init__(self) -> None:
        self.registered: tuple[str, dict[str, grpc.RpcMethodHandler]] | None = None

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        pass

    def add_registered_method_handlers(self, name: str, handlers: dict[str, grpc.RpcMethodHandler]) -> None:
        self.registered = (name, handlers)


def register_strict(add_to_server: Callable[[Any, Any], None], servicer: object, server: grpc.Server) -> None:
    """`add_FooServicer_to_server(servicer, server)`, with undecodable requests as INVALID_ARGUMENT."""
    capture = _Capture()
    add_to_server(servicer, capture)
    if capture.registered is None:
        raise RuntimeError(f"{add_to_server.__name__} registered no method handlers")
    name, handlers = capture.registered
    strict = {method: _strict(handler) for method, handler in handlers.items()}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, strict),))
    server.add_registered_method_handlers(name, strict)
