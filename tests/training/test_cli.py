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
    assert "train:" in first.stderr  # the progress bar
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
