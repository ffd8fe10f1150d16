"""Client of the TrainingService: a deployed service (`host:port`) or one started in-process.

Jobs come back as `JobInfo` (the same dataclass the core uses), so callers do not touch protos.

Example:
    with TrainingClient("loopback") as client:
        job = client.create_training_job(data_path="data.jsonl", output_dir="out", config={"max_steps": 3})
        for snapshot in client.watch_job(job.name):
            print(snapshot.state.value, snapshot.message)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2

from codeinstruct.core.jsontypes import JsonObject, JsonValue
from codeinstruct.core.records import Record
from codeinstruct.evaluation.suites import SuiteRequest
from codeinstruct.server.client import LOOPBACK, ServiceClient, call, stream
from codeinstruct.settings import Settings
from codeinstruct.training.jobs import JobInfo, JobState, StageSpec
from codeinstruct.v1 import common_pb2, training_pb2, training_pb2_grpc


def job_from_proto(message: common_pb2.Job) -> JobInfo:
    def plain(struct: struct_pb2.Struct) -> dict[str, Any]:
        return json_format.MessageToDict(struct) if struct.fields else {}

    return JobInfo(id=message.name.removeprefix("jobs/"), kind=message.kind,
                   state=JobState(common_pb2.JobState.Name(message.state).removeprefix("JOB_STATE_")),
                   progress=message.progress, message=message.message, spec=plain(message.spec),
                   result=plain(message.result), error=message.error, metrics=plain(message.metrics),
                   create_time=message.create_time.ToNanoseconds() / 1e9,
                   update_time=message.update_time.ToNanoseconds() / 1e9)


def _record_to_proto(record: Record | JsonObject) -> common_pb2.Record:
    data: dict[str, JsonValue] = record.to_dict() if isinstance(record, Record) else dict(record)
    message = common_pb2.Record()
    for key in ("source", "generator"):  # string maps in the proto
        value = data.get(key)
        data[key] = {k: str(v) for k, v in value.items()} if isinstance(value, dict) else {}
    json_format.ParseDict(data, message)
    return message


class TrainingClient(ServiceClient):
    """A `TrainingJobsLike` over gRPC; use as a context manager."""

    def __init__(self, target: str = LOOPBACK, settings: Settings | None = None, *,
                 auth_token: str | None = None):
        """`settings` configure the service `loopback` starts (a deployed service has its own)."""
        from codeinstruct.training.service import make_spec

        self.target = target
        self.settings = settings
        channel = self._connect(target, lambda: make_spec(settings), auth_token=auth_token)
        self.stub = training_pb2_grpc.TrainingServiceStub(channel)

    def create_training_job(self, *, output_dir: str, data_path: str = "",
                            records: Iterable[Record | JsonObject] = (),
                            config: JsonObject | None = None, stages: Sequence[StageSpec] = (),
                            backend: str = "") -> JobInfo:
        request = training_pb2.CreateTrainingJobRequest(
            data_path=str(data_path), records=[_record_to_proto(r) for r in records], output_dir=str(output_dir),
            backend=backend,
            stages=[training_pb2.TrainingStage(name=s.get("name", ""), data_path=str(s.get("data") or ""),
                                               epochs=float(s.get("epochs") or 0),
                                               learning_rate=float(s.get("learning_rate") or 0)) for s in stages])
        if config:
            json_format.ParseDict(dict(config), request.config)
        return job_from_proto(call(self.stub.CreateTrainingJob, request).job)

    def create_evaluation_job(self, model: str, *, limit: int | None = None, k: Sequence[int] = (1,),
                              n_samples: int | None = None, output_path: str = "",
                              suites: Sequence[SuiteRequest] = ()) -> JobInfo:
        request = training_pb2.CreateEvaluationJobRequest(
            model=model, limit=limit or 0, k=list(k), samples_per_problem=n_samples or 0, output_path=output_path,
            suites=[training_pb2.EvaluationSuite(name=s.name, file=s.file, language=s.language, limit=s.limit)
                    for s in suites])
        return job_from_proto(call(self.stub.CreateEvaluationJob, request).job)

    def get_job(self, name: str) -> JobInfo:
        return job_from_proto(call(self.stub.GetJob, training_pb2.GetJobRequest(name=name)).job)

    def list_jobs(self, kind: str = "", state: str = "") -> list[JobInfo]:
        jobs: list[JobInfo] = []
        token = ""
        state_value = common_pb2.JobState.Value(f"JOB_STATE_{state}") if state else common_pb2.JOB_STATE_UNSPECIFIED
        while True:
            response = call(self.stub.ListJobs, training_pb2.ListJobsRequest(kind=kind, state=state_value,
                                                                            page_token=token))
            jobs.extend(job_from_proto(j) for j in response.jobs)
            token = response.next_page_token
            if not token:
                return jobs

    def cancel_job(self, name: str) -> JobInfo:
        return job_from_proto(call(self.stub.CancelJob, training_pb2.CancelJobRequest(name=name)).job)

    def watch_job(self, name: str, timeout: float | None = None) -> Iterator[JobInfo]:
        for response in stream(self.stub.WatchJob, training_pb2.WatchJobRequest(name=name), timeout=timeout):
            yield job_from_proto(response.job)

    def wait(self, name: str, timeout: float | None = None) -> JobInfo:
        """Follow a job until it ends; returns the final snapshot."""
        final = None
        for snapshot in self.watch_job(name, timeout=timeout):
            final = snapshot
        return final if final is not None else self.get_job(name)
