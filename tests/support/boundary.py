"""Table-driven boundary tests: send a bad request to a REAL server and check what a client sees.

A case is (RPC, request, expected code, expected BadRequest field path, expected ErrorInfo reason).
`check_case` calls the RPC over a real channel, asserts all three, then asserts the service is still
SERVING (a bad request must never take a server down or mark it unhealthy).

Usage (tests/<service>/test_boundary.py):
    CASES = [Case("Execute", sandbox_pb2.ExecuteRequest(), "code", "FIELD_REQUIRED"), ...]
    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_bad_request(case, sandbox_channel):
        check_case(case, sandbox_pb2_grpc.SandboxServiceStub(sandbox_channel), sandbox_channel,
                   "codeinstruct.v1.SandboxService")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from codeinstruct.server.status import details_of


@dataclass(frozen=True)
class Case:
    """One bad request. For client-streaming RPCs, `request` is a list of messages."""

    rpc: str
    request: Message | list[Message] = field(repr=False)
    field: str
    reason: str
    code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT
    label: str = ""

    def __str__(self) -> str:
        return f"{self.rpc}-{self.label or self.field or self.reason}"


def call(stub: object, case: Case, timeout: float = 60.0) -> grpc.RpcError | None:
    """Invoke `case.rpc` on `stub`; the RpcError it failed with, or None when it answered OK."""
    method = getattr(stub, case.rpc)
    request = iter(case.request) if isinstance(case.request, list) else case.request
    try:
        response = method(request, timeout=timeout)
        if not isinstance(response, Message):
            for _ in response:  # a stream fails while it is read
                pass
    except grpc.RpcError as error:
        return error
    return None


def assert_serving(channel: grpc.Channel, service: str) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status
    assert status == health_pb2.HealthCheckResponse.SERVING, f"{service} is {status} after a bad request"


def check_case(case: Case, stub: object, channel: grpc.Channel, service: str) -> None:
    error = call(stub, case)
    assert error is not None, f"{case}: the server answered OK"
    details = details_of(error)
    assert error.code() == case.code, f"{case}: {error.code()} {error.details()}"
    assert details["reason"] == case.reason, f"{case}: reason {details['reason']!r} ({error.details()})"
    if case.field:
        assert case.field in details["fields"], f"{case}: fields {details['fields']} ({error.details()})"
    assert_serving(channel, service)


def cases_named(cases: Iterable[Case]) -> list[Case]:
    """`cases` with unique test ids (two cases of one RPC and field get a numeric suffix)."""
    seen: dict[str, int] = {}
    named = []
    for case in cases:
        key = str(case)
        seen[key] = seen.get(key, 0) + 1
        named.append(case if seen[key] == 1 else Case(case.rpc, case.request, case.field, case.reason, case.code,
                                                     f"{case.label or case.field or case.reason}-{seen[key]}"))
    return named
