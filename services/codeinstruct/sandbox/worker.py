"""Warm sandbox worker: a fork server that runs INSIDE the sandbox, one run at a time.

The supervisor (codeinstruct.sandbox.pool) starts it once per worker slot, inside bubblewrap
namespaces as an unprivileged uid and as the pid namespace's init (`bwrap --as-pid-1`), as

    python3 -I -B worker.py CONTROL_FD OPTIONS_JSON

and talks to it over a SOCK_SEQPACKET socket. A "run" control message (small JSON: id, stage,
memory budget) carries five fds as SCM_RIGHTS: the run's stdin, stdout, stderr and report pipes and a
memfd with the run's payload (files, argv or harness spec, environment, limits, report token).

Isolation between runs (docs/sandbox.md, "Threat model"):
- The worker never reads a payload: it forks first, and only the run child reads its own payload
  from the memfd. So no earlier run's code, input or token is ever in memory a later run inherits.
- The worker is non-dumpable and pid 1 of its namespace: a run, though it has the worker's uid,
  can neither open /proc/1/mem (or /fd, /environ) nor signal it (seccomp also denies every
  cross-process call: kill, prlimit, setpriority, sched_*, ioprio, rt_sigqueueinfo, F_SETOWN).
- Each run child enters its own mount and IPC namespaces with fresh, size-capped tmpfs at /tmp and
  /dev/shm (`/dev` itself is read-only), so every file, fifo, mode trick and IPC object a run makes
  is gone when its last process dies. Then it drops the worker's CAP_SYS_ADMIN (needed only for
  those mounts), sets its rlimits and loads the seccomp deny list.
- Before each run the worker checks its own rlimits, nice value and CPU affinity against the values
  it started with; any drift reports `poisoned` and the worker exits, so the supervisor replaces it.
- While a run lasts, the worker polls the run's memory (anonymous + shared pages of all its
  processes, plus its tmpfs files) and kills it over budget: RLIMIT_AS alone bounds one process's
  address space, not files, shared memory or a second process.

Standard library only; it imports little, since everything it imports is shared with (and after fork
partly copied into) every run child.
"""

from __future__ import annotations

import array
import ctypes
import fcntl
import gc
import json
import os
import resource
import select
import shutil
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    Message = dict[str, Any]  # a JSON object: control messages, payloads, start-up options

MAX_FDS = 5  # stdin, stdout, stderr, report, payload
PAYLOAD_FD = 4
CONTROL_BYTES = 1 << 16
JOB_DIR = "job"  # compiled languages: the compile step's output, copied into each later run
# In the worker's own /tmp; every run mounts its fresh /tmp over it, so no run ever sees it.
ISOLATED_JOB_DIR = "/tmp/job"
JOB_MOUNT_POINT = "/job"  # an empty dir where a compile run keeps the job dir while it covers /tmp
RUN_DIR = "run"
MEMORY_POLL_S = 0.01

_PR_SET_DUMPABLE = 4
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_CLONE_NEWNS = 0x00020000
_CLONE_NEWIPC = 0x08000000
_MS_NOSUID, _MS_NODEV, _MS_MOVE, _MS_BIND = 2, 4, 8192, 4096
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_WATCHED_LIMITS = ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE",
                   "RLIMIT_STACK", "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
_libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _send(sock: socket.socket, message: Message) -> None:
    sock.send(json.dumps(message).encode())


