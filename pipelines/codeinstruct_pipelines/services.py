"""The four services as a pipeline step uses them, given the step's `Settings` and service targets.

A target is `inprocess` (the service's core object inside this step's process: its pod on
Kubernetes, a subprocess under kfp.local) or the `host:port` of a deployed service (the Helm
chart), reached through its client. `codeinstruct.targets` makes that choice; the functions here
only say which call each step makes, so a signature change in a service is fixed here once.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from codeinstruct.core.config import to_mapping, updated
from codeinstruct.core.errors import FailedPrecondition
from codeinstruct.core.records import JsonlWriter, Record, read_jsonl
from codeinstruct.evaluation.suites import SuiteRequest
from codeinstruct.scoring.core import ScorerLike
from codeinstruct.scoring.types import StageReport
from codeinstruct.settings import Settings
from codeinstruct.targets import INPROCESS, check_target, open_generator, open_sandbox, open_scorer, open_training
from codeinstruct.training.jobs import JobInfo, JobState

__all__ = ["INPROCESS", "SCORING_STAGES", "evaluate", "generate", "open_sandbox", "rank", "score", "train"]

ScoringStage = Literal["validate_semi_instruct", "execution_filter", "lm_score", "discriminate", "dedup",
                       "decontaminate", "coreset"]
StageCall = Callable[[ScorerLike, Sequence[Record], Mapping[str, Any]], StageReport]

# What each scoring stage of a pipeline calls on the scorer, with the step's options.
SCORING_STAGES: dict[str, StageCall] = {
    "validate_semi_instruct": lambda scorer, records, options: scorer.validate_semi_instruct(records),
    "execution_filter": lambda scorer, records, options: scorer.execution_filter(records),
    "lm_score": lambda scorer, records, options: scorer.select_by_lm_score(records),
    "discriminate": lambda scorer, records, options: scorer.discriminate(
        records, use_llm=bool(options.get("use_llm", True))),
    "dedup": lambda scorer, records, options: scorer.dedup(records, options.get("method"), options.get("threshold")),
    "decontaminate": lambda scorer, records, options: scorer.decontaminate(
        records, options.get("benchmarks") or ("humaneval",)),
    # No size (pipelines.coreset_size 0) keeps every record.
    "coreset": lambda scorer, records, options: scorer.coreset(records, int(options.get("k") or len(records)),
                                                               int(options.get("seed", 0))),
}


def with_model(settings: Settings, section: Literal["generation", "scoring"], model: str, target: str) -> Settings:
    """`settings` whose `section.engine.model` is `model` (a model a step trained: a folder or an
    adapter); a deployed service hosts its own model, so this needs the `inprocess` target."""
    if not model:
        return settings
    if target != INPROCESS:
        raise FailedPrecondition(
            f"this step runs {section} on a model trained in the pipeline ({model}), but pipelines.{section}_target "
            f"is the deployed service {target!r}, which serves its own model; set the target to 'inprocess' so "
            "the step loads the trained model itself", reason="MODEL_NOT_SERVED")
    current = getattr(settings, section)
    return dataclasses.replace(settings, **{section: dataclasses.replace(
        current, engine=dataclasses.replace(current.engine, model=str(model)))})


def generate(method: str, seeds_path: str | Path, output_path: str | Path, settings: Settings,
             target: str, model: str = "") -> dict[str, Any]:
    """Run `method` over a seeds file into `output_path` (resumable); the generation summary counts.
    `model`: generate with this trained model instead of `generation.engine.model`."""
    check_target(target, "pipelines.generation_target")
    settings = with_model(settings, "generation", model, target)
    if target == INPROCESS:
        # In the step itself: the resumable batch job (a retried step skips the seeds it finished).
        from codeinstruct.generation.run import run_generation

        return run_generation(method, seeds_path, output_path, settings.generation)
    # The deployed service runs with its own engine; the run's generation settings travel with the request.
    request_settings = {k: v for k, v in to_mapping(settings.generation).items() if k != "engine"}
    rejected: Counter[str] = Counter()
    with open_generator(target, settings.generation) as generator, JsonlWriter(output_path) as writer:
        for outcome in generator.outcomes(method, list(read_jsonl(seeds_path)), settings=request_settings):
            for record in outcome.records:
                writer.write(record)
            rejected.update(outcome.rejected)
        written = len(writer)
    return {"records_total": written, "rejected": dict(rejected)}


def score(stage: str, records: list[Record], *, settings: Settings, sandbox_target: str, scoring_target: str,
          options: Mapping[str, Any]) -> StageReport:
    """Run one scoring stage; returns its StageReport (kept, dropped with reasons, extra figures)."""
    call = SCORING_STAGES[stage]
    settings = with_model(settings, "scoring", str(options.get("model") or ""), scoring_target)
    # In-process, the step's sandbox target is the scorer's; a deployed scoring service has its own.
    scoring = dataclasses.replace(settings.scoring, sandbox_target=sandbox_target)
    with open_scorer(scoring_target, scoring, settings.sandbox, "pipelines.scoring_target") as scorer:
        return call(scorer, records, options)


def rank(records: list[Record], *, by: str, target: str) -> list[Record]:
    """Curriculum order (a pure sort: always computed here, whatever the scoring target)."""
    check_target(target, "pipelines.scoring_target")
    from codeinstruct.scoring.ranking import rank as rank_records

    return rank_records(records, by=by)


def train(records: list[Record], output_dir: str | Path, *, settings: Settings, overrides: Mapping[str, Any],
          target: str) -> dict[str, Any]:
    """Fine-tune on `records` with `settings.training` and the step's `overrides`; {"losses", "model_dir"}."""
    check_target(target, "pipelines.training_target")
    if target != INPROCESS:
        # The service resolves the job: its own training section < this run's file section < overrides.
        # (`jobs` and `eval` are the service's own sections: a job request cannot override them.)
        section = {k: v for k, v in dict(settings.source.get("training") or {}).items() if k not in ("jobs", "eval")}
        requested = {**section, **overrides}
        # The service takes absolute paths only (this step and the service share the data volume).
        if requested.get("stages"):
            requested["stages"] = [{**s, "data": _absolute(s["data"])} if s.get("data") else s
                                   for s in requested["stages"]]
        with open_training(target, settings, "pipelines.training_target") as jobs:
            job = jobs.create_training_job(output_dir=_absolute(output_dir), records=records, config=requested)
            return _job_result(jobs.wait(job.name))
    # In the step itself: the trainer, not a job (the step is already the unit a cluster schedules).
    from codeinstruct.training.trainer import train as run_training

    return dict(run_training(records, output_dir, updated(settings.training, "training", overrides)))


