"""Supervising one run from the service's side: hand it to a worker, own its clock, caps and verdict inputs.

`run_on(sock, run_id, request, stdin, timeout_s, max_output)` writes the run's payload to a memfd,
sends it with the run's four pipes to the worker over its control socket, then `RunSupervisor` feeds
stdin, drains stdout/stderr/report on a short tick, kills the run at the wall-clock deadline or at an
output cap, and reads the worker's exit report into a `RawRun`. The wall clock starts when the run is
sent, not when it was queued.
"""

from __future__ import annotations

import array
import fcntl
import json
import logging
import os
import secrets
import selectors
import socket
import time
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

_READ_CHUNK = 1 << 20
_PIPE_BYTES = 1 << 20
_TICK_S = 0.02
_REPORT_SLACK = 1 << 20  # the report channel may carry a value repr as large as the output cap, plus framing
_KILL_GRACE_S = 5.0


# A run's payload and the worker's messages: JSON objects internal to the sandbox (worker.py is
# standard-library only, so they stay plain dicts rather than shared types).
Payload = dict[str, Any]


@dataclass
class RawRun:
    """What the supervisor observed of one run, before classification."""

    exit_code: int = 0
    signal: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    reports: list[Payload] = field(default_factory=list)
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0
    max_rss_kb: int = 0
    memory_limit_bytes: int = 0
    timed_out: bool = False
    truncated: bool = False
    over_memory: bool = False
    worker_lost: bool = False
    error: str = ""


