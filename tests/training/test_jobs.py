"""Jobs: local subprocess workers, a store that survives a restart, cancel that frees the process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from codeinstruct.core.errors import FailedPrecondition, InvalidInput, NotFound
from codeinstruct.core.records import write_jsonl_atomic
from codeinstruct.training.config import JobsConfig, TrainingConfig
from codeinstruct.training.jobs import JobManager, JobState
from tests.support.training import make_records


def spec(tiny_model: Path, data: Path, out: Path, **config) -> dict:
    values = {"model": str(tiny_model), "num_threads": 1, "batch_size": 4, "save_every_steps": 5}
    values.update(config)
    return {"data": str(data), "output_dir": str(out), "config": values}


def wait_for(predicate, timeout: float = 60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


def process_gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    write_jsonl_atomic(path, make_records(8))
    return path


@pytest.mark.slow
def test_job_store_survives_a_restart_and_reattaches_to_a_running_worker(
        tiny_model: Path, data: Path, tmp_path: Path) -> None:
    config = TrainingConfig(jobs=JobsConfig(jobs_dir=tmp_path / "jobs"))
    first = JobManager(config)
    done = first.create("train", spec(tiny_model, data, tmp_path / "a", epochs=2))
    finished = first.wait(done.id, timeout=90)
    assert finished.state == JobState.SUCCEEDED, finished.error
    assert finished.result["steps"] == 4 and finished.result["final_loss"] is not None
    running = first.create("train", spec(tiny_model, data, tmp_path / "b", epochs=50))
    wait_for(lambda: first.get(running.id).metrics.get("step"))
    first.close()  # the service goes away; its worker keeps running in its own session

    second = JobManager(config)
    try:
        jobs = {j.id: j for j in second.list()}
        assert jobs[done.id].state == JobState.SUCCEEDED and jobs[done.id].result == finished.result
        assert jobs[running.id].state == JobState.RUNNING
        final = second.wait(running.id, timeout=120)
        assert final.state == JobState.SUCCEEDED, final.error
        assert final.result["steps"] == 100 and final.progress == 1.0
        assert [j.id for j in second.list(kind="train")] == [running.id, done.id]
    finally:
        second.close()


def test_cancel_stops_the_worker_frees_its_process_and_keeps_a_checkpoint(
        tiny_model: Path, data: Path, tmp_path: Path) -> None:
    manager = JobManager(TrainingConfig(jobs=JobsConfig(jobs_dir=tmp_path / "jobs")))
    try:
        job = manager.create("train", spec(tiny_model, data, tmp_path / "out", epochs=100000))
        wait_for(lambda: manager.get(job.id).metrics.get("step"))
        pid = manager.get(job.id).pid
        assert pid and not process_gone(pid)
        assert manager.cancel(job.name).state == JobState.CANCELLING
        final = manager.wait(job.id, timeout=60)
        assert final.state == JobState.CANCELLED
        wait_for(lambda: process_gone(pid), timeout=10)
        checkpoints = list((tmp_path / "out" / "checkpoints").glob("step-*"))
        assert checkpoints, "the trainer checkpoints before it stops"
        with pytest.raises(FailedPrecondition):
            manager.cancel(job.id)
    finally:
        manager.close()


@pytest.mark.slow
def test_a_failing_worker_marks_the_job_failed_with_the_reason(tmp_path: Path, tiny_model: Path) -> None:
    manager = JobManager(TrainingConfig(jobs=JobsConfig(jobs_dir=tmp_path / "jobs")))
    try:
        job = manager.create("train", spec(tiny_model, tmp_path / "missing.jsonl", tmp_path / "out"))
        final = manager.wait(job.id, timeout=60)
        assert final.state == JobState.FAILED and "missing.jsonl" in final.error
    finally:
        manager.close()


def test_queued_jobs_wait_for_a_slot_and_can_be_cancelled(tmp_path: Path, tiny_model: Path, data: Path) -> None:
    manager = JobManager(TrainingConfig(jobs=JobsConfig(jobs_dir=tmp_path / "jobs", max_concurrent_jobs=1)))
    try:
        first = manager.create("train", spec(tiny_model, data, tmp_path / "a", epochs=100000))
        second = manager.create("train", spec(tiny_model, data, tmp_path / "b"))
        assert manager.get(second.id).state == JobState.QUEUED
        assert manager.cancel(second.id).state == JobState.CANCELLED
        manager.cancel(first.id)
        assert manager.wait(first.id, timeout=60).state == JobState.CANCELLED
    finally:
        manager.close()


def test_unknown_and_malformed_job_names(tmp_path: Path) -> None:
    manager = JobManager(TrainingConfig(jobs=JobsConfig(jobs_dir=tmp_path / "jobs")), start_monitor=False)
    with pytest.raises(NotFound):
        manager.get("jobs/nope")
    with pytest.raises(InvalidInput):
        manager.get("jobs/../etc")
    with pytest.raises(InvalidInput):
        manager.create("bake", {})
    assert json.loads(json.dumps([j.to_dict() for j in manager.list()])) == []


def test_the_in_process_manager_checks_requests_like_the_service(tmp_path: Path, data: Path) -> None:
    manager = JobManager(TrainingConfig(jobs=JobsConfig(jobs_dir=tmp_path / "jobs")), start_monitor=False)
    refused = [
        (lambda: manager.create_training_job(output_dir=str(tmp_path / "o"), data_path=str(data), backend="slurm"),
         "backend", "UNKNOWN_BACKEND"),
        (lambda: manager.create_training_job(output_dir=str(tmp_path / "o"), data_path=str(data),
                                             config={"learnin_rate": 1e-4}), "config.learnin_rate", "UNKNOWN_SETTING"),
        (lambda: manager.create_training_job(output_dir=str(tmp_path / "o"), data_path=str(data),
                                             config={"jobs": {"backend": "kubernetes"}}), "config.jobs",
         "UNKNOWN_SETTING"),
        (lambda: manager.create_training_job(output_dir=str(tmp_path / "o"), records=[{"instruction": "x"}]),
         "records[0].method", "INVALID_RECORD"),
        (lambda: manager.create_training_job(output_dir=str(tmp_path / "o"), config={"stages": [
            {"name": "a", "data": str(data)}, {"name": "b", "data": str(tmp_path / "nope.jsonl")}]}),
         "stages[1].data_path", "DATA_NOT_FOUND"),
        (lambda: manager.create_evaluation_job("default", n_samples=1, k=[1, 2]), "samples_per_problem",
         "OUT_OF_RANGE"),
        (lambda: manager.get_job(""), "name", "FIELD_REQUIRED"),
        (lambda: manager.get_job("foo"), "name", "INVALID_NAME"),
        (lambda: manager.list_jobs(filter="state = SLEEPING"), "filter", "INVALID_FILTER"),
    ]
    for attempt, field, reason in refused:
        with pytest.raises(InvalidInput) as error:
            attempt()
        assert (error.value.field, error.value.reason) == (field, reason), error.value.message
    assert manager.list_jobs() == []
