"""The process that runs one job: `python -m codeinstruct.training.worker <job dir>`.

It reads `job.json`, runs training or evaluation, and reports through `status.json` (progress,
message, metrics, then the result or the error). SIGTERM asks it to stop: training saves a
checkpoint first, so a cancelled job can be continued by a new job on the same output folder.
The same entry point is what `torchrun` starts on Kubeflow Trainer pods (`--spec FILE` instead of a
job folder), so local and distributed training share one code path.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from codeinstruct.core.config import build
from codeinstruct.core.errors import Cancelled, CodeinstructError
from codeinstruct.core.records import write_text_atomic
from codeinstruct.training.config import TrainingConfig

logger = logging.getLogger("codeinstruct.training.worker")


class StatusWriter:
    """Writes status.json atomically, at most every `min_interval_s` for non-final updates."""

    def __init__(self, path: Path | None, min_interval_s: float = 0.5):
        self.path = path
        self.min_interval_s = min_interval_s
        self._last = 0.0
        self.status: dict[str, Any] = {"state": "RUNNING", "progress": 0.0, "message": "starting", "metrics": {}}

    def update(self, force: bool = False, **values: Any) -> None:
        self.status.update(values)
        self.status["update_time"] = time.time()
        now = time.monotonic()
        if self.path is not None and (force or now - self._last >= self.min_interval_s):
            self._last = now
            write_text_atomic(self.path, json.dumps(self.status, default=str))


def training_progress(writer: StatusWriter) -> Any:
    def on_event(event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "start":
            writer.update(force=True, message=f"training {event['total_steps']} step(s)",
                          metrics={"total_steps": event["total_steps"]})
        elif kind == "step":
            total = max(int(event["total_steps"]), 1)
            writer.update(progress=min(event["step"] / total, 1.0), message=(
                f"step {event['step']}/{total} loss {event['loss']:.4f} lr {event['learning_rate']:.2e} "
                f"{event['tokens_per_s']:.0f} tok/s eta {event['eta_s']:.0f}s"),
                metrics={k: event[k] for k in ("step", "total_steps", "loss", "learning_rate", "tokens_per_s",
                                               "eta_s", "stage")})
        elif kind == "checkpoint":
            writer.update(force=True, message=f"checkpoint at step {event['step']}")
    return on_event


def run_spec(kind: str, spec: dict[str, Any], writer: StatusWriter, stop: threading.Event) -> dict[str, Any]:
    """Run one job spec; returns the result dict."""
    if kind == "train":
        from codeinstruct.training.trainer import train

        # The manager resolved the settings (its own < environment < request): none read again here.
        config = build(TrainingConfig, "training", data={"training": spec.get("config") or {}}, use_env=False)
        summary = train(spec.get("data"), spec["output_dir"], config, progress=training_progress(writer),
                        should_stop=stop.is_set)
        losses = summary["losses"]
        summary["final_loss"] = losses[-1]["loss"] if losses else None
        summary["first_loss"] = losses[0]["loss"] if losses else None
        return summary
    if kind == "evaluate":
        from codeinstruct.evaluation.suites import SuiteRequest
        from codeinstruct.settings import Settings
        from codeinstruct.training.evaluate import evaluate_model, evaluate_suites

        def on_progress(event: dict[str, Any]) -> None:
            done, total = event.get("done", 0), max(event.get("total", 1), 1)
            writer.update(progress=done / total, message=f"{event.get('phase', '')} {done}/{total}")

        # Secrets (an engine's api_key) are not in job specs: the environment supplies them again.
        settings = Settings.from_mapping(spec.get("settings") or {})
        if spec.get("suites"):
            return evaluate_suites(spec["model"], [SuiteRequest(**s) for s in spec["suites"]],
                                   limit=spec.get("limit"), k=tuple(spec.get("k") or (1,)),
                                   n_samples=spec.get("n_samples"), config=settings.training,
                                   engine_config=settings.generation.engine, sandbox_config=settings.sandbox,
                                   output=spec.get("output"), progress=on_progress, should_stop=stop.is_set)
        return evaluate_model(spec["model"], limit=spec.get("limit"), k=tuple(spec.get("k") or (1,)),
                              n_samples=int(spec.get("n_samples") or 1), config=settings.training,
                              engine_config=settings.generation.engine, sandbox_config=settings.sandbox,
                              output=spec.get("output"), progress=on_progress, should_stop=stop.is_set)
    raise ValueError(f"unknown job kind {kind!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("job_dir", nargs="?", help="job folder written by the job manager")
    parser.add_argument("--spec", help="JSON spec file {kind, spec}")
    parser.add_argument("--spec-json", help="the JSON spec inline (what a Kubeflow TrainJob passes to torchrun)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.job_dir:
        folder = Path(args.job_dir)
        job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        kind, spec, writer = job["kind"], job["spec"], StatusWriter(folder / "status.json")
    elif args.spec or args.spec_json:
        job = json.loads(args.spec_json or Path(args.spec).read_text(encoding="utf-8"))
        kind, spec, writer = job["kind"], job["spec"], StatusWriter(None)
    else:
        parser.error("give a job folder, --spec or --spec-json")
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        logger.info("SIGTERM: stopping at the next step")
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    writer.update(force=True, state="RUNNING", message="starting")
    try:
        result = run_spec(kind, spec, writer, stop)
    except Cancelled as exc:
        writer.update(force=True, state="CANCELLED", message=exc.message)
        return 0
    except CodeinstructError as exc:
        logger.error("%s job failed: %s", kind, exc.message)
        writer.update(force=True, state="FAILED", error=exc.message)
        return 1
    except Exception as exc:
        logger.exception("%s job crashed", kind)
        writer.update(force=True, state="FAILED", error=f"{type(exc).__name__}: {exc}")
        return 1
    writer.update(force=True, state="SUCCEEDED", progress=1.0, message="done", result=result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
