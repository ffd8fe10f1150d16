"""Hostile tenants and the victim that follows them on the same warm worker (support for test_between_runs).

Each attack is a program one tenant submits; it prints one JSON object saying what it managed to do
(so the test can also assert that the attack itself was refused). `VICTIM` is the innocent program
run right after each attack on the same worker: it reports everything a previous run could have
left behind or changed (files anywhere writable, IPC objects, processes, limits, scheduling,
seccomp) and must report exactly what it reported on a fresh worker.
"""

from __future__ import annotations

VICTIM = r'''
import ctypes, json, os, resource, socket
def tree(root):
    found = []
    for directory, dirs, files in os.walk(root):
        found += [os.path.join(directory, name) for name in dirs + files]
    return sorted(found)
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    inet = "allowed"
except OSError:
    inet = "denied"
ipc = {kind: open(f"/proc/sysvipc/{kind}").read().splitlines()[1:] for kind in ("shm", "sem", "msg")}
librt = ctypes.CDLL("librt.so.1", use_errno=True)
librt.mq_open.restype = ctypes.c_int
queue = librt.mq_open(b"/tenant-queue", os.O_RDONLY)
report = {
    "tmp": tree("/tmp"), "shm": tree("/dev/shm"), "dev": sorted(os.listdir("/dev")),
    "dev_links": {name: os.readlink("/dev/" + name) for name in ("stdin", "stdout", "stderr", "fd")},
    "ipc": ipc, "mqueue": queue >= 0,
    "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()),
    "limits": {name: resource.getrlimit(getattr(resource, name)) for name in
               ("RLIMIT_NPROC", "RLIMIT_AS", "RLIMIT_NOFILE", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_STACK")},
    "nice": os.getpriority(os.PRIO_PROCESS, 0), "affinity": sorted(os.sched_getaffinity(0)),
    "scheduler": os.sched_getscheduler(0), "seccomp": status["Seccomp"].strip(), "inet": inet,
    "cap_eff": status["CapEff"].strip(), "cwd": os.getcwd(), "cwd_files": sorted(os.listdir(".")),
    "modes": {path: oct(os.stat(path).st_mode) for path in ("/tmp", "/tmp/run", "/dev/shm", "main.py")},
}
open("/tmp/victim-was-here", "w").write("x")  # the victim itself can still write
print(json.dumps(report, sort_keys=True))
print("victim", 6 * 7)
'''

CPP_VICTIM = '#include <iostream>\nint main() { int a, b; std::cin >> a >> b; std::cout << a * b << "\\n"; }\n'

_TRY = r'''
import ctypes, json, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
done = {}
def attempt(name, action):
    try:
        result = action()
        done[name] = "ok" if result is None or result == 0 else f"returned {result} errno {ctypes.get_errno()}"
    except BaseException as exc:
        done[name] = type(exc).__name__
'''

