"""Cost accounting: tokens, engine seconds and sandbox seconds a stage spent (`Usage`), and
`MeteredSandbox`, a `SandboxLike` that adds every run's own times to a `Usage`.

The figures become flat, JSON-able stage statistics (`Usage.as_stats()`):

    {"tokens_in": 5120, "tokens_out": 830, "engine_calls": 4, "engine_seconds": 41.2,
     "sandbox_runs": 12, "sandbox_seconds": 3.4, "sandbox_cpu_seconds": 1.9}

Sandbox seconds are the sandbox's own measurements, summed over runs: an execution's `wall_time_s`
(and `cpu_time_s`), the test cases' `wall_time_s`. `capture_outputs` reports no times, so its calls
count with the wall time measured around them. Engine figures come from
`codeinstruct.engines.metered.MeteredEngine`.

Example:
    usage = Usage()
    box = MeteredSandbox(sandbox, usage)
    box.execute("print(1)")
    usage.as_stats()["sandbox_runs"]   # 1
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.sandbox.types import BatchRun, CapturedOutput, ExecutionResult, LimitsArg, SandboxInfo, TestsResult

# The flat stage-statistics keys a Usage writes (and reports sum).
USAGE_KEYS = ("tokens_in", "tokens_out", "engine_calls", "engine_seconds", "sandbox_runs", "sandbox_seconds",
              "sandbox_cpu_seconds")


@dataclasses.dataclass
class Usage:
    """What a stage spent; thread-safe `add_*` (sandbox stages check records concurrently)."""

    tokens_in: int = 0
    tokens_out: int = 0
    engine_calls: int = 0
    engine_seconds: float = 0.0
    sandbox_runs: int = 0
    sandbox_seconds: float = 0.0
    sandbox_cpu_seconds: float = 0.0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False, compare=False)

    def add_engine(self, tokens_in: int, tokens_out: int, seconds: float) -> None:
        with self._lock:
            self.tokens_in += tokens_in
            self.tokens_out += tokens_out
            self.engine_calls += 1
            self.engine_seconds += seconds

    def add_sandbox(self, runs: int, seconds: float, cpu_seconds: float = 0.0) -> None:
        with self._lock:
            self.sandbox_runs += runs
            self.sandbox_seconds += seconds
            self.sandbox_cpu_seconds += cpu_seconds

    def add(self, other: Usage | Mapping[str, Any]) -> None:
        """Add another Usage (or its `as_stats()`)."""
        values = other.as_stats() if isinstance(other, Usage) else other
        with self._lock:
            for key in USAGE_KEYS:
                value = values.get(key) or 0
                setattr(self, key, getattr(self, key) + (int(value) if key in _INTEGERS else float(value)))

    def snapshot(self) -> Usage:
        with self._lock:
            return Usage(**{key: getattr(self, key) for key in USAGE_KEYS})

    def since(self, earlier: Usage) -> Usage:
        """What was spent after `earlier` (a `snapshot()` of this Usage)."""
        now = self.snapshot()
        return Usage(**{key: getattr(now, key) - getattr(earlier, key) for key in USAGE_KEYS})

    def as_stats(self) -> dict[str, int | float]:
        with self._lock:
            return {key: (getattr(self, key) if key in _INTEGERS else round(getattr(self, key), 3))
                    for key in USAGE_KEYS}


_INTEGERS = frozenset({"tokens_in", "tokens_out", "engine_calls", "sandbox_runs"})


def usage_of(stats: Mapping[str, Any]) -> dict[str, float]:
    """The usage figures in a stage-statistics mapping (absent ones as 0)."""
    out: dict[str, float] = {}
    for key in USAGE_KEYS:
        value = stats.get(key)
        out[key] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0
    return out


class MeteredSandbox:
    """A `SandboxLike` that forwards every call and adds the runs' own times to `usage`.

    It does not own the sandbox: `close()` does nothing.
    """

    def __init__(self, sandbox: SandboxLike, usage: Usage):
        self.sandbox = sandbox
        self.usage = usage

    def execute(self, code: str, language: str = "python", stdin: str = "",
                limits: LimitsArg = None) -> ExecutionResult:
        result = self.sandbox.execute(code, language, stdin, limits)
        self.usage.add_sandbox(1, result.wall_time_s, result.cpu_time_s)
        return result

    def execute_batch(self, runs: list[BatchRun],
                      concurrency: int | None = None) -> Iterator[tuple[int, ExecutionResult]]:
        for index, result in self.sandbox.execute_batch(runs, concurrency):
            self.usage.add_sandbox(1, result.wall_time_s, result.cpu_time_s)
            yield index, result

    def run_tests(self, code: str, language: str, entry_point: str, tests: list[dict[str, str]],
                  limits: LimitsArg = None, harness: str = "default") -> TestsResult:
        started = time.monotonic()
        result = self.sandbox.run_tests(code, language, entry_point, tests, limits, harness)
        seconds = sum(case.wall_time_s for case in result.cases) or (time.monotonic() - started)
        self.usage.add_sandbox(max(len(result.cases), 1), seconds)
        return result

    def capture_outputs(self, code: str, language: str, entry_point: str, inputs: list[str],
                        limits: LimitsArg = None) -> list[CapturedOutput]:
        started = time.monotonic()
        outputs = self.sandbox.capture_outputs(code, language, entry_point, inputs, limits)
        self.usage.add_sandbox(max(len(inputs), 1), time.monotonic() - started)
        return outputs

    def info(self) -> SandboxInfo:
        return self.sandbox.info()

    def close(self) -> None:
        """The wrapped sandbox belongs to the caller."""
