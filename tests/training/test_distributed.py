"""torchrun runs the same worker entry point the Kubeflow TrainJob uses; data-parallel training on two
processes matches one process with the same global batch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codeinstruct.core.records import write_jsonl_atomic
from codeinstruct.training.config import TrainingConfig
from codeinstruct.training.trainer import train
from tests.support.training import make_records


@pytest.mark.slow
def test_two_process_torchrun_matches_a_single_process_run(tiny_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    write_jsonl_atomic(data, make_records(8))
    settings = {"model": str(tiny_model), "batch_size": 2, "epochs": 2, "num_threads": 1, "learning_rate": 0.01}
    spec = {"kind": "train", "spec": {"data": str(data), "output_dir": str(tmp_path / "ddp"), "config": settings}}
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        torchrun = Path(shutil.which("torchrun") or "torchrun")
    proc = subprocess.run([str(torchrun), "--standalone", "--nproc_per_node", "2", "-m",
                           "codeinstruct.training.worker", "--spec-json", json.dumps(spec)],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    distributed = json.loads((tmp_path / "ddp" / "training_summary.json").read_text())
    # One process with the global batch (2 per rank x 2 ranks) sees the same batches.
    single = train(data, tmp_path / "single", TrainingConfig(**{**settings, "batch_size": 4}))
    assert distributed["steps"] == single["steps"] == 4
    assert [r["loss"] for r in distributed["losses"]] == pytest.approx([r["loss"] for r in single["losses"]],
                                                                       rel=1e-4)
