"""A tiny SandboxService used only to exercise the shared bootstrap (auth, errors, deadlines).

It is not a stand-in for the sandbox: the real sandbox has its own tests under tests/sandbox.
"""

from __future__ import annotations

import time

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.v1 import sandbox_pb2, sandbox_pb2_grpc

SERVICE = "codeinstruct.v1.SandboxService"


class EchoSandbox(sandbox_pb2_grpc.SandboxServiceServicer):
    """Echoes code as stdout; `sleep:N` sleeps N seconds in 10 ms steps checking the deadline."""

    def Execute(self, request, context):
        if request.language not in ("", "python"):
            raise InvalidInput(f"language {request.language!r} is not supported", field="language")
        if request.code.startswith("sleep:"):
            end = time.monotonic() + float(request.code.split(":")[1])
            while time.monotonic() < end:
                deadline.check()
                time.sleep(0.01)
        if request.code == "crash":
            raise RuntimeError("secret internal detail")
        return sandbox_pb2.ExecuteResponse(result=sandbox_pb2.ExecutionResult(stdout=request.code))

    def ExecuteBatch(self, request, context):
        for index, run in enumerate(request.runs):
            if run.language not in ("", "python"):
                raise InvalidInput(f"runs[{index}].language {run.language!r} is not supported",
                                   field=f"runs[{index}].language")
            yield sandbox_pb2.ExecuteBatchResponse(index=index, result=sandbox_pb2.ExecutionResult(stdout=run.code))


def echo_spec() -> ServiceSpec:
    return ServiceSpec(SERVICE, lambda server: sandbox_pb2_grpc.add_SandboxServiceServicer_to_server(
        EchoSandbox(), server))
