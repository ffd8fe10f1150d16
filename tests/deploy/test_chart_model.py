"""The chart's own values for a working install: one `model` reaching generation, scoring and
training; the model fetch; credentials from Secrets; the volumes; and the install-time failures that
say what to allow or set."""

from __future__ import annotations

import base64
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.deploy.deploy_support import (
    CHART,
    NAMESPACE,
    Rendered,
    component_name,
    env_of,
    pod,
    render,
    render_error,
    skip_without_helm,
)

pytestmark = [pytest.mark.requires_helm, skip_without_helm]

MODEL_SERVICES = ("generation", "scoring", "training")
HUB = "deepseek-ai/deepseek-coder-1.3b-instruct"


def engine(objects: Rendered, service: str) -> dict[str, Any]:
    return objects.config_file(service)[service]["engine"]


@pytest.fixture(scope="module")
def hub_model() -> Rendered:
    return render(set_values={"model.model": HUB, "model.revision": "v1.0", "model.dtype": "bfloat16",
                              "huggingface.token": "hf_x", "services.generation.gpu.count": "1"})


# --- one model setting --------------------------------------------------------------------------

def test_defaults_run_the_embedded_model_everywhere(rendered) -> None:
    objects = rendered("defaults")
    for service in ("generation", "scoring"):
        assert engine(objects, service) == {"engine": "transformers", "model": "default", "dtype": "auto"}
    training = objects.config_file("training")["training"]
    assert (training["model"], training["dtype"]) == ("default", "float32")
    for service in MODEL_SERVICES:  # nothing to fetch, no model volume
        assert "initContainers" not in pod(objects, service)
        assert "models" not in {v["name"] for v in pod(objects, service)["volumes"]}
    assert not objects.find("PersistentVolumeClaim", component_name("models"))


def test_one_model_setting_reaches_all_three_services(hub_model: Rendered) -> None:
    folder = f"/models/{HUB}/v1.0"
    for service in ("generation", "scoring"):
        assert engine(hub_model, service) == {"engine": "transformers", "model": folder, "dtype": "bfloat16"}
    training = hub_model.config_file("training")["training"]
    assert (training["model"], training["dtype"]) == (folder, "bfloat16")
    assert "engine" not in hub_model.config_file("sandbox").get("sandbox", {})


def test_services_override_the_model_and_config_overrides_both() -> None:
    objects = render(set_values={
        "model.model": HUB, "services.training.model.model": "deepseek-ai/deepseek-coder-1.3b-base",
        "services.scoring.model.model": "default", "config.generation.engine.model": "/models/mine",
        "services.generation.config.generation.engine.dtype": "float32"})
    assert engine(objects, "generation")["model"] == "/models/mine"
    assert engine(objects, "generation")["dtype"] == "float32"
    assert engine(objects, "scoring")["model"] == "default"
    assert objects.config_file("training")["training"]["model"] == "/models/deepseek-ai/deepseek-coder-1.3b-base/main"
    assert "initContainers" not in pod(objects, "scoring")  # its model is the embedded one


def test_engine_shorthand_in_config_is_completed_from_model() -> None:
    objects = render(set_values={"config.scoring.engine": "vllm", "services.scoring.gpu.count": "1"})
    assert engine(objects, "scoring") == {"engine": "vllm", "model": "default", "dtype": "auto"}


def test_openai_engine_gets_the_url_and_the_key_from_a_secret() -> None:
    objects = render(set_values={"model.engine": "openai", "model.model": "coder", "model.baseUrl": "http://vllm:8000/v1",
                                 "openai.existingSecret": "llm-key", "services.training.model.model": HUB})
    for service in ("generation", "scoring"):
        assert engine(objects, service) == {"engine": "openai", "model": "coder", "dtype": "auto",
                                            "base_url": "http://vllm:8000/v1"}
        assert env_of(objects.container(service))[f"CODEINSTRUCT_{service.upper()}_ENGINE__API_KEY"] == {
            "secretKeyRef": {"name": "llm-key", "key": "api-key"}}
        assert "initContainers" not in pod(objects, service)  # a served name is not fetched
    assert "CODEINSTRUCT_TRAINING_ENGINE__API_KEY" not in env_of(objects.container("training"))
    assert "api_key" not in objects.config_file("generation")["generation"]["engine"]  # never in a ConfigMap


# --- model fetch and volumes --------------------------------------------------------------------

