"""`google.longrunning.Operations` over the training jobs, so a generic operation poller works (AIP-151).

Every job has one operation, named "operations/<job id>" (the job is "jobs/<job id>"): its metadata is
a `JobMetadata`, and once the job ended it is done with the final `Job` as response (SUCCEEDED) or an
error (FAILED, CANCELLED). DeleteOperation is UNIMPLEMENTED: jobs, and so their operations, are kept.

Example (any client of the standard API):
    stub = operations_pb2_grpc.OperationsStub(channel)
    operation = stub.WaitOperation(operations_pb2.WaitOperationRequest(name="operations/20261128-ab12cd"))
"""

from __future__ import annotations

import time

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf import empty_pb2

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.server.strict import register_strict
from codeinstruct.server.validate import in_range
from codeinstruct.training.jobs import DEFAULT_PAGE_SIZE, POLL_S, JobManager, parse_name
from codeinstruct.training.messages import OPERATION_PREFIX, operation_of

SERVICE_NAME = "google.longrunning.Operations"
# WaitOperation without a timeout waits at most this long (or the call's deadline), then answers
# with the operation as it is.
DEFAULT_WAIT_S = 60.0


def _job_id(name: str) -> str:
    return parse_name(name, prefix=OPERATION_PREFIX, strict=True)


class OperationsServicer(operations_pb2_grpc.OperationsServicer):
    def __init__(self, manager: JobManager):
        self.manager = manager

    def GetOperation(self, request: operations_pb2.GetOperationRequest,
                     context: grpc.ServicerContext) -> operations_pb2.Operation:
        return operation_of(self.manager.get(_job_id(request.name)))

    def ListOperations(self, request: operations_pb2.ListOperationsRequest,
                       context: grpc.ServicerContext) -> operations_pb2.ListOperationsResponse:
        # `name` is the collection: "" or "operations"; `filter` takes ListJobs' filter language.
        if request.name not in ("", OPERATION_PREFIX.rstrip("/")):
            raise InvalidInput(f"name must be '' or 'operations', got {request.name!r}", field="name",
                               reason="INVALID_NAME")
        jobs, token = self.manager.page(filter=request.filter, page_size=request.page_size or DEFAULT_PAGE_SIZE,
                                        page_token=request.page_token)
        return operations_pb2.ListOperationsResponse(operations=[operation_of(j) for j in jobs],
                                                     next_page_token=token)

    def CancelOperation(self, request: operations_pb2.CancelOperationRequest,
                        context: grpc.ServicerContext) -> empty_pb2.Empty:
        self.manager.cancel(_job_id(request.name))
        return empty_pb2.Empty()

    def WaitOperation(self, request: operations_pb2.WaitOperationRequest,
                      context: grpc.ServicerContext) -> operations_pb2.Operation:
        job_id = _job_id(request.name)
        wait_s = DEFAULT_WAIT_S
        if request.HasField("timeout"):
            wait_s = request.timeout.ToNanoseconds() / 1e9
            in_range(wait_s, "timeout", minimum=0, unit="s")
        remaining = context.time_remaining()
        if remaining is not None:
            wait_s = min(wait_s, max(remaining - 0.5, 0.0))
        end = time.monotonic() + wait_s
        while True:
            job = self.manager.get(job_id)
            if job.state.terminal or time.monotonic() >= end:
                return operation_of(job)
            deadline.check()
            time.sleep(POLL_S)

    def DeleteOperation(self, request: operations_pb2.DeleteOperationRequest,
                        context: grpc.ServicerContext) -> empty_pb2.Empty:
        context.set_code(grpc.StatusCode.UNIMPLEMENTED)
        context.set_details("DeleteOperation is not supported: an operation lives as long as its job, and jobs "
                            "are kept (their folders hold logs and results)")
        return empty_pb2.Empty()


def _add_to_server(servicer: OperationsServicer, server: grpc.Server) -> None:
    """`operations_pb2_grpc.add_OperationsServicer_to_server`, but also as registered method handlers
    (what `register_strict` captures; the generated code of googleapis-common-protos only adds a
    generic handler)."""
    types = {"GetOperation": (operations_pb2.GetOperationRequest, operations_pb2.Operation),
             "ListOperations": (operations_pb2.ListOperationsRequest, operations_pb2.ListOperationsResponse),
             "CancelOperation": (operations_pb2.CancelOperationRequest, empty_pb2.Empty),
             "WaitOperation": (operations_pb2.WaitOperationRequest, operations_pb2.Operation),
             "DeleteOperation": (operations_pb2.DeleteOperationRequest, empty_pb2.Empty)}
    methods = {name: grpc.unary_unary_rpc_method_handler(getattr(servicer, name),
                                                         request_deserializer=request.FromString,
                                                         response_serializer=response.SerializeToString)
               for name, (request, response) in types.items()}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, methods),))
    server.add_registered_method_handlers(SERVICE_NAME, methods)


def make_operations_spec(manager: JobManager) -> ServiceSpec:
    """The Operations service over `manager`'s jobs (beside the TrainingService on the same server)."""
    servicer = OperationsServicer(manager)

    def register(server: grpc.Server) -> None:
        register_strict(_add_to_server, servicer, server)

    return ServiceSpec(full_name=SERVICE_NAME, register=register)
