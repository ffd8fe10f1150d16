"""TrainingService over gRPC (in-process server on 127.0.0.1): jobs as long-running operations."""

from __future__ import annotations

from pathlib import Path

import pytest

from codeinstruct.core.errors import FailedPrecondition, InvalidInput, NotFound
from codeinstruct.settings import Settings
from codeinstruct.training.client import TrainingClient
from codeinstruct.training.jobs import JobState
from tests.support.training import make_records


@pytest.fixture
def settings(tmp_path: Path, tiny_model: Path) -> Settings:
    return Settings.from_mapping({"training": {"jobs": {"jobs_dir": str(tmp_path / "jobs")},
                                               "model": str(tiny_model), "num_threads": 1}})


def test_training_job_with_inline_records_streams_progress_to_success(settings: Settings, tmp_path: Path) -> None:
    with TrainingClient("loopback", settings) as client:
        job = client.create_training_job(records=make_records(8), output_dir=str(tmp_path / "out"),
                                         config={"epochs": 2, "batch_size": 4, "learning_rate": 0.01})
        assert job.name.startswith("jobs/") and job.kind == "train"
        assert job.state in (JobState.QUEUED, JobState.RUNNING)
        snapshots = list(client.watch_job(job.name, timeout=120))
        final = snapshots[-1]
        assert final.state == JobState.SUCCEEDED, final.error
        assert final.result["steps"] == 4 and final.result["model_dir"] == str(tmp_path / "out")
        assert final.spec["config"]["learning_rate"] == 0.01
        assert (tmp_path / "out" / "adapter_model.safetensors").is_file()
        assert len(snapshots) >= 2 and snapshots[0].state != JobState.SUCCEEDED
        assert client.get_job(job.name).state == JobState.SUCCEEDED
        assert [j.name for j in client.list_jobs(kind="train", state="SUCCEEDED")] == [job.name]
        assert client.list_jobs(kind="evaluate") == []
        with pytest.raises(FailedPrecondition, match="already ended"):
            client.cancel_job(job.name)


def test_errors_map_to_statuses_naming_the_field(settings: Settings, tmp_path: Path) -> None:
    with TrainingClient("loopback", settings) as client:
        with pytest.raises(NotFound):
            client.get_job("jobs/does-not-exist")
        data = tmp_path / "data.jsonl"
        data.write_text("")
        with pytest.raises(InvalidInput) as bad:
            client.create_training_job(data_path=str(data), output_dir=str(tmp_path / "o"), config={"lora_r": 0})
        assert bad.value.field == "config.lora_r" and "(from request)" not in str(bad.value.reason)
        with pytest.raises(InvalidInput) as relative:
            client.create_training_job(data_path="x.jsonl", output_dir=str(tmp_path / "o"))
        assert (relative.value.field, relative.value.reason) == ("data_path", "RELATIVE_PATH")
        with pytest.raises(InvalidInput) as missing:
            client.create_training_job(output_dir=str(tmp_path / "o"))
        assert (missing.value.field, missing.value.reason) == ("data_path", "FIELD_REQUIRED")
        with pytest.raises(InvalidInput) as k:
            client.create_evaluation_job("default", k=[0])
        assert (k.value.field, k.value.reason) == ("k[0]", "OUT_OF_RANGE")
        assert client.list_jobs() == []


def test_evaluation_jobs_take_a_list_of_suites(settings: Settings, tmp_path: Path) -> None:
    from codeinstruct.evaluation.suites import SuiteRequest

    with TrainingClient("loopback", settings) as client:
        with pytest.raises(InvalidInput) as missing:
            client.create_evaluation_job("default", suites=[SuiteRequest("humaneval"), SuiteRequest("mbpp")])
        assert missing.value.field == "suites[1].file"
        with pytest.raises(InvalidInput, match="unknown suite") as unknown:
            client.create_evaluation_job("default", suites=[SuiteRequest("nope")])
        assert unknown.value.reason == "UNKNOWN_SUITE"
        published = tmp_path / "js.jsonl"
        published.write_text("")
        suites = [SuiteRequest("humaneval", limit=1),
                  SuiteRequest("multipl-e", file=str(published), language="javascript")]
        job = client.create_evaluation_job("default", limit=2, suites=suites)
        assert job.kind == "evaluate" and job.spec["suites"] == [
            {"name": "humaneval", "file": "", "language": "", "limit": 1},
            {"name": "multipl-e", "file": str(published), "language": "javascript", "limit": 0}]
        client.cancel_job(job.name)


def test_a_pipeline_step_trains_through_a_deployed_service(settings: Settings, tmp_path: Path,
                                                           tiny_model: Path) -> None:
    from codeinstruct.core.config import ServerConfig
    from codeinstruct.server.bootstrap import GrpcServer
    from codeinstruct.training.service import make_specs
    from codeinstruct_pipelines import services

    server = GrpcServer(ServerConfig(host="127.0.0.1", port=0), make_specs(settings))
    server.start()
    try:
        step = Settings.from_mapping({"training": {"model": str(tiny_model), "jobs": {"jobs_dir": "/elsewhere"}}})
        result = services.train(make_records(8), tmp_path / "out", settings=step,
                                overrides={"max_steps": 2, "batch_size": 4, "curriculum": None},
                                target=server.address)
    finally:
        server.stop()
    assert result["steps"] == 2 and result["model_dir"] == str(tmp_path / "out")
    assert [entry["step"] for entry in result["losses"]] == [1, 2] and result["stages"][0]["steps"] >= 2
