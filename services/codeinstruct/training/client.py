"""Client of the TrainingService: a deployed service (`host:port`) or one started in-process.

Jobs come back as `JobInfo` (the same dataclass the core uses, with the same `result` dict), so
callers do not touch protos. Create calls return the job their operation follows.

Example:
    with TrainingClient("loopback") as client:
        job = client.create_training_job(data_path="/data/train.jsonl", output_dir="/data/out",
                                         config={"max_steps": 3}, request_id=str(uuid.uuid4()))
        for snapshot in client.watch_job(job.name):
            print(snapshot.state.value, snapshot.message)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from google.longrunning import operations_pb2

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.jsontypes import JsonObject
from codeinstruct.core.records import Record
from codeinstruct.evaluation.suites import SuiteRequest
from codeinstruct.server.client import LOOPBACK, ServiceClient, call, stream
from codeinstruct.settings import Settings
from codeinstruct.training.jobs import JobInfo, StageSpec
from codeinstruct.training.messages import (
    BACKEND_TO_PROTO,
    job_from_proto,
    record_to_proto,
    training_config_to_proto,
)
from codeinstruct.v1 import training_pb2, training_pb2_grpc


def _job_of(operation: operations_pb2.Operation) -> str:
    """The job name an operation follows (its JobMetadata)."""
    metadata = training_pb2.JobMetadata()
    operation.metadata.Unpack(metadata)
    return metadata.job


def _filter(kind: str, state: str) -> str:
    terms = [f"kind = {kind.upper()}" if kind else "", f"state = {state}" if state else ""]
    return " AND ".join(term for term in terms if term)


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
                            backend: str = "", request_id: str = "") -> JobInfo:
        overrides: dict[str, Any] = dict(config or {})
        raw_stages = overrides.pop("stages", None) or ()
        if not stages and raw_stages:
            stages = [StageSpec(**s) for s in raw_stages]
        if backend and backend not in BACKEND_TO_PROTO:
            raise InvalidInput(f"backend {backend!r} is not one of {', '.join(BACKEND_TO_PROTO)}", field="backend",
                               reason="UNKNOWN_BACKEND")
        request = training_pb2.CreateTrainingJobRequest(
            data_path=str(data_path), records=[record_to_proto(r) for r in records], output_dir=str(output_dir),
            backend=BACKEND_TO_PROTO.get(backend, training_pb2.TRAINING_BACKEND_UNSPECIFIED), request_id=request_id,
            stages=[training_pb2.TrainingStage(name=s.get("name") or "", data_path=str(s.get("data") or ""),
                                               epochs=float(s.get("epochs") or 0),
                                               learning_rate=float(s.get("learning_rate") or 0)) for s in stages])
        if overrides:
            request.config.CopyFrom(training_config_to_proto(overrides))
        return self.get_job(_job_of(call(self.stub.CreateTrainingJob, request)))

    def create_evaluation_job(self, model: str, *, limit: int | None = None, k: Sequence[int] = (1,),
                              n_samples: int | None = None, output_path: str = "",
                              suites: Sequence[SuiteRequest] = (), request_id: str = "") -> JobInfo:
        request = training_pb2.CreateEvaluationJobRequest(
            model=model, limit=limit or 0, k=list(k), samples_per_problem=n_samples or 0, output_path=output_path,
            suites=[training_pb2.EvaluationSuite(name=s.name, file=s.file, language=s.language, limit=s.limit)
                    for s in suites], request_id=request_id)
        return self.get_job(_job_of(call(self.stub.CreateEvaluationJob, request)))

    def get_job(self, name: str) -> JobInfo:
        return job_from_proto(call(self.stub.GetJob, training_pb2.GetJobRequest(name=name)))

    def list_jobs(self, kind: str = "", state: str = "", *, filter: str = "", order_by: str = "") -> list[JobInfo]:
        """Every job matching (all pages); `kind` and `state` add terms to `filter`."""
        query = " AND ".join(part for part in (_filter(kind, state), filter) if part)
        jobs: list[JobInfo] = []
        token = ""
        while True:
            response = call(self.stub.ListJobs, training_pb2.ListJobsRequest(filter=query, order_by=order_by,
                                                                            page_token=token))
            jobs.extend(job_from_proto(j) for j in response.jobs)
            token = response.next_page_token
            if not token:
                return jobs

    def cancel_job(self, name: str) -> JobInfo:
        return job_from_proto(call(self.stub.CancelJob, training_pb2.CancelJobRequest(name=name)))

    def watch_job(self, name: str, timeout: float | None = None) -> Iterator[JobInfo]:
        for job in stream(self.stub.WatchJob, training_pb2.WatchJobRequest(name=name), timeout=timeout):
            yield job_from_proto(job)

    def wait(self, name: str, timeout: float | None = None) -> JobInfo:
        """Follow a job until it ends; returns the final snapshot."""
        final = None
        for snapshot in self.watch_job(name, timeout=timeout):
            final = snapshot
        return final if final is not None else self.get_job(name)
