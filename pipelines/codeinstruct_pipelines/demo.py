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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from codeinstruct_pipelines.local import run_local

logger = logging.getLogger(__name__)

# Sized for a 2-core CPU: the whole run stays well under 15 minutes after set-up.
DEMO_CONFIG: dict[str, Any] = {
    "pipelines": {
        "num_shards": 2,
        # Shards take turns on a 2-core machine (two models decoding at once only contend for cores).
        "parallelism": 1,
        "method_seeds": {"semi_instruct": 10, "inverse_instruct": 3, "evol_instruct": 3, "wavecoder": 3,
                         "self_instruct": 3},
        "eval_limit": 8,
        "eval_k": [1],
        "eval_samples": 1,
    },
    "training": {
        "mode": "lora",
        "max_steps": 15,
        "batch_size": 2,
        "max_length": 512,
        "learning_rate": 0.0003,
        "save_every_steps": 1000,
        "eval_max_tokens": 192,
    },
}


def merge_config(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Section-wise merge: `override`'s keys replace `base`'s inside each section (nested mappings too)."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in base.items()}
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = value
    return out


def default_run_dir(root: str | Path = "runs") -> Path:
    return Path(root) / datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")


def run_demo(*, output_dir: str | Path | None = None, file_data: Mapping[str, Any] | None = None,
             echo: Callable[[str], None] | None = None) -> tuple[Path, dict[str, Any]]:
    """Run the demo; returns the run folder and its metrics."""
    run_dir = Path(output_dir) if output_dir else default_run_dir()
    data = run_local("end_to_end", output_dir=run_dir, file_data=merge_config(DEMO_CONFIG, file_data or {}),
                     echo=echo)
    return run_dir, data
