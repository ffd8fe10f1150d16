"""The Helm chart lints, renders and validates: `helm lint --strict`, `helm template` of the defaults
and every ci/*-values.yaml scenario, kubernetes-validate --strict against offline schemas of the
chart's minimum and a current Kubernetes version, and values.schema.json rejecting typos.

No API server runs here: these checks stop at what a server's schema validation would say.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.deploy_support import (
    CHART,
    NAMESPACE,
    SCENARIOS,
    Rendered,
    component_name,
    render_error,
    run_helm,
    scenario_names,
    skip_without_helm,
)

pytestmark = [pytest.mark.requires_helm, skip_without_helm]

# The chart's declared minimum (Chart.yaml kubeVersion) and the newest schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
# Kinds from CRDs that kubernetes-validate has no schema for; checked structurally below.
CRD_KINDS = {"ServiceMonitor"}


def scenario_files(name: str) -> list[Path]:
    return [] if name == "defaults" else [CHART / "ci" / f"{name}-values.yaml"]


def test_chart_declares_the_minimum_kubernetes_version_we_validate() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["kubeVersion"] == f">={KUBERNETES_VERSIONS[0]}-0"


def test_older_clusters_are_refused_at_render_time() -> None:
    result = run_helm("template", "ci", str(CHART), "--kube-version", "1.29.9", check=False)
    assert result.returncode != 0 and "kubeVersion" in result.stderr
    # The chart's minimum takes the gVisor sandbox profile; the default one needs pod user namespaces.
    run_helm("template", "ci", str(CHART), "--kube-version", KUBERNETES_VERSIONS[0],
             "-f", str(CHART / "ci" / "sandbox-gvisor-values.yaml"))
    result = run_helm("template", "ci", str(CHART), "--kube-version", "1.32.9", check=False)
    assert result.returncode != 0 and "needs Kubernetes >= 1.33" in result.stderr
    assert "this cluster is v1.32.9" in result.stderr and "ci/sandbox-gvisor-values.yaml" in result.stderr
    run_helm("template", "ci", str(CHART), "--kube-version", "1.33.0")


def test_there_is_a_ci_scenario_for_each_deployment_shape() -> None:
    assert {p.name for p in SCENARIOS} == {
        "cpu-only-values.yaml", "gpu-values.yaml", "sandbox-hardened-values.yaml", "minimal-values.yaml",
        "sandbox-userns-values.yaml", "sandbox-gvisor-values.yaml"}


@pytest.mark.parametrize("scenario", scenario_names())
def test_helm_lint_strict(scenario: str) -> None:
    args = ["lint", "--strict", str(CHART)]
    for path in scenario_files(scenario):
        args += ["-f", str(path)]
    result = run_helm(*args)
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("scenario", scenario_names())
def test_rendered_objects_validate_strictly(scenario: str, rendered) -> None:
    objects = rendered(scenario).objects
    assert objects, "nothing rendered"
    for obj in objects:
        where = f"{scenario}: {obj['kind']} {obj['metadata']['name']}"
        assert obj["metadata"]["namespace"] == NAMESPACE, where
        if obj["kind"] in CRD_KINDS:
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{where} is invalid for Kubernetes {version}: {exc.message} at {list(exc.path)}")


def test_validation_is_strict_enough_to_catch_a_misspelt_field(rendered) -> None:
    """Guards the check above: without strict mode an unknown field would pass silently."""
    deployment = copy.deepcopy(rendered("defaults").deployment("sandbox"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFileSystem"] = True
    kubernetes_validate.validate(copy.deepcopy(rendered("defaults").deployment("sandbox")), "1.37.0", strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.37.0", strict=True)


def test_service_monitors_select_the_metrics_port_of_their_service(rendered) -> None:
    objects = rendered("gpu")
    monitors = objects.of_kind("ServiceMonitor")
    assert {m["metadata"]["name"] for m in monitors} == {component_name(s) for s in
                                                          ("generation", "sandbox", "scoring", "training")}
    for monitor in monitors:
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        service = objects.get("Service", monitor["metadata"]["name"])
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= service["metadata"]["labels"].items()
        assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
        assert endpoint["path"] == "/metrics"


# --- values.schema.json ------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value", "message"), [
    ("imag.tag", "x", "'imag'"),
    ("services.sandbox.replicaz", "2", "'replicaz'"),
    ("services.generation.gpu.cuont", "1", "'cuont'"),
    ("services.sandbox.isolation.allowUsernamespaces", "true", "'allowUsernamespaces'"),
    ("services.training.kubernetesbackend.enabled", "true", "'kubernetesbackend'"),
    ("config.sandboxx.workers", "2", "'sandboxx'"),
    ("services.scoring.pool", "gpux", "/services/scoring/pool"),
    ("services.sandbox.replicas", "two", "/services/sandbox/replicas"),
    ("services.sandbox.isolation.procMount", "Unmaskd", "/services/sandbox/isolation/procMount"),
])
def test_values_schema_rejects_typos_and_wrong_types(key: str, value: str, message: str) -> None:
    error = render_error(set_values={key: value})
    assert "values don't meet the specifications of the schema" in error
    assert message in error


def test_values_schema_is_self_contained() -> None:
    """A remote $ref would make `helm lint` reach the network; only local ones are allowed."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert refs and all(ref.startswith("#/$defs/") for ref in refs), refs
    assert all(ref.removeprefix("#/$defs/") in schema["$defs"] for ref in refs)
    assert schema["additionalProperties"] is False


