"""A worker that is damaged or cannot start is replaced; health is NOT_SERVING only while none can start.

The damage is done from the host (as root), since no run can do it any more (test_between_runs):
a changed rlimit on the worker process, a killed worker, a worker that can no longer be started.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from codeinstruct.core.config import ServerConfig
from codeinstruct.core.errors import Unavailable
from codeinstruct.core.statuses import Status
from codeinstruct.sandbox.core import Sandbox
from codeinstruct.sandbox.pool import WORKER_RECYCLES, WorkerHandle
from codeinstruct.sandbox.service import FULL_NAME, make_spec
from codeinstruct.server.bootstrap import GrpcServer
from tests.sandbox.conftest import UID_BASE, sandbox_config

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="damages the worker from the host: needs root")


@pytest.fixture
def one_worker() -> Iterator[Sandbox]:
    with Sandbox(sandbox_config(workers=1, uid_base=UID_BASE + 2)) as sandbox:
        yield sandbox


def _worker(sandbox: Sandbox) -> WorkerHandle:
    return sandbox._pool._workers[0]


def _worker_host_pid(sandbox: Sandbox) -> int:
    """The worker (pid 1 of its namespace) is the only child of the bwrap process the pool started."""
    proc = _worker(sandbox).proc
    assert proc is not None
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _recycles(reason: str) -> float:
    return WORKER_RECYCLES.labels(reason=reason)._value.get()


def test_worker_whose_state_changed_is_replaced_and_the_run_retried(one_worker: Sandbox) -> None:
    before, counted = one_worker.info()["worker_recycles"], _recycles("worker state changed since start-up")
    # As the worker's own uid (the same-uid rule a run would use, were seccomp not in the way).
    uid = one_worker.config.uid_base
    subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "prlimit",
                    f"--pid={_worker_host_pid(one_worker)}", "--nproc=3:3"], check=True)
    result = one_worker.execute("print(sum(range(10)))")
    assert (result.status, result.stdout) == (Status.OK, "45\n")
    assert one_worker.info()["worker_recycles"] == before + 1
    assert _recycles("worker state changed since start-up") == counted + 1
    assert one_worker.execute("import resource\nprint(resource.getrlimit(resource.RLIMIT_NPROC)[0])").stdout \
        == f"{one_worker.config.max_processes}\n"


def test_killed_worker_is_replaced(one_worker: Sandbox) -> None:
    before = one_worker.info()["worker_recycles"]
    os.kill(_worker_host_pid(one_worker), signal.SIGKILL)
    _worker(one_worker).proc.wait(5)  # type: ignore[union-attr]
    result = one_worker.execute("print('after')")
    assert (result.status, result.stdout) == (Status.OK, "after\n")
    assert one_worker.info()["worker_recycles"] == before + 1


def test_health_is_not_serving_only_while_no_worker_can_start(one_worker: Sandbox) -> None:
    server = GrpcServer(ServerConfig(host="127.0.0.1", port=0), [make_spec(sandbox=one_worker)])
    server.start()
    worker = _worker(one_worker)
    working = worker.config
    try:
        with grpc.insecure_channel(server.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)

            def status() -> int:
                return health.Check(health_pb2.HealthCheckRequest(service=FULL_NAME), timeout=5).status

            assert status() == health_pb2.HealthCheckResponse.SERVING
            worker.config = dataclasses.replace(working, bwrap="/nonexistent/bwrap")
            worker.stop()
            with pytest.raises(Unavailable, match="could be started"):
                one_worker.execute("print(1)")
            assert status() == health_pb2.HealthCheckResponse.NOT_SERVING
            assert one_worker.info()["healthy_workers"] == 0
            worker.config = working
            assert one_worker.execute("print(2)").stdout == "2\n"
            assert status() == health_pb2.HealthCheckResponse.SERVING
    finally:
        worker.config = working
        server.stop(grace=1.0)
