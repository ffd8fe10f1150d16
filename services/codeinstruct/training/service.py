"""gRPC TrainingService: a thin translation between proto messages and the JobManager.

`make_specs(settings)` is what `codeinstruct serve training` loads: the TrainingService and, over
the same jobs, `google.longrunning.Operations` (`operations.py`). Jobs use `settings.training`, and
evaluation jobs the generation engine and sandbox settings too. The servicer checks what only the
wire can get wrong (unknown enum numbers); the manager checks the rest of each request
(`training.requests`) before any job starts, naming request fields.

Example:
    codeinstruct serve training --port 50054
    grpcurl -plaintext -d '{"model": "default", "limit": 2}' localhost:50054 \\
        codeinstruct.v1.TrainingService/CreateEvaluationJob
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import grpc
from google.longrunning import operations_pb2

from codeinstruct.evaluation.suites import SuiteRequest
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.server.strict import register_strict
from codeinstruct.server.validate import known_enum
from codeinstruct.settings import Settings
from codeinstruct.training.jobs import JobManager, StageSpec
from codeinstruct.training.messages import (
    BACKEND_FROM_PROTO,
    job_to_proto,
    operation_of,
    record_from_proto,
    training_config_from_proto,
)
from codeinstruct.training.operations import make_operations_spec
from codeinstruct.v1 import training_pb2, training_pb2_grpc

logger = logging.getLogger(__name__)

SERVICE_NAME = "codeinstruct.v1.TrainingService"


class TrainingServicer(training_pb2_grpc.TrainingServiceServicer):
    def __init__(self, manager: JobManager):
        self.manager = manager

    def CreateTrainingJob(self, request: training_pb2.CreateTrainingJobRequest,
                          context: grpc.ServicerContext) -> operations_pb2.Operation:
        known_enum(request.backend, training_pb2.TrainingBackend.DESCRIPTOR, "backend")
        config = training_config_from_proto(request.config) if request.HasField("config") else {}
        stages = [StageSpec(name=s.name, data=s.data_path, epochs=s.epochs, learning_rate=s.learning_rate)
                  for s in request.stages]
        records = [record_from_proto(r, f"records[{i}]") for i, r in enumerate(request.records)]
        job = self.manager.create_training_job(output_dir=request.output_dir, data_path=request.data_path,
                                               records=records,
                                               config=config, stages=stages,
                                               backend=BACKEND_FROM_PROTO.get(request.backend, ""),
                                               request_id=request.request_id)
        return operation_of(job)

    def CreateEvaluationJob(self, request: training_pb2.CreateEvaluationJobRequest,
                            context: grpc.ServicerContext) -> operations_pb2.Operation:
        suites = [SuiteRequest(name=s.name, file=s.file, language=s.language, limit=s.limit) for s in request.suites]
        job = self.manager.create_evaluation_job(request.model, limit=request.limit, k=list(request.k),
                                                 n_samples=request.samples_per_problem,
                                                 output_path=request.output_path, suites=suites,
                                                 request_id=request.request_id)
        return operation_of(job)

    def GetJob(self, request: training_pb2.GetJobRequest, context: grpc.ServicerContext) -> training_pb2.Job:
        return job_to_proto(self.manager.get_job(request.name))

    def ListJobs(self, request: training_pb2.ListJobsRequest,
                 context: grpc.ServicerContext) -> training_pb2.ListJobsResponse:
        jobs, token = self.manager.page(filter=request.filter, order_by=request.order_by,
                                        page_size=request.page_size, page_token=request.page_token)
        return training_pb2.ListJobsResponse(jobs=[job_to_proto(j) for j in jobs], next_page_token=token)

    def CancelJob(self, request: training_pb2.CancelJobRequest, context: grpc.ServicerContext) -> training_pb2.Job:
        return job_to_proto(self.manager.cancel_job(request.name))

    def WatchJob(self, request: training_pb2.WatchJobRequest,
                 context: grpc.ServicerContext) -> Iterator[training_pb2.Job]:
        for job in self.manager.watch_job(request.name):
            yield job_to_proto(job)


# What an evaluation job needs besides its request: the engine it loads the model with, the sandbox
# it scores in and the training section's eval settings.
_EVALUATION_SECTIONS = ("generation", "sandbox", "training")


def evaluation_settings(settings: Settings) -> dict[str, Any]:
    """The part of `settings` an evaluation job's spec carries (no secrets: see Settings.to_mapping)."""
    return {name: section for name, section in settings.to_mapping().items() if name in _EVALUATION_SECTIONS}


def make_spec(settings: Settings | None = None, manager: JobManager | None = None) -> ServiceSpec:
    """The TrainingService alone (a loopback client needs no more); `make_specs` adds Operations."""
    settings = settings or Settings()
    manager = manager or JobManager(settings.training, evaluation_settings=evaluation_settings(settings))
    servicer = TrainingServicer(manager)
    return ServiceSpec(
        full_name=SERVICE_NAME,
        register=lambda server: register_strict(training_pb2_grpc.add_TrainingServiceServicer_to_server,
                                                servicer, server),
        close=manager.close, extra={"manager": manager})


def make_specs(settings: Settings | None = None) -> list[ServiceSpec]:
    """What `codeinstruct serve training` hosts: the TrainingService and google.longrunning.Operations
    over the same jobs."""
    training = make_spec(settings)
    manager = training.extra["manager"]
    assert isinstance(manager, JobManager)
    return [training, make_operations_spec(manager)]
