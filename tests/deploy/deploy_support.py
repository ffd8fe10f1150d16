"""Helpers of the deployment tests: a real helm binary, chart rendering, the rendered objects.

helm comes from scripts/setup/20-helm.sh (`make setup` / `make test` run it) into .tools/bin; a
`helm` on PATH works too. Without it the chart tests are skipped, saying so.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "codeinstruct"
SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))
RELEASE = "ci"
NAMESPACE = "codeinstruct"
SERVICES = ("generation", "sandbox", "scoring", "training")


def helm_binary() -> str | None:
    local = ROOT / ".tools" / "bin" / "helm"
    if local.is_file():
        return str(local)
    return shutil.which("helm")


HELM = helm_binary()
requires_helm = pytest.mark.requires_helm
skip_without_helm = pytest.mark.skipif(
    HELM is None, reason="helm not found: run `bash scripts/setup/20-helm.sh` (make setup does) to fetch it")


def run_helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert HELM is not None
    result = subprocess.run([HELM, *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def helm_values_args(values_files: Iterable[Path] = (), set_values: dict[str, str] | None = None) -> list[str]:
    args: list[str] = []
    for path in values_files:
        args += ["-f", str(path)]
    for key, value in (set_values or {}).items():
        args += ["--set", f"{key}={value}"]
    return args


@dataclass
class Rendered:
    """The objects `helm template` produced, with lookups the tests need."""

    objects: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        for obj in self.of_kind(kind):
            if obj["metadata"]["name"] == name:
                return obj
        raise KeyError(f"no {kind} {name}; have {[o['metadata']['name'] for o in self.of_kind(kind)]}")

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        try:
            return self.get(kind, name)
        except KeyError:
            return None

    def deployment(self, service: str) -> dict[str, Any]:
        return self.get("Deployment", component_name(service))

    def container(self, service: str) -> dict[str, Any]:
        return self.deployment(service)["spec"]["template"]["spec"]["containers"][0]

    def config_file(self, component: str) -> dict[str, Any]:
        return yaml.safe_load(self.get("ConfigMap", component_name(component))["data"]["config.yaml"]) or {}

    def pod_specs(self) -> list[tuple[str, dict[str, Any]]]:
        """(object name, pod spec) of every workload."""
        out = []
        for obj in self.objects:
            if obj["kind"] in ("Deployment", "Job"):
                out.append((obj["metadata"]["name"], obj["spec"]["template"]["spec"]))
        return out


def pod(rendered: Rendered, service: str) -> dict[str, Any]:
    """The pod spec of a service's Deployment."""
    return rendered.deployment(service)["spec"]["template"]["spec"]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """A container's env as {name: value or valueFrom}."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def component_name(component: str) -> str:
    return f"{RELEASE}-codeinstruct-{component}"


def render(values_files: Iterable[Path] = (), set_values: dict[str, str] | None = None) -> Rendered:
    result = run_helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE,
                      *helm_values_args(values_files, set_values))
    objects = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return Rendered(objects)


def render_error(values_files: Iterable[Path] = (), set_values: dict[str, str] | None = None) -> str:
    """stderr of a `helm template` that must fail."""
    result = run_helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE,
                      *helm_values_args(values_files, set_values), check=False)
    assert result.returncode != 0, f"helm template unexpectedly succeeded with {values_files} {set_values}"
    return result.stderr


def scenario_names() -> list[str]:
    return ["defaults", *[p.name.removesuffix("-values.yaml") for p in SCENARIOS]]
