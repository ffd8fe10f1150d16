"""Progress of long work (generation, sandbox stages, evaluation, training) with rate and ETA.

Library code never prints: it opens a task and advances it, and the task reports to the
`Reporter` the entrypoint installed (nothing when none is, e.g. inside a gRPC server):

    with progress.track("semi_instruct", total=len(seeds), unit="seed") as task:
        for outcome in outcomes:
            task.advance(note=f"{written} records")

An entrypoint installs one reporter for the process: the CLI a `Reporter(stream=sys.stderr)`, which
redraws a bar (tqdm) when the stream is a terminal and otherwise writes a line at most every
`interval_s` seconds (logs, CI, Kubeflow pods); a Kubeflow component a reporter whose lines go to
the step's progress channel (`codeinstruct_pipelines.kfp_io.progress`). In line mode a task shows
its first line after `interval_s` (work shorter than that stays quiet), a line at least every
`heartbeat_s` while it runs (even when one batch takes minutes) and a last line when it ends:

    semi_instruct: 4/12 seeds (33%), 14 s/seed, ETA 1m54s; 6 records

Example:
    with progress.reporting(progress.Reporter(stream=sys.stderr)):
        run_generation("inverse_instruct", "seeds.jsonl", "out.jsonl")
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import shutil
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TextIO

logger = logging.getLogger(__name__)

Emit = Callable[[str], None]
DEFAULT_INTERVAL_S = 10.0
DEFAULT_HEARTBEAT_S = 30.0


def duration(seconds: float) -> str:
    """`42s`, `3m05s`, `1h02m`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _plural(unit: str, count: float) -> str:
    return unit if count == 1 or unit.endswith("s") else unit + "s"


