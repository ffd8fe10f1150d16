"""A short LoRA run on the embedded SmolLM2-135M: the adapter moves and the loss goes down."""

from __future__ import annotations

from pathlib import Path

import pytest
from safetensors.torch import load_file

from codeinstruct.training.config import TrainingConfig
from codeinstruct.training.trainer import train
from tests.support.training import make_records


@pytest.mark.slow
def test_three_lora_steps_on_the_embedded_model_lower_the_loss(tmp_path: Path) -> None:
    config = TrainingConfig(model="default", batch_size=4, epochs=3, learning_rate=1e-3, max_length=256,
                            lr_scheduler="constant", save_every_steps=10)
    summary = train(make_records(4), tmp_path / "out", config)
    losses = [row["loss"] for row in summary["losses"]]
    assert len(losses) == 3
    # The same four examples every step: a working update must fit them better.
    assert losses[-1] < losses[0]
    adapter = load_file(str(tmp_path / "out" / "adapter_model.safetensors"))
    lora_b = [v for k, v in adapter.items() if "lora_B" in k]
    assert len(lora_b) == 30 * 7  # 30 layers x 7 projections
    assert all(v.abs().sum() > 0 for v in lora_b)
    assert summary["tokens_per_s"] > 0
