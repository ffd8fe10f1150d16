"""Kubeflow Trainer TrainJob: manifests validated against the shipped schema, and the kubernetes client's
calls run against a local HTTP stand-in of the API server (no cluster is available here)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.training.config import JobsConfig, KubernetesConfig, TrainingConfig
from codeinstruct.training.jobs import JobManager, JobState
from codeinstruct.training.kubernetes import (
    TrainJobClient,
    state_from_conditions,
    trainjob_manifest,
    trainjob_name,
    validate_manifest,
)

GPU_POOL = KubernetesConfig(num_nodes=2, num_proc_per_node="4", gpus=4, namespace="ml", node_selector={"pool": "gpu"},
                            tolerations=({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},))


def job_spec(**config) -> dict:
    return {"data": "datasets/train.jsonl", "output_dir": "/data/models/run1",
            "config": {**TrainingConfig(max_steps=100).to_dict(), **config}}


def test_manifest_from_the_training_config_validates_and_carries_placement() -> None:
    manifest = trainjob_manifest("20261122-abc123", job_spec(), TrainingConfig(jobs=JobsConfig(kubernetes=GPU_POOL)))
    validate_manifest(manifest)
    trainer = manifest["spec"]["trainer"]
    assert manifest["spec"]["runtimeRef"]["name"] == "torch-distributed"
    assert trainer["numNodes"] == 2 and trainer["numProcPerNode"] == 4
    assert trainer["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == 4
    assert trainer["command"] == ["torchrun", "-m", "codeinstruct.training.worker"]
    pod = json.loads(trainer["args"][1])
    assert pod["spec"]["data"] == "/data/datasets/train.jsonl" and pod["spec"]["config"]["max_steps"] == 100
    override = manifest["spec"]["podTemplateOverrides"][0]
    assert override["targetJobs"] == [{"name": "node"}]
    assert override["spec"]["nodeSelector"] == {"pool": "gpu"}
    assert override["spec"]["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert manifest["metadata"]["namespace"] == "ml"


@pytest.mark.parametrize("mutate, where", [
    (lambda m: m["spec"]["trainer"].update(numNodes=0), "spec.trainer.numNodes"),
    (lambda m: m["spec"]["trainer"].update(numNode=2), "spec.trainer"),
    (lambda m: m["spec"]["trainer"].update(numProcPerNode="many"), "spec.trainer.numProcPerNode"),
    (lambda m: m["spec"]["podTemplateOverrides"][0]["spec"]["tolerations"][0].update(operator="Maybe"),
     "spec.podTemplateOverrides.0.spec.tolerations.0.operator"),
    (lambda m: m["metadata"].update(name="Bad_Name"), "metadata.name"),
    (lambda m: m["spec"]["trainer"]["resourcesPerNode"]["limits"].update(memory="lots"),
     "spec.trainer.resourcesPerNode.limits.memory"),
    (lambda m: m.update(kind="PyTorchJob"), "kind"),
])
def test_schema_rejects_broken_manifests(mutate, where: str) -> None:
    manifest = copy.deepcopy(trainjob_manifest("x1", job_spec(), TrainingConfig(jobs=JobsConfig(kubernetes=GPU_POOL))))
    mutate(manifest)
    with pytest.raises(InvalidInput) as error:
        validate_manifest(manifest)
    assert error.value.field == where


def test_paths_outside_the_pvc_are_rejected_and_names_are_dns_labels() -> None:
    with pytest.raises(InvalidInput, match="inside the PVC"):
        trainjob_manifest("x", {**job_spec(), "output_dir": "/tmp/out"}, TrainingConfig())
    name = trainjob_name("20261122-000000-ABCDEF" + "x" * 80)
    assert len(name) <= 63 and name == name.lower() and name[0].isalpha()


def test_conditions_map_to_job_states() -> None:
    assert state_from_conditions({}) == ("RUNNING", "submitted")
    assert state_from_conditions({"status": {"conditions": [
        {"type": "Created", "status": "True", "reason": "JobSetCreated"}]}})[0] == "RUNNING"
    assert state_from_conditions({"status": {"conditions": [
        {"type": "Complete", "status": "True", "message": "done"}]}}) == ("SUCCEEDED", "done")
    assert state_from_conditions({"status": {"conditions": [
        {"type": "Failed", "status": "True", "message": "OOMKilled"}]}}) == ("FAILED", "OOMKilled")


class FakeApiServer(BaseHTTPRequestHandler):
    """Just enough of the Kubernetes API for custom objects: create, get, delete."""

    objects: dict[str, dict] = {}
    calls: list[tuple[str, str]] = []

    def _reply(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.calls.append(("POST", self.path))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.objects[body["metadata"]["name"]] = body
        self._reply(201, body)

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path))
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        if name in self.objects:
            self._reply(200, self.objects[name])
        else:
            self._reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})

    def do_DELETE(self) -> None:
        self.calls.append(("DELETE", self.path))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.objects.pop(self.path.split("?")[0].rsplit("/", 1)[-1], None)
        self._reply(200, {"kind": "Status", "status": "Success"})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api_server() -> Iterator[str]:
    FakeApiServer.objects, FakeApiServer.calls = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApiServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def api_client(host: str):
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = host
    return client.ApiClient(configuration)


def test_client_submits_reads_conditions_and_deletes(api_server: str) -> None:
    config = TrainingConfig(jobs=JobsConfig(kubernetes=GPU_POOL))
    client = TrainJobClient(config, api_client=api_client(api_server))
    name = client.submit("20261122-abc", job_spec())
    base = "/apis/trainer.kubeflow.org/v1alpha1/namespaces/ml/trainjobs"
    assert FakeApiServer.calls[0] == ("POST", base)
    validate_manifest(FakeApiServer.objects[name])
    assert client.state(name) == ("RUNNING", "submitted")
    FakeApiServer.objects[name]["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    assert client.state(name)[0] == "SUCCEEDED"
    client.delete(name)
    assert FakeApiServer.calls[-1][0] == "DELETE" and FakeApiServer.calls[-1][1].startswith(f"{base}/{name}")
    assert client.state(name) == (None, "TrainJob not found")


def test_job_manager_runs_kubernetes_jobs_through_the_client(api_server: str, tmp_path: Path) -> None:
    config = TrainingConfig(jobs=JobsConfig(jobs_dir=tmp_path / "jobs", backend="kubernetes", kubernetes=GPU_POOL))
    manager = JobManager(config, start_monitor=False)
    manager._k8s = TrainJobClient(config, api_client=api_client(api_server))
    job = manager.create("train", job_spec())
    assert job.state == JobState.RUNNING and job.backend == "kubernetes"
    assert job.external_name in FakeApiServer.objects
    FakeApiServer.objects[job.external_name]["status"] = {
        "conditions": [{"type": "Failed", "status": "True", "message": "pod node-0 OOMKilled"}]}
    manager._tick()
    failed = manager.get(job.id)
    assert failed.state == JobState.FAILED and "OOMKilled" in failed.error
    second = manager.create("train", job_spec())
    manager.cancel(second.id)
    assert second.external_name not in FakeApiServer.objects
    manager._tick()
    assert manager.get(second.id).state == JobState.CANCELLED
