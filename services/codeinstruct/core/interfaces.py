"""The sandbox's interface as its callers see it: `SandboxLike`.

`codeinstruct.sandbox.core.Sandbox` (in-process) and `codeinstruct.sandbox.client.SandboxClient`
(gRPC) both implement it, so scoring, evaluation and pipeline steps hold one `SandboxLike` and the
type checker follows every call whichever they got. It lives here, not in the sandbox package, so
callers can name it without importing the sandbox (its workers, seccomp, bubblewrap checks); its
values are the sandbox's plain result dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from codeinstruct.sandbox.types import BatchRun, CapturedOutput, ExecutionResult, LimitsArg, SandboxInfo, TestsResult


class SandboxLike(Protocol):
    """Runs untrusted code (DESIGN section 5 statuses); see `codeinstruct.sandbox.core.Sandbox`."""

    def execute(self, code: str, language: str = ..., stdin: str = ...,
                limits: LimitsArg = ...) -> ExecutionResult: ...

    def execute_batch(self, runs: list[BatchRun],
                      concurrency: int | None = ...) -> Iterator[tuple[int, ExecutionResult]]: ...

    def run_tests(self, code: str, language: str, entry_point: str, tests: list[dict[str, str]],
                  limits: LimitsArg = ..., harness: str = ...) -> TestsResult: ...

    def capture_outputs(self, code: str, language: str, entry_point: str, inputs: list[str],
                        limits: LimitsArg = ...) -> list[CapturedOutput]: ...

    def info(self) -> SandboxInfo: ...

    def close(self) -> None: ...
