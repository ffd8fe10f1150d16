"""Each service as a third-party client meets it: `codeinstruct serve X` in its own process, and grpcurl
(a tool we did not write) with server reflection only: list, describe, then one RPC per service using
the example request from docs/api.md, plus a bad request that must come back INVALID_ARGUMENT with
its ErrorInfo reason and field path.

grpcurl comes from scripts/setup/25-grpcurl.sh (run by `make setup`); the tests skip without it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
GRPCURL = ROOT / ".tools" / "bin" / "grpcurl"
DOC = ROOT / "docs" / "api.md"

pytestmark = pytest.mark.skipif(not GRPCURL.is_file(), reason="grpcurl missing: run scripts/setup/25-grpcurl.sh")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def doc_example(rpc: str) -> str:
    """The request body docs/api.md shows for `rpc` ("codeinstruct.v1.SandboxService/Execute")."""
    match = re.search(rf"grpcurl -plaintext -d @ localhost:\d+ {re.escape(rpc)} <<'EOF'\n(.*?)\nEOF", DOC.read_text(),
                      re.S)
    assert match, f"docs/api.md has no example for {rpc}"
    return match.group(1)


class Served:
    """`codeinstruct serve <service>` on a free port, stopped with SIGTERM at the end."""

    def __init__(self, service: str, config: dict, tmp: Path):
        self.port = _free_port()
        config_file = tmp / f"{service}.yaml"
        config_file.write_text(yaml.safe_dump(config))
        self.log = tmp / f"{service}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "codeinstruct", "serve", service, "--host", "127.0.0.1", "--port", str(self.port),
             "--config", str(config_file)], stdout=self.log.open("w"), stderr=subprocess.STDOUT, env=env)
        self.address = f"127.0.0.1:{self.port}"
        self._wait_serving()

    def _wait_serving(self, timeout_s: float = 240.0) -> None:
        end = time.monotonic() + timeout_s
        with grpc.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < end:
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited {self.process.returncode}:\n{self.log.read_text()}")
                try:
                    status = stub.Check(health_pb2.HealthCheckRequest(), timeout=2).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.3)
        raise AssertionError(f"server not SERVING after {timeout_s}s:\n{self.log.read_text()}")

    def grpcurl(self, *args: str, data: str | None = None) -> subprocess.CompletedProcess[str]:
        command = [str(GRPCURL), "-plaintext", "-format-error"]
        if data is not None:
            command += ["-d", "@"]
        command += [*args[:-1], self.address, args[-1]] if args and "/" in args[-1] else [self.address, *args]
        return subprocess.run(command, input=data, capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    tmp = tmp_path_factory.mktemp("reflection")
    sandbox = {"workers": 2, "uid_base": 63000 + (os.getpid() % 100) * 4, "default_timeout_s": 5.0}
    configs = {
        "sandbox": {"sandbox": sandbox},
        "scoring": {"sandbox": {**sandbox, "uid_base": sandbox["uid_base"] + 400}},
        "training": {"training": {"jobs": {"jobs_dir": str(tmp / "jobs")}}},
    }
    started: dict[str, Served] = {}
    try:
        for service, config in configs.items():
            started[service] = Served(service, config, tmp)
        yield started
    finally:
        for served in started.values():
            served.stop()


SERVICES = {"sandbox": "SandboxService", "scoring": "ScoringService", "training": "TrainingService"}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_list_and_describe_by_reflection(servers: dict[str, Served], service: str) -> None:
    served = servers[service]
    listed = served.grpcurl("list")
    assert listed.returncode == 0, listed.stderr
    names = listed.stdout.split()
    assert f"codeinstruct.v1.{SERVICES[service]}" in names
    assert "grpc.health.v1.Health" in names and "grpc.reflection.v1.ServerReflection" in names
    described = served.grpcurl("describe", f"codeinstruct.v1.{SERVICES[service]}")
    assert described.returncode == 0, described.stderr
    assert "rpc " in described.stdout


# One RPC per service, with the request docs/api.md shows, and what its answer must contain.
CALLS = {
    "sandbox": ("codeinstruct.v1.SandboxService/Execute",
                lambda answer: answer["result"]["status"] == "SANDBOX_STATUS_OK"),
    "training": ("codeinstruct.v1.TrainingService/ListJobs", lambda answer: answer.get("jobs", []) == []),
    "scoring": ("codeinstruct.v1.ScoringService/Rank", lambda answer: "records" in answer or "summary" in answer),
}


@pytest.mark.parametrize("service", sorted(CALLS))
def test_the_documented_example_answers(servers: dict[str, Served], service: str) -> None:
    rpc, accept = CALLS[service]
    result = servers[service].grpcurl(rpc, data=doc_example(rpc))
    assert result.returncode == 0, result.stderr
    answers = [json.loads(chunk) for chunk in re.split(r"(?<=})\n(?={)", result.stdout.strip()) if chunk]
    assert answers and accept(answers[0]), result.stdout


# A bad request per service: grpcurl shows the status code and, with -format-error, the details.
BAD = {
    "sandbox": ("codeinstruct.v1.SandboxService/Execute", "{}", "FIELD_REQUIRED", "code"),
    "training": ("codeinstruct.v1.TrainingService/GetJob", '{"name": "foo"}', "INVALID_NAME", "name"),
    "scoring": ("codeinstruct.v1.ScoringService/Dedup", '{"options": {"method": 7}}', "UNKNOWN_ENUM_VALUE",
                "options.method"),
}


@pytest.mark.parametrize("service", sorted(BAD))
def test_a_bad_request_is_invalid_argument_with_details(servers: dict[str, Served], service: str) -> None:
    rpc, body, reason, field = BAD[service]
    result = servers[service].grpcurl(rpc, data=body)
    assert result.returncode != 0
    error = json.loads(result.stdout or result.stderr)
    assert error["code"] == 3, error  # INVALID_ARGUMENT
    details = {d["@type"].rsplit(".", 1)[-1]: d for d in error.get("details", [])}
    assert details["ErrorInfo"]["reason"] == reason
    violations = details["BadRequest"].get("fieldViolations") or details["BadRequest"]["field_violations"]
    assert field in [v["field"] for v in violations]
    health = servers[service].grpcurl("grpc.health.v1.Health/Check", data="{}")
    assert json.loads(health.stdout)["status"] == "SERVING"


@pytest.mark.slow  # loads the embedded model in the server process
def test_generation_by_reflection_only(tmp_path: Path) -> None:
    served = Served("generation", {}, tmp_path)
    try:
        listed = served.grpcurl("list")
        assert "codeinstruct.v1.GenerationService" in listed.stdout.split(), listed.stderr
        rpc = "codeinstruct.v1.GenerationService/CountTokens"
        result = served.grpcurl(rpc, data=doc_example(rpc))
        assert result.returncode == 0, result.stderr
        counts = json.loads(result.stdout)["counts"]
        assert counts and all(count > 0 for count in counts)
        bad = served.grpcurl("codeinstruct.v1.GenerationService/Generate", data='{"prompts": []}')
        error = json.loads(bad.stdout or bad.stderr)
        assert error["code"] == 3 and "prompts" in error["message"], error
    finally:
        served.stop()
