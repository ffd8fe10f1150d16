"""Supervisor side of the warm workers: start them inside bubblewrap, hand out one per run, own the clock.

Each worker is `python3 worker.py` inside `bwrap` (user, pid, net, ipc, uts and cgroup namespaces,
read-only system dirs, private size-capped /tmp and /dev/shm, clean environment, die-with-parent)
running as an unprivileged uid (root: `uid_base + i`, one per worker, so RLIMIT_NPROC counts one
worker's processes). `WorkerHandle.run` passes a run's pipes to the worker, then alone decides the
outcome: it measures the wall clock from the moment the run is sent, caps stdout/stderr, and kills the
run (or, if the worker stops answering, the whole worker namespace) when a limit is hit.
"""

from __future__ import annotations

import array
import fcntl
import json
import logging
import os
import queue
import secrets
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from codeinstruct.core.errors import Unavailable
from codeinstruct.sandbox import seccomp
from codeinstruct.sandbox.config import SandboxConfig

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SANDBOX_DIR = "/opt/codeinstruct-sandbox"
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# /etc entries programs and toolchains need; nothing with secrets.
_ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "nsswitch.conf",
                "java-17-openjdk", "java-21-openjdk", "ssl/certs", "mime.types")
_READ_CHUNK = 1 << 20
_PIPE_BYTES = 1 << 20
_TICK_S = 0.02
# The whole environment of a run, built from scratch (nothing of the service's own leaks in).
RUN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8",
           # Single-threaded numeric libraries: a run gets one core's worth of threads.
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1"}


