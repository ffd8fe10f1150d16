"""Conversions between the sandbox dataclasses and `codeinstruct.v1` messages (used by service and client only)."""

from __future__ import annotations

from typing import Any

from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.types import CapturedOutput, CaseResult, ExecutionResult, Limits, LimitsArg, TestsResult
from codeinstruct.v1 import common_pb2, sandbox_pb2


def to_proto(status: Status | str) -> int:
    return int(common_pb2.SandboxStatus.Value(f"SANDBOX_STATUS_{Status(status).value}"))


def from_proto(value: int) -> Status:
    """A proto status; UNSPECIFIED (a peer that sent none) reads as SANDBOX_ERROR, never as a pass."""
    name = common_pb2.SandboxStatus.Name(value)  # type: ignore[arg-type]
    if name == "SANDBOX_STATUS_UNSPECIFIED":
        return Status.SANDBOX_ERROR
    return Status(name.removeprefix("SANDBOX_STATUS_"))


def _status(status: Status) -> Any:
    """The proto enum value (typed loosely: the generated stubs want the enum's own value type)."""
    return to_proto(status)


HARNESS_TO_PROTO = {"default": sandbox_pb2.TEST_HARNESS_DEFAULT, "humaneval": sandbox_pb2.TEST_HARNESS_HUMANEVAL}
HARNESS_FROM_PROTO = {sandbox_pb2.TEST_HARNESS_UNSPECIFIED: "default", **{v: k for k, v in HARNESS_TO_PROTO.items()}}


def limits_to_proto(limits: LimitsArg) -> sandbox_pb2.Limits:
    if isinstance(limits, dict):
        limits = Limits(**limits)
    limits = limits or Limits()
    return sandbox_pb2.Limits(timeout_s=limits.timeout_s or 0.0, memory_mb=limits.memory_mb or 0,
                              max_output_bytes=limits.max_output_bytes or 0)


def limits_from_proto(message: sandbox_pb2.Limits) -> Limits:
    return Limits(timeout_s=message.timeout_s or None, memory_mb=message.memory_mb or None,
                  max_output_bytes=message.max_output_bytes or None)


def result_to_proto(result: ExecutionResult) -> sandbox_pb2.ExecutionResult:
    return sandbox_pb2.ExecutionResult(
        status=_status(result.status), exit_code=result.exit_code, stdout=result.stdout, stderr=result.stderr,
        wall_time_s=result.wall_time_s, cpu_time_s=result.cpu_time_s, signal=result.signal, detail=result.detail)


def result_from_proto(message: sandbox_pb2.ExecutionResult) -> ExecutionResult:
    return ExecutionResult(
        status=from_proto(message.status), exit_code=message.exit_code, stdout=message.stdout,
        stderr=message.stderr, wall_time_s=message.wall_time_s, cpu_time_s=message.cpu_time_s,
        signal=message.signal, detail=message.detail)


def tests_to_proto(result: TestsResult) -> sandbox_pb2.RunTestsResponse:
    cases = [sandbox_pb2.TestCaseResult(index=c.index, status=_status(c.status), expected_output=c.expected_output,
                                        actual_output=c.actual_output, detail=c.detail, wall_time_s=c.wall_time_s)
             for c in result.cases]
    return sandbox_pb2.RunTestsResponse(status=_status(result.status), cases=cases, passed=result.passed,
                                        total=result.total)


def tests_from_proto(message: sandbox_pb2.RunTestsResponse) -> TestsResult:
    cases = [CaseResult(c.index, from_proto(c.status), c.expected_output, c.actual_output, c.detail, c.wall_time_s)
             for c in message.cases]
    return TestsResult(from_proto(message.status), cases, message.passed, message.total)


def test_cases_to_proto(tests: list[dict[str, str]]) -> list[common_pb2.TestCase]:
    return [common_pb2.TestCase(input=str(t.get("input", "")), output=str(t.get("output", ""))) for t in tests]


def captured_to_proto(outputs: list[CapturedOutput]) -> sandbox_pb2.CaptureOutputsResponse:
    return sandbox_pb2.CaptureOutputsResponse(outputs=[
        sandbox_pb2.CapturedOutput(input=o.input, status=_status(o.status), output=o.output, detail=o.detail)
        for o in outputs])


def captured_from_proto(message: sandbox_pb2.CaptureOutputsResponse) -> list[CapturedOutput]:
    return [CapturedOutput(o.input, from_proto(o.status), o.output, o.detail) for o in message.outputs]
