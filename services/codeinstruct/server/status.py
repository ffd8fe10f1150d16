"""Map core exceptions to gRPC statuses carrying `google.rpc.ErrorInfo` and `BadRequest`.

This is the only place that knows which exception becomes which status code.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from codeinstruct.core import errors

DOMAIN = "codeinstruct.dev"

_CODES: list[tuple[type[errors.CodeinstructError], grpc.StatusCode]] = [
    (errors.InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.LimitExceeded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.Cancelled, grpc.StatusCode.CANCELLED),
    (errors.DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
]


def status_code_for(exc: BaseException) -> grpc.StatusCode:
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def to_status(exc: BaseException) -> grpc.Status:
    """A rich `grpc.Status` for an exception; unknown exceptions become INTERNAL without internals."""
    code = status_code_for(exc)
    if isinstance(exc, errors.CodeinstructError):
        message, reason, metadata = exc.message, exc.reason, exc.metadata
    else:
        message, reason, metadata = "internal error; see the server log", "INTERNAL", {}
    details = []
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata)
    packed = any_pb2.Any()
    packed.Pack(info)
    details.append(packed)
    if isinstance(exc, errors.InvalidInput) and exc.field:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[error_details_pb2.BadRequest.FieldViolation(field=exc.field, description=message)])
        packed = any_pb2.Any()
        packed.Pack(bad_request)
        details.append(packed)
    proto = status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=details)
    return rpc_status.to_status(proto)


def details_of(error: grpc.RpcError) -> dict[str, object]:
    """Client side: decode ErrorInfo and BadRequest from a failed call (for messages and tests)."""
    result: dict[str, object] = {"code": error.code(), "message": error.details(), "reason": "", "fields": []}
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return result
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            result["reason"] = info.reason
            result["metadata"] = dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            result["fields"] = [v.field for v in bad.field_violations]
    return result


def error_from_rpc(error: grpc.RpcError) -> errors.CodeinstructError:
    """Client side: turn a failed call back into the core exception, so callers handle one type."""
    info = details_of(error)
    message = str(info["message"] or "")
    code = error.code()
    fields = info.get("fields") or []
    reason = str(info["reason"] or "") or None
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return errors.InvalidInput(message, field=str(fields[0]) if fields else "",  # type: ignore[index]
                                   reason=reason)
    for cls, mapped in _CODES:
        if mapped == code:
            return cls(message, reason=reason)
    return errors.Unavailable(f"{code.name}: {message}") if code == grpc.StatusCode.UNAVAILABLE else \
        errors.CodeinstructError(f"{code.name}: {message}")