# Keys whose content is passed through whole (Kubernetes fragments, free-form maps): their own keys
# are not chart values.
PASSTHROUGH = {"resources", "nodeSelector", "tolerations", "affinity", "topologySpreadConstraints", "podAnnotations",
               "podLabels", "config", "env", "probes", "behavior", "podSecurityContext", "securityContext",
               "seccompProfile", "appArmorProfile", "commonLabels", "imagePullSecrets", "annotations", "labels",
               "ingressFrom", "metricsFrom", "accessModes", "fetchResources", "namespaceLabels"}


def _value_keys(node: Any, path: str = "") -> list[str]:
    keys = []
    if isinstance(node, dict):
        for key, value in node.items():
            keys.append(f"{path}{key}")
            if key not in PASSTHROUGH:
                keys += _value_keys(value, f"{path}{key}.")
    return keys


def test_every_value_is_read_by_a_template() -> None:
    """No placeholder values: each key of values.yaml is referenced by some template."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    templates = "\n".join(p.read_text() for p in (CHART / "templates").iterdir())
    unused = []
    for dotted in _value_keys(values):
        parts = dotted.split(".")
        if len(parts) == 2 and parts[0] in {"services", "nodePools"}:
            continue  # service and pool names are looked up with index/range
        key = parts[-1]
        if not re.search(rf"\.{re.escape(key)}\b|\"{re.escape(key)}\"", templates):
            unused.append(dotted)
    assert not unused, f"values no template reads: {unused}"


def test_every_top_level_value_is_explained_by_a_comment() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented = []
    for index, line in enumerate(lines):
        match = re.match(r"^([A-Za-z]\w*):", line)
        if not match:
            continue
        above = lines[index - 1].lstrip() if index else ""
        below = lines[index + 1].lstrip() if index + 1 < len(lines) else ""
        if not (above.startswith("#") or below.startswith("#")):
            undocumented.append(match.group(1))
    assert not undocumented, f"top-level values without a comment: {undocumented}"


def test_templates_fail_with_a_clear_message_on_inconsistent_values() -> None:
    assert "auth.enabled needs auth.token or auth.existingSecret" in render_error(set_values={"auth.enabled": "true"})
    assert "tls.enabled needs tls.cert and tls.key" in render_error(set_values={"tls.enabled": "true"})
    assert "pipelinesUpload.enabled needs pipelinesUpload.host" in render_error(
        set_values={"pipelinesUpload.enabled": "true"})
    assert "procMount Unmasked needs services.sandbox.isolation.hostUsers: false" in render_error(
        set_values={"services.sandbox.isolation.hostUsers": "null"})


def test_notes_tell_how_to_reach_the_services_and_warn_about_sandbox_isolation() -> None:
    result = run_helm("install", "ci", str(CHART), "--namespace", NAMESPACE, "--dry-run=client")
    notes = result.stdout.split("NOTES:", 1)[1]
    for service in ("generation", "sandbox", "scoring", "training"):
        assert f"{component_name(service)}.{NAMESPACE}.svc:" in notes
    assert "grpcurl -plaintext localhost:50052 list" in notes
    assert "grpc.health.v1.Health/Check" in notes
    assert "WARNING" not in notes
    assert 'Isolation "full"' in notes
    assert "generation  model default (embedded SmolLM2-135M-Instruct), engine transformers, dtype auto; pool cpu" \
        in notes
    assert "training    model default (embedded SmolLM2-135M-Instruct), lora fine-tuning, dtype float32; pool cpu" \
        in notes
    assert "PersistentVolumeClaim ci-codeinstruct-training-data" in notes
    assert "namespaces labelled pipelines.kubeflow.org/enabled=true" in notes
    gvisor = run_helm("install", "ci", str(CHART), "--namespace", NAMESPACE, "--dry-run=client",
                      "-f", str(CHART / "ci" / "sandbox-gvisor-values.yaml")).stdout.split("NOTES:", 1)[1]
    assert 'WARNING: config.sandbox.isolation is "none"' in gvisor and 'the "gvisor" runtime' in gvisor
    hardened = run_helm("install", "ci", str(CHART), "--namespace", NAMESPACE, "--dry-run=client",
                        "-f", str(CHART / "ci" / "sandbox-hardened-values.yaml")).stdout.split("NOTES:", 1)[1]
    assert "WARNING" not in hardened
    assert "grpcurl localhost:50052 list" in hardened  # TLS: no -plaintext
    assert "authorization: Bearer" in hardened


def test_rendered_release_has_only_expected_kinds(rendered) -> None:
    kinds = {o["kind"] for name in scenario_names() for o in rendered(name).objects}
    assert kinds == {"Deployment", "Service", "ConfigMap", "ServiceAccount", "PodDisruptionBudget", "NetworkPolicy",
                     "HorizontalPodAutoscaler", "PersistentVolumeClaim", "ServiceMonitor", "Role", "RoleBinding",
                     "Job"}
    assert isinstance(rendered("defaults"), Rendered)
