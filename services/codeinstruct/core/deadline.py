"""Deadlines and cancellation that travel with a request, without gRPC types in the core.

The server sets the caller's deadline (and a cancellation probe) in a context variable for the
duration of an RPC; core loops call `check()` between units of work, and clients of other services
pass `remaining()` as their timeout so the deadline propagates downstream.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from codeinstruct.core.errors import Cancelled, DeadlineExceeded


@dataclass(frozen=True)
class RequestScope:
    deadline: float | None  # time.monotonic() value, None when the caller set no deadline
    is_active: Callable[[], bool] = lambda: True


_scope: contextvars.ContextVar[RequestScope | None] = contextvars.ContextVar("codeinstruct_scope", default=None)


@contextlib.contextmanager
def scope(timeout_s: float | None, is_active: Callable[[], bool] | None = None) -> Iterator[RequestScope]:
    """Run a block under a deadline `timeout_s` seconds from now (None: no deadline).

    A nested scope never extends an outer deadline.
    """
    outer = _scope.get()
    deadline = None if timeout_s is None else time.monotonic() + max(0.0, timeout_s)
    if outer is not None and outer.deadline is not None:
        deadline = outer.deadline if deadline is None else min(deadline, outer.deadline)
    probe = is_active or (outer.is_active if outer else (lambda: True))
    new = RequestScope(deadline, probe)
    token = _scope.set(new)
    try:
        yield new
    finally:
        _scope.reset(token)


def remaining() -> float | None:
    """Seconds left before the current deadline, or None when there is none."""
    current = _scope.get()
    if current is None or current.deadline is None:
        return None
    return max(0.0, current.deadline - time.monotonic())


def timeout(default: float | None = None) -> float | None:
    """The timeout to give a downstream call: the remaining time, capped by `default` if set."""
    left = remaining()
    if left is None:
        return default
    return left if default is None else min(left, default)


def check() -> None:
    """Raise if the caller went away or the deadline passed; call between units of work."""
    current = _scope.get()
    if current is None:
        return
    if not current.is_active():
        raise Cancelled("the caller cancelled the request")
    if current.deadline is not None and time.monotonic() >= current.deadline:
        raise DeadlineExceeded("the request deadline passed before the work finished")
