"""Sandbox core behaviour: statuses, tests and captured outputs, limits validation, languages."""

from __future__ import annotations

import time

import pytest

from codeinstruct.core.errors import InvalidInput, Unavailable
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox import pool, seccomp
from codeinstruct.sandbox.core import Sandbox
from codeinstruct.sandbox.supervision import RawRun
from codeinstruct.sandbox.types import Limits
from tests.sandbox.conftest import sandbox_config

SHORT = Limits(timeout_s=3.0)


def test_ok_with_output_and_timings(sandbox: Sandbox) -> None:
    result = sandbox.execute("import sys\nprint('out')\nprint('err', file=sys.stderr)\n")
    assert (result.status, result.exit_code, result.stdout, result.stderr) == (Status.OK, 0, "out\n", "err\n")
    assert 0 < result.wall_time_s < 5 and result.cpu_time_s >= 0


def test_runtime_error_carries_the_traceback(sandbox: Sandbox) -> None:
    result = sandbox.execute("def f():\n    return 1 / 0\nf()\n")
    assert result.status is Status.RUNTIME_ERROR and result.exit_code == 1
    assert 'File "main.py", line 2, in f' in result.detail and "ZeroDivisionError" in result.detail
    assert "harness" not in result.stderr


def test_exit_codes_and_system_exit(sandbox: Sandbox) -> None:
    assert sandbox.execute("import sys\nsys.exit(3)").exit_code == 3
    assert sandbox.execute("import sys\nsys.exit(0)").status is Status.OK
    message = sandbox.execute("import sys\nsys.exit('bye')")
    assert (message.status, message.exit_code, message.stderr) == (Status.RUNTIME_ERROR, 1, "bye\n")


def test_syntax_error(sandbox: Sandbox) -> None:
    result = sandbox.execute("def f(:\n    pass\n")
    assert result.status is Status.SYNTAX_ERROR
    assert "SyntaxError" in result.detail


def test_run_tests_with_an_entry_point(sandbox: Sandbox) -> None:
    code = "def double(x):\n    return x * 2\n"
    tests = [{"input": "double(2)", "output": "4"}, {"input": "double('a')", "output": "'a'"},
             {"input": "double(None)", "output": "None"}, {"input": "double(", "output": ""}]
    result = sandbox.run_tests(code, "python", "double", tests, SHORT)
    assert [case.status for case in result.cases] == [Status.OK, Status.WRONG_ANSWER, Status.RUNTIME_ERROR,
                                                      Status.RUNTIME_ERROR]
    assert result.cases[1].actual_output == "'aa'" and result.cases[1].expected_output == "'a'"
    assert "TypeError" in result.cases[2].detail
    assert (result.status, result.passed, result.total) == (Status.WRONG_ANSWER, 1, 4)


