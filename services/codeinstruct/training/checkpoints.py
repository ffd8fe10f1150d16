"""Training checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint folder `checkpoints/step-000040/` holds the trainable weights (the LoRA adapter, or
all weights for full fine-tuning), the optimizer and scheduler states, the Python/NumPy/torch RNG
states and `state.json` (stage, data position, step, loss history, fingerprint). It is written
under a temporary name and renamed when complete, so a run killed while saving leaves the previous
checkpoint intact; only the newest `keep` checkpoints stay on disk.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeinstruct.core.records import write_text_atomic

logger = logging.getLogger(__name__)

PREFIX = "step-"


@dataclass
class TrainState:
    """Where a run is: the next micro-batch `position` of stage `stage`, and what happened so far."""

    fingerprint: str
    global_step: int = 0
    stage: int = 0
    position: int = 0
    tokens: int = 0
    losses: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=1)

    @classmethod
    def from_json(cls, text: str) -> TrainState:
        return cls(**json.loads(text))


def checkpoint_root(output_dir: Path) -> Path:
    return Path(output_dir) / "checkpoints"


def latest(output_dir: Path) -> Path | None:
    """The newest complete checkpoint folder, or None."""
    root = checkpoint_root(output_dir)
    if not root.is_dir():
        return None
    done = sorted(p for p in root.iterdir() if p.name.startswith(PREFIX) and (p / "state.json").is_file())
    return done[-1] if done else None


def trainable_state(model: Any) -> dict[str, Any]:
    return {name: p.detach().cpu().contiguous() for name, p in model.named_parameters() if p.requires_grad}


def save(output_dir: Path, state: TrainState, model: Any, optimizer: Any, scheduler: Any, keep: int) -> Path:
    import numpy as np
    import torch
    from safetensors.torch import save_file

    root = checkpoint_root(output_dir)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{PREFIX}{state.global_step:06d}"
    tmp = root / f".{final.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(trainable_state(model), str(tmp / "trainable.safetensors"))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    torch.save({"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()},
               tmp / "rng.pt")
    # state.json last: its presence marks the checkpoint as complete.
    write_text_atomic(tmp / "state.json", state.to_json())
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in sorted(p for p in root.iterdir() if p.name.startswith(PREFIX))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    logger.info("checkpoint %s", final)
    return final


def load_state(path: Path) -> TrainState:
    return TrainState.from_json((path / "state.json").read_text(encoding="utf-8"))


def load_weights(path: Path, model: Any) -> None:
    """Copy the checkpoint's trainable weights into `model` (names must match exactly)."""
    import torch
    from safetensors.torch import load_file

    saved = load_file(str(path / "trainable.safetensors"))
    params = dict(model.named_parameters())
    missing = [name for name in saved if name not in params]
    if missing:
        raise RuntimeError(f"checkpoint {path} has weights the model lacks: {missing[:3]}")
    with torch.no_grad():
        for name, value in saved.items():
            params[name].copy_(value)


def load_optimizer(path: Path, optimizer: Any, scheduler: Any) -> None:
    import torch

    optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=False))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=False))


def restore_rng(path: Path) -> None:
    import numpy as np
    import torch

    rng = torch.load(path / "rng.pt", weights_only=False)
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
