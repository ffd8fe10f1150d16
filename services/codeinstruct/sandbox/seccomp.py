"""The seccomp deny list of every run, compiled to a BPF program by the supervisor (with pyseccomp).

The program goes to each warm worker at start-up; the worker's run children load it with two prctl
calls, so the worker never imports libseccomp's bindings (whose imports would make every fork
costlier). Denied: network sockets (only AF_UNIX), ptrace and process_vm_*, mount/namespace
operations (mount, unshare, setns, namespace clone flags, clone3), bpf, perf, keyrings, io_uring,
userfaultfd, kernel modules and other host-level knobs, memfd_create and SysV shared memory and
message queues (memory no limit here can bound), and every call that acts on ANOTHER process: signals
to the worker (the namespace's init) or to every process (`kill(-1)`, rt_sigqueueinfo, F_SETOWN and
FIOSETOWN, which make the kernel signal a chosen pid), and prlimit64, setpriority, ioprio_set,
sched_set*, migrate_pages and move_pages on any pid but the caller's own (0). A run has the
worker's uid, so the kernel's same-uid rule alone would let it reach the worker.
"""

from __future__ import annotations

import errno
import functools
import socket
import tempfile

# Inside bubblewrap (--unshare-pid --as-pid-1 --new-session) the worker is the namespace's init: pid 1,
# process group 1; the worker checks this at start-up.
WORKER_PID = 1

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
    "sethostname", "setdomainname", "kcmp", "process_madvise", "uselib", "personality", "memfd_create",
    "memfd_secret", "shmget", "msgget", "process_mrelease", "set_mempolicy_home_node",
)
# Calls whose first argument is a pid: allowed on the caller itself (0) only.
_SELF_ONLY = ("prlimit64", "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr",
              "migrate_pages", "move_pages")
_F_SETOWN, _F_SETSIG, _F_SETOWN_EX = 8, 10, 15
_FIOSETOWN, _SIOCSPGRP = 0x8901, 0x8902


@functools.cache
def program(worker_pid: int = WORKER_PID) -> bytes:
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
    for pid in sorted({worker_pid, 1, -1 & low, -worker_pid & low}):
        filt.add_rule(eperm, "kill", sc.Arg(0, sc.MASKED_EQ, low, pid))
    for pid in sorted({worker_pid, 1}):
        for name in ("tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
            filt.add_rule(eperm, name, sc.Arg(0, sc.MASKED_EQ, low, pid))
        filt.add_rule(eperm, "fcntl", sc.Arg(1, sc.EQ, _F_SETOWN), sc.Arg(2, sc.MASKED_EQ, low, pid))
    filt.add_rule(eperm, "fcntl", sc.Arg(1, sc.EQ, _F_SETOWN), sc.Arg(2, sc.MASKED_EQ, low, -1 & low))
    for command in (_F_SETSIG, _F_SETOWN_EX):  # a chosen signal (SIGKILL too), or an owner in a struct
        filt.add_rule(eperm, "fcntl", sc.Arg(1, sc.EQ, command))
    for command in (_FIOSETOWN, _SIOCSPGRP):  # the owner is behind a pointer: deny outright
        filt.add_rule(eperm, "ioctl", sc.Arg(1, sc.MASKED_EQ, low, command))
    # Other processes' limits, priority and placement: the caller's own only.
    for name in _SELF_ONLY:
        filt.add_rule(eperm, name, sc.Arg(0, sc.NE, 0))
    for name in ("setpriority", "ioprio_set"):  # (which, who): who == 0 with which = the process itself
        filt.add_rule(eperm, name, sc.Arg(1, sc.NE, 0))
    filt.add_rule(eperm, "setpriority", sc.Arg(0, sc.NE, 0))  # PRIO_PROCESS
    filt.add_rule(eperm, "ioprio_set", sc.Arg(0, sc.NE, 1))  # IOPRIO_WHO_PROCESS
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

