"""`SandboxClient`: the `Sandbox` methods through gRPC, against a deployed service or one started in-process.

Example:
    with SandboxClient("loopback") as sandbox:      # or SandboxClient("sandbox.ns.svc:50052")
        print(sandbox.execute("print(1)").status)
"""

from __future__ import annotations

from collections.abc import Iterator

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox import messages
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.types import BatchRun, CapturedOutput, ExecutionResult, LimitsArg, SandboxInfo, TestsResult
from codeinstruct.server.client import ServiceClient, call, stream
from codeinstruct.v1 import sandbox_pb2, sandbox_pb2_grpc


class SandboxClient(ServiceClient):
    """Same methods and dataclasses as `Sandbox`; `target` is `host:port` or `loopback`.

    The service rejects empty `runs`, `tests` and `inputs` (INVALID_ARGUMENT); this client answers
    those calls itself the way the in-process `Sandbox` does (nothing to run), so a `SandboxLike`
    caller sees one behaviour whichever object it holds.
    """

    def __init__(self, target: str = "loopback", *, config: SandboxConfig | None = None,
                 auth_token: str | None = None):
        from codeinstruct.sandbox.service import make_spec

        self.target = target
        channel = self._connect(
            target, lambda: make_spec(config=config or SandboxConfig()),
            auth_token=auth_token)
        self._stub = sandbox_pb2_grpc.SandboxServiceStub(channel)

    def execute(self, code: str, language: str = "python", stdin: str = "",
                limits: LimitsArg = None) -> ExecutionResult:
        request = sandbox_pb2.ExecuteRequest(code=code, language=language, stdin=stdin,
                                             limits=messages.limits_to_proto(limits))
        return messages.result_from_proto(call(self._stub.Execute, request).result)

    def execute_batch(self, runs: list[BatchRun],
                      concurrency: int | None = None) -> Iterator[tuple[int, ExecutionResult]]:
        if not runs:
            return
        request = sandbox_pb2.ExecuteBatchRequest(concurrency=concurrency or 0, runs=[
            sandbox_pb2.ExecuteRequest(code=r["code"], language=r.get("language") or "python", stdin=r.get("stdin", ""),
                                       limits=messages.limits_to_proto(r.get("limits")))
            for r in runs])
        for item in stream(self._stub.ExecuteBatch, request):
            yield item.index, messages.result_from_proto(item.result)

    def run_tests(self, code: str, language: str, entry_point: str, tests: list[dict[str, str]],
                  limits: LimitsArg = None, harness: str = "default") -> TestsResult:
        if harness not in messages.HARNESS_TO_PROTO:
            raise InvalidInput(f"harness must be one of {sorted(messages.HARNESS_TO_PROTO)}, got {harness!r}",
                               field="harness", reason="UNKNOWN_ENUM_VALUE")
        if not tests:
            return TestsResult(Status.OK, [], 0, 0)  # what Sandbox.run_tests answers for no tests
        request = sandbox_pb2.RunTestsRequest(
            code=code, language=language, entry_point=entry_point, tests=messages.test_cases_to_proto(tests),
            limits=messages.limits_to_proto(limits), harness=messages.HARNESS_TO_PROTO[harness])
        return messages.tests_from_proto(call(self._stub.RunTests, request))

    def capture_outputs(self, code: str, language: str, entry_point: str, inputs: list[str],
                        limits: LimitsArg = None) -> list[CapturedOutput]:
        if not inputs:
            return []
        request = sandbox_pb2.CaptureOutputsRequest(code=code, language=language, entry_point=entry_point,
                                                    inputs=inputs, limits=messages.limits_to_proto(limits))
        return messages.captured_from_proto(call(self._stub.CaptureOutputs, request))

    def info(self) -> SandboxInfo:
        response = call(self._stub.GetSandboxInfo, sandbox_pb2.GetSandboxInfoRequest())
        return {"languages": list(response.languages), "isolation_layers": list(response.isolation_layers),
                "default_limits": messages.limits_from_proto(response.default_limits),
                "max_limits": messages.limits_from_proto(response.max_limits), "workers": response.workers,
                "python": response.python, "worker_recycles": response.worker_recycles,
                "healthy_workers": response.healthy_workers}