@dataclass
class RawRun:
    """What the supervisor observed of one run, before classification."""

    exit_code: int = 0
    signal: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    reports: list[dict] = field(default_factory=list)
    wall_time_s: float = 0.0
    cpu_time_s: float = 0.0
    max_rss_kb: int = 0
    memory_limit_bytes: int = 0
    timed_out: bool = False
    truncated: bool = False
    worker_lost: bool = False
    error: str = ""


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
        self.info: dict = {}
        self._run_id = 0
        self._plain_root: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def command(self, control_fd: int) -> list[str]:
        isolated = self.config.isolation == "full"
        options: dict = {"pid_namespace": isolated, "run_root": "/tmp"}
        if isolated:
            try:
                options["seccomp"] = seccomp.program().hex()
                options["seccomp_worker_pid"] = seccomp.WORKER_PID
                options["seccomp_worker_pgid"] = seccomp.WORKER_PGID
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
        args = [self.config.bwrap, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup-try", "--disable-userns", "--die-with-parent",
                "--new-session", "--hostname", "sandbox", "--cap-drop", "ALL"]
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
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.config.tmpfs_mb << 20), "--tmpfs", "/tmp",
                 "--size", str(64 << 20), "--tmpfs", "/dev/shm",
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
            run_as: dict = {}
            if self.config.isolation == "full" and os.geteuid() == 0:
                uid = self.config.uid_base + self.index
                setpriv = shutil.which("setpriv")
                if setpriv:
                    # Drop root in the exec'd helper, not in Popen: asking Popen for user/group makes it
                    # fork() instead of vfork(), and then the pthread_atfork handlers of libraries such
                    # as gRPC run in the child of a multi-threaded process (and can crash it).
                    command = [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *command]
                else:
                    run_as = {"user": uid, "group": uid, "extra_groups": []}
            self.proc = self._spawn.spawn(command, pass_fds=(child.fileno(),), **run_as)
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
        proc = self.proc
        if proc is None or proc.stderr is None:
            return
        for line in proc.stderr:
            logger.warning("sandbox worker %d: %s", self.index, line.decode(errors="replace").rstrip())

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
    def run(self, request: dict, stdin: bytes, timeout_s: float, max_output: int) -> RawRun:
        """Send one run and supervise it to the end. The wall clock starts here, not when queued."""
        assert self.sock is not None
        self._run_id += 1
        request = {**request, "op": "run", "id": self._run_id, "token": secrets.token_hex(16)}
        token = request["token"]
        stdin_r, stdin_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        rep_r, rep_w = os.pipe()
        for fd in (out_r, err_r):
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(_PIPE_BYTES, max_output + 1))
            except OSError:
                pass  # over the system's pipe-max-size: the tick keeps draining
        child_ends = [stdin_r, out_w, err_w, rep_w]
        raw = RawRun(memory_limit_bytes=int(request.get("limits", {}).get("memory_bytes", 0)))
        started = time.monotonic()
        try:
            fds = array.array("i", child_ends)
            self.sock.sendmsg([json.dumps(request).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
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
        try:
            self._supervise(raw, token, started, stdin_w if stdin else None, stdin, out_r, err_r, rep_r,
                            timeout_s, max_output)
        finally:
            for fd in (out_r, err_r, rep_r):
                os.close(fd)
        raw.wall_time_s = time.monotonic() - started
        return raw

    def _supervise(self, raw: RawRun, token: str, started: float, stdin_w: int | None, stdin: bytes,
                   out_r: int, err_r: int, rep_r: int, timeout_s: float, max_output: int) -> None:
        """Wait for the worker's exit report, draining the output pipes on a short tick.

        The pipes are enlarged (_PIPE_BYTES), so typical programs never block on a full pipe and the
        supervisor wakes about once per run instead of once per chunk; the tick bounds how long a
        chatty program waits for room, and how late an output cap is noticed.
        """
        assert self.sock is not None
        buffers = {out_r: bytearray(), err_r: bytearray(), rep_r: bytearray()}
        caps = {out_r: max_output, err_r: max_output, rep_r: max_output + (1 << 20)}
        for fd in buffers:
            os.set_blocking(fd, False)
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ)
        pending = memoryview(stdin)
        if stdin_w is not None:
            os.set_blocking(stdin_w, False)
            selector.register(stdin_w, selectors.EVENT_WRITE)
        deadline = started + timeout_s
        exited: dict | None = None
        kill_sent_at: float | None = None
        open_pipes = set(buffers)

        def kill() -> None:
            nonlocal kill_sent_at
            if kill_sent_at is None:
                kill_sent_at = time.monotonic()
                try:
                    self.sock.send(b'{"op": "kill"}')  # type: ignore[union-attr]
                except OSError:
                    pass

        def drain() -> None:
            for fd in list(open_pipes):
                while True:
                    try:
                        chunk = os.read(fd, _READ_CHUNK)
                    except BlockingIOError:
                        break
                    if not chunk:
                        open_pipes.discard(fd)
                        break
                    buffer = buffers[fd]
                    room = caps[fd] - len(buffer)
                    buffer += chunk[:room]
                    if len(chunk) > room:
                        if fd != rep_r:
                            raw.truncated = True
                        kill()
                        open_pipes.discard(fd)
                        break

        try:
            while exited is None:
                now = time.monotonic()
                if kill_sent_at is None and now >= deadline:
                    raw.timed_out = True
                    kill()
                if kill_sent_at is not None and now - kill_sent_at > 5.0:
                    raw.worker_lost, raw.error = True, "the sandbox worker did not stop the run"
                    return
                wait = max(0.0, deadline - now) if kill_sent_at is None else 0.1
                for key, _ in selector.select(timeout=min(wait, _TICK_S)):
                    if key.fd == stdin_w:
                        try:
                            written = os.write(stdin_w, pending[:_READ_CHUNK])
                            pending = pending[written:]
                        except BlockingIOError:
                            continue
                        except OSError:  # the program closed its stdin
                            pending = pending[:0]
                        if not pending:
                            selector.unregister(stdin_w)
                            os.close(stdin_w)
                            stdin_w = None
                    else:
                        data = self.sock.recv(1 << 16)
                        if not data:
                            raw.worker_lost, raw.error = True, "the sandbox worker exited during the run"
                            return
                        exited = json.loads(data)
                drain()
            # The worker killed every process of the run before reporting: the pipes are at their end
            # (without a pid namespace a process that left the group may still hold one: bounded wait).
            stop = time.monotonic() + 2.0
            drain()
            while open_pipes and time.monotonic() < stop:
                time.sleep(0.002)
                drain()
            if open_pipes:
                logger.warning("run output still open 2s after exit; dropping it")
        finally:
            selector.close()
            if stdin_w is not None:
                os.close(stdin_w)
        assert exited is not None
        raw.error = exited.get("error", "")
        raw.exit_code = int(exited.get("exit_code", 0))
        raw.signal = int(exited.get("signal", 0))
        raw.cpu_time_s = float(exited.get("cpu_s", 0.0))
        raw.max_rss_kb = int(exited.get("max_rss_kb", 0))
        raw.stdout, raw.stderr = bytes(buffers[out_r]), bytes(buffers[err_r])
        for line in bytes(buffers[rep_r]).splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("token") == token:
                raw.reports.append(event)


class SpawnThread:
    """Starts worker processes from one long-lived thread.

    `--die-with-parent` uses PR_SET_PDEATHSIG, which fires when the *thread* that forked the process
    exits; spawning from short-lived RPC threads would kill workers at random.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[list[str], dict, Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="sandbox-spawner", daemon=True)
        self._thread.start()

    def spawn(self, command: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        future: Future[subprocess.Popen[bytes]] = Future()
        self._queue.put((command, kwargs, future))
        return future.result()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            command, kwargs, future = item
            try:
                # A minimal environment: bwrap's own process (pid 1 in the sandbox) keeps the environment
                # it starts with, and a run can read /proc/1/environ.
                future.set_result(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.PIPE, close_fds=True, cwd="/",
                                                   env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"},
                                                   **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

    def close(self) -> None:
        self._queue.put(None)


class WorkerPool:
    """N warm workers; `acquire()` hands one out exclusively and restarts it if it broke."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        as_other_uid = config.isolation == "full" and os.geteuid() == 0
        if config.isolation == "full" and not shutil.which(config.bwrap):
            raise Unavailable(f"bubblewrap ({config.bwrap!r}) is not installed: install bubblewrap "
                              "(scripts/setup/10-sandbox.sh), or set sandbox.isolation: none for development")
        self.python = choose_python(config, as_other_uid)
        self._spawner = SpawnThread()
        self._idle: queue.Queue[WorkerHandle] = queue.Queue()
        self._workers: list[WorkerHandle] = []
        self._closed = False
        try:
            for index in range(config.worker_count):
                worker = WorkerHandle(index, config, self.python, self._spawner)
                worker.start()
                self._workers.append(worker)
                self._idle.put(worker)
        except BaseException:
            self.close()
            raise

    @property
    def size(self) -> int:
        return len(self._workers)

    def acquire(self, timeout: float | None = None) -> WorkerHandle:
        if self._closed:
            raise Unavailable("the sandbox is closed")
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise Unavailable("no sandbox worker became free in time") from None
        if not worker.alive() or worker.sock is None:
            self._restart(worker)
        return worker

    def release(self, worker: WorkerHandle, broken: bool = False) -> None:
        try:
            if broken:
                self._restart(worker)
        except Unavailable:
            logger.exception("sandbox worker %d could not restart; retrying on next use", worker.index)
        finally:
            self._idle.put(worker)

    def _restart(self, worker: WorkerHandle) -> None:
        logger.warning("restarting sandbox worker %d", worker.index)
        worker.stop()
        if self._closed:
            return
        worker.start()

    def close(self) -> None:
        self._closed = True
        for worker in self._workers:
            worker.stop()
        self._spawner.close()
