"""`codeinstruct demo`: end_to_end on the embedded default, sized to finish in minutes on a laptop CPU.

The demo is the end_to_end pipeline run locally with a small preset (`DEMO_CONFIG`): stdlib
functions as seeds, the embedded SmolLM2-135M-Instruct, the sandbox, a short LoRA run and a
HumanEval subset before and after. A user config file is merged over the preset section by section
(key by key), so `--config real-model.yaml` can point the same run at a real model on a GPU.

Example:
    codeinstruct demo --output runs/try1
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codeinstruct.settings import Settings
from codeinstruct_pipelines.local import run_local

logger = logging.getLogger(__name__)

# Sized for a 2-core CPU: the whole run stays well under 15 minutes after set-up.
DEMO_CONFIG: dict[str, Any] = {
    "pipelines": {
        # One shard per method: every shard loads the model, and a single batch decodes all its seeds at
        # once. On a cluster, num_shards and parallelism fan generation out over GPU pods.
        "num_shards": 1,
        "parallelism": 1,
        "method_seeds": {"semi_instruct": 12, "inverse_instruct": 3, "evol_instruct": 2, "wavecoder": 3,
                         "self_instruct": 2},
        # true: the methods that make tests (Semi-Instruct) must carry passing tests; every other method's
        # records are kept when they meet their own standard (verify, docs/scoring.md), so all methods
        # that produced records reach training (SmolLM2-135M's refined code rarely reproduces the
        # original's outputs: about 1 Semi-Instruct record in 8 seeds).
        "require_tests": True,
        "eval_limit": 6,
        "eval_k": [1],
        "eval_samples": 1,
    },
    "generation": {
        "max_tokens": 320,
        "inverse": {"samples": 2},
        "evol": {"max_tokens": 128},
    },
    "training": {
        "mode": "lora",
        "max_steps": 15,
        "epochs": 3,
        "batch_size": 2,
        "max_length": 512,
        "learning_rate": 0.0003,
        "save_every_steps": 1000,
        "eval": {"max_tokens": 192},
    },
}


def default_run_dir(root: str | Path = "runs") -> Path:
    return Path(root) / datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")


def reverify(dataset_path: str | Path, settings: Settings) -> tuple[int, dict[str, int]]:
    """Re-run every record's own tests in a fresh sandbox: (records passing, failure reasons)."""
    from codeinstruct.core.records import read_records
    from codeinstruct.targets import INPROCESS, open_sandbox
    from codeinstruct_pipelines import steps

    records = list(read_records(dataset_path))
    with open_sandbox(INPROCESS, settings.sandbox) as box:
        kept, reasons = steps.verify_records(records, box, require_tests=settings.pipelines.methods_requiring_tests)
    return len(kept), reasons


def demo_settings(config_path: str | Path | None = None) -> Settings:
    """The demo's settings: a user config file merged over `DEMO_CONFIG` section by section, key by key."""
    return Settings.load(config_path, defaults=DEMO_CONFIG)


def run_demo(settings: Settings, *, output_dir: str | Path | None = None,
             echo: Callable[[str], None] | None = None) -> tuple[Path, dict[str, Any]]:
    """Run the demo with `demo_settings(...)`; returns the run folder and its metrics (with `reverified`:
    records re-run here)."""
    run_dir = Path(output_dir) if output_dir else default_run_dir()
    data = run_local("end_to_end", output_dir=run_dir, settings=settings, echo=echo)
    passed, reasons = reverify(run_dir / "dataset.jsonl", settings)
    data["reverified"] = {"passed": passed, "records": data["records"], "failures": reasons}
    return run_dir, data