def test_a_hub_model_is_fetched_into_the_model_volume_by_an_init_container(hub_model: Rendered) -> None:
    claim = hub_model.get("PersistentVolumeClaim", component_name("models"))
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    for service in MODEL_SERVICES:
        spec = pod(hub_model, service)
        (fetch,) = spec["initContainers"]
        assert fetch["command"] == ["python", "/etc/codeinstruct/fetch_model.py"]
        assert fetch["args"] == [f"--model={HUB}", "--revision=v1.0", f"--dest=/models/{HUB}/v1.0"]
        assert fetch["image"] == hub_model.container(service)["image"]
        assert env_of(fetch)["HF_TOKEN"] == {"secretKeyRef": {"name": component_name("huggingface"), "key": "token"}}
        assert {"name": "models", "mountPath": "/models"} in fetch["volumeMounts"]
        assert {"name": "models", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}} in spec["volumes"]
        assert fetch["securityContext"] == hub_model.container(service)["securityContext"]
        script = hub_model.get("ConfigMap", component_name(service))["data"]["fetch_model.py"]
        assert script.strip() == (CHART / "files" / "fetch_model.py").read_text().strip()
    assert "initContainers" not in pod(hub_model, "sandbox")


def _fetch_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_model", CHART / "files" / "fetch_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fetch_model_downloads_once_and_skips_a_complete_folder(tmp_path: Path, monkeypatch) -> None:
    import huggingface_hub

    calls: list[tuple[str, str]] = []

    def fake_download(repo_id: str, revision: str, local_dir: Path) -> str:
        calls.append((repo_id, revision))
        Path(local_dir).mkdir(parents=True)
        (Path(local_dir) / "config.json").write_text("{}")
        return str(local_dir)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_download)
    fetch = _fetch_module()
    dest = tmp_path / "org" / "model" / "main"
    args = ["--model", "org/model", "--revision", "main", "--dest", str(dest)]
    assert fetch.main(args) == 0 and fetch.main(args) == 0
    assert calls == [("org/model", "main")]
    assert (dest / "config.json").is_file() and not dest.with_name("main.partial").exists()


def test_training_jobs_and_trained_models_are_on_a_pvc_by_default(rendered) -> None:
    objects = rendered("defaults")
    claim = objects.get("PersistentVolumeClaim", component_name("training-data"))
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"] and "storageClassName" not in claim["spec"]
    data = next(v for v in pod(objects, "training")["volumes"] if v["name"] == "data")
    assert data["persistentVolumeClaim"] == {"claimName": claim["metadata"]["name"]}
    mount = next(m for m in objects.container("training")["volumeMounts"] if m["name"] == "data")
    assert mount["mountPath"] == env_of(objects.container("training"))["CODEINSTRUCT_DATA_DIR"]


def test_shared_data_volume_is_mounted_by_the_data_services(rendered) -> None:
    objects = rendered("gpu")
    claim = objects.get("PersistentVolumeClaim", component_name("data"))
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for service in MODEL_SERVICES:
        assert {"name": "shared-data", "mountPath": "/data"} in objects.container(service)["volumeMounts"]
    assert "shared-data" not in {m["name"] for m in objects.container("sandbox")["volumeMounts"]}
    assert not rendered("defaults").find("PersistentVolumeClaim", component_name("data"))
    existing = render(set_values={"sharedData.enabled": "true", "sharedData.existingClaim": "team-data"})
    assert not existing.find("PersistentVolumeClaim", component_name("data"))
    volume = next(v for v in pod(existing, "scoring")["volumes"] if v["name"] == "shared-data")
    assert volume["persistentVolumeClaim"] == {"claimName": "team-data"}


# --- secrets ------------------------------------------------------------------------------------

def test_inline_credentials_become_chart_secrets_wired_into_the_model_services() -> None:
    objects = render(set_values={"huggingface.token": "hf_x", "openai.apiKey": "sk-x", "model.engine": "openai",
                                 "model.model": "coder", "model.baseUrl": "https://llm.example/v1",
                                 "services.training.model.model": "default",
                                 "objectStore.accessKeyId": "AK", "objectStore.secretAccessKey": "SK",
                                 "objectStore.endpoint": "http://minio.kubeflow:9000"})
    decoded = {s["metadata"]["name"]: {k: base64.b64decode(v).decode() for k, v in s["data"].items()}
               for s in objects.of_kind("Secret")}
    assert decoded == {component_name("huggingface"): {"token": "hf_x"}, component_name("openai"): {"api-key": "sk-x"},
                       component_name("object-store"): {"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"}}
    for service in MODEL_SERVICES:
        env = env_of(objects.container(service))
        assert env["HF_TOKEN"]["secretKeyRef"]["name"] == component_name("huggingface")
        assert env["AWS_ACCESS_KEY_ID"] == {"secretKeyRef": {"name": component_name("object-store"),
                                                             "key": "AWS_ACCESS_KEY_ID"}}
        assert env["AWS_SECRET_ACCESS_KEY"]["secretKeyRef"]["key"] == "AWS_SECRET_ACCESS_KEY"
        assert env["AWS_ENDPOINT_URL"] == "http://minio.kubeflow:9000"
    sandbox_env = env_of(objects.container("sandbox"))
    assert not {"HF_TOKEN", "AWS_ACCESS_KEY_ID", "CODEINSTRUCT_SANDBOX_ENGINE__API_KEY"} & set(sandbox_env)


