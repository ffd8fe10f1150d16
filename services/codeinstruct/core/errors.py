"""The core exception hierarchy.

Core code raises these; each boundary maps them once: the gRPC server to a status code with
`google.rpc.ErrorInfo` (and `BadRequest` when a field is named), the CLI to one line on stderr and
exit code 2. Messages name the bad value so the caller knows what to fix.
"""

from __future__ import annotations


class CodeinstructError(Exception):
    """Base of every error the core raises on purpose.

    `reason` is a stable UPPER_SNAKE_CASE identifier (it becomes `ErrorInfo.reason`), `metadata`
    carries machine-readable context.
    """

    reason = "INTERNAL"

    def __init__(self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidInput(CodeinstructError):
    """The caller sent something unusable. `field` names the offending field (dotted path)."""

    reason = "INVALID_INPUT"

    def __init__(self, message: str, *, field: str = "", reason: str | None = None,
                 metadata: dict[str, str] | None = None):
        super().__init__(message, reason=reason, metadata=metadata)
        self.field = field


class Unauthenticated(CodeinstructError):
    """The caller did not prove who it is (missing or wrong bearer token)."""

    reason = "UNAUTHENTICATED"


class NotFound(CodeinstructError):
    """A named thing (job, model, file, benchmark) does not exist."""

    reason = "NOT_FOUND"


class AlreadyExists(CodeinstructError):
    """A thing with that name exists already."""

    reason = "ALREADY_EXISTS"


class FailedPrecondition(CodeinstructError):
    """The request is valid but the system is not in a state to carry it out (e.g. a job is done)."""

    reason = "FAILED_PRECONDITION"


class LimitExceeded(CodeinstructError):
    """A quota or a capacity limit was hit; retrying later may work."""

    reason = "LIMIT_EXCEEDED"


class Unavailable(CodeinstructError):
    """A dependency (engine, sandbox layer, remote service) is not usable right now."""

    reason = "UNAVAILABLE"


class Cancelled(CodeinstructError):
    """The work was cancelled by the caller or by a shutdown."""

    reason = "CANCELLED"


class DeadlineExceeded(CodeinstructError):
    """The caller's deadline passed before the work finished."""

    reason = "DEADLINE_EXCEEDED"

