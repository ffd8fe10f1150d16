"""Every pipeline compiles; the checked-in IR YAML matches a fresh compilation; placement and
scale settings (pools, accelerators, retries, caching, fan-out) land in the IR from the config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct.settings import Settings
from codeinstruct_pipelines import catalog


def load(data: dict) -> PipelinesConfig:
    return Settings.from_mapping(data).pipelines

GOLDEN = Path(__file__).resolve().parents[2] / "pipelines" / "compiled"
_SDK = re.compile(r"^sdkVersion: .*$", re.MULTILINE)


def _strip_sdk(text: str) -> str:
    return _SDK.sub("", text)


def _compile(name: str, tmp_path: Path, config: PipelinesConfig | None = None) -> dict:
    path = catalog.compile_to(name, tmp_path / f"{name}.yaml", config)
    docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    return {"spec": docs[0], "platform": docs[1] if len(docs) > 1 else {}, "text": path.read_text(encoding="utf-8")}


@pytest.mark.parametrize("name", catalog.PIPELINES)
def test_fresh_compilation_matches_checked_in_yaml(name: str, tmp_path: Path) -> None:
    fresh = _compile(name, tmp_path)["text"]
    golden = GOLDEN / f"{name}.yaml"
    assert golden.is_file(), f"missing {golden}: run `python -m codeinstruct_pipelines.catalog all`"
    assert _strip_sdk(fresh) == _strip_sdk(golden.read_text(encoding="utf-8")), (
        f"{golden} is stale: regenerate with `python -m codeinstruct_pipelines.catalog all`")


def _executors(platform: dict) -> dict:
    return platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]


def _containers(spec: dict) -> dict:
    return spec["deploymentSpec"]["executors"]


def _task_specs(spec: dict) -> dict:
    """All tasks of the root DAG and of every sub-DAG (ParallelFor bodies), by task name."""
    tasks = dict(spec["root"]["dag"]["tasks"])
    for component in spec["components"].values():
        tasks.update(component.get("dag", {}).get("tasks", {}))
    return tasks


def test_gpu_and_cpu_steps_land_on_their_pools(tmp_path: Path) -> None:
    compiled = _compile("end_to_end", tmp_path)
    executors, containers = _executors(compiled["platform"]), _containers(compiled["spec"])
    gpu = ["exec-generate", "exec-lm-score", "exec-discriminate", "exec-train", "exec-evaluate-base",
           "exec-evaluate-trained"]
    cpu = ["exec-validate-semi-instruct", "exec-execution-filter", "exec-dedup", "exec-decontaminate", "exec-verify"]
    for name in gpu:
        assert executors[name]["nodeSelector"]["labels"] == {"nvidia.com/gpu.present": "true"}, name
        assert executors[name]["tolerations"][0]["key"] == "nvidia.com/gpu", name
        resources = containers[name]["container"]["resources"]
        assert resources["accelerator"]["resourceType"] == "nvidia.com/gpu", name
    for name in cpu:
        assert "nodeSelector" not in executors.get(name, {}), name  # the chart's CPU pool selects no labels
        assert "tolerations" not in executors.get(name, {}), name
        assert "accelerator" not in containers[name]["container"].get("resources", {}), name


def test_pools_and_images_are_settings_not_literals(tmp_path: Path) -> None:
    config = load({"pipelines": {
        "image": "registry.example/ci:1", "gpu_image": "registry.example/ci-gpu:1",
        "gpu_node_selector": {"cloud.google.com/gke-accelerator": "nvidia-l4"},
        "gpu_tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}],
        "cpu_node_selector": {"pool": "sandbox"}, "gpu_accelerator_type": "nvidia.com/mig-1g.10gb"}})
    compiled = _compile("wavecoder", tmp_path, config)
    executors, containers = _executors(compiled["platform"]), _containers(compiled["spec"])
    assert executors["exec-generate"]["nodeSelector"]["labels"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert executors["exec-generate"]["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}]
    assert containers["exec-generate"]["container"]["image"] == "registry.example/ci-gpu:1"
    assert containers["exec-generate"]["container"]["resources"]["accelerator"]["resourceType"] == \
        "nvidia.com/mig-1g.10gb"
    assert executors["exec-execution-filter"]["nodeSelector"]["labels"] == {"pool": "sandbox"}
    assert containers["exec-execution-filter"]["container"]["image"] == "registry.example/ci:1"
    assert "nvidia.com/gpu.present" not in compiled["text"]


def test_default_pools_are_the_helm_charts() -> None:
    # A pipeline compiled without the chart must land on the nodes the chart's pools use.
    values = yaml.safe_load((GOLDEN.parents[1] / "charts" / "codeinstruct" / "values.yaml").read_text())
    pools, defaults = values["nodePools"], PipelinesConfig()
    assert defaults.gpu_node_selector == pools["gpu"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert defaults.gpu_tolerations == pools["gpu"]["tolerations"]
    assert defaults.cpu_node_selector == pools["cpu"]["nodeSelector"]
    assert defaults.cpu_tolerations == pools["cpu"]["tolerations"]


def test_fan_out_retries_and_caching(tmp_path: Path) -> None:
    config = load({"pipelines": {"parallelism": 3, "retries": 5, "backoff_duration": "1m"}})
    spec = _compile("semi_instruct", tmp_path, config)["spec"]
    tasks = _task_specs(spec)
    loop = next(t for t in spec["root"]["dag"]["tasks"].values() if "parameterIterator" in t)
    assert loop["iteratorPolicy"]["parallelismLimit"] == 3
    assert loop["parameterIterator"]["items"]["inputParameter"].endswith("prepare-seeds-Output")
    gen = tasks["generate"]
    assert gen["retryPolicy"]["maxRetryCount"] == 5
    assert gen["retryPolicy"]["backoffDuration"] == "60s"
    # Side-effect steps never reuse cached results; pure ones may.
    assert not gen.get("cachingOptions", {}).get("enableCache", False)
    assert not tasks["validate-semi-instruct"].get("cachingOptions", {}).get("enableCache", False)
    assert tasks["merge-shards"]["cachingOptions"]["enableCache"] is True
    # Fan-in of the shards uses the Collected output of the loop.
    merge_input = tasks["merge-shards"]["inputs"]["artifacts"]["parts"]
    assert "taskOutputArtifact" in merge_input or "pipelineChannel" in str(merge_input)


def test_every_step_writes_metrics_and_markdown(tmp_path: Path) -> None:
    spec = _compile("end_to_end", tmp_path)["spec"]
    for name, component in spec["components"].items():
        if "dag" in component:
            continue
        outputs = component.get("outputDefinitions", {}).get("artifacts", {})
        assert outputs.get("metrics", {}).get("artifactType", {}).get("schemaTitle") == "system.Metrics", name
        assert outputs.get("summary", {}).get("artifactType", {}).get("schemaTitle") == "system.Markdown", name
    report = spec["components"]["comp-build-report"]["outputDefinitions"]["artifacts"]
    assert report["report_html"]["artifactType"]["schemaTitle"] == "system.HTML"


def test_end_to_end_runs_only_the_configured_methods(tmp_path: Path) -> None:
    spec = _compile("end_to_end", tmp_path, load({"pipelines": {"methods": ["semi_instruct", "wavecoder"]}}))["spec"]
    merge = spec["root"]["dag"]["tasks"]["merge-methods"]["inputs"]["artifacts"]
    assert set(merge) == {"semi_instruct", "wavecoder"}


@pytest.mark.parametrize("section", [
    {"methods": ["nope"]}, {"gpu_tolerations": [{"key": "a", "operator": "Sometimes"}]},
    {"backoff_duration": "soon"}, {"parallelism": 0}, {"eval_samples": 1, "eval_k": [1, 10]},
    {"gpu_node_selector": {"nvidia.com/gpu.present": True}},
])
def test_bad_settings_are_rejected_naming_the_field(section: dict) -> None:
    with pytest.raises(InvalidInput) as info:
        load({"pipelines": section})
    assert "pipelines." in info.value.message


def test_cli_compile_writes_yaml(tmp_path: Path) -> None:
    from codeinstruct.cli.main import main

    out = tmp_path / "sub" / "train_eval.yaml"
    assert main(["compile", "train_eval", "-o", str(out)]) == 0
    assert yaml.safe_load_all(out.read_text()).__next__()["pipelineInfo"]["name"] == "train-eval"
