"""The seccomp deny list of every run, compiled to a BPF program by the supervisor (with pyseccomp).

The program goes to each warm worker at start-up; the worker's run children load it with two prctl
calls, so the worker never imports libseccomp's bindings (whose imports would make every fork
costlier). Denied: network sockets (only AF_UNIX), ptrace and process_vm_*, mount/namespace
operations (mount, unshare, setns, namespace clone flags, clone3), bpf, perf, keyrings, io_uring,
userfaultfd, kernel modules and other host-level knobs, and signals to the worker, to the namespace
init or to every process (`kill(-1)`).
"""

from __future__ import annotations

import errno
import functools
import socket
import tempfile

# Inside bubblewrap (--unshare-pid --new-session) the namespace init is pid 1 and the worker pid 2,
# in init's process group 1; the worker checks this before it loads the program.
WORKER_PID = 2
WORKER_PGID = 1

_CLONE_NS_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000,
                   0x00000080)  # NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root", "chroot",
    "unshare", "setns", "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "userfaultfd", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "swapon", "swapoff", "reboot", "acct", "quotactl", "name_to_handle_at",
    "open_by_handle_at", "lookup_dcookie", "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "fanotify_init",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "syslog",
    "vhangup", "iopl", "ioperm", "settimeofday", "clock_settime", "adjtimex", "clock_adjtime",
    "sethostname", "setdomainname", "kcmp", "process_madvise", "uselib", "personality",
)


@functools.cache
def program(worker_pid: int = WORKER_PID, worker_pgid: int = WORKER_PGID) -> bytes:
    """The BPF program (struct sock_filter[]) of the deny list; raises ImportError without pyseccomp."""
    import pyseccomp as sc

    filt = sc.SyscallFilter(sc.ALLOW)
    eperm = sc.ERRNO(errno.EPERM)
    for name in DENIED_SYSCALLS:
        try:
            filt.add_rule(eperm, name)
        except (OSError, ValueError, RuntimeError):
            pass  # not a syscall on this architecture
    # Sockets: only AF_UNIX (pipes between a program's own processes); no network of any kind.
    filt.add_rule(eperm, "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
    filt.add_rule(eperm, "socketpair", sc.Arg(0, sc.NE, socket.AF_UNIX))
    # clone3 passes its flags in memory seccomp cannot read: make libc fall back to clone.
    filt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for flag in _CLONE_NS_FLAGS:
        filt.add_rule(eperm, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    # A run may signal its own processes, never the worker (pid and process group), init or everyone.
    low = 0xFFFFFFFF
    for pid in sorted({worker_pid, 1, -1 & low, -worker_pid & low, -worker_pgid & low}):
        filt.add_rule(eperm, "kill", sc.Arg(0, sc.MASKED_EQ, low, pid))
    for pid in (worker_pid, 1):
        filt.add_rule(eperm, "tkill", sc.Arg(0, sc.MASKED_EQ, low, pid))
        filt.add_rule(eperm, "tgkill", sc.Arg(0, sc.MASKED_EQ, low, pid))
    with tempfile.TemporaryFile() as handle:
        filt.export_bpf(handle)
        handle.seek(0)
        data = handle.read()
    if not data or len(data) % 8:
        raise RuntimeError(f"unexpected seccomp program of {len(data)} bytes")
    return data


def available() -> bool:
    try:
        program()
    except (ImportError, RuntimeError, OSError):
        return False
    return True

