"""gRPC TrainingService: a thin translation between proto messages and the JobManager.

`make_spec(settings)` is what `codeinstruct serve training` loads: its jobs use `settings.training`,
and evaluation jobs the generation engine and sandbox settings too. The manager validates requests,
resolves their settings and writes inline records to the job store.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from codeinstruct.core.records import Record
from codeinstruct.evaluation.suites import SuiteRequest
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.settings import Settings
from codeinstruct.training.jobs import JobInfo, JobManager, StageSpec
from codeinstruct.v1 import common_pb2, training_pb2, training_pb2_grpc

logger = logging.getLogger(__name__)

SERVICE_NAME = "codeinstruct.v1.TrainingService"


def _timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def _struct(data: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(_jsonable(data), message)
    return message


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def job_to_proto(job: JobInfo) -> common_pb2.Job:
    return common_pb2.Job(
        name=job.name, kind=job.kind, state=common_pb2.JobState.Value(f"JOB_STATE_{job.state.value}"),
        progress=job.progress, message=job.message, create_time=_timestamp(job.create_time),
        update_time=_timestamp(job.update_time), spec=_struct(job.spec), result=_struct(job.result),
        error=job.error, metrics=_struct(job.metrics))


def record_from_proto(message: common_pb2.Record) -> Record:
    data = json_format.MessageToDict(message, preserving_proto_field_name=True)
    data.setdefault("tests", [])
    data["tests"] = [{"input": t.get("input", ""), "output": t.get("output", "")} for t in data["tests"]]
    return Record.from_dict(data)


class TrainingServicer(training_pb2_grpc.TrainingServiceServicer):
    def __init__(self, manager: JobManager):
        self.manager = manager

    def CreateTrainingJob(self, request: training_pb2.CreateTrainingJobRequest,
                          context: grpc.ServicerContext) -> training_pb2.CreateTrainingJobResponse:
        config = json_format.MessageToDict(request.config) if request.HasField("config") else {}
        stages = [StageSpec(name=s.name, data=s.data_path, epochs=s.epochs, learning_rate=s.learning_rate)
                  for s in request.stages]
        job = self.manager.create_training_job(output_dir=request.output_dir, data_path=request.data_path,
                                               records=[record_from_proto(r) for r in request.records],
                                               config=config, stages=stages, backend=request.backend)
        return training_pb2.CreateTrainingJobResponse(job=job_to_proto(job))

    def CreateEvaluationJob(self, request: training_pb2.CreateEvaluationJobRequest,
                            context: grpc.ServicerContext) -> training_pb2.CreateEvaluationJobResponse:
        suites = [SuiteRequest(name=s.name, file=s.file, language=s.language, limit=s.limit) for s in request.suites]
        job = self.manager.create_evaluation_job(request.model, limit=request.limit, k=list(request.k),
                                                 n_samples=request.samples_per_problem,
                                                 output_path=request.output_path, suites=suites)
        return training_pb2.CreateEvaluationJobResponse(job=job_to_proto(job))

    def GetJob(self, request: training_pb2.GetJobRequest, context: grpc.ServicerContext) -> training_pb2.GetJobResponse:
        return training_pb2.GetJobResponse(job=job_to_proto(self.manager.get(request.name)))

    def ListJobs(self, request: training_pb2.ListJobsRequest,
                 context: grpc.ServicerContext) -> training_pb2.ListJobsResponse:
        state = common_pb2.JobState.Name(request.state).removeprefix("JOB_STATE_") if request.state else ""
        jobs, token = self.manager.page(kind=request.kind, state=state, page_size=request.page_size,
                                        page_token=request.page_token)
        return training_pb2.ListJobsResponse(jobs=[job_to_proto(j) for j in jobs], next_page_token=token)

    def CancelJob(self, request: training_pb2.CancelJobRequest,
                  context: grpc.ServicerContext) -> training_pb2.CancelJobResponse:
        return training_pb2.CancelJobResponse(job=job_to_proto(self.manager.cancel(request.name)))

    def WatchJob(self, request: training_pb2.WatchJobRequest,
                 context: grpc.ServicerContext) -> Iterator[training_pb2.WatchJobResponse]:
        for job in self.manager.watch(request.name):
            yield training_pb2.WatchJobResponse(job=job_to_proto(job))


# What an evaluation job needs besides its request: the engine it loads the model with, the sandbox
# it scores in and the training section's eval settings.
_EVALUATION_SECTIONS = ("generation", "sandbox", "training")


def evaluation_settings(settings: Settings) -> dict[str, Any]:
    """The part of `settings` an evaluation job's spec carries (no secrets: see Settings.to_mapping)."""
    return {name: section for name, section in settings.to_mapping().items() if name in _EVALUATION_SECTIONS}


def make_spec(settings: Settings | None = None) -> ServiceSpec:
    """The TrainingService for a server (`codeinstruct serve training`)."""
    settings = settings or Settings()
    manager = JobManager(settings.training, evaluation_settings=evaluation_settings(settings))
    servicer = TrainingServicer(manager)
    return ServiceSpec(
        full_name=SERVICE_NAME,
        register=lambda server: training_pb2_grpc.add_TrainingServiceServicer_to_server(servicer, server),
        close=manager.close, extra={"manager": manager})
