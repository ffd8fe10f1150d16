"""Sandbox statuses (DESIGN section 5), shared by the sandbox, scoring, evaluation and the CLI.

The string values are the contract (`"OK"`, `"WRONG_ANSWER"` ...); the proto enum spells them with
a `SANDBOX_STATUS_` prefix.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OK = "OK"
    WRONG_ANSWER = "WRONG_ANSWER"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    SYNTAX_ERROR = "SYNTAX_ERROR"
    TIMEOUT = "TIMEOUT"
    MEMORY_EXCEEDED = "MEMORY_EXCEEDED"
    OUTPUT_TRUNCATED = "OUTPUT_TRUNCATED"
    SANDBOX_ERROR = "SANDBOX_ERROR"

    def __str__(self) -> str:
        return self.value


def to_proto(status: Status | str) -> int:
    from codeinstruct.v1 import common_pb2

    return int(common_pb2.SandboxStatus.Value(f"SANDBOX_STATUS_{Status(status).value}"))


def from_proto(value: int) -> Status:
    from codeinstruct.v1 import common_pb2

    name = common_pb2.SandboxStatus.Name(value)  # type: ignore[arg-type]
    if name == "SANDBOX_STATUS_UNSPECIFIED":
        return Status.SANDBOX_ERROR
    return Status(name.removeprefix("SANDBOX_STATUS_"))
