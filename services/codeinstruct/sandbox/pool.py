"""Supervisor side of the warm workers: start them inside bubblewrap, hand out one per run, own the clock.

Each worker is `python3 worker.py` inside `bwrap` (user, pid, net, ipc, uts and cgroup namespaces,
read-only system dirs and /dev, clean environment, die-with-parent), as the pid namespace's init and
as an unprivileged uid (root: `uid_base + i`, one per worker, so RLIMIT_NPROC counts one worker's
processes), holding only CAP_SYS_ADMIN in its own user namespace so that each run child can mount
its own /tmp and /dev/shm (worker.py). `WorkerHandle.run` passes a run's pipes and its payload (a
memfd the worker itself never reads) to the worker, then alone decides the outcome: it measures the
wall clock from the moment the run is sent, caps stdout/stderr, and kills the run (or, if the worker
stops answering, the whole worker namespace) when a limit is hit.

`WorkerPool` replaces any worker that fails set-up, its per-run state check or its self-check, counts
those recycles, and reports whether any worker can be made healthy (the service's health status).
"""

from __future__ import annotations

import io
import json
import logging
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import cast

from prometheus_client import Counter, Gauge

from codeinstruct.core.errors import Unavailable
from codeinstruct.sandbox import seccomp
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.supervision import Payload, RawRun, run_on

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SANDBOX_DIR = "/opt/codeinstruct-sandbox"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# /etc entries programs and toolchains need; nothing with secrets.
_ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "nsswitch.conf",
                "java-17-openjdk", "java-21-openjdk", "ssl/certs", "mime.types")
_LOG_LINE_CHARS = 2000
_LOG_LINES_PER_WORKER = 200  # a worker that writes more is broken; its further output is dropped
WORKER_RECYCLES = Counter("codeinstruct_sandbox_worker_recycles_total",
                          "Sandbox workers killed and replaced", ["reason"])
HEALTHY_WORKERS = Gauge("codeinstruct_sandbox_workers_healthy", "Sandbox workers able to take a run")
# The whole environment of a run, built from scratch (nothing of the service's own leaks in).
RUN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
           # Single-threaded numeric libraries: a run gets one core's worth of threads.
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1"}


def _world_accessible(path: Path) -> bool:
    """True when uid-less 'other' permissions allow reaching and reading `path`."""
    path = path.resolve()
    for parent in [*reversed(path.parents), path]:
        try:
            mode = parent.stat().st_mode
        except OSError:
            return False
        if parent.is_dir() and not mode & 0o001:
            return False
    return bool(path.stat().st_mode & 0o004)


def choose_python(config: SandboxConfig, as_other_uid: bool) -> Path:
    """The interpreter that runs Python code and the worker (must be readable by the run uid)."""
    if config.python:
        return Path(config.python)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [Path(getattr(sys, "_base_executable", sys.executable)).resolve(),
                  Path(sys.executable).resolve(), Path("/usr/local/bin") / version, Path("/usr/bin") / version]
    for candidate in candidates:
        if candidate.is_file() and (not as_other_uid or _world_accessible(candidate)):
            return candidate
    raise Unavailable(f"no {version} interpreter readable by the sandbox uid; set sandbox.python")


