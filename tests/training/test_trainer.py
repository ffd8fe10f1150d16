"""The trainer on a tiny model: LoRA and full updates, stages, checkpoints, kill -9 and exact resume."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from codeinstruct.core.errors import Cancelled, FailedPrecondition
from codeinstruct.core.records import write_jsonl_atomic
from codeinstruct.engines.merge import merge_adapter
from codeinstruct.engines.models import is_adapter_folder
from codeinstruct.training import checkpoints
from codeinstruct.training.config import Stage, TrainingConfig
from codeinstruct.training.trainer import train
from tests.support.training import make_records


def tiny_config(model: Path, **overrides) -> TrainingConfig:
    values = {"model": str(model), "batch_size": 4, "learning_rate": 1e-2, "epochs": 3, "num_threads": 1,
              "save_every_steps": 2, "shuffle": True, "lora_dropout": 0.1}
    values.update(overrides)
    return TrainingConfig(**values)


def test_lora_changes_only_adapter_weights_and_lowers_the_loss(tiny_model: Path, tmp_path: Path) -> None:
    events: list[dict] = []
    summary = train(make_records(8), tmp_path / "out", tiny_config(tiny_model), progress=events.append)
    losses = [row["loss"] for row in summary["losses"]]
    assert summary["steps"] == 6 and len(losses) == 6
    assert losses[-1] < losses[0]
    steps = [e for e in events if e["event"] == "step"]
    assert {"loss", "learning_rate", "tokens_per_s", "eta_s"} <= set(steps[0])
    assert steps[-1]["eta_s"] == 0
    assert is_adapter_folder(tmp_path / "out")
    adapter = load_file(str(tmp_path / "out" / "adapter_model.safetensors"))
    lora_b = [v for k, v in adapter.items() if "lora_B" in k]
    # LoRA B starts at zero: any non-zero entry means training moved the adapter.
    assert lora_b and all(v.abs().sum() > 0 for v in lora_b)
    merged = merge_adapter(tmp_path / "out", tmp_path / "merged")
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    tuned = AutoModelForCausalLM.from_pretrained(merged)
    q_base = base.model.layers[0].self_attn.q_proj.weight
    q_tuned = tuned.model.layers[0].self_attn.q_proj.weight
    assert not torch.equal(q_base, q_tuned)
    assert torch.equal(base.model.embed_tokens.weight, tuned.model.embed_tokens.weight)


def test_full_fine_tuning_updates_every_weight_and_writes_a_model(tiny_model: Path, tmp_path: Path) -> None:
    summary = train(make_records(4), tmp_path / "full", tiny_config(tiny_model, mode="full", epochs=1))
    assert summary["steps"] == 1 and summary["adapter_dir"] is None
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    tuned = AutoModelForCausalLM.from_pretrained(tmp_path / "full")
    assert not torch.equal(base.model.embed_tokens.weight, tuned.model.embed_tokens.weight)
    assert summary["trainable_parameters"] == sum(p.numel() for p in base.parameters())


def test_stages_run_in_order_with_their_own_data_and_learning_rate(tiny_model: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl_atomic(first, make_records(4, tag="a"))
    write_jsonl_atomic(second, make_records(8, tag="b"))
    config = tiny_config(tiny_model, lr_scheduler="constant", merge_lora=True, stages=(
        {"name": "new", "data": str(first), "epochs": 1, "learning_rate": 1e-3},
        {"name": "original", "data": str(second), "epochs": 2, "learning_rate": 5e-3}))
    summary = train(None, tmp_path / "out", config)
    assert [(r["stage"], r["learning_rate"]) for r in summary["losses"]] == [("new", 1e-3)] + [("original", 5e-3)] * 4
    # merged output: a plain model folder, the adapter kept beside it
    assert (tmp_path / "out" / "config.json").is_file() and is_adapter_folder(tmp_path / "out" / "adapter")


def test_max_steps_stops_early_and_a_rerun_continues(tiny_model: Path, tmp_path: Path) -> None:
    short = train(make_records(8), tmp_path / "out", tiny_config(tiny_model, max_steps=2))
    assert short["steps"] == 2 and short["stopped"] == "max_steps"
    rest = train(make_records(8), tmp_path / "out", tiny_config(tiny_model))
    assert rest["resumed_from"].endswith("step-000002") and rest["steps"] == 6


def test_resume_refuses_checkpoints_of_a_different_run(tiny_model: Path, tmp_path: Path) -> None:
    train(make_records(8), tmp_path / "out", tiny_config(tiny_model, max_steps=2))
    with pytest.raises(FailedPrecondition, match="different run"):
        train(make_records(6), tmp_path / "out", tiny_config(tiny_model))


def test_should_stop_saves_a_checkpoint_and_raises_cancelled(tiny_model: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    with pytest.raises(Cancelled):
        train(make_records(8), tmp_path / "out", tiny_config(tiny_model, save_every_steps=100),
              progress=lambda e: seen.append(e["step"]) if e["event"] == "step" else None,
              should_stop=lambda: len(seen) >= 3)
    last = checkpoints.latest(tmp_path / "out")
    assert last is not None and checkpoints.load_state(last).global_step == 3


KILLER = textwrap.dedent("""
    import os, signal, sys
    from codeinstruct.training.config import TrainingConfig
    from codeinstruct.training.trainer import train
    config = TrainingConfig(**__import__("json").loads(sys.argv[1]))
    def progress(event):
        if event["event"] == "step" and event["step"] == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)
    train(sys.argv[2], sys.argv[4], config, progress=progress)