def run_on(sock: socket.socket, run_id: int, request: Payload, stdin: bytes, timeout_s: float,
           max_output: int) -> RawRun:
    """Send one run and supervise it to the end.

    `request` is the run's payload (files, kind, argv or harness, env, limits) plus `stage`
    ("script", "compile" or "compiled"); the payload goes in a memfd that only the run child reads,
    the worker gets a small control message (id, stage, memory budget).
    """
    token = secrets.token_hex(16)
    limits = request.get("limits", {})
    control = {"op": "run", "id": run_id, "stage": request.get("stage", "script"),
               "memory_bytes": int(limits.get("memory_bytes", 0))}
    payload = os.memfd_create("codeinstruct-run", os.MFD_CLOEXEC)
    try:
        view = memoryview(json.dumps({**request, "token": token}).encode())
        while view:
            view = view[os.write(payload, view):]
    except OSError as exc:
        os.close(payload)
        return RawRun(worker_lost=True, error=f"could not write the run's payload: {exc}")
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    rep_r, rep_w = os.pipe()
    for fd in (out_r, err_r):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(_PIPE_BYTES, max_output + 1))
        except OSError:
            pass  # over the system's pipe-max-size: the tick keeps draining
    child_ends = [stdin_r, out_w, err_w, rep_w, payload]
    raw = RawRun(memory_limit_bytes=int(limits.get("memory_bytes", 0)))
    started = time.monotonic()
    try:
        fds = array.array("i", child_ends)
        sock.sendmsg([json.dumps(control).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
    except OSError as exc:
        for fd in (stdin_w, out_r, err_r, rep_r):
            os.close(fd)
        raw.worker_lost, raw.error = True, f"could not reach the sandbox worker: {exc}"
        return raw
    finally:
        for fd in child_ends:
            try:
                os.close(fd)
            except OSError:
                pass
    if not stdin:
        os.close(stdin_w)  # the program sees end-of-file at once
    supervisor = RunSupervisor(sock, raw, token, stdin_w if stdin else None, stdin, (out_r, err_r, rep_r),
                               started + timeout_s, max_output)
    try:
        supervisor.wait()
    finally:
        for fd in (out_r, err_r, rep_r):
            os.close(fd)
    raw.wall_time_s = time.monotonic() - started
    return raw


class RunSupervisor:
    """Waits for the worker's exit report, feeding stdin and draining the output pipes on a short tick.

    The pipes are enlarged (_PIPE_BYTES), so typical programs never block on a full pipe and the
    supervisor wakes about once per run instead of once per chunk; the tick bounds how long a
    chatty program waits for room, and how late an output cap is noticed.
    """

    def __init__(self, sock: socket.socket, raw: RawRun, token: str, stdin_w: int | None, stdin: bytes,
                 pipes: tuple[int, int, int], deadline: float, max_output: int):
        self.sock = sock
        self.raw = raw
        self.token = token
        self.stdin_w = stdin_w
        self.pending = memoryview(stdin)
        self.out_r, self.err_r, self.rep_r = pipes
        self.deadline = deadline
        self.buffers = {fd: bytearray() for fd in pipes}
        self.caps = {self.out_r: max_output, self.err_r: max_output, self.rep_r: max_output + _REPORT_SLACK}
        self.open_pipes = set(pipes)
        self.kill_sent_at: float | None = None

    def kill(self) -> None:
        if self.kill_sent_at is None:
            self.kill_sent_at = time.monotonic()
            try:
                self.sock.send(b'{"op": "kill"}')
            except OSError:
                pass

    def drain(self) -> None:
        for fd in list(self.open_pipes):
            while True:
                try:
                    chunk = os.read(fd, _READ_CHUNK)
                except BlockingIOError:
                    break
                if not chunk:
                    self.open_pipes.discard(fd)
                    break
                buffer = self.buffers[fd]
                room = self.caps[fd] - len(buffer)
                buffer += chunk[:room]
                if len(chunk) > room:
                    if fd != self.rep_r:
                        self.raw.truncated = True
                    self.kill()
                    self.open_pipes.discard(fd)
                    break

    def _feed_stdin(self, selector: selectors.BaseSelector) -> None:
        assert self.stdin_w is not None
        try:
            written = os.write(self.stdin_w, self.pending[:_READ_CHUNK])
            self.pending = self.pending[written:]
        except BlockingIOError:
            return
        except OSError:  # the program closed its stdin
            self.pending = self.pending[:0]
        if not self.pending:
            selector.unregister(self.stdin_w)
            os.close(self.stdin_w)
            self.stdin_w = None

    def wait(self) -> None:
        """Run to the worker's exit report (or declare the worker lost), then fill in `raw`."""
        for fd in self.buffers:
            os.set_blocking(fd, False)
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ)
        if self.stdin_w is not None:
            os.set_blocking(self.stdin_w, False)
            selector.register(self.stdin_w, selectors.EVENT_WRITE)
        exited: Payload | None = None
        raw = self.raw
        try:
            while exited is None:
                now = time.monotonic()
                if self.kill_sent_at is None and now >= self.deadline:
                    raw.timed_out = True
                    self.kill()
                if self.kill_sent_at is not None and now - self.kill_sent_at > _KILL_GRACE_S:
                    raw.worker_lost, raw.error = True, "the sandbox worker did not stop the run"
                    return
                wait = max(0.0, self.deadline - now) if self.kill_sent_at is None else 0.1
                for key, _ in selector.select(timeout=min(wait, _TICK_S)):
                    if key.fd == self.stdin_w:
                        self._feed_stdin(selector)
                        continue
                    data = self.sock.recv(1 << 16)
                    if not data:
                        raw.worker_lost, raw.error = True, "the sandbox worker exited during the run"
                        return
                    exited = json.loads(data)
                self.drain()
            # The worker killed every process of the run before reporting: the pipes are at their end
            # (without a pid namespace a process that left the group may still hold one: bounded wait).
            stop = time.monotonic() + 2.0
            self.drain()
            while self.open_pipes and time.monotonic() < stop:
                time.sleep(0.002)
                self.drain()
            if self.open_pipes:
                logger.warning("run output still open 2s after exit; dropping it")
        finally:
            selector.close()
            if self.stdin_w is not None:
                os.close(self.stdin_w)
        self._read_exit(exited)

    def _read_exit(self, exited: Payload) -> None:
        raw = self.raw
        raw.error = exited.get("error", "")
        if raw.error:  # set-up failed or the worker found its own state changed: replace it
            raw.worker_lost = True
        raw.over_memory = bool(exited.get("over_memory"))
        raw.exit_code = int(exited.get("exit_code", 0))
        raw.signal = int(exited.get("signal", 0))
        raw.cpu_time_s = float(exited.get("cpu_s", 0.0))
        raw.max_rss_kb = int(exited.get("max_rss_kb", 0))
        raw.stdout, raw.stderr = bytes(self.buffers[self.out_r]), bytes(self.buffers[self.err_r])
        for line in bytes(self.buffers[self.rep_r]).splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("token") == self.token:
                raw.reports.append(event)
