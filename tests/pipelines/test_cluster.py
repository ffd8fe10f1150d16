"""What a cluster runs: images, GPU requests by target, the token Secret, the data volume and
imported inputs, read from the compiled IR (as the KFP backend reads it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from codeinstruct.core.pipelines_config import PipelinesConfig
from codeinstruct_pipelines.catalog import compile_to

REMOTE = {"generation_target": "gen:50051", "scoring_target": "scoring:50053", "training_target": "training:50054"}


def compiled(name: str, tmp_path: Path, **settings: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    path = compile_to(name, tmp_path / f"{name}.yaml", PipelinesConfig(**settings))
    docs = list(yaml.safe_load_all(path.read_text()))
    platform = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"] if len(docs) > 1 else {}
    return docs[0]["deploymentSpec"]["executors"], platform


def gpu_steps(executors: dict[str, Any]) -> dict[str, str]:
    return {name: e["container"]["image"] for name, e in executors.items()
            if "container" in e and e["container"].get("resources", {}).get("accelerator")}


def test_gpu_steps_run_the_gpu_image_by_default(tmp_path: Path) -> None:
    executors, _ = compiled("end_to_end", tmp_path)
    gpus = gpu_steps(executors)
    assert {"exec-generate", "exec-lm-score", "exec-train", "exec-evaluate-base"} <= set(gpus)
    assert set(gpus.values()) == {"ghcr.io/codeinstruct/codeinstruct:0.1.0-gpu"}
    cpu = executors["exec-verify"]["container"]
    assert cpu["image"].endswith(":0.1.0") and "accelerator" not in cpu.get("resources", {})


def test_steps_that_only_call_a_deployed_service_request_no_gpu(tmp_path: Path) -> None:
    executors, _ = compiled("end_to_end", tmp_path, **REMOTE)
    assert gpu_steps(executors) == {}
    # the Inverse-Instruct loop generates and judges with the model it trained: those steps load it themselves
    loop, _ = compiled("inverse_instruct", tmp_path, **REMOTE)
    assert {"exec-generate", "exec-lm-score"} <= set(gpu_steps(loop))
    assert "exec-train-stages" not in gpu_steps(loop)


def test_every_step_reads_the_token_secret_and_mounts_the_data_volume(tmp_path: Path) -> None:
    executors, platform = compiled("semi_instruct", tmp_path, auth_secret="rel-codeinstruct-auth",
                                   data_pvc="rel-codeinstruct-data", data_mount="/data")
    containers = {name for name, e in executors.items() if "container" in e}
    assert containers and containers <= set(platform)
    for name in containers:
        secret = platform[name]["secretAsEnv"][0]
        assert secret["secretName"] == "rel-codeinstruct-auth"
        assert secret["keyToEnv"] == [{"envVar": "CODEINSTRUCT_AUTH_TOKEN", "secretKey": "token"}]
        assert platform[name]["pvcMount"][0]["mountPath"] == "/data"


def test_inputs_can_enter_as_imported_artifacts(tmp_path: Path) -> None:
    executors, _ = compiled("semi_instruct", tmp_path, import_inputs=True)
    importers = [e["importer"] for e in executors.values() if "importer" in e]
    assert len(importers) == 1 and importers[0]["artifactUri"]["runtimeParameter"] == "uri"
    executors, _ = compiled("train_eval", tmp_path, import_inputs=True)
    assert any("importer" in e for e in executors.values())
    plain, _ = compiled("semi_instruct", tmp_path)
    assert not any("importer" in e for e in plain.values())
