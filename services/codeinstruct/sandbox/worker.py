"""Warm sandbox worker: a fork server that runs INSIDE the sandbox, one run at a time.

The supervisor (codeinstruct.sandbox.pool) starts it once per worker slot, inside bubblewrap
namespaces as an unprivileged uid, as

    python3 -I -B worker.py CONTROL_FD OPTIONS_JSON

and talks to it over a SOCK_SEQPACKET socket: a "run" request (JSON) carries the run's four pipe
ends (stdin, stdout, stderr, report) as SCM_RIGHTS. Per run the worker forks a child that starts a
new process group, takes the pipes as fds 0-3, closes everything else (so the program never holds the
control socket), enters a fresh run dir, sets rlimits, loads the seccomp deny list, then either
execs a binary or runs Python in-process through harness.py (already imported: no interpreter start).
When the child is done (or the supervisor says "kill") every process of the run is killed.

Standard library only; it imports little, since everything it imports is shared with (and
after fork partly copied into) every run child.
"""

from __future__ import annotations

import array
import ctypes
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

MAX_FDS = 4
def _send(sock: socket.socket, message: dict) -> None:
    sock.send(json.dumps(message).encode())


_BUFFER = bytearray(1 << 22)  # one receive buffer for the worker's life: no 4 MiB allocation per message