ATTACKS: dict[str, str] = {
    # 1. rewrite the worker: its memory, its limits, its scheduling, signals to it.
    "worker_memory": _TRY + r'''
def write_mem():
    with open("/proc/1/mem", "r+b") as handle:
        handle.seek(0x400000)
        handle.write(b"\x90" * 16)
attempt("proc_1_mem", write_mem)
attempt("proc_1_environ", lambda: open("/proc/1/environ", "rb").read())
attempt("proc_1_fd", lambda: os.listdir("/proc/1/fd"))
attempt("proc_1_stderr", lambda: open("/proc/1/fd/2", "w").write("FORGED sandbox log line\n" + "A" * (1 << 20)))
attempt("proc_1_oom", lambda: open("/proc/1/oom_score_adj", "w").write("1000"))
attempt("proc_1_root", lambda: os.listdir("/proc/1/root/job"))
attempt("ptrace", lambda: libc.ptrace(16, 1, 0, 0))
print(json.dumps(done))
''',
    "worker_limits": _TRY + r'''
import resource
old = (ctypes.c_ulong * 2)()
new = (ctypes.c_ulong * 2)(1, 1)
attempt("prlimit_nproc", lambda: libc.prlimit64(1, resource.RLIMIT_NPROC, new, old))
attempt("prlimit_as", lambda: libc.prlimit64(1, resource.RLIMIT_AS, new, old))
attempt("prlimit_py", lambda: resource.prlimit(1, resource.RLIMIT_NOFILE, (4, 4)))
attempt("prlimit_parent", lambda: resource.prlimit(os.getppid(), resource.RLIMIT_CPU, (1, 1)))
print(json.dumps(done))
''',
    "worker_scheduling": _TRY + r'''
attempt("nice_pid1", lambda: os.setpriority(os.PRIO_PROCESS, 1, 19))
attempt("nice_user", lambda: os.setpriority(os.PRIO_USER, 0, 19))
attempt("nice_group", lambda: os.setpriority(os.PRIO_PGRP, 1, 19))
attempt("affinity", lambda: os.sched_setaffinity(1, {0}))
attempt("scheduler", lambda: os.sched_setscheduler(1, os.SCHED_IDLE, os.sched_param(0)))
attempt("ioprio_user", lambda: libc.syscall(251, 3, 0, (3 << 13) | 7))
attempt("ioprio_pid1", lambda: libc.syscall(251, 1, 1, (3 << 13) | 7))
os.setpriority(os.PRIO_PROCESS, 0, 19)  # its own nice value is its own business
print(json.dumps(done))
''',
    "worker_signals": _TRY + r'''
import fcntl
attempt("kill_1", lambda: os.kill(1, signal.SIGKILL))
attempt("kill_all", lambda: os.kill(-1, 0))
attempt("sigqueue", lambda: libc.syscall(129, 1, signal.SIGKILL, None))
attempt("tgsigqueue", lambda: libc.syscall(297, 1, 1, signal.SIGINT, None))
r, w = os.pipe()
attempt("setsig", lambda: fcntl.fcntl(r, 10, signal.SIGKILL))
attempt("setown", lambda: fcntl.fcntl(r, fcntl.F_SETOWN, 1))
attempt("setown_group", lambda: fcntl.fcntl(r, fcntl.F_SETOWN, -1))
attempt("fiosetown", lambda: fcntl.ioctl(r, 0x8901, ctypes.c_int(1)))
fcntl.fcntl(r, fcntl.F_SETFL, os.O_ASYNC)
os.write(w, b"x")
print(json.dumps(done))
''',
    # 3. leave state behind: files anywhere writable, /dev, mode tricks, IPC, processes.
    "files": _TRY + r'''
def fill():
    with open("/tmp/.fill", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 20))
        except OSError:
            pass
attempt("tmp_file", lambda: open("/tmp/planted", "w").write("planted"))
attempt("tmp_fill", fill)
attempt("shm_file", lambda: open("/dev/shm/planted", "w").write("planted"))
attempt("dev_file", lambda: open("/dev/planted", "w").write("planted"))
attempt("dev_stdout", lambda: (os.unlink("/dev/stdout"), os.symlink("/tmp/planted", "/dev/stdout")))
attempt("fifo", lambda: os.mkfifo("/tmp/run/main.py.fifo"))
attempt("dir_000", lambda: os.mkdir("/tmp/locked", 0))
attempt("chmod_program", lambda: os.chmod("main.py", 0))
attempt("chmod_run", lambda: os.chmod("/tmp/run", 0))
attempt("chmod_tmp", lambda: os.chmod("/tmp", 0))
attempt("chmod_shm", lambda: os.chmod("/dev/shm", 0))
print(json.dumps(done))
''',
    "ipc": _TRY + r'''
from multiprocessing import shared_memory
librt = ctypes.CDLL("librt.so.1", use_errno=True)
attempt("sysv_shm", lambda: None if libc.shmget(0x1234, 64 << 20, 0o1666) >= 0 else -1)
attempt("sysv_sem", lambda: None if libc.semget(0x1235, 4, 0o1666) >= 0 else -1)
attempt("sysv_msg", lambda: None if libc.msgget(0x1236, 0o1666) >= 0 else -1)
attempt("posix_mq", lambda: None if librt.mq_open(b"/tenant-queue", os.O_CREAT | os.O_RDWR, 0o666, None) >= 0 else -1)
attempt("posix_shm", lambda: shared_memory.SharedMemory(name="tenant-shm", create=True, size=1 << 20).close())
print(json.dumps(done))
''',
    "processes": _TRY + r'''
import time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        while True:  # a daemon that would plant files into later runs
            try:
                open("/tmp/from-daemon", "w").write("x")
                open("/dev/shm/from-daemon", "w").write("x")
            except OSError:
                pass
            time.sleep(0.01)
    os._exit(0)
time.sleep(0.2)
print(json.dumps({"daemon": "started"}))
''',
}

# Memory held outside the address-space limit (a 256 MiB run limit in the test).
MEMORY_ATTACKS: dict[str, str] = {
    "memfd": _TRY + r'''
attempt("memfd", lambda: os.memfd_create("hold"))
print(json.dumps(done))
''',
    "processes": r'''
import os, time
for _ in range(3):
    if os.fork() == 0:
        block = bytearray(200 << 20)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(5)
        os._exit(0)
time.sleep(5)
print("held 600 MiB in three processes")
''',
    "tmpfs_files": r'''
import time
for part in range(4):  # each file under RLIMIT_FSIZE
    with open(f"/tmp/hold{part}", "wb") as handle:
        for _ in range(50):
            handle.write(b"\1" * (1 << 20))
block = bytearray(150 << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
time.sleep(5)
print("held 350 MiB")
''',
    "threads": r'''
import threading, time
blocks = []
def grab():
    try:
        blocks.append(bytearray(100 << 20))
    except MemoryError:
        pass
threads = [threading.Thread(target=grab) for _ in range(5)]
[t.start() for t in threads]
[t.join() for t in threads]
if len(blocks) == 5:
    print("held 500 MiB in threads")
else:
    raise MemoryError(f"{len(blocks)} of 5 blocks")
''',
}