def evaluate(model: str, *, settings: Settings, limit: int | None, k: tuple[int, ...], n_samples: int,
             target: str, sandbox_target: str, suites: Sequence[SuiteRequest]) -> dict[str, Any]:
    """pass@k of `model` on each of `suites` (each capped at `limit` problems unless it sets its own);
    {"suites": [SuiteResult.to_dict() + "label"], ...}."""
    check_target(target, "pipelines.training_target")
    if target != INPROCESS:
        model = _absolute(model) if model != "default" and Path(model).exists() else model
        suites = [dataclasses.replace(s, file=_absolute(s.file)) if s.file else s for s in suites]
        with open_training(target, settings, "pipelines.training_target") as jobs:
            job = jobs.create_evaluation_job(model, limit=limit, k=k, n_samples=n_samples, suites=suites)
            return _job_result(jobs.wait(job.name))
    from codeinstruct.training.evaluate import evaluate_suites

    with open_sandbox(sandbox_target, settings.sandbox, "pipelines.sandbox_target") as box:
        return evaluate_suites(model, suites, limit=limit, k=k, n_samples=n_samples, config=settings.training,
                               engine_config=settings.generation.engine, sandbox=box)


def _absolute(path: str | Path) -> str:
    return str(Path(path).resolve())


def _job_result(job: JobInfo) -> dict[str, Any]:
    """A finished TrainingService job's result, or the error it ended with."""
    if job.state is not JobState.SUCCEEDED:
        raise FailedPrecondition(f"training service job {job.name} ended {job.state.value}: "
                                 f"{job.error or job.message}", reason="JOB_FAILED")
    return dict(job.result)
