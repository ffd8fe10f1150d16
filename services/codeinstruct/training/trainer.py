"""Supervised fine-tuning: LoRA (default) or full, in stages, with exact resume.

`train()` runs the stages in order; each stage gets a fresh optimizer (AdamW or Adafactor) and
learning-rate schedule over its own planned steps. A ranked dataset keeps its order unless
`training.shuffle` is true (`data.ranked_by`). Every `save_every_steps` optimizer steps (and when
it stops) it writes a checkpoint; called again with the same output folder it continues from the
newest one and reproduces the loss curve of an uninterrupted run (batch order is a pure function
of the seed and the position, and RNG states are restored). `max_steps` stops early without changing the schedule,
so a short run can later be continued. Under torchrun (Kubeflow TrainJob) it runs data-parallel:
each rank takes a slice of every batch and rank 0 writes checkpoints and the output.

Example:
    from codeinstruct.training.config import TrainingConfig
    from codeinstruct.training.trainer import train
    summary = train("data.jsonl", "runs/model", TrainingConfig(max_steps=3), progress=print)
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeinstruct.core import deadline
from codeinstruct.core import progress as progress_mod
from codeinstruct.core.errors import Cancelled, DeadlineExceeded, FailedPrecondition, InvalidInput, Unavailable
from codeinstruct.core.records import Record, stable_hash, write_text_atomic
from codeinstruct.training import checkpoints
from codeinstruct.training.config import Stage, TrainingConfig, stages_from
from codeinstruct.training.data import (
    BatchPlan,
    Example,
    collate,
    data_fingerprint,
    load_records,
    ranked_by,
    tokenize_records,
)

logger = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]


def resolve_model_path(model: str) -> str:
    """The model folder (or hub id) to train from: 'default', a model folder (`engines.models`)."""
    from codeinstruct.engines.models import resolve_model

    resolved = resolve_model(model, field="training.model")
    if resolved.adapter is not None:
        raise InvalidInput(f"training.model {model!r} is a LoRA adapter folder: train from a model folder (its "
                           "base, or the adapter merged: training.merge_lora, engines.merge.merge_adapter)",
                           field="training.model")
    return resolved.base


def load_model(model: str, dtype: str = "float32") -> tuple[Any, Any, str]:
    """(model, tokenizer, resolved path) of a causal LM; pad falls back to EOS."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = resolve_model_path(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        lm = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
    except OSError as exc:
        raise Unavailable(f"cannot load model {model!r}: {exc}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return lm, tokenizer, path


def _apply_lora(model: Any, config: TrainingConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [t for t in config.lora_target_modules if t in present]
    if not targets:
        raise InvalidInput(f"none of training.lora_target_modules {list(config.lora_target_modules)} exist in "
                           "the model", field="training.lora_target_modules")
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=targets, task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


@dataclass
class _StagePlan:
    stage: Stage
    examples: list[Example]
    plan: BatchPlan
    learning_rate: float
    steps: int
    fingerprint: str
    accumulation: int
    ranked_by: str | None


def _plan_stages(data: Any, config: TrainingConfig, tokenizer: Any, world: int) -> list[_StagePlan]:
    stages = _resolve_stages(data, config)
    micro = config.batch_size * world
    accumulation = config.accumulation_steps(world)
    plans = []
    for index, stage in enumerate(stages):
        records = load_records(stage.data)
        examples = tokenize_records(records, tokenizer, config.prompt_format, config.max_length)
        ranked = ranked_by(records)
        plan = BatchPlan(len(examples), micro, stage.epochs or config.epochs, config.seed + 1000 * index,
                         shuffle=_shuffles(config, stage, ranked))
        steps = math.ceil(plan.total_micro_batches / accumulation)
        plans.append(_StagePlan(stage, examples, plan, stage.learning_rate or config.learning_rate, steps,
                                data_fingerprint(records), accumulation, ranked))
    return plans


def _shuffles(config: TrainingConfig, stage: Stage, ranked: str | None) -> bool:
    """Whether the stage's examples are shuffled: never with curriculum, as told by `shuffle`, and
    otherwise unless the data is ranked (a curriculum's order is the point of ranking it)."""
    if config.curriculum:
        return False
    if config.shuffle is not None:
        return config.shuffle
    if ranked:
        logger.info("stage %s: the data is ranked by scores.%s; keeping its order (training.shuffle: true "
                    "shuffles it)", stage.name, ranked)
    return ranked is None


def _resolve_stages(data: Any, config: TrainingConfig) -> list[Stage]:
    """Explicit stages, or the configured stages (their missing data filled with `data`), or one stage."""
    if isinstance(data, Sequence) and data and all(isinstance(s, Stage) for s in data):
        stages = list(data)
    elif config.stages:
        stages = [s if s.data is not None else Stage(s.name, data, s.epochs, s.learning_rate)
                  for s in stages_from(config)]
    else:
        stages = [Stage("main", data, config.epochs, config.learning_rate)]
    for stage in stages:
        if stage.data is None:
            raise InvalidInput(f"stage {stage.name!r} has no data", field="data")
    return stages


def _fingerprint(config: TrainingConfig, plans: list[_StagePlan], base: str) -> str:
    settings = config.fingerprint_settings()
    settings["model"] = base
    stages = [(p.stage.name, p.fingerprint, p.plan.epochs, p.learning_rate, p.plan.shuffle, p.accumulation)
              for p in plans]
    return stable_hash(settings, stages)


class _Distributed:
    """torchrun support: rank/world and gradient averaging, or a no-op for one process."""

    def __init__(self) -> None:
        import torch.distributed as dist

        self.dist = dist
        self.enabled = dist.is_available() and dist.is_torchelastic_launched()
        if self.enabled and not dist.is_initialized():
            import torch

            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        self.rank = dist.get_rank() if self.enabled else 0
        self.world = dist.get_world_size() if self.enabled else 1

    def all_sum(self, value: float) -> float:
        if not self.enabled:
            return value
        import torch

        tensor = torch.tensor([value], dtype=torch.float64)
        self.dist.all_reduce(tensor)
        return float(tensor.item())

    def average_gradients(self, params: list[Any]) -> None:
        # Each rank's loss is already divided by the global token count: sum the gradients.
        if not self.enabled:
            return
        for p in params:
            if p.grad is not None:
                self.dist.all_reduce(p.grad)


def train(data: str | Path | Iterable[Record | Mapping[str, Any]] | Sequence[Stage] | None,
          output_dir: str | Path, config: TrainingConfig | None = None,
          progress: Progress | None = None, *, should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Fine-tune `config.model` on `data` (records, a JSONL path, or a list of Stage) into `output_dir`.

    Returns a summary: losses per step, steps, tokens, tokens/s, output folders, resumed_from.
    `progress` gets one dict per event (start, step, checkpoint, done); `should_stop` returning True
    (or a cancelled request scope) saves a checkpoint and raises Cancelled.
    """
    config = config or TrainingConfig()
    output_dir = Path(output_dir)
    emit = progress or (lambda event: None)
    dist = _Distributed()
    _seed(config)

    model, tokenizer, base = load_model(config.model, config.dtype)
    plans = _plan_stages(data, config, tokenizer, dist.world)
    fingerprint = _fingerprint(config, plans, base)
    if config.mode == "lora":
        model = _apply_lora(model, config)
    else:
        model.requires_grad_(True)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    n_trainable = sum(p.numel() for p in params)
    state, last = _resume(output_dir, config, model, fingerprint)
    resumed_from = str(last) if last is not None else None

    total_steps = sum(p.steps for p in plans)
    clock = _Clock(limit=min(total_steps, config.max_steps) if config.max_steps else total_steps,
                   tokens_at_start=state.tokens, first_step=state.global_step, world=dist.world)
    # one bar for the run: rank 0 reports, the other ranks' tasks are silent
    task = progress_mod.track("train", total=clock.limit, unit="step", done=state.global_step) if dist.rank == 0 \
        else progress_mod.Task("train", clock.limit, "step", None)
    if resumed_from and dist.rank == 0:
        logger.info("resuming from %s", resumed_from)
    emit({"event": "start", "total_steps": clock.limit, "planned_steps": total_steps, "step": state.global_step,
          "trainable_parameters": n_trainable, "resumed_from": resumed_from, "stages": [p.stage.name for p in plans]})
    stopped, saved_step = "completed", state.global_step if resumed_from else -1
    optimizer = scheduler = None

    for stage_index in range(state.stage, len(plans)):
        sp = plans[stage_index]
        optimizer, scheduler = _optimizer(params, sp, config)
        if last is not None and stage_index == state.stage and state.position > 0:
            checkpoints.load_optimizer(last, optimizer, scheduler)
            checkpoints.restore_rng(last)
        position = state.position if stage_index == state.stage else 0
        while position < sp.plan.total_micro_batches:
            if state.global_step >= clock.limit:
                stopped = "max_steps"
                break
            if (should_stop and should_stop()) or _scope_cancelled():
                if saved_step != state.global_step:
                    _save(output_dir, state, model, optimizer, scheduler, config, dist)
                emit({"event": "cancelled", "step": state.global_step})
                task.close(failed=True)
                raise Cancelled(f"training cancelled at step {state.global_step}")
            step_start = time.perf_counter()
            step_loss, lr, epoch, position = _step(model, params, optimizer, scheduler, sp, position, config, dist,
                                                   tokenizer.pad_token_id, state)
            state.global_step += 1
            state.position = position
            state.losses.append({"step": state.global_step, "stage": sp.stage.name, "loss": step_loss,
                                 "learning_rate": lr, "epoch": epoch})
            rates = clock.rates(state)
            emit({"event": "step", "step": state.global_step, "total_steps": clock.limit, "stage": sp.stage.name,
                  "epoch": epoch, "loss": step_loss, "learning_rate": lr, **rates,
                  "step_time_s": time.perf_counter() - step_start})
            task.update(state.global_step, note=f"loss {step_loss:.4f}, lr {lr:.2e}, "
                                                f"{rates.get('tokens_per_s', 0):.0f} tokens/s")
            if state.global_step % config.save_every_steps == 0:
                path = _save(output_dir, state, model, optimizer, scheduler, config, dist)
                saved_step = state.global_step
                emit({"event": "checkpoint", "step": state.global_step, "path": str(path)})
        if stopped == "max_steps":
            break
        state.stage, state.position = stage_index + 1, 0

    task.close()
    if saved_step != state.global_step and optimizer is not None:
        _save(output_dir, state, model, optimizer, scheduler, config, dist)
    summary = _finish(model, tokenizer, base, output_dir, config, state, plans, dist)
    elapsed = time.perf_counter() - clock.started
    summary.update({"resumed_from": resumed_from, "stopped": stopped, "elapsed_s": elapsed,
                    "trainable_parameters": n_trainable, "tokens_per_s": clock.rates(state)["tokens_per_s"]})
    if dist.rank == 0:
        import json

        write_text_atomic(output_dir / "training_summary.json", json.dumps(summary, indent=1))
    emit({"event": "done", **{k: v for k, v in summary.items() if k != "losses"}})
    return summary


def _seed(config: TrainingConfig) -> None:
    """Threads and every seed a run depends on (weights init, shuffling, dropout)."""
    import numpy as np
    import torch

    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)


def _resume(output_dir: Path, config: TrainingConfig, model: Any,
            fingerprint: str) -> tuple[checkpoints.TrainState, Path | None]:
    """The state to start from: the latest checkpoint's (its weights loaded into `model`), or a new one."""
    last = checkpoints.latest(output_dir) if config.resume else None
    if last is None:
        return checkpoints.TrainState(fingerprint=fingerprint), None
    saved = checkpoints.load_state(last)
    if saved.fingerprint != fingerprint:
        raise FailedPrecondition(
            f"{output_dir} holds checkpoints of a different run (other data or settings); use a new output "
            f"folder or set training.resume to false", metadata={"checkpoint": str(last)})
    checkpoints.load_weights(last, model)
    logger.info("resuming from %s (step %d)", last, saved.global_step)
    return saved, last


def _optimizer(params: list[Any], sp: _StagePlan, config: TrainingConfig) -> tuple[Any, Any]:
    """A fresh optimizer and learning-rate schedule for one stage."""
    from transformers import get_scheduler

    optimizer = _new_optimizer(params, sp.learning_rate, config)
    warmup = config.warmup_steps or int(config.warmup_ratio * sp.steps)
    scheduler = get_scheduler(config.lr_scheduler, optimizer, num_warmup_steps=warmup, num_training_steps=sp.steps)
    return optimizer, scheduler


def _new_optimizer(params: list[Any], learning_rate: float, config: TrainingConfig) -> Any:
    if config.optimizer == "adafactor":
        from transformers.optimization import Adafactor

        # A fixed learning rate that the schedule drives, as with AdamW (not Adafactor's own relative step).
        return Adafactor(params, lr=learning_rate, weight_decay=config.weight_decay, scale_parameter=False,
                         relative_step=False, warmup_init=False)
    import torch

    return torch.optim.AdamW(params, lr=learning_rate, weight_decay=config.weight_decay)


def _step(model: Any, params: list[Any], optimizer: Any, scheduler: Any, sp: _StagePlan, position: int,
          config: TrainingConfig, dist: _Distributed, pad_id: int,
          state: checkpoints.TrainState) -> tuple[float, float, int, int]:
    """One optimizer step over the next micro-batches from `position`: (loss per label token, learning
    rate, epoch, next position). Counts the step's tokens into `state.tokens`."""
    import torch

    micro = range(position, min(position + sp.accumulation, sp.plan.total_micro_batches))
    batches = []
    epoch = 0
    for pos in micro:
        epoch, indices = sp.plan.batch(pos)
        mine = indices[dist.rank::dist.world]
        batches.append(collate([sp.examples[i] for i in mine], pad_id,
                               None if config.dynamic_padding else config.max_length) if mine else None)
    # Every rank divides by the global label-token count, so averaged gradients equal one big batch's.
    n_tokens = dist.all_sum(sum(int((b["labels"] != -100).sum()) for b in batches if b is not None))
    loss_sum = 0.0
    for batch in batches:
        if batch is None:
            continue
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        loss = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.size(-1)).float(), batch["labels"][:, 1:].reshape(-1),
            ignore_index=-100, reduction="sum")
        (loss / max(n_tokens, 1.0)).backward()
        loss_sum += float(loss.detach())
        state.tokens += int(batch["attention_mask"].sum())
    dist.average_gradients(params)
    if config.max_grad_norm:
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
    lr = scheduler.get_last_lr()[0]
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return dist.all_sum(loss_sum) / max(n_tokens, 1.0), lr, epoch, micro.stop


@dataclass
class _Clock:
    """Throughput and ETA of this session (a resumed run counts from where it resumed)."""

    limit: int
    tokens_at_start: int
    first_step: int
    world: int
    started: float = field(default_factory=time.perf_counter)

    def rates(self, state: checkpoints.TrainState) -> dict[str, float]:
        elapsed = time.perf_counter() - self.started
        done_here = state.global_step - self.first_step
        return {"tokens_per_s": (state.tokens - self.tokens_at_start) * self.world / max(elapsed, 1e-9),
                "eta_s": elapsed / max(done_here, 1) * (self.limit - state.global_step)}


def _scope_cancelled() -> bool:
    try:
        deadline.check()
    except (Cancelled, DeadlineExceeded):
        return True
    return False


def _save(output_dir: Path, state: checkpoints.TrainState, model: Any, optimizer: Any, scheduler: Any,
          config: TrainingConfig, dist: _Distributed) -> Path:
    path = checkpoints.checkpoint_root(output_dir) / f"{checkpoints.PREFIX}{state.global_step:06d}"
    if dist.rank == 0:
        path = checkpoints.save(output_dir, state, model, optimizer, scheduler, config.keep_checkpoints)
    if dist.enabled:
        dist.dist.barrier()
    return path


def _finish(model: Any, tokenizer: Any, base: str, output_dir: Path, config: TrainingConfig,
            state: checkpoints.TrainState, plans: list[_StagePlan], dist: _Distributed) -> dict[str, Any]:
    """Write the output model folder: the adapter (LoRA), the merged model, or the full model."""
    adapter_dir = None
    if dist.rank == 0:
        output_dir.mkdir(parents=True, exist_ok=True)
        model.eval()
        if config.mode == "lora":
            if config.merge_lora:
                adapter_dir = output_dir / "adapter"
                model.save_pretrained(adapter_dir)
                merged = model.merge_and_unload()
                merged.save_pretrained(output_dir)
            else:
                adapter_dir = output_dir
                model.save_pretrained(output_dir)
        else:
            model.save_pretrained(output_dir)
        tokenizer.save_pretrained(output_dir)
    return {"output_dir": str(output_dir), "model_dir": str(output_dir),
            "adapter_dir": str(adapter_dir) if adapter_dir else None, "base_model": base,
            "checkpoint_dir": str(checkpoints.checkpoint_root(output_dir)), "steps": state.global_step,
            "tokens": state.tokens, "losses": state.losses, "mode": config.mode,
            "stages": [{"name": p.stage.name, "examples": len(p.examples), "steps": p.steps,
                        "learning_rate": p.learning_rate, "epochs": p.plan.epochs, "shuffled": p.plan.shuffle,
                        "ranked_by": p.ranked_by, "accumulation_steps": p.accumulation} for p in plans]}
