"""Steps of Code Evol-Instruct's round loop (loops.py::evol_instruct_pipeline), over JSONL files.

Round k: `evolve_round` runs generation round k alone (`generation.evol.start_round = rounds = k`)
on the dataset so far; the execution filter checks the new records; `close_round` adds them to the
dataset so far; `check_round` (only with the stopping rule) trains on that data and measures
pass@1 on the held-out seed pairs; `gate_round` applies `evol_stopping.stop_rule` to the history,
keeps the best round's dataset and says whether round k+1 runs. A round that must not run gets
`go_on = false` and passes its input through in seconds (see loops.py for why the gate is a
parameter rather than a `dsl.If`).

Nothing here imports KFP; tests call these functions directly.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from codeinstruct.core.records import read_jsonl, write_jsonl_atomic
from codeinstruct.core.usage import USAGE_KEYS
from codeinstruct.generation.evol_stopping import split_holdout, stop_rule
from codeinstruct.settings import Settings
from codeinstruct_pipelines import services
from codeinstruct_pipelines.steps import Stats, _stats, merge_datasets, train_model

logger = logging.getLogger(__name__)


def split_seeds(seeds_path: str | Path, train_path: str | Path, heldout_path: str | Path, *, fraction: float,
                seed: int = 0) -> Stats:
    """Set a `fraction` of the checkable seed pairs aside (never trained on) for the stopping rule."""
    started = time.monotonic()
    seeds = list(read_jsonl(seeds_path))
    train, heldout = split_holdout(seeds, fraction, seed) if fraction > 0 else (seeds, [])
    write_jsonl_atomic(train_path, train)
    write_jsonl_atomic(heldout_path, heldout)
    return _stats("evol_instruct/held-out split", len(seeds), len(train), {"held_out": len(heldout)} if heldout else {},
                  started, method="evol_instruct", held_out=len(heldout))


def evolve_round(round_no: int, go_on: bool, seeds_path: str | Path, data_path: str | Path | None,
                 output_path: str | Path, *, settings: Settings, target: str = services.INPROCESS) -> Stats:
    """Generation round `round_no` alone: each seed's lineage continues from its latest instruction in
    the dataset so far (`data_path`; none before round 1), or from the seed when no evolution of it
    survived; with `go_on` false, nothing (the loop stopped)."""
    started = time.monotonic()
    label = f"evol_instruct/round {round_no}: generate"
    if not go_on:
        write_jsonl_atomic(output_path, [])
        return _stats(label, 0, 0, {}, started, method="evol_instruct", round=round_no, skipped="the loop stopped")
    evol = dataclasses.replace(settings.generation.evol, start_round=round_no, rounds=max(round_no, 1))
    round_settings = dataclasses.replace(settings, generation=dataclasses.replace(settings.generation, evol=evol))
    from codeinstruct.generation.methods.evol_instruct import pool_seeds

    # One seed per lineage with its latest instruction: the ids the generation journal keys on.
    pooled = pool_seeds([*read_jsonl(seeds_path), *(read_jsonl(data_path) if data_path else [])])
    if not pooled:
        write_jsonl_atomic(output_path, [])
        return _stats(label, 0, 0, {}, started, method="evol_instruct", round=round_no, skipped="no seeds")
    with tempfile.TemporaryDirectory(prefix=f"codeinstruct-round{round_no}-") as tmp:
        seeds_file = Path(tmp) / "seeds.jsonl"
        write_jsonl_atomic(seeds_file, pooled)
        summary = services.generate("evol_instruct", seeds_file, output_path, round_settings, target)
    seeds = len(pooled)
    if not Path(output_path).exists():
        write_jsonl_atomic(output_path, [])
    kept = sum(1 for _ in read_jsonl(output_path))
    reasons = {str(k): int(v) for k, v in summary["rejected"].items()}
    usage = {key: value for key, value in dict(summary.get("usage") or {}).items() if key in USAGE_KEYS}
    return _stats(label, seeds, kept, reasons, started, method="evol_instruct", round=round_no, **usage)


def close_round(round_no: int, go_on: bool, previous_path: str | Path | None, new_path: str | Path,
                output_path: str | Path) -> Stats:
    """The dataset so far: the previous rounds' records plus this round's checked ones."""
    paths = [p for p in (previous_path, new_path) if p is not None] if go_on else [previous_path]
    stats = merge_datasets([p for p in paths if p is not None], output_path)
    return {**stats, "stage": f"evol_instruct/round {round_no}: data so far", "round": round_no}


def check_round(round_no: int, go_on: bool, stop_when_worse: bool, data_path: str | Path,
                heldout_path: str | Path, *, settings: Settings, target: str = services.INPROCESS,
                sandbox_target: str = services.INPROCESS) -> Stats:
    """Train on the data so far and measure pass@1 on the held-out seeds (the stopping rule's
    metric); nothing when the rule is off or the loop stopped."""
    started = time.monotonic()
    label = f"evol_instruct/round {round_no}: held-out check"
    if not (go_on and stop_when_worse):
        return _stats(label, 0, 0, {}, started, round=round_no,
                      skipped="the stopping rule is off" if go_on else "the loop stopped")
    from codeinstruct.evaluation.heldout import evaluate_heldout

    heldout = list(read_jsonl(heldout_path))
    with tempfile.TemporaryDirectory(prefix=f"codeinstruct-round{round_no}-") as tmp:
        trained = train_model(data_path, Path(tmp) / "model", settings=settings, curriculum=False, target=target)
        if trained.get("skipped"):
            return _stats(label, 0, 0, {}, started, round=round_no, **{"pass@1": 0.0},
                          skipped=str(trained["skipped"]))
        with services.open_sandbox(sandbox_target, settings.sandbox, "pipelines.sandbox_target") as box:
            result = evaluate_heldout(str(trained["model_dir"]), heldout, sandbox=box,
                                      engine_config=settings.generation.engine,
                                      max_tokens=settings.training.eval.max_tokens)
        shutil.rmtree(Path(tmp) / "model", ignore_errors=True)
    return _stats(label, result["n_items"], result["passed"], {}, started, round=round_no,
                  train_steps=trained["steps"], **{"pass@1": result["pass@1"]})


def gate_round(round_no: int, go_on: bool, history_json: str, check: dict[str, Any], data_path: str | Path,
               best_path: str | Path | None, best_out: str | Path) -> tuple[Stats, bool, str]:
    """(stats, go_on, history): the stop rule over the held-out history; `best_out` gets the best
    round's dataset so far. Without a metric (rule off) every round runs and the last is best."""
    started = time.monotonic()
    history: list[float] = [float(v) for v in json.loads(history_json or "[]")]
    if go_on and "pass@1" in check and not check.get("skipped"):
        history.append(float(check["pass@1"]))
        stop, best = stop_rule(history)
        is_best = best == round_no
    else:
        stop, best, is_best = not go_on, round_no if go_on else 0, go_on
    source = data_path if is_best or best_path is None else best_path
    shutil.copyfile(source, best_out)
    kept = sum(1 for _ in read_jsonl(best_out))
    stats = _stats(f"evol_instruct/round {round_no}: gate", kept, kept, {}, started, round=round_no,
                   history=list(history), stop=bool(stop), best_round=best, went_on=go_on)
    logger.info("round %d: history %s -> %s", round_no, history, "stop" if stop else "go on")
    return stats, go_on and not stop, json.dumps(history)

