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

Standard library only (+ pyseccomp, bound next to this file, when seccomp is on).
"""

from __future__ import annotations

import array
import ctypes
import ctypes.util
import errno
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
# Namespace-creating clone flags a run may not use.
_CLONE_NS_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000,
                   0x00000080)  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
_DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
    "unshare", "setns", "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "userfaultfd", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "swapon", "swapoff", "reboot", "acct", "quotactl", "name_to_handle_at",
    "open_by_handle_at", "lookup_dcookie", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "fanotify_init",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "syslog",
    "vhangup", "iopl", "ioperm", "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
    "sethostname", "setdomainname", "kcmp", "process_madvise", "uselib", "personality",
)


def _send(sock: socket.socket, message: dict) -> None:
    sock.send(json.dumps(message).encode())


def _recv(sock: socket.socket) -> tuple[dict | None, list[int]]:
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(1 << 22, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    if not data:
        return None, list(fds)
    return json.loads(data), list(fds)


def _build_seccomp(worker_pid: int) -> object:
    """The deny list, built once per worker and loaded by each run child after fork."""
    real_find = ctypes.util.find_library
    ctypes.util.find_library = lambda name: "libseccomp.so.2" if name == "seccomp" else real_find(name)
    import pyseccomp as sc  # bound next to this file by the supervisor

    filt = sc.SyscallFilter(sc.ALLOW)
    eperm = sc.ERRNO(errno.EPERM)
    for name in _DENIED_SYSCALLS:
        try:
            filt.add_rule(eperm, name)
        except (OSError, ValueError, RuntimeError):
            pass  # not a syscall on this architecture
    # Sockets: only AF_UNIX (pipes between a program's own processes); no network of any kind.
    filt.add_rule(eperm, "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    filt.add_rule(eperm, "socketpair", sc.Arg(0, sc.NE, socket.AF_UNIX))
    # clone3 passes flags in memory seccomp cannot read: make libc fall back to clone.
    filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for flag in _CLONE_NS_FLAGS:
        filt.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    # The run may signal its own processes, never the worker, the namespace init or everything.
    low = 0xFFFFFFFF
    for pid in (worker_pid, 1, -1 & low, -worker_pid & low, -os.getpgrp() & low):
        filt.add_rule(eperm, "kill", sc.Arg(0, sc.MASKED_EQ, low, pid))
    for pid in (worker_pid, 1):
        filt.add_rule(eperm, "tkill", sc.Arg(0, sc.MASKED_EQ, low, pid))
        filt.add_rule(eperm, "tgkill", sc.Arg(0, sc.MASKED_EQ, low, pid))
    return filt


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


def _child(request: dict, fds: list[int], run_dir: str, seccomp: object | None) -> None:
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
            memory += _address_space_in_use()
        if memory > 0:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        cpu = int(limits["cpu_s"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if limits.get("processes"):
            resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))
        os.environ.clear()
        os.environ.update(request["env"])
        if seccomp is not None:
            seccomp.load()  # type: ignore[attr-defined]
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
        self.seccomp = _build_seccomp(self.pid) if options.get("seccomp") else None
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

    def _run(self, request: dict, fds: list[int]) -> None:
        self._t0 = time.perf_counter()
        run_dir = os.path.join(self.run_root, request.get("dir", "run"))
        try:
            if request.get("fresh", True):
                _wipe(self.wipe_roots)
            os.makedirs(run_dir, exist_ok=True)
            for name, content in request.get("files", {}).items():
                with open(os.path.join(run_dir, name), "w", encoding="utf-8", errors="surrogateescape") as handle:
                    handle.write(content)
            self._t1 = time.perf_counter()
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            _send(self.sock, {"event": "exited", "id": request["id"], "error": f"worker set-up failed: {exc}"})
            return
        if pid == 0:
            self.sock.close()
            _child(request, fds, run_dir, self.seccomp)
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
        t2 = time.perf_counter()
        _, status, usage = os.wait4(pid, 0)
        self._kill_run(pid)
        t3 = time.perf_counter()
        event = {"event": "exited", "id": run_id, "cpu_s": usage.ru_utime + usage.ru_stime,
                 "max_rss_kb": usage.ru_maxrss, "killed": killed,
                 "timing": [self._t1 - self._t0, t2 - self._t1, t3 - t2]}
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
    sock = socket.socket(fileno=control_fd)
    Worker(sock, options).serve()


if __name__ == "__main__":
    main()