def test_run_tests_with_stdin_and_stdout(sandbox: Sandbox) -> None:
    code = "a, b = map(int, input().split())\nprint(a + b)\n"
    tests = [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5\n", "output": "11\n"}]
    result = sandbox.run_tests(code, "python", "", tests, SHORT)
    assert [c.status for c in result.cases] == [Status.OK, Status.WRONG_ANSWER]
    assert result.status is Status.WRONG_ANSWER


def test_all_passing_is_ok(sandbox: Sandbox) -> None:
    result = sandbox.run_tests("def f(x):\n    return [x]\n", "python", "f",
                               [{"input": "f(1)", "output": "[1]"}, {"input": "f('x')", "output": "['x']"}])
    assert (result.status, result.passed, result.total) == (Status.OK, 2, 2)


def test_capture_outputs(sandbox: Sandbox) -> None:
    outputs = sandbox.capture_outputs("def f(s):\n    print('noise')\n    return s[::-1]\n", "python", "f",
                                      ["f('abc')", "f(1)"], SHORT)
    assert [(o.status, o.output) for o in outputs] == [(Status.OK, "'cba'"), (Status.RUNTIME_ERROR, "")]
    programs = sandbox.capture_outputs("print(input().upper())", "python", "", ["ab", "c"], SHORT)
    assert [o.output for o in programs] == ["AB\n", "C\n"]


def test_limits_are_validated(sandbox: Sandbox) -> None:
    for limits, field in [({"timeout_s": 1000}, "limits.timeout_s"), ({"memory_mb": 10 ** 6}, "limits.memory_mb"),
                          ({"max_output_bytes": 10}, "limits.max_output_bytes"),
                          ({"timeout_s": -1}, "limits.timeout_s"),
                          ({"cpu": 1}, "limits")]:
        with pytest.raises(InvalidInput) as caught:
            sandbox.execute("print(1)", limits=limits)
        assert caught.value.field == field
    with pytest.raises(InvalidInput) as caught:
        sandbox.execute("print(1)", language="cobol")
    assert caught.value.field == "language"
    with pytest.raises(InvalidInput):
        sandbox.run_tests("x", "cpp", "f", [{"input": "f()", "output": ""}])
    with pytest.raises(InvalidInput):
        sandbox.execute("x" * (sandbox.config.max_code_bytes + 1))


def test_execute_batch_streams_every_index(sandbox: Sandbox) -> None:
    runs = [{"code": f"print({i})"} for i in range(10)] + [{"code": "raise ValueError", "language": "python"}]
    results = dict(sandbox.execute_batch(runs, concurrency=2))
    assert sorted(results) == list(range(11))
    assert all(results[i].stdout == f"{i}\n" for i in range(10))
    assert results[10].status is Status.RUNTIME_ERROR
    with pytest.raises(InvalidInput) as caught:
        list(sandbox.execute_batch([{"code": "1"}, {"nope": 1}]))
    assert caught.value.field == "runs[1]"


def test_wall_clock_starts_when_the_run_starts_not_when_queued(sandbox: Sandbox) -> None:
    runs = [{"code": "import time\ntime.sleep(0.4)", "limits": {"timeout_s": 1.0}} for _ in range(6)]
    started = time.monotonic()
    results = dict(sandbox.execute_batch(runs, concurrency=6))
    assert time.monotonic() - started >= 1.1  # 6 runs on 2 workers queue up ...
    assert all(r.status is Status.OK and r.wall_time_s < 0.9 for r in results.values())  # ... but none timed out


def test_info(sandbox: Sandbox) -> None:
    info = sandbox.info()
    assert "python" in info["languages"] and info["workers"] == 2
    assert "seccomp" in info["isolation_layers"] and "unprivileged-uid" in info["isolation_layers"]
    assert info["max_limits"].timeout_s == sandbox.config.max_timeout_s


def test_refuses_to_start_when_a_layer_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    spare = sandbox_config().uid_base + 2
    with pytest.raises(Unavailable, match=r"bubblewrap .* is not installed"):
        Sandbox(sandbox_config(workers=1, uid_base=spare, bwrap="/nonexistent/bwrap"))

    def no_seccomp() -> bytes:
        raise ImportError("no libseccomp")

    with monkeypatch.context() as patch:
        patch.setattr(seccomp, "program", no_seccomp)
        with pytest.raises(Unavailable, match="seccomp"):
            Sandbox(sandbox_config(workers=1, uid_base=spare))
    # A namespace that silently does not happen (here: the network one) is caught by the self-check.
    command = pool.WorkerHandle.command
    monkeypatch.setattr(pool.WorkerHandle, "command",
                        lambda self, fd: [part for part in command(self, fd) if part != "--unshare-net"])
    with pytest.raises(Unavailable, match="network namespace"):
        Sandbox(sandbox_config(workers=1, uid_base=spare))


def test_isolation_none_is_explicit_and_still_limited() -> None:
    with Sandbox(sandbox_config(isolation="none", workers=1)) as plain:
        assert plain.layers == ("rlimits",)
        assert plain.execute("print(1)").stdout == "1\n"
        assert plain.execute("while True:\n    pass", limits={"timeout_s": 1}).status is Status.TIMEOUT


def test_classification_of_kills(sandbox: Sandbox) -> None:
    python = sandbox.recipes["python"]
    limit = 512 << 20
    oom = RawRun(signal=9, max_rss_kb=(500 << 20) // 1024, memory_limit_bytes=limit)
    assert sandbox.classify(oom, python).status is Status.MEMORY_EXCEEDED  # an out-of-memory kill
    killed = RawRun(signal=9, max_rss_kb=20_000, memory_limit_bytes=limit)
    assert (sandbox.classify(killed, python).status, sandbox.classify(killed, python).signal) == \
        (Status.RUNTIME_ERROR, "SIGKILL")
    assert sandbox.classify(RawRun(signal=9, timed_out=True), python).status is Status.TIMEOUT
    assert sandbox.classify(RawRun(signal=24), python).status is Status.TIMEOUT  # SIGXCPU: the CPU limit
    assert sandbox.classify(RawRun(worker_lost=True, error="gone"), python).status is Status.SANDBOX_ERROR
    real = sandbox.execute("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert (real.status, real.signal) == (Status.RUNTIME_ERROR, "SIGKILL")
