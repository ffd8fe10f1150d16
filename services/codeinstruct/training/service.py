"""gRPC TrainingService: a thin translation between proto messages and the JobManager.

`make_spec(file_data)` is what `codeinstruct serve training` loads. Inline records of a training
request are written to the job's own data file so the worker reads them like any dataset.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record, write_jsonl_atomic
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.training.config import TrainingConfig, load_config
from codeinstruct.training.jobs import JobInfo, JobManager
from codeinstruct.v1 import common_pb2, training_pb2, training_pb2_grpc

logger = logging.getLogger(__name__)

SERVICE_NAME = "codeinstruct.v1.TrainingService"
DEFAULT_PAGE_SIZE = 50


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
    def __init__(self, manager: JobManager, file_data: dict | None = None):
        self.manager = manager
        self.file_data = dict(file_data or {})

    def CreateTrainingJob(self, request: training_pb2.CreateTrainingJobRequest,
                          context: grpc.ServicerContext) -> training_pb2.CreateTrainingJobResponse:
        if not request.output_dir:
            raise InvalidInput("output_dir is required", field="output_dir")
        overrides = json_format.MessageToDict(request.config) if request.HasField("config") else {}
        stages = [{"name": s.name or f"stage{i + 1}", "data": s.data_path or None,
                   "epochs": s.epochs or None, "learning_rate": s.learning_rate or None}
                  for i, s in enumerate(request.stages)]
        if stages:
            overrides["stages"] = stages
        # Resolve (service file < environment < request) and validate now, so a bad setting fails the
        # RPC instead of the job; the worker gets the resolved values.
        config = load_config(self.file_data, overrides=overrides)
        data: str | None = request.data_path or None
        if request.records:
            if data:
                raise InvalidInput("give data_path or records, not both", field="records")
            records = [record_from_proto(r) for r in request.records]
            data = str(self.manager.root / "inline" / f"{uuid.uuid4().hex}.jsonl")
            write_jsonl_atomic(data, records)
        if data is None and not (stages or config.stages):
            raise InvalidInput("training needs data_path, records or stages with data", field="data_path")
        spec = {"data": data, "output_dir": request.output_dir, "config": config.to_dict(),
                "backend": request.backend or None}
        return training_pb2.CreateTrainingJobResponse(job=job_to_proto(self.manager.create("train", spec)))

    def CreateEvaluationJob(self, request: training_pb2.CreateEvaluationJobRequest,
                            context: grpc.ServicerContext) -> training_pb2.CreateEvaluationJobResponse:
        if not request.model:
            raise InvalidInput("model is required ('default' or a model folder)", field="model")
        if request.limit < 0 or request.samples_per_problem < 0 or any(v < 1 for v in request.k):
            raise InvalidInput("limit and samples_per_problem must be >= 0 and k values >= 1", field="k")
        spec = {"model": request.model, "limit": request.limit or None, "k": list(request.k) or [1],
                "n_samples": request.samples_per_problem or None, "output": request.output_path or None,
                "file_data": self.file_data}
        return training_pb2.CreateEvaluationJobResponse(job=job_to_proto(self.manager.create("evaluate", spec)))

    def GetJob(self, request: training_pb2.GetJobRequest, context: grpc.ServicerContext) -> training_pb2.GetJobResponse:
        return training_pb2.GetJobResponse(job=job_to_proto(self.manager.get(request.name)))

    def ListJobs(self, request: training_pb2.ListJobsRequest,
                 context: grpc.ServicerContext) -> training_pb2.ListJobsResponse:
        state = None
        if request.state:
            state = common_pb2.JobState.Name(request.state).removeprefix("JOB_STATE_")
        if request.page_size < 0:
            raise InvalidInput(f"page_size must be >= 0, got {request.page_size}", field="page_size")
        try:
            offset = int(request.page_token or 0)
        except ValueError:
            raise InvalidInput(f"invalid page_token {request.page_token!r}", field="page_token") from None
        jobs = self.manager.list(kind=request.kind or None, state=state)
        size = request.page_size or DEFAULT_PAGE_SIZE
        page = jobs[offset:offset + size]
        token = str(offset + size) if offset + size < len(jobs) else ""
        return training_pb2.ListJobsResponse(jobs=[job_to_proto(j) for j in page], next_page_token=token)

    def CancelJob(self, request: training_pb2.CancelJobRequest,
                  context: grpc.ServicerContext) -> training_pb2.CancelJobResponse:
        return training_pb2.CancelJobResponse(job=job_to_proto(self.manager.cancel(request.name)))

    def WatchJob(self, request: training_pb2.WatchJobRequest,
                 context: grpc.ServicerContext) -> Iterator[training_pb2.WatchJobResponse]:
        for job in self.manager.watch(request.name):
            yield training_pb2.WatchJobResponse(job=job_to_proto(job))


def make_spec(file_data: dict | None = None, config: TrainingConfig | None = None) -> ServiceSpec:
    """The TrainingService for a server (`codeinstruct serve training`)."""
    config = config or load_config(file_data)
    manager = JobManager(config)
    servicer = TrainingServicer(manager, file_data)
    return ServiceSpec(
        full_name=SERVICE_NAME,
        register=lambda server: training_pb2_grpc.add_TrainingServiceServicer_to_server(servicer, server),
        close=manager.close, extra={"manager": manager})
