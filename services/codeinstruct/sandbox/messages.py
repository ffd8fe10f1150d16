"""Conversions between the sandbox dataclasses and `codeinstruct.v1` messages, and the checks every
request passes before any code runs (used by service and client only).

The checks name the REQUEST path of a bad field (`runs[2].limits.timeout_s`) and a specific reason
(server/validate.py); the caps they enforce are the service's config (`sandbox.max_code_bytes` ...),
reported by GetSandboxInfo.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.types import CapturedOutput, CaseResult, ExecutionResult, Limits, LimitsArg, TestsResult
from codeinstruct.server import validate
from codeinstruct.v1 import common_pb2, sandbox_pb2

MAX_CONCURRENCY = 64  # largest ExecuteBatchRequest.concurrency (the batch thread pool's width cap)


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


# -- request checks (before any run starts) -----------------------------------------------------------
def _check_size(text: str, limit: int, field: str) -> None:
    """TOO_LARGE when `text` is over `limit` UTF-8 bytes."""
    size = len(text.encode("utf-8", "surrogateescape"))
    if size > limit:
        raise InvalidInput(f"{field} is {size} bytes; at most {limit} bytes per request", field=field,
                           reason="TOO_LARGE")


def check_limits(message: sandbox_pb2.Limits, config: SandboxConfig, field: str) -> None:
    default = "the service default"
    validate.in_range(message.timeout_s, f"{field}.timeout_s", minimum=0, maximum=config.max_timeout_s, unit="s",
                      above=True, zero_means=default)
    validate.in_range(message.memory_mb, f"{field}.memory_mb", minimum=16, maximum=config.max_memory_mb,
                      unit=" MiB", zero_means=default)
    validate.in_range(message.max_output_bytes, f"{field}.max_output_bytes", minimum=1024,
                      maximum=config.max_output_bytes, unit=" bytes", zero_means=default)


def check_language(language: str, languages: Sequence[str], field: str) -> str:
    """The language a request names ("" is python); UNSUPPORTED_LANGUAGE when the service lacks it."""
    name = language or "python"
    if name not in languages:
        raise InvalidInput(f"{field} {language!r} is not supported here; supported: {', '.join(languages)}",
                           field=field, reason="UNSUPPORTED_LANGUAGE")
    return name


def check_run(request: sandbox_pb2.ExecuteRequest, config: SandboxConfig, languages: Sequence[str],
              prefix: str = "") -> None:
    """An Execute request, or one run of a batch (`prefix` = "runs[3].")."""
    validate.required(request.code, f"{prefix}code", "the program to run")
    _check_size(request.code, config.max_code_bytes, f"{prefix}code")
    check_language(request.language, languages, f"{prefix}language")
    _check_size(request.stdin, config.max_stdin_bytes, f"{prefix}stdin")
    check_limits(request.limits, config, f"{prefix}limits")


def check_batch(request: sandbox_pb2.ExecuteBatchRequest, config: SandboxConfig, languages: Sequence[str]) -> None:
    validate.required(request.runs, "runs", "at least one program")
    validate.at_most(request.runs, config.max_batch, "runs")
    validate.in_range(request.concurrency, "concurrency", minimum=0, maximum=MAX_CONCURRENCY)
    for index, run in enumerate(request.runs):
        check_run(run, config, languages, f"runs[{index}].")


def _check_cases(code: str, language: str, entry_point: str, inputs: Sequence[str], config: SandboxConfig,
                 languages: Sequence[str], field: str) -> str:
    """What RunTests and CaptureOutputs share; `field` is the repeated field of inputs. Returns the language."""
    validate.required(code, "code", "the program to test")
    _check_size(code, config.max_code_bytes, "code")
    name = check_language(language, languages, "language")
    if entry_point:
        if not entry_point.isidentifier():
            raise InvalidInput(f"entry_point {entry_point!r} is not a Python function name", field="entry_point",
                               reason="INVALID_NAME")
        if name != "python":
            raise InvalidInput(f"entry_point tests are Python call expressions; for {name} leave entry_point empty "
                               "and use stdin/stdout tests", field="entry_point", reason="UNSUPPORTED_LANGUAGE")
    validate.required(inputs, field, "at least one")
    validate.at_most(inputs, config.max_tests, field)
    return name


def check_tests(request: sandbox_pb2.RunTestsRequest, config: SandboxConfig, languages: Sequence[str]) -> None:
    name = _check_cases(request.code, request.language, request.entry_point, [t.input for t in request.tests],
                        config, languages, "tests")
    validate.known_enum(request.harness, sandbox_pb2.TestHarness.DESCRIPTOR, "harness")
    if request.harness == sandbox_pb2.TEST_HARNESS_HUMANEVAL:
        if name != "python":
            raise InvalidInput(f"the HUMANEVAL harness runs Python only, got language {name!r}", field="language",
                               reason="UNSUPPORTED_LANGUAGE")
        validate.required(request.entry_point, "entry_point", "the HUMANEVAL harness calls a function")
    for index, test in enumerate(request.tests):
        _check_size(test.input, config.max_stdin_bytes, f"tests[{index}].input")
        _check_size(test.output, config.max_stdin_bytes, f"tests[{index}].output")
    check_limits(request.limits, config, "limits")


def check_capture(request: sandbox_pb2.CaptureOutputsRequest, config: SandboxConfig,
                  languages: Sequence[str]) -> None:
    _check_cases(request.code, request.language, request.entry_point, request.inputs, config, languages, "inputs")
    for index, item in enumerate(request.inputs):
        _check_size(item, config.max_stdin_bytes, f"inputs[{index}]")
    check_limits(request.limits, config, "limits")
