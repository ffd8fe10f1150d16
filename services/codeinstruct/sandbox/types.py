"""Values the sandbox takes and returns: limits and results (plain frozen dataclasses, no gRPC types)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from codeinstruct.core.statuses import Status


def _with_status_text(result: Any) -> dict[str, Any]:
    """A result dataclass as JSON-ready fields, its `status` as the contract's text ("OK" ...)."""
    data = dataclasses.asdict(result)
    data["status"] = str(result.status)
    return data


@dataclass(frozen=True)
class Limits:
    """Per-run limits; None means the service default. Values above the service maxima are rejected."""

    timeout_s: float | None = None
    memory_mb: int | None = None
    max_output_bytes: int | None = None


class LimitsDict(TypedDict, total=False):
    """`Limits` as a plain mapping (configuration files, JSON callers)."""

    timeout_s: float
    memory_mb: int
    max_output_bytes: int


LimitsArg = Limits | LimitsDict | None


class BatchRun(TypedDict):
    """One run of `execute_batch`: `code` is required, the rest as for `execute`."""

    code: str
    language: NotRequired[str]
    stdin: NotRequired[str]
    limits: NotRequired[LimitsArg]


class SandboxInfo(TypedDict):
    """What `info()` / GetSandboxInfo reports."""

    languages: list[str]
    isolation_layers: list[str]
    default_limits: Limits
    max_limits: Limits
    workers: int
    python: str
    worker_recycles: int
    healthy_workers: int


@dataclass(frozen=True)
class ExecutionResult:
    """The outcome of one run. `signal` names a fatal signal ("SIGSEGV"); `detail` holds the
    traceback, the compiler message or an infrastructure explanation."""

    status: Status
    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0
    signal: str = ""
    detail: str = ""

    to_dict = _with_status_text


@dataclass(frozen=True)
class CaseResult:
    """Verdict of one test case (DESIGN section 4 format)."""

    index: int
    status: Status
    expected_output: str = ""
    actual_output: str = ""
    detail: str = ""
    wall_time_s: float = 0.0

    to_dict = _with_status_text


@dataclass(frozen=True)
class TestsResult:
    """All cases of one `run_tests` call. `status` is OK only when every case passed, otherwise the
    status of the first failing case."""

    __test__ = False  # not a pytest class

    status: Status
    cases: list[CaseResult] = field(default_factory=list)
    passed: int = 0
    total: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"status": str(self.status), "passed": self.passed, "total": self.total,
                "cases": [case.to_dict() for case in self.cases]}


@dataclass(frozen=True)
class CapturedOutput:
    """What code produced for one input: repr() of the entry point's value, or the exact stdout."""

    input: str
    status: Status
    output: str = ""
    detail: str = ""

    to_dict = _with_status_text
