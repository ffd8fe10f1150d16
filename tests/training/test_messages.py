"""Job results survive the trip through their typed protos: a caller reads the same dict in-process
and over gRPC."""

from __future__ import annotations

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.training.jobs import JobInfo, JobState
from codeinstruct.training.messages import (
    evaluation_result_from_proto,
    evaluation_result_to_proto,
    job_from_proto,
    job_to_proto,
    training_config_from_proto,
    training_config_to_proto,
    training_result_from_proto,
    training_result_to_proto,
)

TRAINED = {"output_dir": "/o", "model_dir": "/o", "adapter_dir": None, "base_model": "default",
           "checkpoint_dir": "/o/checkpoints", "steps": 2, "tokens": 512, "mode": "lora",
           "losses": [{"step": 1, "stage": "main", "loss": 2.5, "learning_rate": 1e-4, "epoch": 0.5},
                      {"step": 2, "stage": "main", "loss": 2.25, "learning_rate": 5e-5, "epoch": 1.0}],
           "stages": [{"name": "main", "examples": 8, "steps": 2, "learning_rate": 1e-4, "epochs": 1.0,
                       "shuffled": True, "ranked_by": None, "accumulation_steps": 1}],
           "resumed_from": None, "stopped": "completed", "elapsed_s": 1.5, "trainable_parameters": 1000,
           "tokens_per_s": 341.0, "first_loss": 2.5, "final_loss": 2.25}
SUITE = {"suite": "humaneval", "language": "python", "problems_total": 164, "problems_run": 2,
         "skipped": {"limit": 162}, "pass@1": 0.5,
         "per_problem": [{"task_id": "HumanEval/0", "language": "python", "statuses": ["OK"], "passed": 1,
                          "first_failure": ""}]}
SUITES = {"model": "default", "prompt_style": "chat", "elapsed_s": 3.0,
          "suites": [{**SUITE, "label": "humaneval", "output": "/o/s-humaneval.jsonl"}]}
HUMANEVAL_ALONE = {"pass@1": 0.5, "model": "default", "n_problems": 2, "n_samples": 1, "passed": 1,
                   "prompt_style": "chat", "elapsed_s": 3.0, "suite": SUITE, "output": "/o/s.jsonl"}


def test_training_results_round_trip() -> None:
    assert training_result_from_proto(training_result_to_proto(TRAINED)) == TRAINED


@pytest.mark.parametrize("result", [SUITES, HUMANEVAL_ALONE], ids=["suites", "humaneval-alone"])
def test_evaluation_results_round_trip(result: dict) -> None:
    assert evaluation_result_from_proto(evaluation_result_to_proto(result)) == result


def test_jobs_round_trip_with_numeric_metrics_only() -> None:
    job = JobInfo(id="20260101-abcdef", kind="train", spec={"config": {"max_steps": 2}}, state=JobState.SUCCEEDED,
                  result=TRAINED, metrics={"step": 2, "loss": 2.25, "stage": "main"}, request_id="r")
    back = job_from_proto(job_to_proto(job))
    assert back.result == TRAINED and back.metrics == {"step": 2.0, "loss": 2.25}
    assert (back.name, back.kind, back.state, back.request_id, back.spec) == (job.name, "train", job.state, "r",
                                                                           job.spec)


def test_training_config_overrides_are_typed() -> None:
    overrides = {"learning_rate": 1e-4, "max_steps": 3, "shuffle": False, "lora_target_modules": ["q_proj"]}
    assert training_config_from_proto(training_config_to_proto(overrides)) == overrides
    with pytest.raises(InvalidInput) as typo:
        training_config_to_proto({"learnin_rate": 1e-4})
    assert (typo.value.field, typo.value.reason) == ("config.learnin_rate", "UNKNOWN_SETTING")
    with pytest.raises(InvalidInput) as wrong:
        training_config_to_proto({"max_steps": 2.5})
    assert (wrong.value.field, wrong.value.reason) == ("config.max_steps", "INVALID_SETTING")