class WorkerHandle:
    """One warm worker process and its control socket. Used by one run at a time."""

    def __init__(self, index: int, config: SandboxConfig, python: Path, spawn: SpawnThread):
        self.index = index
        self.config = config
        self.python = python
        self._spawn = spawn
        self.proc: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.info: Payload = {}
        self._run_id = 0
        self._plain_root: str | None = None
        self._log_lines = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    def command(self, control_fd: int) -> list[str]:
        isolated = self.config.isolation == "full"
        options: Payload = {"isolated": isolated, "run_root": "/tmp", "tmp_bytes": self.config.tmpfs_mb << 20,
                         "shm_bytes": self.config.shm_mb << 20}
        if isolated:
            try:
                options["seccomp"] = seccomp.program().hex()
            except (ImportError, RuntimeError, OSError) as exc:
                raise Unavailable(f"cannot build the seccomp filter ({exc}); install libseccomp2 and "
                                  "pyseccomp (scripts/setup/10-sandbox.sh)") from None
        worker = [str(self.python), "-I", "-B"]
        if not isolated:
            # No private tmpfs without a sandbox: runs get a dedicated directory, removed on stop.
            if self._plain_root is None:
                self._plain_root = tempfile.mkdtemp(prefix="codeinstruct-sandbox-")
            options["run_root"] = self._plain_root
            return [*worker, str(HERE / "worker.py"), str(control_fd), json.dumps(options)]
        # --as-pid-1: the worker is init, so no bwrap monitor process (dumpable, our uid) sits beside the
        # runs; CAP_SYS_ADMIN (in the worker's user namespace only) lets each run child mount its own
        # /tmp and /dev/shm before it drops every capability.
        args = [self.config.bwrap, "--unshare-user", "--unshare-pid", "--as-pid-1", "--unshare-net",
                "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--disable-userns", "--die-with-parent",
                "--new-session", "--hostname", "sandbox", "--cap-drop", "ALL", "--cap-add", "CAP_SYS_ADMIN"]
        for directory in _SYSTEM_DIRS:
            path = Path(directory)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), directory]
            elif path.is_dir():
                args += ["--ro-bind", directory, directory]
        for entry in _ETC_ENTRIES:
            if Path("/etc", entry).exists():
                args += ["--ro-bind", f"/etc/{entry}", f"/etc/{entry}"]
        prefix = Path(sys.base_prefix).resolve()
        if not str(self.python).startswith("/usr/") and self.python.is_relative_to(prefix):
            args += ["--ro-bind", str(prefix), str(prefix)]
        # The worker's /tmp holds only a compiled job's output (each run covers it with its own /tmp);
        # /job is an empty mount point; /dev is read-only (a writable /dev
        # tmpfs would outlive runs); runs get fresh tmpfs mounts of their own at /tmp and /dev/shm.
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.config.tmpfs_mb << 20), "--tmpfs", "/tmp", "--dir", "/job",
                 "--size", str(1 << 20), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                 "--ro-bind", str(HERE / "worker.py"), f"{SANDBOX_DIR}/worker.py",
                 "--ro-bind", str(HERE / "harness.py"), f"{SANDBOX_DIR}/harness.py"]
        args += ["--remount-ro", "/", "--chdir", "/tmp", "--clearenv"]
        for key, value in RUN_ENV.items():  # the worker starts with exactly the runs' environment
            args += ["--setenv", key, value]
        args.append("--")
        return [*args, *worker, f"{SANDBOX_DIR}/worker.py", str(control_fd), json.dumps(options)]

    def start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            command = self.command(child.fileno())
            run_as: int | None = None
            if self.config.isolation == "full" and os.geteuid() == 0:
                uid = self.config.uid_base + self.index
                setpriv = shutil.which("setpriv")
                if setpriv:
                    # Drop root in the exec'd helper, not in Popen: asking Popen for user/group makes it
                    # fork() instead of vfork(), and then the pthread_atfork handlers of libraries such
                    # as gRPC run in the child of a multi-threaded process (and can crash it).
                    command = [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *command]
                else:
                    run_as = uid
            self.proc = self._spawn.spawn(command, (child.fileno(),), run_as)
        except OSError as exc:
            parent.close()
            raise Unavailable(f"cannot start sandbox worker {self.index}: {exc}") from None
        finally:
            child.close()
        self.sock = parent
        parent.settimeout(self.config.startup_timeout_s)
        try:
            data = parent.recv(1 << 16)
        except OSError as exc:
            reason = self._stderr()
            self.stop()
            raise Unavailable(f"sandbox worker {self.index} did not start: {exc}; {reason}") from None
        if not data:
            reason = self._stderr()
            self.stop()
            raise Unavailable(f"sandbox worker {self.index} exited during start-up: {reason}")
        parent.settimeout(None)
        self.info = json.loads(data)
        if self.proc.stderr is not None:
            threading.Thread(target=self._drain_stderr, name=f"sandbox-worker-{self.index}-stderr",
                             daemon=True).start()

    def _stderr(self) -> str:
        if self.proc is None or self.proc.stderr is None:
            return ""
        try:
            self.proc.kill()
            code = self.proc.wait(5)
            text = self.proc.stderr.read().decode(errors="replace").strip()[-2000:]
            return text or f"(no output; exit status {code})"
        except (OSError, subprocess.TimeoutExpired):
            return "(no output)"

    def _drain_stderr(self) -> None:
        """Log what the worker itself writes to stderr (a crash), bounded in line length and count.

        Runs never hold this pipe (worker.py), but a bound keeps any writer from flooding the logs or
        the service's memory: lines are read in chunks and cut, and after a worker's first
        _LOG_LINES_PER_WORKER lines the rest is read and dropped.
        """
        proc = self.proc
        if proc is None or proc.stderr is None:
            return
        # The file object, not its fd: stop() closes it, and a closed file raises instead of reading
        # whatever a reused fd number would be. Popen's pipes are buffered readers (read1: what is there).
        stream, pending = cast(io.BufferedReader, proc.stderr), b""
        while chunk := stream.read1(1 << 16):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()[: _LOG_LINE_CHARS * 4]
            for line in lines:
                self._log(line)
        if pending:
            self._log(pending)

    def _log(self, line: bytes) -> None:
        self._log_lines += 1
        if self._log_lines <= _LOG_LINES_PER_WORKER:
            text = line[: _LOG_LINE_CHARS * 4].decode(errors="replace").rstrip()[:_LOG_LINE_CHARS]
            logger.warning("sandbox worker %d: %r", self.index, text)
        elif self._log_lines == _LOG_LINES_PER_WORKER + 1:
            logger.error("sandbox worker %d wrote more than %d lines to stderr; dropping the rest",
                         self.index, _LOG_LINES_PER_WORKER)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                logger.error("sandbox worker %d (pid %d) did not exit", self.index, self.proc.pid)
            if self.proc.stderr is not None:
                self.proc.stderr.close()
        if self._plain_root is not None:
            shutil.rmtree(self._plain_root, ignore_errors=True)
            self._plain_root = None

    # -- one run -----------------------------------------------------------------------------------
    def run(self, request: Payload, stdin: bytes, timeout_s: float, max_output: int) -> RawRun:
        """Send one run to this worker and supervise it to the end (supervision.run_on)."""
        assert self.sock is not None
        self._run_id += 1
        return run_on(self.sock, self._run_id, request, stdin, timeout_s, max_output)


