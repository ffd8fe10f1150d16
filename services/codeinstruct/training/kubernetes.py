"""Scale-out: a training job as a Kubeflow Trainer `TrainJob` (torch-distributed runtime).

`trainjob_manifest()` builds the TrainJob from the same TrainingConfig a local run uses: the
trainer image runs `torchrun -m codeinstruct.training.worker --spec-json ...` on `numNodes` pods
with `numProcPerNode` processes each (torchrun reads the PET_* variables the runtime sets), the
resources per node, and the GPU pool's nodeSelector/tolerations plus the data PVC through
`podTemplateOverrides`. Data and output paths are paths inside the PVC mount. The manifest is
checked against `trainjob.schema.json` (written from the TrainJob CRD's fields for the parts we
generate; unknown fields are rejected so a typo fails before it reaches a cluster).

`TrainJobClient` submits, reads and deletes TrainJobs through the `kubernetes` client's
CustomObjectsApi and maps the TrainJob conditions (Complete, Failed) to job states. No API server
is available in this repository's tests: they validate manifests and run the client against a
local HTTP stand-in of the API server.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from importlib import resources
from typing import Any

from codeinstruct.core.errors import InvalidInput, Unavailable
from codeinstruct.training.config import KubernetesConfig, TrainingConfig

logger = logging.getLogger(__name__)

GROUP = "trainer.kubeflow.org"
VERSION = "v1alpha1"
PLURAL = "trainjobs"
KIND = "TrainJob"
CONTAINER = "node"  # the trainer job/container name in Kubeflow's torch-distributed runtime
SCHEMA_FILE = "trainjob.schema.json"


@functools.cache
def schema() -> dict[str, Any]:
    text = resources.files("codeinstruct.training").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return dict(json.loads(text))


def validate_manifest(manifest: dict[str, Any]) -> None:
    """Raise InvalidInput naming the first schema violation (JSON path and message)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(root)"
        raise InvalidInput(f"TrainJob manifest is invalid at {where}: {first.message}", field=where)


def trainjob_name(job_id: str) -> str:
    """A DNS-1035 label (lowercase, starts with a letter, <= 63 chars)."""
    name = re.sub(r"[^a-z0-9-]", "-", f"codeinstruct-train-{job_id}".lower()).strip("-")
    return name[:63].rstrip("-")


def _in_pvc(path: str | None, k8s: KubernetesConfig, field: str) -> str | None:
    if path is None:
        return None
    if path.startswith("/"):
        if not path.startswith(k8s.mount_path.rstrip("/") + "/"):
            raise InvalidInput(f"{field} {path!r} must be inside the PVC mount {k8s.mount_path} "
                               "(or relative to it) for the kubernetes backend", field=field)
        return path
    return f"{k8s.mount_path.rstrip('/')}/{path}"


