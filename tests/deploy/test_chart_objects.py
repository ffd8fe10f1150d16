"""Properties of the rendered chart: node pools and GPUs, probes and graceful stop, the restricted
security context, the sandbox's NetworkPolicy and isolation settings, HPA/PDB, config files the
application accepts, and the pipelines upload Job.
"""

from __future__ import annotations

import argparse
import base64
from typing import Any

import pytest
import yaml

from tests.deploy.deploy_support import (
    CHART,
    NAMESPACE,
    SERVICES,
    component_name,
    env_of,
    pod,
    render,
    scenario_names,
    skip_without_helm,
)

pytestmark = [pytest.mark.requires_helm, skip_without_helm]

GPU = "nvidia.com/gpu"
HEALTH_NAMES = {s: f"codeinstruct.v1.{s.capitalize()}Service" for s in SERVICES}


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


# --- node pools and GPUs ------------------------------------------------------------------------

def test_a_gpu_count_puts_a_service_on_the_gpu_pool_with_the_gpu_image(rendered) -> None:
    objects = render(set_values={"services.generation.gpu.count": "1", "services.training.gpu.count": "2"})
    for service, count in (("generation", 1), ("training", 2)):
        spec, container = pod(objects, service), objects.container(service)
        assert container["resources"]["requests"][GPU] == count == container["resources"]["limits"][GPU]
        assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
        assert "affinity" not in spec  # the CPU pool's "not on GPU nodes" is gone
        assert container["image"].endswith(":0.1.0-gpu")
        # A rollout must not need a spare GPU.
        assert objects.deployment(service)["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert objects.config_file("training")["training"]["dtype"] == "bfloat16"  # dtype auto on a GPU


def test_gpu_count_zero_moves_a_service_to_the_cpu_pool(rendered) -> None:
    gpu = rendered("gpu")
    assert GPU in gpu.container("scoring")["resources"]["limits"]
    objects = render([CHART / "ci" / "gpu-values.yaml"], set_values={"services.scoring.gpu.count": "0",
                                                                     "services.scoring.model.engine": "transformers"})
    spec, container = pod(objects, "scoring"), objects.container("scoring")
    assert GPU not in yaml.safe_dump(container["resources"])
    assert "nodeSelector" not in spec and "tolerations" not in spec
    assert spec["affinity"] == pod(objects, "sandbox")["affinity"]  # the CPU pool's
    assert container["image"] == "ghcr.io/codeinstruct/codeinstruct:0.1.0"


def test_defaults_keep_every_service_on_the_cpu_pool_off_gpu_nodes(rendered) -> None:
    objects = rendered("defaults")
    for service in SERVICES:
        spec, container = pod(objects, service), objects.container(service)
        assert GPU not in container["resources"].get("requests", {})
        assert GPU not in container["resources"].get("limits", {})
        assert "tolerations" not in spec
        required = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        (term,) = required["nodeSelectorTerms"]
        assert term["matchExpressions"] == [{"key": "nvidia.com/gpu.present", "operator": "NotIn", "values": ["true"]}]
        assert container["image"] == "ghcr.io/codeinstruct/codeinstruct:0.1.0"


def test_cpu_only_requests_no_gpu_anywhere(rendered) -> None:
    objects = rendered("cpu-only")
    assert {d["metadata"]["name"] for d in objects.of_kind("Deployment")} == {component_name(s) for s in SERVICES}
    for service in SERVICES:
        spec, container = pod(objects, service), objects.container(service)
        assert GPU not in yaml.safe_dump(container["resources"])
        assert "nodeSelector" not in spec and "tolerations" not in spec
        assert not container["image"].endswith("-gpu")


def test_gpu_scenario_pools_gpu_counts_and_service_overrides(rendered) -> None:
    objects = rendered("gpu")
    for service in ("generation", "scoring"):
        assert objects.container(service)["resources"]["limits"][GPU] == 1
        assert pod(objects, service)["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    # Training submits TrainJobs (which take its 8 GPUs per node): the service itself holds none.
    assert GPU not in yaml.safe_dump(objects.container("training")["resources"])
    assert "nodeSelector" not in pod(objects, "training")
    in_place = {"maxSurge": 0, "maxUnavailable": 1}
    assert rendered("cpu-only").deployment("training")["spec"]["strategy"]["rollingUpdate"] == in_place  # its PVC
    assert rendered("cpu-only").deployment("scoring")["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert GPU not in yaml.safe_dump(objects.container("sandbox")["resources"])
    spread = pod(objects, "generation")["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "kubernetes.io/hostname"


# --- probes and graceful stop -----------------------------------------------------------------

@pytest.mark.parametrize("scenario", ["defaults", "cpu-only", "gpu", "minimal"])
def test_native_grpc_probes_on_the_service_port(scenario: str, rendered) -> None:
    objects = rendered(scenario)
    for deployment in objects.of_kind("Deployment"):
        service = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        port = next(p["containerPort"] for p in container["ports"] if p["name"] == "grpc")
        assert container["readinessProbe"]["grpc"] == {"port": port, "service": HEALTH_NAMES[service]}
        assert container["livenessProbe"]["grpc"] == {"port": port, "service": ""}
        assert container["startupProbe"]["grpc"] == {"port": port, "service": ""}
        # The args are the `codeinstruct serve` command line (the image's entrypoint): parse them
        # with the real CLI parser.
        from codeinstruct.cli.main import build_parser

        args: argparse.Namespace = build_parser().parse_args(["serve", *container["args"]])
        assert (args.service, args.port, args.config) == (service, port, "/etc/codeinstruct/config.yaml")


def test_startup_probe_gives_model_loading_minutes(rendered) -> None:
    probe = rendered("defaults").container("generation")["startupProbe"]
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 600


def test_graceful_stop_budget_covers_prestop_drain_and_grace(rendered) -> None:
    for scenario in ("defaults", "gpu"):
        objects = rendered(scenario)
        for service in SERVICES:
            spec, container = pod(objects, service), objects.container(service)
            env = env_of(container)
            pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
            drain = float(env["CODEINSTRUCT_SERVER__DRAIN_DELAY_S"])
            grace = float(env["CODEINSTRUCT_SERVER__GRACE_PERIOD_S"])
            assert drain > 0 and pre_stop > 0
            assert spec["terminationGracePeriodSeconds"] >= pre_stop + drain + grace + 5
    training = env_of(rendered("defaults").container("training"))
    assert float(training["CODEINSTRUCT_SERVER__GRACE_PERIOD_S"]) == 60  # its per-service override


def test_server_env_overrides_are_accepted_by_the_server_config(rendered) -> None:
    from codeinstruct.core import config as config_mod

    env = env_of(rendered("defaults").container("sandbox"))
    server = config_mod.build(config_mod.ServerConfig, "server", use_env=False, data={"server": {
        "drain_delay_s": env["CODEINSTRUCT_SERVER__DRAIN_DELAY_S"],
        "grace_period_s": env["CODEINSTRUCT_SERVER__GRACE_PERIOD_S"]}})
    assert (server.drain_delay_s, server.grace_period_s) == (5.0, 20.0)


def test_tls_switches_probes_to_tcp_and_mounts_the_certificate(rendered) -> None:
    objects = rendered("sandbox-hardened")
    container = objects.container("sandbox")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["tcpSocket"] == {"port": "grpc"} and "grpc" not in container[probe]
    env = env_of(container)
    assert env["CODEINSTRUCT_TLS_CERT"] == "/etc/codeinstruct/tls/tls.crt"
    assert env["CODEINSTRUCT_AUTH_TOKEN"] == {"secretKeyRef": {"name": "codeinstruct-sandbox-auth", "key": "token"}}
    volume = next(v for v in pod(objects, "sandbox")["volumes"] if v["name"] == "tls")
    assert volume["secret"]["secretName"] == "codeinstruct-sandbox-tls"
    assert not objects.of_kind("Secret")  # existing secrets are used, none created


def test_inline_secrets_are_stored_in_chart_secrets() -> None:
    objects = render(set_values={"auth.enabled": "true", "auth.token": "s3cret"})
    secret = objects.get("Secret", component_name("auth"))
    assert base64.b64decode(secret["data"]["token"]).decode() == "s3cret"
    for service in SERVICES:
        assert env_of(objects.container(service))["CODEINSTRUCT_AUTH_TOKEN"] == {
            "secretKeyRef": {"name": secret["metadata"]["name"], "key": "token"}}


# --- security context -------------------------------------------------------------------------

@pytest.mark.parametrize("scenario", scenario_names())
def test_restricted_security_context_everywhere(scenario: str, rendered) -> None:
    objects = rendered(scenario)
    for name, spec in objects.pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == 10001, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert "hostNetwork" not in spec and "hostPID" not in spec and "hostIPC" not in spec
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["privileged"] is False, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            if not name.endswith("-sandbox"):
                assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for volume in spec["volumes"]:
            if "emptyDir" in volume:
                assert volume["emptyDir"].get("sizeLimit"), f"{name}: emptyDir {volume['name']} has no size limit"
            assert "hostPath" not in volume


def test_sandbox_keeps_runtime_default_seccomp_unless_user_namespaces_are_allowed(rendered) -> None:
    gvisor = rendered("sandbox-gvisor")
    restricted = gvisor.container("sandbox")["securityContext"]
    assert restricted["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "appArmorProfile" not in restricted and "procMount" not in restricted
    assert "hostUsers" not in pod(gvisor, "sandbox") and pod(gvisor, "sandbox")["runtimeClassName"] == "gvisor"
    assert gvisor.config_file("sandbox")["sandbox"]["isolation"] == "none"
    allowed = rendered("defaults")
    assert allowed.container("sandbox") == rendered("sandbox-userns").container("sandbox")
    sc = allowed.container("sandbox")["securityContext"]
    assert sc["seccompProfile"] == {"type": "Unconfined"} and sc["appArmorProfile"] == {"type": "Unconfined"}
    assert sc["procMount"] == "Unmasked" and pod(allowed, "sandbox")["hostUsers"] is False
    # Relaxing the sandbox never adds privilege and never touches the other services.
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["allowPrivilegeEscalation"] is False
    for service in ("generation", "scoring", "training"):
        assert allowed.container(service)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert "hostUsers" not in pod(allowed, service)


def test_hardened_sandbox_uses_gvisor_and_localhost_profiles(rendered) -> None:
    objects = rendered("sandbox-hardened")
    assert [d["metadata"]["name"] for d in objects.of_kind("Deployment")] == [component_name("sandbox")]
    spec = pod(objects, "sandbox")
    assert spec["runtimeClassName"] == "gvisor"
    sc = objects.container("sandbox")["securityContext"]
    assert sc["seccompProfile"]["type"] == "Localhost" and sc["appArmorProfile"]["type"] == "Localhost"
    assert objects.config_file("sandbox")["sandbox"]["isolation"] == "full"


def test_service_account_tokens_are_mounted_only_where_the_kubernetes_api_is_used(rendered) -> None:
    for scenario in ("defaults", "gpu"):
        objects = rendered(scenario)
        for service in SERVICES:
            expected = scenario == "gpu" and service == "training"
            assert pod(objects, service)["automountServiceAccountToken"] is expected, (scenario, service)
            assert pod(objects, service)["serviceAccountName"] == component_name(service)


# --- sandbox NetworkPolicy --------------------------------------------------------------------

def test_sandbox_network_policy_denies_egress_and_admits_only_our_pods_on_grpc(rendered) -> None:
    objects = rendered("defaults")
    (policy,) = objects.of_kind("NetworkPolicy")
    spec = policy["spec"]
    sandbox_labels = objects.deployment("sandbox")["spec"]["template"]["metadata"]["labels"]
    assert matches(spec["podSelector"]["matchLabels"], sandbox_labels)
    assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"] and spec["egress"] == []
    (rule,) = spec["ingress"]
    assert rule["ports"] == [{"port": "grpc", "protocol": "TCP"}]
    peer, kubeflow, profiles = rule["from"]
    # Kubeflow Pipelines steps: the kubeflow namespace and multi-user KFP's profile namespaces, by label.
    assert kubeflow == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kubeflow"}}}
    assert profiles == {"namespaceSelector": {"matchLabels": {"pipelines.kubeflow.org/enabled": "true"}}}
    for service in ("generation", "scoring", "training"):  # our components are admitted
        labels = objects.deployment(service)["spec"]["template"]["metadata"]["labels"]
        assert matches(peer["podSelector"]["matchLabels"], labels)
    # ... and nothing else: a pod of another release does not match.
    assert not matches(peer["podSelector"]["matchLabels"], {**sandbox_labels, "app.kubernetes.io/instance": "other"})
    for service in ("generation", "scoring", "training"):
        policies = [p for p in objects.of_kind("NetworkPolicy")
                    if matches(p["spec"]["podSelector"]["matchLabels"],
                               objects.deployment(service)["spec"]["template"]["metadata"]["labels"])]
        assert not policies


def test_sandbox_network_policy_adds_configured_clients_and_metrics_scrapers(rendered) -> None:
    (policy,) = rendered("gpu").of_kind("NetworkPolicy")
    grpc_rule, metrics_rule = policy["spec"]["ingress"]
    step_pods = {"matchLabels": {"pipelines.kubeflow.org/v2_component": "true"}}
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kubeflow"}},
            "podSelector": step_pods} in grpc_rule["from"]
    assert {"namespaceSelector": {"matchLabels": {"pipelines.kubeflow.org/enabled": "true"}},
            "podSelector": step_pods} in grpc_rule["from"]
    off = render(set_values={"services.sandbox.networkPolicy.kubeflow.enabled": "false"})
    (only_ours,) = off.get("NetworkPolicy", component_name("sandbox"))["spec"]["ingress"][0]["from"]
    assert "podSelector" in only_ours and "namespaceSelector" not in only_ours
    assert metrics_rule["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    assert metrics_rule["from"] == [monitoring]
    assert policy["spec"]["egress"] == []


# --- HPA and PDB ------------------------------------------------------------------------------

def test_pdb_per_service_by_default_selecting_its_pods(rendered) -> None:
    objects = rendered("defaults")
    for service in SERVICES:
        pdb = objects.get("PodDisruptionBudget", component_name(service))
        assert pdb["spec"]["maxUnavailable"] == 1 and "minAvailable" not in pdb["spec"]
        assert pdb["spec"]["selector"]["matchLabels"] == objects.deployment(service)["spec"]["selector"]["matchLabels"]
    assert not objects.of_kind("HorizontalPodAutoscaler")
    hardened = rendered("sandbox-hardened").get("PodDisruptionBudget", component_name("sandbox"))
    assert hardened["spec"]["minAvailable"] == 2
    assert not rendered("minimal").of_kind("PodDisruptionBudget")


def test_hpa_on_cpu_replaces_fixed_replicas(rendered) -> None:
    objects = rendered("cpu-only")
    hpa = objects.get("HorizontalPodAutoscaler", component_name("sandbox"))
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": component_name("sandbox")}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 3)
    assert hpa["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
    assert "replicas" not in objects.deployment("sandbox")["spec"]
    assert objects.deployment("scoring")["spec"]["replicas"] == 1


def test_hpa_on_custom_metrics(rendered) -> None:
    hpa = rendered("gpu").get("HorizontalPodAutoscaler", component_name("generation"))
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "Pods" and metric["pods"]["metric"]["name"] == "codeinstruct_rpc_in_flight"
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600


# --- config files, volumes, training RBAC -----------------------------------------------------

def _build_section(section: str, data: dict[str, Any]) -> None:
    """Build the application's typed config for `section` from a rendered config file."""
    from codeinstruct.core.config import SECTIONS
    from codeinstruct.settings import Settings

    if section not in SECTIONS:
        raise AssertionError(f"unknown section {section}")
    Settings.from_mapping({section: data.get(section) or {}}, use_env=False)


@pytest.mark.parametrize("scenario", scenario_names())
def test_rendered_config_files_are_accepted_by_the_application(scenario: str, rendered) -> None:
    from codeinstruct.core.config import SECTIONS

    objects = rendered(scenario)
    for config_map in objects.of_kind("ConfigMap"):
        data = yaml.safe_load(config_map["data"]["config.yaml"]) or {}
        assert set(data) <= set(SECTIONS), config_map["metadata"]["name"]
        for section in data:
            _build_section(section, data)


def test_chart_derives_service_wiring_into_the_config(rendered) -> None:
    objects = rendered("cpu-only")
    assert objects.config_file("scoring")["scoring"]["sandbox_target"] == \
        f"{component_name('sandbox')}.{NAMESPACE}.svc:50052"
    assert objects.config_file("sandbox")["sandbox"]["workers"] == 2  # its CPU limit, not the node's cores
    assert "workers" not in rendered("defaults").config_file("generation").get("sandbox", {})


def test_training_kubernetes_backend_gets_rbac_and_derived_trainjob_settings(rendered) -> None:
    objects = rendered("gpu")
    jobs = objects.config_file("training")["training"]["jobs"]
    assert jobs["backend"] == "kubernetes"
    k8s = jobs["kubernetes"]
    assert k8s["namespace"] == NAMESPACE
    assert k8s["image"] == "ghcr.io/codeinstruct/codeinstruct:0.1.0-gpu"
    assert k8s["gpus"] == 8
    assert k8s["node_selector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert k8s["tolerations"] == [{"key": GPU, "operator": "Exists", "effect": "NoSchedule"}]
    assert k8s["pvc"] == component_name("training-data")
    assert k8s["num_nodes"] == 2  # user-set values are kept
    role = objects.get("Role", component_name("training"))
    assert {"apiGroups": ["trainer.kubeflow.org"], "resources": ["trainjobs"],
            "verbs": ["create", "get", "list", "watch", "delete", "patch"]} in role["rules"]
    binding = objects.get("RoleBinding", component_name("training"))
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": component_name("training"), "namespace": NAMESPACE}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    claim = objects.get("PersistentVolumeClaim", component_name("training-data"))
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    data_volume = next(v for v in pod(objects, "training")["volumes"] if v["name"] == "data")
    assert data_volume == {"name": "data", "persistentVolumeClaim": {"claimName": component_name("training-data")}}
    assert not rendered("defaults").of_kind("Role")


def test_model_cache_is_mounted_by_the_model_services_only(rendered) -> None:
    objects = rendered("gpu")
    claim = objects.get("PersistentVolumeClaim", component_name("models"))
    assert claim["spec"]["storageClassName"] == "filestore-rwx"
    for service in SERVICES:
        mounts = {m["name"]: m["mountPath"] for m in objects.container(service)["volumeMounts"]}
        env = env_of(objects.container(service))
        if service == "sandbox":
            assert "models" not in mounts and "HF_HOME" not in env
        else:
            assert mounts["models"] == "/models" and env["HF_HOME"] == "/models/huggingface"


def test_writable_paths_are_volumes(rendered) -> None:
    objects = rendered("defaults")
    for service in SERVICES:
        mounts = {m["mountPath"] for m in objects.container(service)["volumeMounts"]}
        assert {"/tmp", "/var/lib/codeinstruct", "/etc/codeinstruct"} <= mounts
        env = env_of(objects.container(service))
        assert env["HOME"] == "/tmp" and env["CODEINSTRUCT_DATA_DIR"] == "/var/lib/codeinstruct"
    sandbox_tmp = next(v for v in pod(objects, "sandbox")["volumes"] if v["name"] == "tmp")
    assert sandbox_tmp["emptyDir"]["medium"] == "Memory"


# --- pipelines upload Job ---------------------------------------------------------------------

def test_pipelines_upload_job_compiles_and_uploads_with_the_deployed_services(rendered) -> None:
    objects = rendered("gpu")
    job = objects.get("Job", component_name("pipelines-upload"))
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    spec = job["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["command"] == ["python", "/etc/codeinstruct/upload_pipelines.py"]
    env = env_of(container)
    assert env["KFP_HOST"] == "http://ml-pipeline.kubeflow.svc.cluster.local:8888"
    assert env["PIPELINES"].split() == ["semi_instruct", "inverse_instruct", "evol_instruct", "wavecoder",
                                        "self_instruct", "train_eval", "end_to_end"]
    config_map = objects.get("ConfigMap", component_name("pipelines-upload"))
    script = (CHART / "files" / "upload_pipelines.py").read_text()
    assert config_map["data"]["upload_pipelines.py"].strip() == script.strip()
    compile(config_map["data"]["upload_pipelines.py"], "upload_pipelines.py", "exec")
    pipelines = yaml.safe_load(config_map["data"]["config.yaml"])["pipelines"]
    for service, port in (("generation", 50051), ("sandbox", 50052), ("scoring", 50053), ("training", 50054)):
        assert pipelines[f"{service}_target"] == f"{component_name(service)}.{NAMESPACE}.svc:{port}"
    assert pipelines["gpu_image"].endswith(":0.1.0-gpu") and pipelines["image"].endswith(":0.1.0")
    assert pipelines["gpu_node_selector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert not rendered("defaults").of_kind("Job")


def test_pipelines_upload_gives_steps_the_token_secret_and_the_shared_data_volume(rendered) -> None:
    objects = rendered("gpu")  # ci/gpu-values.yaml: auth from Secret codeinstruct-auth, sharedData enabled
    pipelines = yaml.safe_load(objects.get("ConfigMap", component_name("pipelines-upload"))["data"]["config.yaml"])[
        "pipelines"]
    assert (pipelines["auth_secret"], pipelines["auth_secret_key"]) == ("codeinstruct-auth", "token")
    assert pipelines["data_pvc"] == component_name("data") and pipelines["data_mount"] == "/data"


@pytest.mark.slow
def test_upload_job_compiles_a_pipeline_that_calls_the_deployed_services(rendered, tmp_path, monkeypatch) -> None:
    """Runs the Job's own compile step (the real `codeinstruct compile`) on the config it is given."""
    import importlib.util
    import os
    import sys
    from pathlib import Path

    config_map = rendered("gpu").get("ConfigMap", component_name("pipelines-upload"))
    (tmp_path / "config.yaml").write_text(config_map["data"]["config.yaml"])
    (tmp_path / "upload_pipelines.py").write_text(config_map["data"]["upload_pipelines.py"])
    spec = importlib.util.spec_from_file_location("upload_pipelines", tmp_path / "upload_pipelines.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # In the image the virtualenv is on PATH; here the test's interpreter's bin directory is.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    compiled = module.compile_pipeline("semi_instruct", str(tmp_path / "config.yaml"), tmp_path)
    text = compiled.read_text()
    assert f"{component_name('sandbox')}.{NAMESPACE}.svc:50052" in text
    assert "ghcr.io/codeinstruct/codeinstruct:0.1.0" in text
