"""Heavy sandbox checks (run by `make test`): many mixed runs, and killing the server mid-run."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest

from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.core import Sandbox
from tests.sandbox.conftest import UID_BASE, processes_of_uids, sandbox_uids, wait_for_count

MIXED: list[tuple[dict, Status]] = [
    ({"code": "print(sum(range(100)))"}, Status.OK),
    ({"code": "import sys\nprint(sys.stdin.read()[::-1])", "stdin": "hello"}, Status.OK),
    ({"code": "raise KeyError('k')"}, Status.RUNTIME_ERROR),
    ({"code": "def f(:\n  pass"}, Status.SYNTAX_ERROR),
    ({"code": "x = bytearray(8 * 1024 ** 3)"}, Status.MEMORY_EXCEEDED),
    ({"code": "import sys\nsys.stdout.write('y' * 5000)", "limits": {"max_output_bytes": 1024}},
     Status.OUTPUT_TRUNCATED),
    ({"code": "import os\nos._exit(0)"}, Status.OK),
    ({"code": "import ctypes\nctypes.string_at(0)"}, Status.RUNTIME_ERROR),
    ({"code": "import os\nif os.fork() == 0:\n    os._exit(0)\nos.wait()\nprint('forked')"}, Status.OK),
    ({"code": "import threading\nt = threading.Thread(target=print, args=('t',))\nt.start()\nt.join()"}, Status.OK),
]
SLOW_RUN = ({"code": "while True:\n    pass", "limits": {"timeout_s": 0.5}}, Status.TIMEOUT)


@pytest.mark.slow
def test_a_thousand_mixed_runs_have_stable_verdicts(sandbox: Sandbox, baseline: int) -> None:
    plan = [MIXED[i % len(MIXED)] for i in range(990)] + [SLOW_RUN] * 10
    runs = [run for run, _ in plan]
    started = time.monotonic()
    results = dict(sandbox.execute_batch(runs, concurrency=os.cpu_count() or 2))
    elapsed = time.monotonic() - started
    assert sorted(results) == list(range(1000))
    statuses = collections.Counter(result.status for result in results.values())
    assert statuses[Status.SANDBOX_ERROR] == 0, statuses
    wrong = [(i, plan[i][1], results[i].status, results[i].detail[:200]) for i in range(1000)
             if results[i].status is not plan[i][1]]
    assert not wrong, wrong[:5]
    print(f"1000 mixed runs in {elapsed:.1f}s: {dict(statuses)}")
    assert wait_for_count(sandbox_uids(), baseline) == baseline


SERVER = """
import sys, time
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox
sandbox = Sandbox(SandboxConfig(workers=2, uid_base={uid_base}))
print("ready", flush=True)
sandbox.execute("import os, time\\nfor _ in range(5):\\n    os.fork()\\ntime.sleep(1000)", limits={{"timeout_s": 60}})
"""


@pytest.mark.slow
def test_killing_the_server_mid_run_leaves_no_orphan() -> None:
    uid_base = UID_BASE + 100
    uids = sandbox_uids(2, uid_base)
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(uid_base=uid_base)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        stop = time.monotonic() + 10
        # Two idle workers are 2 processes each (bwrap, the worker as its namespace's init); the run's
        # fork tree (up to 2**5, capped by RLIMIT_NPROC) is up with at least 16 processes.
        while len(processes_of_uids(uids)) < 4 + 16 and time.monotonic() < stop:
            time.sleep(0.05)
        assert len(processes_of_uids(uids)) >= 4 + 16
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert wait_for_count(uids, 0, timeout_s=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
