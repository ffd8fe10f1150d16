"""Sandbox statuses (DESIGN section 5), shared by the sandbox, scoring, evaluation and the CLI.

The string values are the contract (`"OK"`, `"WRONG_ANSWER"` ...); the proto enum spells them with
a `SANDBOX_STATUS_` prefix (conversions in `codeinstruct.sandbox.messages`).
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
