"""Access to the four services from a pipeline step: a deployed address, or the service's core in-process.

A step gets a target per service. `inprocess` means the step hosts the service's own core inside its
process (its pod on Kubernetes, a subprocess under kfp.local): the same code the service runs, with
no network hop and the model loaded once per step. Any other value is a `host:port` of the
deployed service (the Helm chart), reached through that service's client.

These adapters are the only place the pipelines touch other areas' APIs (INTERFACES.md), so a
signature change there is fixed here once.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from codeinstruct.core.errors import InvalidInput

logger = logging.getLogger(__name__)

INPROCESS = "inprocess"


def _check_target(target: str, field: str) -> None:
    if target != INPROCESS and ":" not in target:
        raise InvalidInput(f"{field} must be host:port or {INPROCESS!r}, got {target!r}", field=field)


@contextlib.contextmanager
def sandbox(target: str, file_data: Mapping[str, Any]) -> Iterator[Any]:
    """A Sandbox (in-process) or SandboxClient (deployed): both offer run_tests/execute/capture_outputs."""
    _check_target(target, "pipelines.sandbox_target")
    if target == INPROCESS:
        from codeinstruct.core.config import build
        from codeinstruct.sandbox.config import SandboxConfig
        from codeinstruct.sandbox.core import Sandbox

        with Sandbox(build(SandboxConfig, "sandbox", file_data=dict(file_data))) as box:
            yield box
    else:
        from codeinstruct.sandbox.client import SandboxClient

        with SandboxClient(target=target, file_data=dict(file_data)) as client:
            yield client


@contextlib.contextmanager
def engine(file_data: Mapping[str, Any], section: str = "scoring") -> Iterator[Any]:
    """The engine `section` configures (`<section>.engine`; embedded SmolLM2 by default), closed after use."""
    from codeinstruct.engines import engine_config, load_engine

    loaded = load_engine(engine_config(dict(file_data), section=section))
    try:
        yield loaded
    finally:
        loaded.close()


def generate(method: str, seeds_path: Any, output_path: Any, file_data: Mapping[str, Any], target: str) -> dict:
    """Run `method` over a seeds file into `output_path` (resumable); the generation summary counts."""
    _check_target(target, "pipelines.generation_target")
    if target == INPROCESS:
        from codeinstruct.generation.run import run_generation

        return dict(run_generation(method, seeds_path, output_path, dict(file_data)) or {})
    from collections import Counter

    from codeinstruct.core.records import JsonlWriter, read_jsonl
    from codeinstruct.generation.client import GenerationClient

    # The deployed service runs with its own engine; the run's generation settings travel with the request.
    settings = {k: v for k, v in dict(file_data.get("generation") or {}).items() if k != "engine"}
    rejected: Counter[str] = Counter()
    with GenerationClient(target=target, file_data=dict(file_data)) as client, JsonlWriter(output_path) as writer:
        for outcome in client.outcomes(method, list(read_jsonl(seeds_path)), settings=settings):
            for record in outcome.records:
                writer.write(record)
            rejected.update(outcome.rejected)
        written = len(writer)
    return {"records_total": written, "rejected": dict(rejected)}


# Pipeline stage name -> the function codeinstruct.scoring exports for it.
_SCORING_FUNCTIONS = {
    "validate_semi_instruct": "validate_semi_instruct", "execution_filter": "execution_filter",
    "lm_score": "select_by_lm_score", "discriminate": "discriminate", "dedup": "dedup",
    "decontaminate": "decontaminate", "coreset": "coreset",
}


def scoring_function(stage: str) -> Callable[..., Any]:
    """The plain scoring function for `stage`, from the package's exports."""
    import codeinstruct.scoring as scoring

    name = _SCORING_FUNCTIONS.get(stage)
    if name is None:
        raise InvalidInput(f"unknown scoring stage {stage!r}; known: {sorted(_SCORING_FUNCTIONS)}", field="stage")
    return getattr(scoring, name)