# (command, fds to pass, uid to run as or None, where the process goes)
_SpawnRequest = tuple[list[str], tuple[int, ...], int | None, "Future[subprocess.Popen[bytes]]"]


class SpawnThread:
    """Starts worker processes from one long-lived thread.

    `--die-with-parent` uses PR_SET_PDEATHSIG, which fires when the *thread* that forked the process
    exits; spawning from short-lived RPC threads would kill workers at random.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[_SpawnRequest | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="sandbox-spawner", daemon=True)
        self._thread.start()

    def spawn(self, command: list[str], pass_fds: tuple[int, ...], uid: int | None) -> subprocess.Popen[bytes]:
        future: Future[subprocess.Popen[bytes]] = Future()
        self._queue.put((command, pass_fds, uid, future))
        return future.result()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            command, pass_fds, uid, future = item
            try:
                # A minimal environment: nothing of the service's own reaches the sandbox.
                future.set_result(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.PIPE, close_fds=True, cwd="/",
                                                   env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
                                                   pass_fds=pass_fds, user=uid, group=uid,
                                                   extra_groups=None if uid is None else []))
            except BaseException as exc:
                future.set_exception(exc)

    def close(self) -> None:
        self._queue.put(None)


class WorkerPool:
    """N warm workers; `acquire()` hands one out exclusively, replacing it first if it broke.

    `check(worker)` (the start-up self-check) runs on every worker after each start; a worker that
    fails to start or fails the check is killed and started again on its next turn. `healthy` is
    False only while no worker could be made healthy; `on_health(callback)` reports each change.
    """

    def __init__(self, config: SandboxConfig, check: Callable[[WorkerHandle], None] | None = None):
        self.config = config
        self._check = check
        as_other_uid = config.isolation == "full" and os.geteuid() == 0
        if config.isolation == "full" and not shutil.which(config.bwrap):
            raise Unavailable(f"bubblewrap ({config.bwrap!r}) is not installed: install bubblewrap "
                              "(scripts/setup/10-sandbox.sh), or set sandbox.isolation: none for development")
        self.python = choose_python(config, as_other_uid)
        self._spawner = SpawnThread()
        self._idle: queue.Queue[WorkerHandle] = queue.Queue()
        self._workers: list[WorkerHandle] = []
        self._broken: dict[int, str] = {}  # worker index -> why its last start failed
        self._lock = threading.Lock()
        self._health_callbacks: list[Callable[[bool], None]] = []
        self.recycles = 0
        self._closed = False
        try:
            for index in range(config.worker_count):
                worker = WorkerHandle(index, config, self.python, self._spawner)
                self._workers.append(worker)
                self._start(worker)
                self._idle.put(worker)
        except BaseException:
            self.close()
            raise
        HEALTHY_WORKERS.set(self.size)

    @property
    def size(self) -> int:
        return len(self._workers)

    @property
    def healthy_workers(self) -> int:
        with self._lock:
            return len(self._workers) - len(self._broken)

    @property
    def healthy(self) -> bool:
        return self.healthy_workers > 0

    def on_health(self, callback: Callable[[bool], None]) -> None:
        """Call `callback(healthy)` now and on every change."""
        self._health_callbacks.append(callback)
        callback(self.healthy)

    def _start(self, worker: WorkerHandle) -> None:
        worker.start()
        if self._check is not None:
            try:
                self._check(worker)
            except BaseException:
                worker.stop()
                raise

    def acquire(self, timeout: float | None = None) -> WorkerHandle:
        """A healthy worker for one run; Unavailable when none could be made healthy in `size` tries."""
        if self._closed:
            raise Unavailable("the sandbox is closed")
        reasons: list[str] = []
        for _ in range(max(1, self.size)):
            try:
                worker = self._idle.get(timeout=timeout)
            except queue.Empty:
                raise Unavailable("no sandbox worker became free in time") from None
            if worker.alive() and worker.sock is not None:
                return worker
            try:
                self._restart(worker, "exited")
                return worker
            except Unavailable as exc:
                reasons.append(str(exc))
                self._idle.put(worker)  # tried again on its next turn
        raise Unavailable(f"no sandbox worker could be started: {reasons[-1] if reasons else 'closed'}")

    def release(self, worker: WorkerHandle, broken: bool = False, reason: str = "run") -> None:
        try:
            if broken:
                self._restart(worker, reason)
        except Unavailable:
            logger.exception("sandbox worker %d could not restart; retrying on next use", worker.index)
        finally:
            self._idle.put(worker)

    def _restart(self, worker: WorkerHandle, reason: str) -> None:
        logger.warning("replacing sandbox worker %d (%s)", worker.index, reason)
        with self._lock:
            self.recycles += 1
        WORKER_RECYCLES.labels(reason=reason.split(":")[0][:40]).inc()
        worker.stop()
        if self._closed:
            return
        try:
            self._start(worker)
        except Unavailable as exc:
            self._set_broken(worker.index, str(exc))
            raise
        self._set_broken(worker.index, None)

    def _set_broken(self, index: int, reason: str | None) -> None:
        with self._lock:
            before = len(self._broken) < len(self._workers)
            if reason is None:
                self._broken.pop(index, None)
            else:
                self._broken[index] = reason
            count = len(self._workers) - len(self._broken)
        HEALTHY_WORKERS.set(count)
        after = count > 0
        if before != after:
            logger.error("sandbox health: %s", "SERVING" if after else
                         f"NOT_SERVING, no worker can start ({reason})")
            for callback in self._health_callbacks:
                callback(after)

    def close(self) -> None:
        self._closed = True
        for worker in self._workers:
            worker.stop()
        self._spawner.close()
