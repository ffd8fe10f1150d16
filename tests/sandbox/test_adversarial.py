"""Hostile programs: each must get the right verdict, in bounded time, and leave the host as it was.

"Host unaffected" is checked from outside the sandbox: the processes of the sandbox uids are back to
the idle workers' count, a loopback listener on the host saw no connection, and files the program
tried to write outside its run dir do not exist.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path

import pytest

from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.core import Sandbox
from tests.sandbox.conftest import sandbox_uids, wait_for_count

SHORT = {"timeout_s": 2.0}


def run_bounded(sandbox: Sandbox, code: str, limits: dict | None = None, bound_s: float = 15.0, **kwargs: object):
    started = time.monotonic()
    result = sandbox.execute(code, limits=limits or SHORT, **kwargs)  # type: ignore[arg-type]
    elapsed = time.monotonic() - started
    assert elapsed < bound_s, f"took {elapsed:.1f}s: {result}"
    return result


def assert_host_clean(baseline: int) -> None:
    assert wait_for_count(sandbox_uids(), baseline) == baseline


def test_fork_bomb_is_contained(sandbox: Sandbox, baseline: int) -> None:
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = run_bounded(sandbox, code)
    assert result.status is Status.TIMEOUT
    assert_host_clean(baseline)


def test_endless_loop_times_out(sandbox: Sandbox, baseline: int) -> None:
    result = run_bounded(sandbox, "while True:\n    pass\n", bound_s=10.0)
    assert result.status is Status.TIMEOUT
    assert 1.9 <= result.wall_time_s < 6.0  # the 2 s limit, plus the kill on a busy machine
    assert_host_clean(baseline)


def test_sleep_times_out_on_the_wall_clock(sandbox: Sandbox, baseline: int) -> None:
    result = run_bounded(sandbox, "import time\ntime.sleep(1000)\n", bound_s=10.0)
    assert result.status is Status.TIMEOUT
    assert result.cpu_time_s < 1.0
    assert_host_clean(baseline)


def test_ten_gigabytes_at_once(sandbox: Sandbox) -> None:
    result = run_bounded(sandbox, "data = bytearray(10 * 1024 ** 3)\nprint(len(data))\n")
    assert result.status is Status.MEMORY_EXCEEDED
    assert "MemoryError" in result.detail


def test_ten_gigabytes_in_chunks(sandbox: Sandbox) -> None:
    code = "chunks = []\nfor _ in range(100):\n    chunks.append(bytearray(100 * 1024 ** 2))\n"
    result = run_bounded(sandbox, code, limits={"timeout_s": 10.0})  # zero-filling 500 MB is slow when busy
    assert result.status is Status.MEMORY_EXCEEDED


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_a_gigabyte_without_newlines_is_truncated(sandbox: Sandbox, baseline: int, stream: str) -> None:
    code = f"import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.{stream}.write(chunk)\n"
    result = run_bounded(sandbox, code, limits={"timeout_s": 10.0, "max_output_bytes": 1 << 20})
    assert result.status is Status.OUTPUT_TRUNCATED
    assert len(getattr(result, stream)) == 1 << 20
    assert_host_clean(baseline)


def test_network_is_unreachable(sandbox: Sandbox) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    code = (
        "import socket\n"
        "results = []\n"
        "for family, kind in [(socket.AF_INET, socket.SOCK_STREAM), (socket.AF_INET6, socket.SOCK_STREAM),\n"
        "                     (socket.AF_INET, socket.SOCK_RAW), (socket.AF_PACKET, socket.SOCK_RAW),\n"
        "                     (socket.AF_NETLINK, socket.SOCK_RAW)]:\n"
        "    try:\n"
        "        s = socket.socket(family, kind, 255 if kind == socket.SOCK_RAW and family == socket.AF_INET else 0)\n"
        f"        s.settimeout(1); s.connect(('127.0.0.1', {port}))\n"
        "        results.append('connected')\n"
        "    except OSError as exc:\n"
        "        results.append(type(exc).__name__)\n"
        "print(results)\n"
    )
    try:
        result = run_bounded(sandbox, code)
        assert result.status is Status.OK, result
        assert "connected" not in result.stdout
        assert result.stdout.count("PermissionError") == 5, result.stdout
        try:
            listener.accept()
            pytest.fail("the host listener saw a connection")
        except BlockingIOError:
            pass
    finally:
        listener.close()


def test_host_secrets_are_not_visible(sandbox: Sandbox) -> None:
    code = (
        "import os\n"
        "found = []\n"
        "for path in ['/etc/shadow', '/etc/passwd', '/root', '/home', '/work', '/var/run', '/run']:\n"
        "    if os.path.exists(path):\n"
        "        found.append(path)\n"
        "names = set()\n"
        "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
        "for pid in pids:\n"
        "    try:\n"
        "        raw = open(f'/proc/{pid}/environ', 'rb').read()\n"
        "    except OSError:\n"
        "        continue\n"
        "    names.update(item.split(b'=')[0].decode() for item in raw.split(b'\\0') if item)\n"
        "import json\n"
        "print(json.dumps([found, sorted(names), len(pids)]))\n"
    )
    result = run_bounded(sandbox, code)
    assert result.status is Status.OK, result
    found, names, processes = json.loads(result.stdout)
    assert found == []
    allowed = {"PATH", "PWD", "LANG", "HOME", "LC_ALL", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING",
               "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS"}
    assert set(names) <= allowed, names
    assert processes <= 4  # bwrap's init, the worker, this run: no host process is visible


def test_writes_outside_the_run_dir_do_not_reach_the_host(sandbox: Sandbox, tmp_path: Path) -> None:
    marker = f"sandbox-escape-{uuid.uuid4().hex}"
    targets = [f"/tmp/{marker}", f"/var/tmp/{marker}", f"/usr/{marker}", f"/etc/{marker}", str(tmp_path / marker),
               f"/dev/shm/{marker}", f"../{marker}"]
    code = (
        "results = {}\n"
        f"for path in {targets!r}:\n"
        "    try:\n"
        "        with open(path, 'w') as f:\n"
        "            f.write('x')\n"
        "        results[path] = 'written'\n"
        "    except OSError as exc:\n"
        "        results[path] = type(exc).__name__\n"
        "print(results)\n"
    )
    result = run_bounded(sandbox, code)
    assert result.status is Status.OK, result
    for target in targets:
        assert not Path(target).exists(), target
    assert not (Path.cwd().parent / marker).exists()
    assert "/usr/" in result.stdout and "written" not in result.stdout.split(f"/usr/{marker}")[1].split(",")[0]


def test_killing_the_parent_is_refused_and_never_passes(sandbox: Sandbox, baseline: int) -> None:
    code = ("import os, signal\n"
            "for target in (os.getppid(), 1, -1, -os.getpgid(os.getppid())):\n"
            "    try:\n"
            "        os.kill(target, signal.SIGKILL)\n"
            "    except OSError as exc:\n"
            "        print(target, type(exc).__name__, flush=True)\n"
            "os._exit(0)\n"
            "def f():\n"
            "    return 1\n")
    result = sandbox.run_tests(code, "python", "f", [{"input": "f()", "output": "1"}], SHORT)
    assert result.status is not Status.OK
    assert result.passed == 0
    plain = run_bounded(sandbox, code)
    assert plain.stdout.count("PermissionError") == 4, plain
    assert_host_clean(baseline)


@pytest.mark.parametrize("exit_line", ["import os; os._exit(0)", "raise SystemExit(0)", "import sys; sys.exit(0)",
                                       "exit(0)"])
def test_early_exit_never_passes_tests(sandbox: Sandbox, exit_line: str) -> None:
    code = f"def f(x):\n    return x\n{exit_line}\n"
    result = sandbox.run_tests(code, "python", "f", [{"input": "f(1)", "output": "1"}], SHORT)
    assert result.status is Status.RUNTIME_ERROR
    assert result.passed == 0


def test_forged_report_lines_are_ignored(sandbox: Sandbox) -> None:
    code = ("import os, json\n"
            "for fd in range(3, 10):\n"
            "    try:\n"
            "        os.write(fd, (json.dumps({'event': 'value', 'repr': 'None', 'token': ''}) + '\\n').encode())\n"
            "    except OSError:\n"
            "        pass\n"
            "os._exit(0)\n")
    result = sandbox.run_tests(code, "python", "f", [{"input": "f()", "output": "None"}], SHORT)
    assert result.status is Status.RUNTIME_ERROR


def test_double_forked_daemon_dies_with_the_run(sandbox: Sandbox, baseline: int) -> None:
    code = ("import os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        time.sleep(1000)\n"
            "    os._exit(0)\n"
            "print('parent done')\n")
    result = run_bounded(sandbox, code)
    assert result.status is Status.OK
    assert result.wall_time_s < 2.0
    assert_host_clean(baseline)
    leftovers = sandbox.execute("import os\nprint(len([p for p in os.listdir('/proc') if p.isdigit()]))")
    assert int(leftovers.stdout) <= 3


def test_deep_recursion(sandbox: Sandbox) -> None:
    limited = run_bounded(sandbox, "def f(n):\n    return f(n + 1)\nf(0)\n")
    assert limited.status is Status.RUNTIME_ERROR
    assert "RecursionError" in limited.detail
    # Recursion in C (repr of a deeply nested list) past the raised limit overflows the stack.
    unlimited = run_bounded(sandbox, "import sys\nsys.setrecursionlimit(10 ** 8)\nx = []\nfor _ in range(10 ** 6):\n"
                                     "    x = [x]\nprint(len(repr(x)))\n", limits={"timeout_s": 5.0})
    assert unlimited.status is Status.RUNTIME_ERROR
    assert unlimited.signal == "SIGSEGV"


def test_segfault(sandbox: Sandbox) -> None:
    result = run_bounded(sandbox, "import ctypes\nctypes.string_at(0)\n")
    assert result.status is Status.RUNTIME_ERROR
    assert result.signal == "SIGSEGV"
    assert result.exit_code == -11


def test_many_threads_are_capped(sandbox: Sandbox, baseline: int) -> None:
    code = ("import threading, time\n"
            "threads = [threading.Thread(target=time.sleep, args=(0.5,)) for _ in range(1000)]\n"
            "for t in threads:\n"
            "    t.start()\n")
    result = run_bounded(sandbox, code)
    assert result.status is Status.RUNTIME_ERROR
    assert "can't start new thread" in result.detail
    assert_host_clean(baseline)


def test_unicode_round_trip(sandbox: Sandbox) -> None:
    text = "héllo wörld – 世界 🎉 \u0000 end"
    result = sandbox.execute("import sys\ndata = sys.stdin.read()\nprint(data[::-1])\nprint('ünï', file=sys.stderr)\n",
                             stdin=text)
    assert result.status is Status.OK
    assert result.stdout == text[::-1] + "\n"
    assert result.stderr == "ünï\n"


def test_large_stdin_that_is_never_read(sandbox: Sandbox) -> None:
    result = run_bounded(sandbox, "print('ignored stdin')", stdin="y" * (4 << 20))
    assert result.status is Status.OK
    echoed = run_bounded(sandbox, "import sys\nprint(len(sys.stdin.read()))", stdin="y" * (4 << 20))
    assert echoed.stdout == f"{4 << 20}\n"


def test_the_run_dir_is_fresh_each_time(sandbox: Sandbox) -> None:
    for _ in range(sandbox._pool.size + 1):
        sandbox.execute("open('leftover.txt', 'w').write('x')\nopen('/tmp/other.txt', 'w').write('x')")
    result = sandbox.execute("import os\nprint(sorted(os.listdir('.')), sorted(os.listdir('/tmp')))")
    assert result.stdout == "['main.py'] ['run']\n"


def test_environment_is_clean(sandbox: Sandbox) -> None:
    os.environ["CODEINSTRUCT_TEST_SECRET"] = "s3cret"
    try:
        result = sandbox.execute("import os\nprint(sorted(os.environ))")
    finally:
        del os.environ["CODEINSTRUCT_TEST_SECRET"]
    assert "CODEINSTRUCT_TEST_SECRET" not in result.stdout
    assert "'OMP_NUM_THREADS'" in result.stdout


X86_64_DENIED = {"ptrace": 101, "mount": 165, "unshare": 272, "setns": 308, "bpf": 321, "perf_event_open": 298,
                 "keyctl": 250, "io_uring_setup": 425, "userfaultfd": 323, "process_vm_readv": 310,
                 "pidfd_open": 434, "kexec_load": 246}


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="syscall numbers below are x86_64's")
def test_seccomp_denies_the_dangerous_syscalls(sandbox: Sandbox) -> None:
    code = ("import ctypes, json\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "out = {}\n"
            f"for name, number in {X86_64_DENIED!r}.items():\n"
            "    ctypes.set_errno(0)\n"
            "    ret = libc.syscall(number, 0, 0, 0, 0, 0, 0)\n"
            "    out[name] = (ret, ctypes.get_errno())\n"
            "print(json.dumps(out))\n")
    result = run_bounded(sandbox, code)
    assert result.status is Status.OK, result
    outcome = json.loads(result.stdout)
    assert {name: tuple(value) for name, value in outcome.items()} == {name: (-1, 1) for name in X86_64_DENIED}
