"""The KFP side of a step: artifacts in, one `steps` call, Metrics + Markdown + stage ledger out.

Components (components.py) are declared with imports inside their bodies, so their shared plumbing
lives here: read the input dataset's stage ledger (artifact metadata `stages`), call the step, log
numbers to the step's `Metrics`, write its `Markdown` summary, and pass the ledger on in the output
dataset's metadata. Progress lines go to stdout with a fixed prefix, which `local.py` shows on the
terminal while it files the rest of a step's log away.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codeinstruct.core import progress as core_progress
from codeinstruct.core.errors import FailedPrecondition
from codeinstruct.core.jsontypes import whole_numbers
from codeinstruct_pipelines import steps

logger = logging.getLogger(__name__)

PROGRESS_PREFIX = "codeinstruct-progress: "
PROGRESS_INTERVAL_S = 10.0


def progress(message: str) -> None:
    """One line the local runner echoes to the terminal (and the Kubeflow pod log keeps)."""
    sys.stdout.write(PROGRESS_PREFIX + message + "\n")
    sys.stdout.flush()


def setup_logging() -> None:
    """Logging to stdout, and the step's long work (generation batches, sandbox stages, evaluation,
    training steps) reported as progress lines with rate and ETA every `PROGRESS_INTERVAL_S` at most."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            stream=sys.stdout)
    if core_progress.current() is None:
        core_progress.install(core_progress.Reporter(emit=progress, interval_s=PROGRESS_INTERVAL_S))


def stage_line(title: str, stats: Mapping[str, Any]) -> str:
    """`title: 10/12 kept in 3.2s`; a stage that makes several records per input (generation) reads
    `title: 6 records from 3 seeds in 38.3s`, never `6/3 kept`."""
    kept, given, seconds = stats.get("kept", 0), stats.get("input", 0), stats.get("seconds", 0)
    scores = {k: v for k, v in stats.items() if k.startswith("pass@") and isinstance(v, int | float)}
    if stats.get("skipped"):
        return f"{title}: skipped ({stats['skipped']})"
    if "steps" in stats:  # training
        # one training run logs {"step", "loss", ...} entries; a staged schedule logs the losses alone
        losses = [entry["loss"] if isinstance(entry, Mapping) else entry for entry in stats.get("losses") or []
                  if isinstance(entry, int | float) or (isinstance(entry, Mapping) and "loss" in entry)]
        trend = f" (loss {losses[0]:.3f} -> {losses[-1]:.3f})" if losses else ""
        return f"{title}: {stats['steps']:g} steps on {given:g} records in {seconds:.1f}s{trend}"
    if scores:  # evaluation
        shown = ", ".join(f"{k} {v:.3f}" for k, v in sorted(scores.items()))
        return f"{title}: {shown} on {given:g} problems in {seconds:.1f}s"
    if "seeds" in stats or (isinstance(kept, int | float) and isinstance(given, int | float) and kept > given):
        noun = "seed" if "seeds" in stats else "input"
        given = stats.get("seeds", given)
        records = stats.get("records", kept)
        line = (f"{title}: {records:g} record{'' if records == 1 else 's'} from {given:g} "
                f"{noun}{'' if given == 1 else 's'} in {seconds:.1f}s")
    else:
        line = f"{title}: {kept:g}/{given:g} kept in {seconds:.1f}s"
    if stats.get("reasons"):
        line += " (dropped: " + ", ".join(f"{k} {v}" for k, v in stats["reasons"].items()) + ")"
    return line


def ledger(artifact: Any) -> list[dict[str, Any]]:
    """The stage ledger an input artifact carries ([] when it has none)."""
    metadata = getattr(artifact, "metadata", None) or {}
    return [dict(entry) for entry in whole_numbers(list(metadata.get("stages") or []))]


def publish(stats: steps.Stats, *, title: str, metrics: Any, summary: Any, dataset: Any = None,
            previous: Sequence[Mapping[str, Any]] = ()) -> None:
    """Log `stats` to Metrics and Markdown; hand the ledger (+ this stage) on in `dataset`'s metadata."""
    for name, value in steps.metric_values(stats).items():
        metrics.log_metric(name, value)
    Path(summary.path).parent.mkdir(parents=True, exist_ok=True)
    Path(summary.path).write_text(steps.markdown_summary(title, stats), encoding="utf-8")
    if dataset is not None:
        entries = [dict(e) for e in previous]
        entries.append({k: v for k, v in stats.items() if k != "losses"})
        dataset.metadata["stages"] = entries
        dataset.metadata["records"] = stats.get("kept", 0)
    progress(stage_line(title, stats))


def stage(stage_name: str, *, label: str, records: Any, kept: Any, metrics: Any, summary: Any, config_yaml: str,
          sandbox_target: str = "inprocess", scoring_target: str = "inprocess",
          options: Mapping[str, Any] | None = None) -> None:
    """Body of every filter/ranking component."""
    setup_logging()
    progress(f"{label}: running")
    stats = steps.run_stage(stage_name, records.path, kept.path, settings=steps.parse_config(config_yaml),
                            label=label, sandbox_target=sandbox_target, scoring_target=scoring_target,
                            options=options)
    publish(stats, title=label, metrics=metrics, summary=summary, dataset=kept, previous=ledger(records))


def describe_model(model: Any, stats: steps.Stats) -> None:
    """A train step's figures on its Model artifact (what evaluation and the report read)."""
    for key in ("losses", "steps", "seconds", "stages"):
        if key in stats:
            model.metadata[key] = stats[key]
    if stats.get("skipped"):
        model.metadata["skipped"] = stats["skipped"]


def trained_model(model: Any) -> str:
    """The folder of a Model artifact a train step wrote ('' when none is connected); a clear error
    when that training was skipped (there is no model to load)."""
    if model is None:
        return ""
    if (getattr(model, "metadata", None) or {}).get("skipped"):
        raise FailedPrecondition(f"the model this step should use was not trained: {model.metadata['skipped']}",
                                 reason="MODEL_NOT_TRAINED")
    return str(model.path)


def write_json(path: str, data: Any) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
