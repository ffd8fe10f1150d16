"""`codeinstruct train` end to end on the tiny model, through the real entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codeinstruct", *args], capture_output=True, text=True,
                          timeout=180, cwd=cwd)


@pytest.mark.slow
def test_train_command_writes_a_model_and_resumes(tiny_model: Path, records_file: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"training": {"model": str(tiny_model), "num_threads": 1, "epochs": 2,
                                                   "save_every_steps": 2, "learning_rate": 0.01}}))
    out = tmp_path / "model"
    first = run("train", "--data", str(records_file), "--output", str(out), "--config", str(config),
                "--max-steps", "2", cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "trained 2 step(s) (lora)" in first.stdout
    assert (out / "adapter_model.safetensors").is_file() and (out / "training_summary.json").is_file()
    # not a terminal and shorter than a progress interval: no progress lines (tests/cli/test_progress.py)
    assert "Traceback" not in first.stderr and "%|" not in first.stderr
    second = run("train", "--data", str(records_file), "--output", str(out), "--config", str(config), cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resuming from" in second.stderr and "trained 6 step(s)" in second.stdout


def test_train_command_rejects_bad_input_with_exit_2(tmp_path: Path, tiny_model: Path) -> None:
    missing = run("train", "--data", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o"), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"training": {"batch_size": 0}}))
    (tmp_path / "d.jsonl").write_text("")
    bad = run("train", "--data", str(tmp_path / "d.jsonl"), "--output", str(tmp_path / "o"), "--config",
              str(config), cwd=tmp_path)
    assert bad.returncode == 2 and "training.batch_size" in bad.stderr


@pytest.mark.slow
def test_eval_humaneval_with_a_model_prints_pass_at_k_json(tiny_model: Path, tmp_path: Path) -> None:
    import json

    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"training": {"eval": {"max_tokens": 4}},
                                      "generation": {"engine": {"model": str(tiny_model)}}}))
    proc = run("eval", "humaneval", "--model", str(tiny_model), "--limit", "2", "--json", "--config", str(config),
               "--output", str(tmp_path / "results.jsonl"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["n_problems"] == 2 and 0.0 <= result["pass@1"] <= 1.0
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 2
