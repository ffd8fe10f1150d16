"""One run must never see, change or break another run on the same warm worker.

A real SandboxService with ONE worker (so every run after an attack lands on the attacked worker),
once in-process as root (worker uid from uid_base) and once as a separate server process running as
a non-root uid (the chart's deployment). After each hostile program the victim (tenants.VICTIM) runs
and must report exactly what it reported on the fresh worker, with exact output: no residue in
files, /dev, IPC or processes; limits, scheduling and seccomp unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from codeinstruct.core.config import ServerConfig
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.client import SandboxClient
from codeinstruct.sandbox.core import Sandbox
from codeinstruct.sandbox.service import FULL_NAME, make_spec
from codeinstruct.server.bootstrap import GrpcServer
from tests.sandbox import tenants
from tests.sandbox.conftest import UID_BASE, sandbox_config

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
NONROOT_UID = UID_BASE + 3  # outside the range the shared fixture's workers use
SYSTEM_PYTHON = Path("/usr/bin/python3.11")


@dataclass
class Tenancy:
    client: SandboxClient
    address: str
    victim_baseline: dict
    logs: list[str]
    server_pid: int | None = None  # the server's own process, when it runs in one


def _site_packages() -> Path:
    return next(Path(REPO, ".venv/lib").glob("python3*/site-packages"))


def _nonroot_unavailable() -> str:
    if os.geteuid() != 0:
        return "needs root to start the server as another uid"
    if not SYSTEM_PYTHON.is_file() or not shutil.which("setpriv"):
        return f"needs {SYSTEM_PYTHON} and setpriv (util-linux)"
    for path in (REPO / "services", _site_packages()):
        probe = subprocess.run(["setpriv", f"--reuid={NONROOT_UID}", f"--regid={NONROOT_UID}", "--clear-groups",
                                "test", "-r", str(path / "codeinstruct" if path.name == "services" else path)])
        if probe.returncode != 0:
            return f"{path} is not readable by uid {NONROOT_UID} (the checkout must be world-readable)"
    return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_serving(address: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    stop = time.monotonic() + timeout_s
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < stop:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                if stub.Check(health_pb2.HealthCheckRequest(service=FULL_NAME), timeout=1).status == 1:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise AssertionError("server did not become SERVING")


class _Collect(logging.Handler):
    def __init__(self, into: list[str]):
        super().__init__()
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@pytest.fixture(scope="module", params=["root", "nonroot"])
def tenancy(request: pytest.FixtureRequest) -> Iterator[Tenancy]:
    logs: list[str] = []
    if request.param == "root":
        handler = _Collect(logs)
        logging.getLogger("codeinstruct").addHandler(handler)
        sandbox = Sandbox(sandbox_config(workers=1, uid_base=UID_BASE + 2))
        server = GrpcServer(ServerConfig(host="127.0.0.1", port=0), [make_spec(sandbox=sandbox)])
        server.start()
        try:
            with SandboxClient(server.address) as client:
                yield Tenancy(client, server.address, _victim(client), logs)
        finally:
            server.stop(grace=1.0)
            sandbox.close()
            logging.getLogger("codeinstruct").removeHandler(handler)
        return
    reason = _nonroot_unavailable()
    if reason:
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="tenancy-"))
    folder.chmod(0o755)
    config = folder / "config.yaml"
    config.write_text("sandbox:\n  workers: 1\n")
    config.chmod(0o644)
    port = _free_port()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(folder), "LANG": "C.UTF-8",
           "PYTHONPATH": f"{REPO / 'services'}:{_site_packages()}"}
    process = subprocess.Popen(
        ["setpriv", f"--reuid={NONROOT_UID}", f"--regid={NONROOT_UID}", "--clear-groups", str(SYSTEM_PYTHON), "-c",
         "from codeinstruct.cli.main import main; main()", "serve", "sandbox", "--host", "127.0.0.1",
         "--port", str(port), "--config", str(config)],
        env=env, cwd=str(folder), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    address = f"127.0.0.1:{port}"
    try:
        _wait_serving(address, process)
        with SandboxClient(address) as client:
            yield Tenancy(client, address, _victim(client), logs, process.pid)
    finally:
        process.terminate()
        try:
            _, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        logs.extend(err.decode(errors="replace").splitlines())
        shutil.rmtree(folder, ignore_errors=True)


def _victim(client: SandboxClient) -> dict:
    result = client.execute(tenants.VICTIM, limits={"timeout_s": 10})
    assert result.status is Status.OK, result
    report, last = result.stdout.splitlines()
    assert last == "victim 42"
    return json.loads(report)


def _assert_unharmed(tenancy: Tenancy, after: str) -> None:
    seen = _victim(tenancy.client)
    baseline = tenancy.victim_baseline
    changed = {key: (baseline[key], seen[key]) for key in baseline if seen[key] != baseline[key]}
    assert not changed, f"after {after}: {changed}"
    cpp = tenancy.client.execute(tenants.CPP_VICTIM, "cpp", stdin="6 7")
    assert (cpp.status, cpp.stdout) == (Status.OK, "42\n"), f"after {after}: {cpp}"


@pytest.mark.parametrize("attack", sorted(tenants.ATTACKS))
def test_attack_leaves_no_trace_for_the_next_run(tenancy: Tenancy, attack: str) -> None:
    result = tenancy.client.execute(tenants.ATTACKS[attack], limits={"timeout_s": 10})
    assert result.status is not Status.SANDBOX_ERROR, result
    if result.status is Status.OK and attack != "processes":
        done = json.loads(result.stdout)
        allowed = {"tmp_file", "tmp_fill", "shm_file", "fifo", "dir_000", "chmod_program", "chmod_run",
                   "chmod_tmp", "chmod_shm", "sysv_sem", "posix_mq", "posix_shm"}  # the run's own, discarded
        breaches = {name: outcome for name, outcome in done.items() if outcome == "ok" and name not in allowed}
        assert not breaches, f"{attack}: {breaches}"
    _assert_unharmed(tenancy, attack)


def test_no_earlier_run_is_readable_in_memory(tenancy: Tenancy) -> None:
    marker = secrets.token_hex(16)
    secret = f"SECRET = 'LEAKME_{marker}'\n" + "x = 1\n" * 2000 + "print(len(SECRET))\n"
    for language, code in (("python", secret), ("cpp", f'// LEAKME_{marker}\n' + tenants.CPP_VICTIM)):
        tenancy.client.execute(code, language, stdin="1 2")
    scan = r'''
import json, re
found, tokens = set(), set()
for line in open("/proc/self/maps"):
    fields = line.split()
    if "r" not in fields[1] or (len(fields) > 5 and fields[5].startswith("[v")):
        continue
    start, end = (int(x, 16) for x in fields[0].split("-"))
    try:
        with open("/proc/self/mem", "rb") as mem:
            mem.seek(start)
            data = mem.read(end - start)
    except (OSError, OverflowError, ValueError):
        continue
    found.update(m.decode() for m in re.findall(rb"LEAK" + rb"ME_([0-9a-f]{32})", data))
    tokens.update(m.decode() for m in re.findall(rb'"token": "([0-9a-f]{32})"', data))
print(json.dumps({"markers": sorted(found), "tokens": sorted(tokens)}))
'''
    result = tenancy.client.execute(scan, limits={"timeout_s": 20})
    assert result.status is Status.OK, result
    seen = json.loads(result.stdout)
    assert marker not in seen["markers"]
    assert len(seen["tokens"]) <= 1  # at most this run's own token: never an earlier run's


@pytest.mark.parametrize("attack", sorted(tenants.MEMORY_ATTACKS))
def test_memory_limit_holds_on_every_path(tenancy: Tenancy, attack: str) -> None:
    result = tenancy.client.execute(tenants.MEMORY_ATTACKS[attack], limits={"timeout_s": 15, "memory_mb": 256})
    if attack == "memfd":
        assert json.loads(result.stdout) == {"memfd": "PermissionError"}
    else:
        assert result.status is Status.MEMORY_EXCEEDED, result
    _assert_unharmed(tenancy, f"memory:{attack}")


def test_worker_pipes_never_reach_the_service_logs(tenancy: Tenancy) -> None:
    tenancy.client.execute(tenants.ATTACKS["worker_memory"])
    time.sleep(0.5)
    assert not [line for line in tenancy.logs if "FORGED" in line]


def test_ordinary_large_and_odd_input_is_never_a_sandbox_error(tenancy: Tenancy) -> None:
    client = tenancy.client
    info = client.info()
    big = "x = '" + "a" * ((1 << 20) - 64) + "'\nprint(len(x))\n"
    assert client.execute(big).stdout == f"{(1 << 20) - 64}\n"
    cjk = "s = '" + "漢字" * 60000 + "'\nprint(len(s))\n"  # 360 KB of UTF-8; 720 KB as JSON escapes
    assert client.execute(cjk).stdout == "120000\n"
    stdin = "y" * (16 << 20)
    echoed = client.execute("import sys\nprint(len(sys.stdin.read()))\n", stdin=stdin, limits={"timeout_s": 20})
    assert echoed.stdout == f"{16 << 20}\n"
    with pytest.raises(InvalidInput):
        client.execute("#" * ((1 << 20) + 1))
    # Compile-stage failures are the program's: CPython's parser gives MemoryError for deep nesting
    # (MEMORY_EXCEEDED, as `python main.py` would), its compiler RecursionError (SYNTAX_ERROR).
    nested = client.execute("x = " + "-" * 100000 + "1\n")
    assert nested.status is Status.MEMORY_EXCEEDED and "compiling" in nested.detail
    long_sum = client.execute("x = " + "+".join(["1"] * 200000) + "\n")
    assert long_sum.status is Status.SYNTAX_ERROR and "recursion" in long_sum.detail.lower()
    long_class = "public class " + "A" * 300 + " { public static void main(String[] a) {} }\n"
    if "java" in info["languages"]:
        assert client.execute(long_class, "java").status is Status.SYNTAX_ERROR
    assert client.execute("print('still fine')").stdout == "still fine\n"
    assert client.info()["worker_recycles"] == info["worker_recycles"]


def test_responses_stay_under_the_message_limit(tenancy: Tenancy) -> None:
    cap = 16 << 20
    invalid = f"import os\nos.write(1, b'\\xff' * {cap})\nos.write(2, b'\\xfe' * {cap})\n"
    result = tenancy.client.execute(invalid, limits={"timeout_s": 20, "max_output_bytes": cap})
    assert result.status is Status.OK, result.detail
    assert len(result.stdout.encode()) <= cap and len(result.stderr.encode()) <= cap
    assert "not valid UTF-8" in result.detail
    runs = [{"code": invalid, "limits": {"timeout_s": 20, "max_output_bytes": cap}} for _ in range(3)]
    runs.append({"code": "print('last')"})
    results = dict(tenancy.client.execute_batch(runs, concurrency=1))
    assert sorted(results) == [0, 1, 2, 3] and results[3].stdout == "last\n"
    loud = "def f(i):\n    return 'z' * (8 << 20)\n"
    tests = [{"input": f"f({i})", "output": "''"} for i in range(8)]  # 64 MiB of output for a 48 MiB budget
    outcome = tenancy.client.run_tests(loud, "python", "f", tests, limits={"max_output_bytes": cap})
    assert outcome.total == 8 and outcome.status is Status.WRONG_ANSWER
    assert sum(len(case.actual_output) for case in outcome.cases) <= 48 << 20
    assert re.search("response budget", outcome.cases[0].detail)


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


def test_run_tests_keeps_one_case_output_at_a_time(tenancy: Tenancy) -> None:
    if tenancy.server_pid is None:
        pytest.skip("the in-process server shares its memory with the test runner; measured on the server process")
    before = _peak_rss_mb(tenancy.server_pid)
    loud = "def f(i):\n    return 'q' * (12 << 20)\n"
    tests = [{"input": f"f({i})", "output": "''"} for i in range(6)]
    outcome = tenancy.client.run_tests(loud, "python", "f", tests, limits={"max_output_bytes": 16 << 20})
    assert outcome.total == 6
    grown = _peak_rss_mb(tenancy.server_pid) - before  # holding every case's output would be > 300 MiB
    assert grown < 200, f"the server's peak grew by {grown:.0f} MiB for 6 cases of 12 MiB"


def test_innocent_runs_stay_correct_under_attack_load(tenancy: Tenancy) -> None:
    attacks = [code for code in tenants.ATTACKS.values() for _ in range(3)]
    runs: list[dict] = []
    expected: dict[int, str] = {}
    for i in range(120):
        if i % 6 == 0 and attacks:
            runs.append({"code": attacks.pop(), "limits": {"timeout_s": 10}})
        else:
            expected[len(runs)] = f"{i * i}\n"
            runs.append({"code": f"import os\nprint({i} * {i})\nassert not os.path.exists('/tmp/planted')\n"})
    runs += [{"code": code, "limits": {"timeout_s": 10}} for code in attacks]
    before = tenancy.client.info()["worker_recycles"]
    results = dict(tenancy.client.execute_batch(runs, concurrency=2))  # type: ignore[arg-type]
    assert sorted(results) == list(range(len(runs)))
    assert not [i for i, r in results.items() if r.status is Status.SANDBOX_ERROR]
    wrong = {i: results[i] for i, out in expected.items() if (results[i].status, results[i].stdout) != (Status.OK, out)}
    assert not wrong, list(wrong.items())[:3]
    assert tenancy.client.info()["worker_recycles"] == before
    _assert_unharmed(tenancy, "a mixed batch")


def test_malformed_request_is_invalid_argument(tenancy: Tenancy) -> None:
    with grpc.insecure_channel(tenancy.address) as channel:
        execute = channel.unary_unary(f"/{FULL_NAME}/Execute", request_serializer=lambda raw: raw,
                                      response_deserializer=lambda raw: raw)
        with pytest.raises(grpc.RpcError) as caught:
            execute(b"\x0a\xff\xff\xff\xff\x0f", timeout=10)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "ExecuteRequest" in (caught.value.details() or "")
        batch = channel.unary_stream(f"/{FULL_NAME}/ExecuteBatch", request_serializer=lambda raw: raw,
                                     response_deserializer=lambda raw: raw)
        with pytest.raises(grpc.RpcError) as caught:
            list(batch(b"\x12\x05abc", timeout=10))
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert tenancy.client.execute("print(1)").stdout == "1\n"