class Task:
    """One piece of long work: `done` of `total` units. Thread-safe; reports through its reporter."""

    def __init__(self, label: str, total: int | None, unit: str, reporter: Reporter | None,
                 clock: Callable[[], float] = time.monotonic, done: int = 0):
        self.label, self.total, self.unit = label, total, unit
        self.done = self.start_done = done
        self.note = ""
        # what the work is doing between units (e.g. model calls so far), shown by heartbeat lines
        self.activity: Callable[[], str] | None = None
        self._reporter = reporter
        self._clock = clock
        self.started = self.changed = clock()
        self._lock = threading.Lock()
        self._closed = False
        if reporter is not None:
            reporter.opened(self)

    def __enter__(self) -> Task:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(failed=exc_type is not None)

    def advance(self, count: int = 1, *, note: str | None = None) -> None:
        self.update(self.done + count, note=note)

    def update(self, done: int, *, total: int | None = None, note: str | None = None) -> None:
        with self._lock:
            if done != self.done:
                self.changed = self._clock()
            self.done = done
            if total is not None:
                self.total = total
            if note is not None:
                self.note = note
        if self._reporter is not None:
            self._reporter.updated(self)

    def close(self, failed: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._reporter is not None:
            self._reporter.closed(self, failed)

    @property
    def elapsed(self) -> float:
        return max(self._clock() - self.started, 1e-9)

    @property
    def rate(self) -> float:
        """Units per second since the task started (units done before it started do not count)."""
        return (self.done - self.start_done) / self.elapsed

    @property
    def eta(self) -> float | None:
        if self.total is None or self.rate <= 0:
            return None
        return max(self.total - self.done, 0) / self.rate

    def line(self, final: bool = False) -> str:
        """`label: 4/12 seeds (33%), 14 s/seed, ETA 1m54s; note` (final: `... done in 3m02s`)."""
        unit = _plural(self.unit, self.total if self.total is not None else self.done)
        count = f"{self.done}/{self.total} {unit}" if self.total is not None else f"{self.done} {unit}"
        if self.total and not final:
            count += f" ({100 * self.done / self.total:.0f}%)"
        rate = self.rate
        if rate >= 1 or rate == 0:
            speed = f"{rate:.1f} {_plural(self.unit, 2)}/s"
        else:
            speed = f"{1 / rate:.1f} s/{self.unit}" if rate > 0.1 else f"{1 / rate:.0f} s/{self.unit}"
        if final:
            text = f"{self.label}: {count} done in {duration(self.elapsed)}" + (f", {speed}" if rate else "")
        elif rate:
            eta = self.eta
            text = f"{self.label}: {count}, {speed}, ETA {duration(eta) if eta is not None else '?'}"
        else:
            text = f"{self.label}: {count}"
        return text + (f"; {self.note}" if self.note else "")


class Reporter:
    """Shows tasks: a redrawn bar per task on a terminal, else a line per task every `interval_s`.

    `emit` (a function taking one line) forces line mode; without it lines go to `stream`, or to
    this module's logger when `stream` is None.
    """

    def __init__(self, stream: TextIO | None = None, *, emit: Emit | None = None,
                 interval_s: float = DEFAULT_INTERVAL_S, heartbeat_s: float | None = DEFAULT_HEARTBEAT_S,
                 bar_delay_s: float = 1.0, tty: bool | None = None, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        is_tty = bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
        self.tty = (tty if tty is not None else is_tty) and emit is None and stream is not None
        self.interval_s = interval_s
        self.bar_delay_s = bar_delay_s  # a terminal bar appears once work has run this long (no flashes)
        self._emit = emit
        self._clock = clock
        self._last: dict[int, float] = {}
        self._shown: set[int] = set()
        self._bars: dict[int, Any] = {}
        self._open: dict[int, Task] = {}
        self._lock = threading.Lock()
        self.heartbeat_s = heartbeat_s
        self._beating: threading.Thread | None = None
        self._stop = threading.Event()

    def emit(self, line: str) -> None:
        if self._emit is not None:
            self._emit(line)
        elif self.stream is not None:
            self.stream.write(line + "\n")
            self.stream.flush()
        else:
            logger.info("%s", line)

    def opened(self, task: Task) -> None:
        if not self.tty:
            with self._lock:
                self._last[id(task)] = task.started
                self._open[id(task)] = task
                start = self.heartbeat_s is not None and self._beating is None and self._clock is time.monotonic
                if start:
                    self._beating = threading.Thread(target=self._beat_forever, name="progress-heartbeat",
                                                     daemon=True)
            if start and self._beating is not None:
                self._beating.start()
            return
        from tqdm import tqdm

        # a terminal that reports no size (a pty without a window, e.g. under `script`) gets 100x20
        size = shutil.get_terminal_size((100, 20))
        with self._lock:
            self._bars[id(task)] = tqdm(total=task.total, initial=task.done, desc=task.label, unit=task.unit,
                                        file=self.stream, ncols=size.columns, nrows=size.lines, leave=True,
                                        position=len(self._bars) or None, mininterval=0.2,
                                        delay=self.bar_delay_s)

    def updated(self, task: Task) -> None:
        if self.tty:
            bar = self._bars.get(id(task))
            if bar is not None:
                if task.total is not None and bar.total != task.total:
                    bar.total = task.total
                if task.note:
                    bar.set_postfix_str(task.note, refresh=False)
                bar.update(task.done - bar.n)
            return
        now = self._clock()
        with self._lock:
            if now - self._last.get(id(task), now) < self.interval_s:
                return
            if task.total is not None and task.done >= task.total:  # the last line (if any) says it
                return
            self._last[id(task)] = now
            self._shown.add(id(task))
        self.emit(task.line())

    def closed(self, task: Task, failed: bool) -> None:
        if self.tty:
            with self._lock:
                bar = self._bars.pop(id(task), None)
            if bar is not None:
                if task.note:
                    bar.set_postfix_str(task.note, refresh=False)
                bar.update(task.done - bar.n)
                bar.close()
            return
        with self._lock:
            self._last.pop(id(task), None)
            self._open.pop(id(task), None)
            shown = id(task) in self._shown
            self._shown.discard(id(task))
        if shown and not failed:  # a task too short to show progress leaves its summary to the caller
            self.emit(task.line(final=True))

    def beat(self) -> None:
        """Line mode: a task with no new line for `heartbeat_s` (a long batch) says it is still working,
        so a stage never goes silent for minutes."""
        if self.heartbeat_s is None:
            return
        now = self._clock()
        due = []
        with self._lock:
            for key, task in self._open.items():
                if now - self._last.get(key, now) >= self.heartbeat_s:
                    self._last[key] = now
                    self._shown.add(key)
                    due.append(task)
        for task in due:
            since = f"the last {task.unit}" if task.done > task.start_done else "the start"
            activity = task.activity() if task.activity is not None else ""
            self.emit(f"{task.line()}; still working, {duration(now - task.changed)} since {since}"
                      + (f" ({activity})" if activity else ""))

    def _beat_forever(self) -> None:
        assert self.heartbeat_s is not None
        while not self._stop.wait(min(self.heartbeat_s, self.interval_s) / 2 or 1.0):
            self.beat()

    def stop(self) -> None:
        """Stop the heartbeat thread (it is a daemon: a process may also simply exit)."""
        self._stop.set()

    @contextlib.contextmanager
    def logging_redirected(self) -> Iterator[None]:
        """On a terminal, log records are written above the bars instead of through them."""
        if not self.tty:
            yield
            return
        from tqdm.contrib.logging import logging_redirect_tqdm

        with logging_redirect_tqdm():
            yield


_installed: Reporter | None = None


def current() -> Reporter | None:
    return _installed


def install(reporter: Reporter | None) -> Reporter | None:
    """Make `reporter` the process's reporter; returns the previous one."""
    global _installed
    previous, _installed = _installed, reporter
    return previous


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """`reporter` shows every task opened inside the block (and log lines go above its bars)."""
    previous = install(reporter)
    try:
        with reporter.logging_redirected():
            yield reporter
    finally:
        install(previous)
        reporter.stop()


_scope: contextvars.ContextVar[str] = contextvars.ContextVar("progress_scope", default="")


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
    """Tasks opened inside read `label (name)`: which shard or step the work belongs to."""
    token = _scope.set(name)
    try:
        yield
    finally:
        _scope.reset(token)


def track(label: str, total: int | None = None, unit: str = "item", *, done: int = 0) -> Task:
    """A task reporting to the installed reporter (silent when there is none)."""
    where = _scope.get()
    return Task(f"{label} ({where})" if where else label, total, unit, _installed, done=done)


class Phases:
    """Progress events `{"phase", "done", "total"}` (evaluation's callback shape) as one task per phase,
    forwarded to `then` as well."""

    def __init__(self, label: str, units: Mapping[str, str] | str = "item",
                 then: Callable[[dict[str, Any]], None] | None = None):
        self.label, self.then = label, then
        self.units = {"": units} if isinstance(units, str) else dict(units)
        self.tasks: dict[str, Task] = {}

    def __call__(self, event: Mapping[str, Any]) -> None:
        if self.then is not None:
            self.then(dict(event))
        phase = str(event.get("phase") or "")
        task = self.tasks.get(phase)
        if task is None:
            unit = self.units.get(phase) or self.units.get("", "item")
            task = self.tasks[phase] = track(f"{self.label} {phase}".strip(), event.get("total"), unit)
        task.update(int(event.get("done", 0)), total=event.get("total"))

    def close(self, failed: bool = False) -> None:
        for task in self.tasks.values():
            task.close(failed)


def quiet_library_bars() -> None:
    """Our tasks are the progress people watch: silence Hugging Face's own bars ("Loading weights"),
    notices and deprecation warnings about its internals. Call it where transformers is about to be
    used anyway (it imports transformers)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    # deprecation notices about transformers' own internals: nothing a user of this command can change
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"transformers\.")


def yield_text(kept: float, given: float, noun: str = "input") -> str:
    """A stage's yield as a person reads it: `83%` when it keeps some of its input, `2.0 per seed` when
    it makes several records per input (never `200%`), `-` when it had no input."""
    if not given:
        return "-"
    if kept > given:
        return f"{kept / given:.1f} per {noun}"
    return f"{kept / given:.0%}"
