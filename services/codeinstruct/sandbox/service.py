"""gRPC `SandboxService`: a thin servicer over `Sandbox` plus `make_spec` for `codeinstruct serve sandbox`."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import grpc

from codeinstruct.sandbox import messages
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox
from codeinstruct.sandbox.types import BatchRun
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.server.strict import register_strict
from codeinstruct.v1 import sandbox_pb2, sandbox_pb2_grpc

logger = logging.getLogger(__name__)

FULL_NAME = "codeinstruct.v1.SandboxService"


class SandboxServicer(sandbox_pb2_grpc.SandboxServiceServicer):
    """Checks each request whole (messages.check_*), then makes one call on the Sandbox."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox

    @property
    def _languages(self) -> list[str]:
        return self.sandbox.info()["languages"]

    def Execute(self, request: sandbox_pb2.ExecuteRequest,
                context: grpc.ServicerContext) -> sandbox_pb2.ExecuteResponse:
        messages.check_run(request, self.sandbox.config, self._languages)
        result = self.sandbox.execute(request.code, request.language or "python", request.stdin,
                                      messages.limits_from_proto(request.limits))
        return sandbox_pb2.ExecuteResponse(result=messages.result_to_proto(result))

    def ExecuteBatch(self, request: sandbox_pb2.ExecuteBatchRequest,
                     context: grpc.ServicerContext) -> Iterator[sandbox_pb2.ExecuteBatchResponse]:
        messages.check_batch(request, self.sandbox.config, self._languages)
        runs: list[BatchRun] = [{"code": r.code, "language": r.language or "python", "stdin": r.stdin,
                                 "limits": messages.limits_from_proto(r.limits)} for r in request.runs]
        for index, result in self.sandbox.execute_batch(runs, request.concurrency or None):
            yield sandbox_pb2.ExecuteBatchResponse(index=index, result=messages.result_to_proto(result))

    def RunTests(self, request: sandbox_pb2.RunTestsRequest,
                 context: grpc.ServicerContext) -> sandbox_pb2.RunTestsResponse:
        messages.check_tests(request, self.sandbox.config, self._languages)
        tests = [{"input": t.input, "output": t.output} for t in request.tests]
        result = self.sandbox.run_tests(request.code, request.language or "python", request.entry_point, tests,
                                        messages.limits_from_proto(request.limits),
                                        harness=messages.HARNESS_FROM_PROTO[request.harness])
        return messages.tests_to_proto(result)

    def CaptureOutputs(self, request: sandbox_pb2.CaptureOutputsRequest,
                       context: grpc.ServicerContext) -> sandbox_pb2.CaptureOutputsResponse:
        messages.check_capture(request, self.sandbox.config, self._languages)
        outputs = self.sandbox.capture_outputs(request.code, request.language or "python", request.entry_point,
                                               list(request.inputs), messages.limits_from_proto(request.limits))
        return messages.captured_to_proto(outputs)

    def GetSandboxInfo(self, request: sandbox_pb2.GetSandboxInfoRequest,
                       context: grpc.ServicerContext) -> sandbox_pb2.GetSandboxInfoResponse:
        info, config = self.sandbox.info(), self.sandbox.config
        return sandbox_pb2.GetSandboxInfoResponse(
            languages=info["languages"], isolation_layers=info["isolation_layers"],
            default_limits=messages.limits_to_proto(info["default_limits"]),
            max_limits=messages.limits_to_proto(info["max_limits"]), workers=info["workers"], python=info["python"],
            worker_recycles=info["worker_recycles"], healthy_workers=info["healthy_workers"],
            max_code_bytes=config.max_code_bytes, max_stdin_bytes=config.max_stdin_bytes,
            max_tests=config.max_tests, max_batch_runs=config.max_batch, max_concurrency=messages.MAX_CONCURRENCY)


def make_spec(*, config: SandboxConfig | None = None,
              sandbox: Sandbox | None = None) -> ServiceSpec:
    """The sandbox service for a server: builds (and self-checks) a Sandbox from `config` (Settings.sandbox).

    Pass `sandbox` to serve an existing instance (it is then not closed with the server).
    """
    owned = sandbox is None
    if sandbox is None:
        sandbox = Sandbox(config or SandboxConfig())
    servicer = SandboxServicer(sandbox)

    def register(server: grpc.Server) -> None:
        register_strict(sandbox_pb2_grpc.add_SandboxServiceServicer_to_server, servicer, server)

    return ServiceSpec(FULL_NAME, register, close=sandbox.close if owned else None, extra={"sandbox": sandbox},
                       watch_health=sandbox.on_health)