def _with_config(function: Callable[..., Any], file_data: Mapping[str, Any], options: dict[str, Any]) -> dict:
    if "config" in inspect.signature(function).parameters and "config" not in options:
        from codeinstruct.core.config import build
        from codeinstruct.scoring.config import ScoringConfig

        options = {**options, "config": build(ScoringConfig, "scoring", file_data=dict(file_data))}
    return options


def score(stage: str, records: list[Any], *, file_data: Mapping[str, Any], sandbox_target: str,
          scoring_target: str, options: Mapping[str, Any]) -> Any:
    """Run one scoring stage; returns its StageReport (kept, dropped with reasons, extra figures)."""
    _check_target(scoring_target, "pipelines.scoring_target")
    options = dict(options)
    if stage == "coreset" and "k" not in options:  # the step passes no size for pipelines.coreset_size 0
        options["k"] = len(records)  # 0 keeps every record
    if scoring_target != INPROCESS:
        from codeinstruct.scoring.client import ScoringClient

        with ScoringClient(target=scoring_target, file_data=dict(file_data)) as client:
            return getattr(client, _SCORING_FUNCTIONS[stage])(records, **options)
    function = scoring_function(stage)
    options = _with_config(function, file_data, options)
    if stage in ("validate_semi_instruct", "execution_filter"):
        with sandbox(sandbox_target, file_data) as box:
            return function(records, box, **options)
    if stage in ("lm_score", "discriminate"):
        with engine(file_data) as loaded:
            return function(records, loaded, **options)
    return function(records, **options)


def rank(records: list[Any], *, by: str, file_data: Mapping[str, Any], target: str) -> list[Any]:
    """Curriculum order (a pure sort: always computed here, whatever the scoring target)."""
    _check_target(target, "pipelines.scoring_target")
    from codeinstruct.scoring.ranking import rank as rank_records

    return list(rank_records(records, by=by))


def train(records: list[Any], output_dir: Any, *, file_data: Mapping[str, Any], target: str) -> dict:
    """Fine-tune on `records`; {"losses": [...], "model_dir": ...}."""
    _check_target(target, "pipelines.training_target")
    if target != INPROCESS:
        from codeinstruct.training.client import TrainingClient

        with TrainingClient(target=target, file_data=dict(file_data)) as client:
            job = client.create_training_job(output_dir=str(output_dir), records=records,
                                             config=dict(file_data.get("training") or {}))
            return _job_result(client.wait(job.name))
    from codeinstruct.core.config import build
    from codeinstruct.training.config import TrainingConfig
    from codeinstruct.training.trainer import train as run_training

    config = build(TrainingConfig, "training", file_data=dict(file_data))
    return dict(run_training(records, output_dir, config))


def evaluate(model: str, *, file_data: Mapping[str, Any], limit: int | None, k: tuple[int, ...], n_samples: int,
             target: str, sandbox_target: str) -> dict:
    """pass@k of `model` on HumanEval (first `limit` problems)."""
    _check_target(target, "pipelines.training_target")
    if target != INPROCESS:
        from codeinstruct.training.client import TrainingClient

        with TrainingClient(target=target, file_data=dict(file_data)) as client:
            job = client.create_evaluation_job(model, limit=limit, k=k, n_samples=n_samples)
            return _job_result(client.wait(job.name))
    from codeinstruct.training.evaluate import evaluate_model

    with sandbox(sandbox_target, file_data) as box:
        return dict(evaluate_model(model, limit=limit, k=k, n_samples=n_samples, file_data=dict(file_data),
                                   sandbox=box))


def _job_result(job: Any) -> dict:
    """A finished TrainingService job's result, or the error it ended with."""
    state = getattr(job.state, "value", str(job.state))
    if state != "SUCCEEDED":
        from codeinstruct.core.errors import FailedPrecondition

        raise FailedPrecondition(f"training service job {job.name} ended {state}: {job.error or job.message}",
                                 reason="JOB_FAILED")
    return dict(job.result)