def _recv(sock: socket.socket) -> tuple[Message | None, list[int]]:
    """One control message. Fresh bytes per message: nothing of an earlier message stays in a buffer."""
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(CONTROL_BYTES, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    if not data:
        return None, list(fds)
    return json.loads(data), list(fds)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


class _CompiledFilter:
    """The deny list as a BPF program (compiled by the supervisor, see seccomp.py); each run child
    loads it with two prctl calls."""

    _PR_SET_NO_NEW_PRIVS = 38
    _PR_SET_SECCOMP = 22
    _SECCOMP_MODE_FILTER = 2

    def __init__(self, program: bytes):
        if not program or len(program) % 8:
            raise SystemExit(f"bad seccomp program of {len(program)} bytes")
        self._buffer = ctypes.create_string_buffer(program, len(program))
        self._program = _SockFprog(len(program) // 8, ctypes.cast(self._buffer, ctypes.c_void_p))

    def load(self) -> None:
        _check(_libc.prctl(self._PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
        _check(_libc.prctl(self._PR_SET_SECCOMP, self._SECCOMP_MODE_FILTER, ctypes.addressof(self._program), 0, 0),
               "could not load the seccomp filter")


# Built once in the worker: every object a run child creates or touches costs it copy-on-write faults.
_NO_CAPABILITIES = (ctypes.byref(_CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)), (_CapData * 2)())


def _drop_capabilities() -> None:
    """Give up every capability (the worker holds CAP_SYS_ADMIN in its user namespace for the mounts)."""
    _check(_libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "PR_CAP_AMBIENT_CLEAR_ALL")
    _check(_libc.capset(*_NO_CAPABILITIES), "capset")


def tmpfs_options(size_bytes: int) -> bytes:
    return f"size={size_bytes},mode=0755,nr_inodes=16384".encode()


def _mount_tmpfs(target: bytes, options: bytes) -> None:
    _check(_libc.mount(b"tmpfs", target, b"tmpfs", _MS_NOSUID | _MS_NODEV, options), "mount a tmpfs")


def _wipe(root: str) -> None:
    """Empty `root` (only used where runs cannot get a namespace of their own, and for the job dir)."""
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        path = os.path.join(root, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                for directory, _dirs, _files in os.walk(path):  # a run may have left a dir mode 000
                    os.chmod(directory, 0o700)
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError:
            pass


def _read_payload(fd: int) -> Message:
    size = os.fstat(fd).st_size
    data = bytearray()
    while len(data) < size:
        chunk = os.pread(fd, size - len(data), len(data))
        if not chunk:
            break
        data += chunk
    return json.loads(data)


def _write_files(directory: str, files: dict[str, str]) -> None:
    # os.open/os.write, not open(): the io stack's objects would cost the run child copy-on-write faults.
    for name, content in files.items():
        fd = os.open(f"{directory}/{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            data = memoryview(content.encode("utf-8", "surrogateescape"))
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)


def _copy_dir(source_fd: int, target: str) -> None:
    """Copy the job dir's regular files (a compiled program and its sources) into a fresh run dir."""
    for name in os.listdir(source_fd):
        source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=source_fd)
        try:
            if not os.path.isfile(f"/proc/self/fd/{source}"):
                continue
            mode = os.fstat(source).st_mode & 0o755
            target_fd = os.open(os.path.join(target, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            try:
                while chunk := os.read(source, 1 << 20):
                    os.write(target_fd, chunk)
            finally:
                os.close(target_fd)
        finally:
            os.close(source)


def _resident_memory(pid: str) -> int:
    """Anonymous + shared-memory resident bytes of one process (0 when it is gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith((b"RssAnon:", b"RssShmem:")):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return total


def _address_space_in_use() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * resource.getpagesize()


def _child(control: Message, fds: list[int], worker: Worker, base_address_space: int) -> None:
    """In the forked child: take its own namespaces, read its payload, confine, start. Never returns."""
    token = ""
    try:
        # A new process group, not a new session: setsid() creates a scheduler autogroup, which
        # costs milliseconds per run. The worker's kill(-1) sweep catches anything that leaves it.
        os.setpgid(0, 0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # Out of the way first, so that no dup2 below overwrites a source it still needs.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in fds]
        for target, fd in enumerate(high):
            os.dup2(fd, target)
        request = _read_payload(PAYLOAD_FD)
        token = request["token"]
        run_dir = worker.prepare_run_dir(control["stage"], request)
        os.closerange(PAYLOAD_FD, resource.getrlimit(resource.RLIMIT_NOFILE)[0] or 65536)
        os.chdir(run_dir)
        os.umask(0o077)
        if worker.isolated:
            _drop_capabilities()
            # Dumpable again (the worker is not): the worker, same uid, reads our tmpfs usage through
            # /proc/<pid>/root for the memory poll. Other processes that could do so are this run's own.
            _check(_libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0), "PR_SET_DUMPABLE")
        limits = request["limits"]
        memory = int(limits["memory_bytes"])
        if request["kind"] == "python":
            memory += base_address_space
        if memory > 0:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(limits["cpu_s"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        queues = min(1 << 20, resource.getrlimit(resource.RLIMIT_MSGQUEUE)[1])  # POSIX message queues
        resource.setrlimit(resource.RLIMIT_MSGQUEUE, (queues, queues))
        if limits.get("processes"):
            resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
        if os.environ != request["env"]:  # the worker starts with the run environment; usually equal
            os.environ.clear()
            os.environ.update(request["env"])
        if worker.seccomp is not None:
            worker.seccomp.load()
        if request["kind"] == "exec":
            for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            argv = request["argv"]
            os.execve(argv[0], argv, request["env"])
        import harness

        spec = request["harness"]
        del request, control
        harness.run(spec, token)
    except BaseException as exc:  # set-up failed: an infrastructure error, reported as such
        try:
            line = json.dumps({"token": token, "event": "setup_error", "detail": f"{type(exc).__name__}: {exc}"})
            os.write(3, (line + "\n").encode())
        finally:
            os._exit(126)


class Worker:
    def __init__(self, sock: socket.socket, options: Message):
        self.sock = sock
        self.pid = os.getpid()
        # Full isolation: we are init of our own pid namespace (bwrap --as-pid-1) and hold
        # CAP_SYS_ADMIN in our user namespace, which each run child uses for its own mounts and drops.
        self.isolated = bool(options.get("isolated"))
        if self.isolated and self.pid != 1:
            raise SystemExit(f"worker is pid {self.pid}, not the pid namespace's init (bwrap --as-pid-1)")
        self.seccomp: _CompiledFilter | None = None
        if options.get("seccomp"):
            self.seccomp = _CompiledFilter(bytes.fromhex(options["seccomp"]))
        self.run_root = options["run_root"]
        if not self.isolated and not os.path.basename(self.run_root).startswith("codeinstruct-sandbox-"):
            raise SystemExit(f"refusing run_root {self.run_root!r} outside a sandbox")
        self.run_root_bytes = self.run_root.encode()
        self.tmp_options = tmpfs_options(int(options.get("tmp_bytes", 64 << 20)))
        self.shm_options = tmpfs_options(int(options.get("shm_bytes", 64 << 20)))
        self.baseline = self._state()
        self.base_memory = 0

    # -- the worker's own state: what no run may change ---------------------------------------------
    def _state(self) -> Message:
        state: Message = {name: resource.getrlimit(getattr(resource, name)) for name in _WATCHED_LIMITS
                       if hasattr(resource, name)}
        state["nice"] = os.getpriority(os.PRIO_PROCESS, 0)
        state["affinity"] = sorted(os.sched_getaffinity(0))
        state["scheduler"] = os.sched_getscheduler(0)
        return state

    def drift(self) -> str:
        """What differs from the state at start-up ('' when nothing)."""
        now = self._state()
        return "; ".join(f"{key} {self.baseline[key]} -> {now[key]}"
                         for key in self.baseline if now[key] != self.baseline[key])

    # -- serving ------------------------------------------------------------------------------------
    def serve(self) -> None:
        import harness  # noqa: F401  (warm: imported once, inherited by every run child)

        # Everything allocated so far is shared with every run child: keep the collector from walking
        # (and so copying) those pages in each child.
        gc.collect()
        gc.freeze()
        # Each run child starts out sharing these pages with us; the memory poll does not bill them.
        self.base_memory = _resident_memory("self")
        _send(self.sock, {"event": "ready", "pid": self.pid, "uid": os.getuid(), "isolated": self.isolated,
                          "seccomp": self.seccomp is not None})
        while True:
            request, fds = _recv(self.sock)
            if request is None:
                return
            if request.get("op") == "run" and len(fds) == MAX_FDS:
                self._run(request, fds)
            else:
                for fd in fds:
                    os.close(fd)

    def prepare_run_dir(self, stage: str, request: Message) -> str:
        """In the run child: the directory the run starts in, with its files (see the module docstring)."""
        files = request.get("files", {})
        if not self.isolated:
            directory = os.path.join(self.run_root, JOB_DIR if stage in ("compile", "compiled") else RUN_DIR)
            os.makedirs(directory, exist_ok=True)
            _write_files(directory, files)
            return directory
        # The worker's mounts are private (bwrap), so nothing mounted here propagates back to it.
        _check(_libc.unshare(_CLONE_NEWNS | _CLONE_NEWIPC), "unshare")
        job = os.open(ISOLATED_JOB_DIR, os.O_RDONLY | os.O_DIRECTORY) if stage == "compiled" else -1
        if stage == "compile":  # the compiler's output must outlive this run: keep the job dir at hand
            _check(_libc.mount(ISOLATED_JOB_DIR.encode(), JOB_MOUNT_POINT.encode(), None, _MS_BIND, None),
                   "bind the job dir")
        _mount_tmpfs(self.run_root_bytes, self.tmp_options)  # covers the worker's /tmp, job dir included
        _mount_tmpfs(b"/dev/shm", self.shm_options)
        directory = os.path.join(self.run_root, RUN_DIR)
        os.mkdir(directory, 0o755)
        if stage == "compile":
            _check(_libc.mount(JOB_MOUNT_POINT.encode(), directory.encode(), None, _MS_MOVE, None), "move the job dir")
        elif job >= 0:
            try:
                _copy_dir(job, directory)
            finally:
                os.close(job)
        _write_files(directory, files)
        return directory

    def _run(self, control: Message, fds: list[int]) -> None:
        run_id = int(control.get("id", 0))
        stage = control.get("stage", "script")
        try:
            drift = self.drift()
            if drift:
                for fd in fds:
                    os.close(fd)
                _send(self.sock, {"event": "exited", "id": run_id, "poisoned": True,
                                  "error": f"worker state changed since start-up: {drift}"})
                sys.exit(3)
            if not self.isolated and stage != "compiled":
                _wipe(self.run_root)  # without namespaces every run shares run_root
            elif stage == "compile":
                _wipe(ISOLATED_JOB_DIR)  # holds only what a compiler wrote (compilers run no user code)
                os.makedirs(ISOLATED_JOB_DIR, exist_ok=True)
            base_address_space = _address_space_in_use()  # read here, not in the child (copy-on-write)
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            _send(self.sock, {"event": "exited", "id": run_id, "error": f"worker set-up failed: {exc}"})
            return
        if pid == 0:
            self.sock.close()
            _child(control, fds, self, base_address_space)
        for fd in fds:
            os.close(fd)
        self._wait(run_id, pid, int(control.get("memory_bytes", 0)))

    def _run_memory(self, run_pid: int) -> int:
        """Anonymous + shared-memory pages of every process of the run (all but us in this namespace),
        plus the files in its tmpfs mounts (seen through the run child's /proc/<pid>/root)."""
        total = 0
        for mount in (self.run_root, "/dev/shm"):
            try:
                stats = os.statvfs(f"/proc/{run_pid}/root{mount}")
            except OSError:
                continue  # not mounted yet, or the child is gone
            total += (stats.f_blocks - stats.f_bfree) * stats.f_frsize
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != self.pid:
                total += _resident_memory(name)
        return total

    def _wait(self, run_id: int, pid: int, memory_budget: int) -> None:
        pidfd = os.pidfd_open(pid)
        killed = over_memory = False
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.register(self.sock, select.POLLIN)
        # Only an isolated worker sees nothing but its run's processes in /proc; a run under its
        # budget never reaches the first poll (most runs take a few milliseconds).
        poll_ms = int(MEMORY_POLL_S * 1000) if self.isolated and memory_budget > 0 else -1
        try:
            while True:
                ready = dict(poller.poll(poll_ms))
                if pidfd in ready:
                    break
                if not ready and not killed and self._run_memory(pid) > memory_budget + self.base_memory:
                    killed = over_memory = True
                    self._kill_run(pid, sweep=False)
                if self.sock.fileno() in ready:
                    message, extra = _recv(self.sock)
                    for fd in extra:
                        os.close(fd)
                    if message is None:  # supervisor gone: take the run down with us
                        self._kill_run(pid)
                        os._exit(0)
                    if message.get("op") == "kill" and not killed:
                        killed = True
                        self._kill_run(pid, sweep=False)  # the sweep follows once the child is reaped
        finally:
            os.close(pidfd)
        _, status, usage = os.wait4(pid, 0)
        self._kill_run(pid)
        event = {"event": "exited", "id": run_id, "cpu_s": usage.ru_utime + usage.ru_stime,
                 "max_rss_kb": usage.ru_maxrss, "killed": killed, "over_memory": over_memory}
        if os.WIFSIGNALED(status):
            event["signal"] = os.WTERMSIG(status)
        else:
            event["exit_code"] = os.WEXITSTATUS(status)
        _send(self.sock, event)

    def _kill_run(self, pid: int, sweep: bool = True) -> None:
        """Kill every process of the run: its group, and as the namespace's init everything but us."""
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        if not self.isolated:
            return
        try:
            os.kill(-1, signal.SIGKILL)  # from init: every other process of the namespace
        except OSError:
            pass
        if not sweep:
            return
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:  # reap what was orphaned to us, until none is left
            try:
                reaped, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if reaped == 0:
                try:
                    os.kill(-1, signal.SIGKILL)
                except OSError:
                    pass
                time.sleep(0.0005)


def main() -> None:
    control_fd = int(sys.argv[1])
    options = json.loads(sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    # Non-dumpable: a run has our uid, but no process may open /proc/1/mem, /fd or /environ, nor
    # ptrace us. As init, we receive no signal from inside the namespace that we do not handle.
    _check(_libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0), "PR_SET_DUMPABLE")
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.pop("PWD", None)  # set by bwrap --chdir; runs start in their own dir
    sock = socket.socket(fileno=control_fd)
    Worker(sock, options).serve()


if __name__ == "__main__":
    main()
