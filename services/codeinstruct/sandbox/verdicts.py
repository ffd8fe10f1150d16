"""From what the supervisor saw of a run (`RawRun`) to a DESIGN section 5 status, with bounded text.

Output is bounded by construction: the supervisor caps stdout and stderr at the run's byte cap, and
here the decoded text is cut again at that many UTF-8 bytes, so invalid bytes (each decoded to a
3-byte U+FFFD) never make a result larger than the cap. Two capped streams plus a short detail stay
below the service's message limit (SandboxConfig checks max_output_bytes against it).
"""

from __future__ import annotations

import signal
from dataclasses import replace

from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.languages import Recipe
from codeinstruct.sandbox.supervision import RawRun
from codeinstruct.sandbox.types import ExecutionResult


def bounded_text(data: bytes | str, limit: int) -> tuple[str, bool]:
    """`data` as text of at most `limit` UTF-8 bytes (cut at a character boundary); True when cut."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    if len(text) * 4 <= limit:
        return text, False
    encoded = text.encode("utf-8", errors="surrogateescape")
    if len(encoded) <= limit:
        return text, False
    return encoded[:limit].decode("utf-8", errors="ignore"), True


def tail(text: str, limit: int = 4000) -> str:
    text = text.strip()
    return text if len(text) <= limit else "..." + text[-limit:]


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


def classify(raw: RawRun, recipe: Recipe, max_text: int) -> ExecutionResult:
    """Map what the supervisor saw to a DESIGN section 5 status; stdout/stderr at most `max_text` bytes each."""
    stdout, stdout_cut = bounded_text(raw.stdout, max_text)
    stderr, stderr_cut = bounded_text(raw.stderr, max_text)
    sig = signal_name(raw.signal) if raw.signal else ""
    base = ExecutionResult(Status.OK, exit_code=raw.exit_code if not raw.signal else -raw.signal, stdout=stdout,
                           stderr=stderr, wall_time_s=round(raw.wall_time_s, 6),
                           cpu_time_s=round(raw.cpu_time_s, 6), signal=sig)
    events = {event.get("event"): event for event in raw.reports}

    def verdict(status: Status, detail: str = "") -> ExecutionResult:
        if stdout_cut or stderr_cut:
            note = f"output shown cut to {max_text} bytes: it is not valid UTF-8"
            detail = f"{detail}; {note}" if detail else note
        return replace(base, status=status, detail=detail)

    if raw.worker_lost or raw.error:
        return verdict(Status.SANDBOX_ERROR, raw.error or "the sandbox worker failed")
    if "setup_error" in events:
        return verdict(Status.SANDBOX_ERROR, str(events["setup_error"].get("detail", "")))
    if raw.truncated:
        return verdict(Status.OUTPUT_TRUNCATED, "output went over the cap")
    if raw.over_memory:
        return verdict(Status.MEMORY_EXCEEDED, f"memory limit exceeded ({raw.memory_limit_bytes >> 20} MiB, counting "
                                               "every process of the run, shared memory and its files)")
    if raw.timed_out or raw.signal == signal.SIGXCPU:
        return verdict(Status.TIMEOUT, "time limit exceeded")
    if "syntax" in events:
        return verdict(Status.SYNTAX_ERROR, str(events["syntax"].get("detail", "")))
    if "memory" in events or (
            (raw.signal or raw.exit_code) and any(marker in stderr for marker in recipe.oom_markers)):
        detail = str(events["memory"].get("detail", "")) if "memory" in events else tail(stderr, 1000)
        return verdict(Status.MEMORY_EXCEEDED, detail or "memory limit exceeded")
    if raw.signal == signal.SIGKILL and raw.memory_limit_bytes and \
            raw.max_rss_kb * 1024 >= 0.8 * raw.memory_limit_bytes:
        # Nobody here sent that SIGKILL and the run was near its memory limit: the OOM killer.
        return verdict(Status.MEMORY_EXCEEDED, f"killed by SIGKILL at {raw.max_rss_kb // 1024} MiB resident")
    if raw.signal:
        return verdict(Status.RUNTIME_ERROR, f"killed by {sig}")
    if raw.exit_code != 0:
        return verdict(Status.RUNTIME_ERROR, tail(stderr) or f"exit status {raw.exit_code}")
    return verdict(Status.OK)


def call_outcome(raw: RawRun, recipe: Recipe, max_text: int) -> tuple[ExecutionResult, str | None]:
    """A call-mode run's verdict and the harness-reported repr() of the value (None unless it passed)."""
    result = classify(raw, recipe, max_text)
    events = {event.get("event"): event for event in raw.reports}
    if result.status is not Status.OK:
        if result.status is Status.RUNTIME_ERROR and "exception" in events:
            detail = str(events["exception"].get("detail", ""))
            result = replace(result, detail=detail or result.detail)
        if result.status is Status.RUNTIME_ERROR and "input_error" in events:
            result = replace(result, detail=f"test input: {events['input_error'].get('detail', '')}")
        return result, ""
    if "value" not in events:
        # Exit status 0 without the harness's signal: the program ended the process itself.
        return replace(result, status=Status.RUNTIME_ERROR,
                       detail="the program exited before the test harness finished"), ""
    return result, str(events["value"].get("repr", ""))