def test_existing_credential_secrets_are_used_as_they_are() -> None:
    objects = render(set_values={"huggingface.existingSecret": "hf", "huggingface.existingSecretKey": "HF_TOKEN",
                                 "objectStore.existingSecret": "s3", "objectStore.accessKeyIdKey": "id",
                                 "objectStore.secretAccessKeyKey": "secret", "auth.enabled": "true",
                                 "auth.existingSecret": "grpc"})
    assert not objects.of_kind("Secret")
    env = env_of(objects.container("scoring"))
    assert env["HF_TOKEN"] == {"secretKeyRef": {"name": "hf", "key": "HF_TOKEN"}}
    assert env["AWS_ACCESS_KEY_ID"] == {"secretKeyRef": {"name": "s3", "key": "id"}}
    assert env["AWS_SECRET_ACCESS_KEY"] == {"secretKeyRef": {"name": "s3", "key": "secret"}}
    assert env["CODEINSTRUCT_AUTH_TOKEN"] == {"secretKeyRef": {"name": "grpc", "key": "token"}}


# --- what fails at install time -----------------------------------------------------------------

@pytest.mark.parametrize(("values", "message"), [
    ({"services.sandbox.isolation.allowUserNamespaces": "false"},
     "the sandbox cannot serve: config.sandbox.isolation is \"full\""),
    ({"services.sandbox.isolation.allowUserNamespaces": "false", "services.sandbox.isolation.procMount": "Default",
      "services.sandbox.isolation.hostUsers": "null",
      "services.sandbox.isolation.seccompProfile.type": "RuntimeDefault"},
     "services.sandbox.isolation.seccompProfile Unconfined or a Localhost profile"),
    ({"config.sandbox.isolation": "none"}, "needs services.sandbox.runtimeClassName (gvisor or kata)"),
    ({"model.engine": "vllm"}, "services.generation runs the vllm engine, which needs a GPU"),
    ({"model.engine": "openai"}, "needs the server's URL: set model.baseUrl"),
    ({"model.dtype": "float16"}, "training trains in float32 or bfloat16, not float16"),
    ({"objectStore.accessKeyId": "AK"}, "objectStore needs both accessKeyId and secretAccessKey"),
])
def test_impossible_values_fail_at_install_time_saying_what_to_set(values: dict[str, str], message: str) -> None:
    error = render_error(set_values=values)
    assert message in error


def test_the_sandbox_failure_names_every_missing_permission_and_both_profiles() -> None:
    error = render_error(set_values={"services.sandbox.isolation.allowUserNamespaces": "false",
                                     "services.sandbox.isolation.procMount": "Default",
                                     "services.sandbox.isolation.hostUsers": "null"})
    for needed in ("allowUserNamespaces=true", "procMount=Unmasked", "hostUsers=false",
                   "ci/sandbox-userns-values.yaml", "ci/sandbox-gvisor-values.yaml"):
        assert needed in error


@pytest.mark.parametrize(("key", "value"), [("model.engine", "vlm"), ("model.dtype", "fp16"),
                                            ("model.modle", "x"), ("services.scoring.model.engin", "vllm")])
def test_model_values_are_checked_by_the_schema(key: str, value: str) -> None:
    assert "values don't meet the specifications of the schema" in render_error(set_values={key: value})


def test_every_service_namespace_and_address_is_where_pipelines_expect_them(rendered) -> None:
    objects = rendered("defaults")
    for service, port in (("generation", 50051), ("sandbox", 50052), ("scoring", 50053), ("training", 50054)):
        svc = objects.get("Service", component_name(service))
        assert svc["metadata"]["namespace"] == NAMESPACE
        assert svc["spec"]["ports"][0]["port"] == port
