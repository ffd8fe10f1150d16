"""Ablation runner: which data helps? Train the same base on each method's data and on their mix.

Every arm starts from `config.model` with the same settings; each is evaluated on the same HumanEval
problems (and the base model too), and the comparison is written as `ablation.json` and a Markdown
table `ablation.md` in the output folder. Arms that finished training are resumed, not retrained.

Example:
    run_ablation({"semi_instruct": "runs/a/dataset.jsonl", "inverse_instruct": "runs/b/dataset.jsonl"},
                 "runs/ablation", TrainingConfig(max_steps=50), eval_limit=20)
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.records import Record, write_text_atomic
from codeinstruct.engines.config import EngineConfig
from codeinstruct.training.config import TrainingConfig
from codeinstruct.training.data import load_records
from codeinstruct.training.evaluate import evaluate_model
from codeinstruct.training.trainer import train

logger = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
MIX = "mix"
BASE = "base"


def _interleave(groups: list[list[Record]]) -> list[Record]:
    """Round-robin merge, so a curriculum-ordered mix alternates sources instead of chaining them."""
    merged: list[Record] = []
    for index in range(max((len(g) for g in groups), default=0)):
        merged.extend(g[index] for g in groups if index < len(g))
    return merged


def run_ablation(arms: Mapping[str, str | Path | Iterable[Record | Mapping[str, Any]]], output_dir: str | Path,
                 config: TrainingConfig, *, eval_limit: int | None = 20, k: tuple[int, ...] = (1,),
                 include_mix: bool = True, include_base: bool = True, engine_config: EngineConfig | None = None,
                 sandbox: SandboxLike | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Train and evaluate one model per arm (+ the mix, + the base); returns {"rows": [...], "table": md}.

    `config` trains every arm and gives the evaluation settings (eval_*); `engine_config` is the engine
    the models are evaluated with (its model replaced by each arm's).
    """
    if len(arms) < 1:
        raise InvalidInput("an ablation needs at least one arm of data", field="arms")
    for name in arms:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in (MIX, BASE):
            raise InvalidInput(f"arm name {name!r} must be a simple folder name other than {MIX!r}/{BASE!r}",
                               field="arms")
    emit = progress or (lambda event: None)
    output_dir = Path(output_dir)
    data = {name: load_records(source) for name, source in arms.items()}
    if include_mix and len(data) > 1:
        data[MIX] = _interleave(list(data.values()))
    rows: list[dict[str, Any]] = []
    if include_base:
        emit({"arm": BASE, "phase": "evaluate"})
        scores = evaluate_model(config.model, limit=eval_limit, k=k, config=config, engine_config=engine_config,
                                sandbox=sandbox)
        rows.append({"arm": BASE, "records": 0, "steps": 0, "final_loss": None, "model": config.model,
                     **{f"pass@{v}": scores[f"pass@{v}"] for v in k}})
    for name, records in data.items():
        emit({"arm": name, "phase": "train", "records": len(records)})

        def on_event(event: dict[str, Any], arm: str = name) -> None:
            emit({"arm": arm, "phase": "train", **event})

        summary = train(records, output_dir / name, config, progress=on_event)
        emit({"arm": name, "phase": "evaluate"})
        scores = evaluate_model(summary["model_dir"], limit=eval_limit, k=k, config=config,
                                engine_config=engine_config, sandbox=sandbox)
        losses = summary["losses"]
        rows.append({"arm": name, "records": len(records), "steps": summary["steps"],
                     "final_loss": losses[-1]["loss"] if losses else None, "model": summary["model_dir"],
                     **{f"pass@{v}": scores[f"pass@{v}"] for v in k}})
    table = format_table(rows, k)
    result = {"rows": rows, "table": table, "eval_limit": eval_limit, "base_model": config.model}
    write_text_atomic(output_dir / "ablation.json", json.dumps(result, indent=1))
    write_text_atomic(output_dir / "ablation.md", table)
    logger.info("ablation written to %s", output_dir / "ablation.md")
    return result


def format_table(rows: list[dict[str, Any]], k: tuple[int, ...] = (1,)) -> str:
    header = ["arm", "records", "steps", "final loss", *[f"pass@{v}" for v in k]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        loss = "" if row["final_loss"] is None else f"{row['final_loss']:.4f}"
        cells = [row["arm"], str(row["records"]), str(row["steps"]), loss, *[f"{row[f'pass@{v}']:.3f}" for v in k]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