def _recv(sock: socket.socket) -> tuple[dict | None, list[int]]:
    fds = array.array("i")
    size, ancdata, _flags, _addr = sock.recvmsg_into([_BUFFER], socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    if not size:
        return None, list(fds)
    return json.loads(_BUFFER[:size]), list(fds)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


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
        self._prctl = ctypes.CDLL(None, use_errno=True).prctl
        self._prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong)

    def load(self) -> None:
        if self._prctl(self._PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0 or self._prctl(
                self._PR_SET_SECCOMP, self._SECCOMP_MODE_FILTER, ctypes.addressof(self._program), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "could not load the seccomp filter")


def _wipe(roots: tuple[str, ...]) -> None:
    """Empty the run roots: the private /tmp and /dev/shm in a sandbox, a dedicated dir otherwise."""
    for root in roots:
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in names:
            path = os.path.join(root, name)
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
            except OSError:
                pass


def _address_space_in_use() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * resource.getpagesize()


def _child(request: dict, fds: list[int], run_dir: str, seccomp: _CompiledFilter | None,
           base_address_space: int) -> None:
    """In the forked child: confine and start the program. Never returns."""
    token = request["token"]
    try:
        # A new process group, not a new session: setsid() creates a scheduler autogroup, which
        # costs milliseconds per run. The pid-namespace sweep catches anything that leaves the group.
        os.setpgid(0, 0)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(MAX_FDS, resource.getrlimit(resource.RLIMIT_NOFILE)[0] or 65536)
        os.chdir(run_dir)
        os.umask(0o077)
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
        if limits.get("processes"):
            resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
        if os.environ != request["env"]:  # the worker starts with the run environment; usually equal
            os.environ.clear()
            os.environ.update(request["env"])
        if seccomp is not None:
            seccomp.load()
        if request["kind"] == "exec":
            for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            argv = request["argv"]
            os.execve(argv[0], argv, request["env"])
        import harness

        harness.run(request["harness"], token)
    except BaseException as exc:  # set-up failed: an infrastructure error, reported as such
        try:
            line = json.dumps({"token": token, "event": "setup_error", "detail": f"{type(exc).__name__}: {exc}"})
            os.write(3, (line + "\n").encode())
        finally:
            os._exit(126)


class Worker:
    def __init__(self, sock: socket.socket, options: dict):
        self.sock = sock
        self.options = options
        self.pid = os.getpid()
        # kill(-1) only reaches this run's processes when we are alone in a pid namespace (bwrap's
        # init is pid 1 and we are pid 2); without one it would hit every process of the uid.
        self.own_pid_namespace = bool(options.get("pid_namespace")) and self.pid == 2 and os.getppid() == 1
        self.seccomp: _CompiledFilter | None = None
        if options.get("seccomp"):
            # The program denies signals to the worker's pid and process group: make sure they are ours.
            expected = (options["seccomp_worker_pid"], options["seccomp_worker_pgid"])
            if (self.pid, os.getpgrp()) != tuple(expected):
                raise SystemExit(f"worker is pid {self.pid} in group {os.getpgrp()}, not the "
                                 f"{tuple(expected)} the seccomp program protects")
            self.seccomp = _CompiledFilter(bytes.fromhex(options["seccomp"]))
        # Run dirs live under run_root, which the worker empties between runs. Inside the sandbox that
        # is the private tmpfs /tmp (and /dev/shm); without a pid namespace it must be a dedicated
        # directory the supervisor created, never a shared one.
        self.run_root = options["run_root"]
        if self.own_pid_namespace:
            self.wipe_roots: tuple[str, ...] = (self.run_root, "/dev/shm")
        else:
            if not os.path.basename(self.run_root).startswith("codeinstruct-sandbox-"):
                raise SystemExit(f"refusing run_root {self.run_root!r} outside a sandbox")
            self.wipe_roots = (self.run_root,)

    def serve(self) -> None:
        import harness  # noqa: F401  (warm: imported once, inherited by every run child)

        # Everything allocated so far is shared with every run child: keep the collector from walking
        # (and so copying) those pages in each child.
        gc.collect()
        gc.freeze()
        _send(self.sock, {"event": "ready", "pid": self.pid, "uid": os.getuid(),
                          "pid_namespace": self.own_pid_namespace, "seccomp": self.seccomp is not None})
        while True:
            request, fds = _recv(self.sock)
            if request is None:
                return
            if request.get("op") == "run":
                self._run(request, fds)
            else:
                for fd in fds:
                    os.close(fd)

    def _pristine(self, run_name: str, files: dict) -> bool:
        """True when the roots hold nothing but the run dir with (at most) the files about to be rewritten."""
        try:
            if os.listdir(self.run_root) != [run_name]:
                return False
            if not set(os.listdir(os.path.join(self.run_root, run_name))) <= set(files):
                return False
            return all(not os.listdir(root) for root in self.wipe_roots[1:])
        except OSError:
            return False

    def _run(self, request: dict, fds: list[int]) -> None:
        run_name = request.get("dir", "run")
        run_dir = os.path.join(self.run_root, run_name)
        files = request.get("files", {})
        try:
            if request.get("fresh", True) and not self._pristine(run_name, files):
                _wipe(self.wipe_roots)
            os.makedirs(run_dir, exist_ok=True)
            for name, content in files.items():
                with open(os.path.join(run_dir, name), "w", encoding="utf-8", errors="surrogateescape") as handle:
                    handle.write(content)
            base_address_space = _address_space_in_use()  # read here, not in the child (copy-on-write)
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            _send(self.sock, {"event": "exited", "id": request["id"], "error": f"worker set-up failed: {exc}"})
            return
        if pid == 0:
            self.sock.close()
            _child(request, fds, run_dir, self.seccomp, base_address_space)
        for fd in fds:
            os.close(fd)
        self._wait(request["id"], pid)

    def _wait(self, run_id: int, pid: int) -> None:
        pidfd = os.pidfd_open(pid)
        killed = False
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.register(self.sock, select.POLLIN)
        try:
            while True:
                ready = dict(poller.poll())
                if pidfd in ready:
                    break
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
                 "max_rss_kb": usage.ru_maxrss, "killed": killed}
        if os.WIFSIGNALED(status):
            event["signal"] = os.WTERMSIG(status)
        else:
            event["exit_code"] = os.WEXITSTATUS(status)
        _send(self.sock, event)

    def _kill_run(self, pid: int, sweep: bool = True) -> None:
        """Kill every process of the run: its session, and in a pid namespace everything but us."""
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        if not self.own_pid_namespace:
            return
        if not sweep:
            try:
                os.kill(-1, signal.SIGKILL)
            except OSError:
                pass
            return
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                return  # nothing left to signal
            except OSError:
                return
            time.sleep(0.0005)


def main() -> None:
    control_fd = int(sys.argv[1])
    options = json.loads(sys.argv[2])
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    for extra in options.get("python_path", []):
        sys.path.append(extra)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    os.environ.pop("PWD", None)  # set by bwrap --chdir; runs start in their own dir
    sock = socket.socket(fileno=control_fd)
    Worker(sock, options).serve()


if __name__ == "__main__":
    main()