def trainjob_manifest(job_id: str, spec: dict[str, Any], config: TrainingConfig) -> dict[str, Any]:
    """The TrainJob for a training job spec {data, output_dir, config}; validated before it is returned."""
    k8s = config.jobs.kubernetes
    train_config = dict(spec.get("config") or {})
    stages = train_config.get("stages") or []
    train_config["stages"] = [{**s, "data": _in_pvc(s.get("data"), k8s, "stages.data")} for s in stages]
    train_config.pop("jobs", None)  # where jobs run is the service's business, not the trainer's
    pod_spec = {
        "kind": "train",
        "spec": {"data": _in_pvc(spec.get("data"), k8s, "data"),
                 "output_dir": _in_pvc(spec["output_dir"], k8s, "output_dir"), "config": train_config},
    }
    resources_: dict[str, Any] = {"cpu": k8s.cpu, "memory": k8s.memory}
    if k8s.gpus:
        resources_["nvidia.com/gpu"] = k8s.gpus
    proc = k8s.num_proc_per_node
    override_spec: dict[str, Any] = {
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": k8s.pvc}}],
        "containers": [{"name": CONTAINER, "volumeMounts": [{"name": "data", "mountPath": k8s.mount_path}]}],
    }
    if k8s.node_selector:
        override_spec["nodeSelector"] = dict(k8s.node_selector)
    if k8s.tolerations:
        override_spec["tolerations"] = [dict(t) for t in k8s.tolerations]
    manifest = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "metadata": {
            "name": trainjob_name(job_id),
            "namespace": k8s.namespace,
            "labels": {"app.kubernetes.io/name": "codeinstruct", "app.kubernetes.io/component": "training",
                       "codeinstruct.dev/job-id": job_id[:63]},
        },
        "spec": {
            "runtimeRef": {"name": k8s.runtime, "apiGroup": GROUP, "kind": "ClusterTrainingRuntime"},
            "trainer": {
                "image": k8s.image,
                "command": ["torchrun", "-m", "codeinstruct.training.worker"],
                "args": ["--spec-json", json.dumps(pod_spec, sort_keys=True)],
                "env": [{"name": "CODEINSTRUCT_CACHE_DIR", "value": f"{k8s.mount_path.rstrip('/')}/cache"},
                        {"name": "HF_HUB_OFFLINE", "value": "1"}],
                "numNodes": k8s.num_nodes,
                "numProcPerNode": int(proc) if proc.isdigit() else proc,
                "resourcesPerNode": {"requests": resources_, "limits": dict(resources_)},
            },
            "podTemplateOverrides": [{"targetJobs": [{"name": CONTAINER}], "spec": override_spec}],
        },
    }
    validate_manifest(manifest)
    return manifest


def state_from_conditions(obj: dict[str, Any]) -> tuple[str | None, str]:
    """(job state, message) from a TrainJob's status conditions."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    active = [c for c in conditions if str(c.get("status")) == "True"]
    for condition in active:
        if condition.get("type") == "Failed":
            return "FAILED", str(condition.get("message") or condition.get("reason") or "TrainJob failed")
        if condition.get("type") == "Complete":
            return "SUCCEEDED", str(condition.get("message") or "TrainJob completed")
    if active:
        last = active[-1]
        return "RUNNING", f"{last.get('type')}: {last.get('message') or last.get('reason') or ''}".strip()
    return "RUNNING", "submitted"


class TrainJobClient:
    """Submit, follow and delete TrainJobs with the kubernetes client (in-cluster or kubeconfig)."""

    def __init__(self, config: TrainingConfig, api_client: Any = None):
        self.config = config
        self.namespace = config.jobs.kubernetes.namespace
        if api_client is None:
            api_client = self._default_api_client()
        from kubernetes import client

        self.api = client.CustomObjectsApi(api_client)

    @staticmethod
    def _default_api_client() -> Any:
        from kubernetes import client
        from kubernetes import config as kube_config

        try:
            kube_config.load_incluster_config()
        except kube_config.ConfigException:
            try:
                kube_config.load_kube_config()
            except (kube_config.ConfigException, OSError) as exc:
                raise Unavailable(f"no Kubernetes API server configured (in-cluster or kubeconfig): {exc}") from None
        return client.ApiClient()

    def submit(self, job_id: str, spec: dict[str, Any]) -> str:
        manifest = trainjob_manifest(job_id, spec, self.config)
        created = self.api.create_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL,
                                                           manifest)
        name = str(created["metadata"]["name"])
        logger.info("submitted TrainJob %s/%s", self.namespace, name)
        return name

    def state(self, name: str) -> tuple[str | None, str]:
        from kubernetes.client.exceptions import ApiException

        try:
            obj = self.api.get_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name)
        except ApiException as exc:
            if exc.status == 404:
                return None, "TrainJob not found"
            raise Unavailable(f"reading TrainJob {name} failed: {exc.status} {exc.reason}") from None
        return state_from_conditions(obj)

    def delete(self, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.api.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name,
                                                     propagation_policy="Foreground")
        except ApiException as exc:
            if exc.status != 404:
                raise Unavailable(f"deleting TrainJob {name} failed: {exc.status} {exc.reason}") from None