""")


def test_kill_9_and_resume_reproduces_the_uninterrupted_run(tiny_model: Path, tmp_path: Path) -> None:
    data = tmp_path / "data.jsonl"
    write_jsonl_atomic(data, make_records(10))
    config = tiny_config(tiny_model, gradient_accumulation_steps=2, batch_size=2, epochs=3, warmup_ratio=0.2)
    reference = train(data, tmp_path / "reference", config)
    assert reference["steps"] == 8
    # Killed right after step 5; the last checkpoint is step 4, so step 5 is redone after the resume.
    proc = subprocess.run([sys.executable, "-c", KILLER, json.dumps(config.to_dict()), str(data), "5",
                           str(tmp_path / "resumed")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert checkpoints.latest(tmp_path / "resumed").name == "step-000004"
    resumed = train(data, tmp_path / "resumed", config)
    assert resumed["resumed_from"].endswith("step-000004")
    assert [r["step"] for r in resumed["losses"]] == list(range(1, 9))
    for ours, theirs in zip(resumed["losses"], reference["losses"], strict=True):
        assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-6, abs=1e-7)
        assert ours["learning_rate"] == theirs["learning_rate"]
    a = load_file(str(tmp_path / "resumed" / "adapter_model.safetensors"))
    b = load_file(str(tmp_path / "reference" / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], rtol=1e-5, atol=1e-7) for k in a)


def test_resume_with_stages_crosses_the_stage_boundary_exactly(tiny_model: Path, tmp_path: Path) -> None:
    stages = [Stage("one", make_records(4, tag="x"), epochs=2, learning_rate=2e-3),
              Stage("two", make_records(6, tag="y"), epochs=1)]
    config = tiny_config(tiny_model, save_every_steps=1)
    reference = train(stages, tmp_path / "reference", config)
    train(stages, tmp_path / "resumed", TrainingConfig(**{**config.__dict__, "max_steps": 3}))
    resumed = train(stages, tmp_path / "resumed", config)
    assert [r["stage"] for r in resumed["losses"]] == ["one", "one", "two", "two"]
    assert [r["loss"] for r in resumed["losses"]] == pytest.approx([r["loss"] for r in reference["losses"]],
                                                                   rel=1e-6)
