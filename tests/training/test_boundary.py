"""The TrainingService (and its google.longrunning.Operations) as a third party meets it: bad requests
against a REAL server, one case per RPC x field, each refused with the request field path and a
specific reason while the server stays SERVING; and the good paths a generic client relies on
(an operation polled to done with the standard Operations stub, request_id retries, filters)."""

from __future__ import annotations

import atexit
import math
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.longrunning import operations_pb2, operations_pb2_grpc
from google.protobuf import duration_pb2

from codeinstruct.core.config import ServerConfig
from codeinstruct.core.records import write_jsonl_atomic
from codeinstruct.server.bootstrap import GrpcServer
from codeinstruct.server.status import details_of
from codeinstruct.settings import Settings
from codeinstruct.training.jobs import JobManager
from codeinstruct.training.service import evaluation_settings, make_specs
from codeinstruct.v1 import common_pb2, training_pb2, training_pb2_grpc
from tests.support.boundary import Case, assert_serving, cases_named, check_case
from tests.support.training import make_records

TRAINING = "codeinstruct.v1.TrainingService"
OPERATIONS = "google.longrunning.Operations"
INVALID = grpc.StatusCode.INVALID_ARGUMENT

# Files the cases name exist before collection (cases are module constants).
ROOT = Path(tempfile.mkdtemp(prefix="training-boundary-"))
atexit.register(shutil.rmtree, ROOT, True)
DATA = ROOT / "data.jsonl"
write_jsonl_atomic(DATA, make_records(8))
A_FILE = ROOT / "a-file"
A_FILE.write_text("not a folder")
OUT = str(ROOT / "out")
MISSING = str(ROOT / "missing.jsonl")

Train = training_pb2.CreateTrainingJobRequest
Stage = training_pb2.TrainingStage
Evaluate = training_pb2.CreateEvaluationJobRequest
Suite = training_pb2.EvaluationSuite
Config = training_pb2.TrainingConfig


def train(**fields: object) -> Train:
    values: dict[str, object] = {"output_dir": OUT, "data_path": str(DATA)}
    values.update(fields)
    return Train(**{k: v for k, v in values.items() if v is not None})  # type: ignore[arg-type]


def evaluate(**fields: object) -> Evaluate:
    return Evaluate(**{"model": "default", **fields})  # type: ignore[arg-type]


TRAINING_CASES = [
    Case("CreateTrainingJob", Train(), "output_dir", "FIELD_REQUIRED", label="empty"),
    Case("CreateTrainingJob", train(output_dir="out"), "output_dir", "RELATIVE_PATH"),
    Case("CreateTrainingJob", train(output_dir=str(A_FILE)), "output_dir", "OUTPUT_NOT_A_FOLDER"),
    Case("CreateTrainingJob", train(data_path=""), "data_path", "FIELD_REQUIRED"),
    Case("CreateTrainingJob", train(data_path="data.jsonl"), "data_path", "RELATIVE_PATH"),
    Case("CreateTrainingJob", train(data_path=MISSING), "data_path", "DATA_NOT_FOUND"),
    Case("CreateTrainingJob", train(data_path=str(ROOT)), "data_path", "DATA_NOT_FOUND", label="folder"),
    Case("CreateTrainingJob", train(records=[common_pb2.Record(method="seed", instruction="x", response="y")]),
         "records", "MUTUALLY_EXCLUSIVE"),
    Case("CreateTrainingJob", train(data_path="", records=[common_pb2.Record(method="seed", instruction="x"),
                                                           common_pb2.Record(instruction="y")]),
         "records[1].method", "INVALID_RECORD"),
    Case("CreateTrainingJob", train(data_path="", stages=[Stage(name="a", data_path=str(DATA)), Stage(name="b")]),
         "data_path", "FIELD_REQUIRED", label="stage-without-data"),
    Case("CreateTrainingJob", train(stages=[Stage(name="a"), Stage(name="b", data_path=MISSING)]),
         "stages[1].data_path", "DATA_NOT_FOUND"),
    Case("CreateTrainingJob", train(stages=[Stage(name="a", data_path="rel.jsonl")]), "stages[0].data_path",
         "RELATIVE_PATH"),
    Case("CreateTrainingJob", train(stages=[Stage(name="a"), Stage(name="a")]), "stages[1].name", "DUPLICATE_NAME"),
    Case("CreateTrainingJob", train(stages=[Stage(name="a", epochs=-1)]), "stages[0].epochs", "OUT_OF_RANGE"),
    Case("CreateTrainingJob", train(stages=[Stage(name="a", learning_rate=math.nan)]), "stages[0].learning_rate",
         "OUT_OF_RANGE"),
    Case("CreateTrainingJob", train(stages=[Stage(name=f"s{i}") for i in range(65)]), "stages", "TOO_MANY_ITEMS"),
    Case("CreateTrainingJob", train(backend=99), "backend", "UNKNOWN_ENUM_VALUE"),
    Case("CreateTrainingJob", train(backend=training_pb2.TRAINING_BACKEND_KUBERNETES), "output_dir",
         "PATH_OUTSIDE_VOLUME"),
    Case("CreateTrainingJob", train(config=Config(lora_r=0)), "config.lora_r", "INVALID_SETTING"),
    Case("CreateTrainingJob", train(config=Config(max_steps=0)), "config.max_steps", "INVALID_SETTING"),
    Case("CreateTrainingJob", train(config=Config(learning_rate=-1)), "config.learning_rate", "INVALID_SETTING"),
    Case("CreateTrainingJob", train(config=Config(mode="qlora")), "config.mode", "INVALID_SETTING"),
    Case("CreateTrainingJob", train(config=Config(preset="nope")), "config.preset", "UNKNOWN_SETTING"),
    Case("CreateTrainingJob", train(config=Config(warmup_steps=2, warmup_ratio=0.1)), "config.warmup_steps",
         "INVALID_SETTING"),
    Case("CreateTrainingJob", train(config=Config(model="/no/such/model")), "config.model", "MODEL_NOT_FOUND"),
    Case("CreateTrainingJob", train(config=Config(model="some/model")), "config.model", "RELATIVE_PATH"),
    Case("CreateTrainingJob", train(request_id="retry-1"), "request_id", "INVALID_REQUEST_ID"),
]

EVALUATION_CASES = [
    Case("CreateEvaluationJob", Evaluate(), "model", "FIELD_REQUIRED", label="empty"),
    Case("CreateEvaluationJob", evaluate(model="runs/model"), "model", "RELATIVE_PATH"),
    Case("CreateEvaluationJob", evaluate(model="/no/such/model"), "model", "MODEL_NOT_FOUND"),
    Case("CreateEvaluationJob", evaluate(limit=-1), "limit", "OUT_OF_RANGE"),
    Case("CreateEvaluationJob", evaluate(k=[0]), "k[0]", "OUT_OF_RANGE"),
    Case("CreateEvaluationJob", evaluate(k=[1, 5000]), "k[1]", "OUT_OF_RANGE"),
    Case("CreateEvaluationJob", evaluate(k=list(range(1, 18))), "k", "TOO_MANY_ITEMS"),
    Case("CreateEvaluationJob", evaluate(samples_per_problem=-1), "samples_per_problem", "OUT_OF_RANGE"),
    Case("CreateEvaluationJob", evaluate(k=[5], samples_per_problem=2), "samples_per_problem", "OUT_OF_RANGE",
         label="below-k"),
    Case("CreateEvaluationJob", evaluate(output_path="samples.jsonl"), "output_path", "RELATIVE_PATH"),
    Case("CreateEvaluationJob", evaluate(suites=[Suite()]), "suites[0].name", "FIELD_REQUIRED"),
    Case("CreateEvaluationJob", evaluate(suites=[Suite(name="bogus")]), "suites[0].name", "UNKNOWN_SUITE"),
    Case("CreateEvaluationJob", evaluate(suites=[Suite(name="humaneval"), Suite(name="mbpp")]), "suites[1].file",
         "FIELD_REQUIRED"),
    Case("CreateEvaluationJob", evaluate(suites=[Suite(name="mbpp", file=MISSING)]), "suites[0].file",
         "DATA_NOT_FOUND"),
    Case("CreateEvaluationJob", evaluate(suites=[Suite(name="mbpp", file="mbpp.jsonl")]), "suites[0].file",
         "RELATIVE_PATH"),
    Case("CreateEvaluationJob", evaluate(suites=[Suite(name="humaneval", language="cobol")]), "suites[0].language",
         "UNSUPPORTED_LANGUAGE"),
    Case("CreateEvaluationJob", evaluate(suites=[Suite(name="humaneval", limit=-1)]), "suites[0].limit",
         "OUT_OF_RANGE"),
    Case("CreateEvaluationJob", evaluate(suites=[Suite(name="humaneval")] * 33), "suites", "TOO_MANY_ITEMS"),
    Case("CreateEvaluationJob", evaluate(request_id="x"), "request_id", "INVALID_REQUEST_ID"),
]

NAME_CASES = [
    case
    for rpc, request in (("GetJob", training_pb2.GetJobRequest), ("CancelJob", training_pb2.CancelJobRequest),
                         ("WatchJob", training_pb2.WatchJobRequest))
    for case in (
        Case(rpc, request(), "name", "FIELD_REQUIRED"),
        Case(rpc, request(name="foo"), "name", "INVALID_NAME", label="bare-id"),
        Case(rpc, request(name="jobs/../etc"), "name", "INVALID_NAME", label="traversal"),
        Case(rpc, request(name="operations/20260101-abcdef"), "name", "INVALID_NAME", label="operation-name"),
        Case(rpc, request(name="jobs/20260101-abcdef"), "", "NOT_FOUND", grpc.StatusCode.NOT_FOUND),
    )
]

List = training_pb2.ListJobsRequest
LIST_CASES = [
    Case("ListJobs", List(filter="kind = bogus"), "filter", "INVALID_FILTER", label="unknown-kind"),
    Case("ListJobs", List(filter="colour = RED"), "filter", "INVALID_FILTER", label="unknown-field"),
    Case("ListJobs", List(filter="kind > TRAIN"), "filter", "INVALID_FILTER", label="operator"),
    Case("ListJobs", List(filter="kind = TRAIN OR state = RUNNING"), "filter", "INVALID_FILTER", label="or"),
    Case("ListJobs", List(filter="kind ="), "filter", "INVALID_FILTER", label="incomplete"),
    Case("ListJobs", List(filter="request_id = abc"), "filter", "INVALID_FILTER", label="unquoted"),
    Case("ListJobs", List(order_by="size desc"), "order_by", "INVALID_ORDER_BY"),
    Case("ListJobs", List(order_by="create_time up"), "order_by", "INVALID_ORDER_BY", label="direction"),
    Case("ListJobs", List(page_size=-1), "page_size", "OUT_OF_RANGE"),
    Case("ListJobs", List(page_token="garbage"), "page_token", "INVALID_PAGE_TOKEN"),
]

OPERATION_CASES = [
    Case("GetOperation", operations_pb2.GetOperationRequest(), "name", "FIELD_REQUIRED"),
    Case("GetOperation", operations_pb2.GetOperationRequest(name="jobs/20260101-abcdef"), "name", "INVALID_NAME"),
    Case("GetOperation", operations_pb2.GetOperationRequest(name="operations/20260101-abcdef"), "", "NOT_FOUND",
         grpc.StatusCode.NOT_FOUND),
    Case("CancelOperation", operations_pb2.CancelOperationRequest(), "name", "FIELD_REQUIRED"),
    Case("CancelOperation", operations_pb2.CancelOperationRequest(name="operations/20260101-abcdef"), "",
         "NOT_FOUND", grpc.StatusCode.NOT_FOUND),
    Case("WaitOperation", operations_pb2.WaitOperationRequest(name="x"), "name", "INVALID_NAME"),
    Case("WaitOperation", operations_pb2.WaitOperationRequest(
        name="operations/20260101-abcdef", timeout=duration_pb2.Duration(seconds=-1)), "timeout", "OUT_OF_RANGE"),
    Case("WaitOperation", operations_pb2.WaitOperationRequest(name="operations/20260101-abcdef"), "", "NOT_FOUND",
         grpc.StatusCode.NOT_FOUND),
    Case("ListOperations", operations_pb2.ListOperationsRequest(name="things"), "name", "INVALID_NAME"),
    Case("ListOperations", operations_pb2.ListOperationsRequest(filter="kind = bogus"), "filter", "INVALID_FILTER"),
    Case("DeleteOperation", operations_pb2.DeleteOperationRequest(name="operations/x"), "", "",
         grpc.StatusCode.UNIMPLEMENTED),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Iterator[GrpcServer]:
    settings = Settings.from_mapping({"training": {
        "jobs": {"jobs_dir": str(tmp_path_factory.mktemp("jobs"))}, "model": str(tiny_model), "num_threads": 1,
        "batch_size": 4}})
    instance = GrpcServer(ServerConfig(host="127.0.0.1", port=0), make_specs(settings))
    instance.start()
    instance.settings = settings  # type: ignore[attr-defined]
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def channel(server: GrpcServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as opened:
        yield opened


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> training_pb2_grpc.TrainingServiceStub:
    return training_pb2_grpc.TrainingServiceStub(channel)


@pytest.fixture(scope="module")
def operations(channel: grpc.Channel) -> operations_pb2_grpc.OperationsStub:
    return operations_pb2_grpc.OperationsStub(channel)


@pytest.mark.parametrize("case", cases_named(TRAINING_CASES + EVALUATION_CASES + NAME_CASES + LIST_CASES), ids=str)
def test_bad_request(case: Case, stub: training_pb2_grpc.TrainingServiceStub, channel: grpc.Channel) -> None:
    check_case(case, stub, channel, TRAINING)


@pytest.mark.parametrize("case", cases_named(OPERATION_CASES), ids=str)
def test_bad_operations_request(case: Case, operations: operations_pb2_grpc.OperationsStub,
                                channel: grpc.Channel) -> None:
    check_case(case, operations, channel, OPERATIONS)


def test_no_bad_request_left_a_job_behind(stub: training_pb2_grpc.TrainingServiceStub) -> None:
    before = [j.name for j in stub.ListJobs(List(page_size=1000)).jobs]
    for case in TRAINING_CASES + EVALUATION_CASES:
        with pytest.raises(grpc.RpcError):
            getattr(stub, case.rpc)(case.request, timeout=30)
    assert [j.name for j in stub.ListJobs(List(page_size=1000)).jobs] == before


def test_errors_name_the_bad_value(stub: training_pb2_grpc.TrainingServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as bad:
        stub.ListJobs(List(filter="kind = TRAIN AND state = SLEEPING"))
    assert "'SLEEPING'" in bad.value.details() and "QUEUED" in bad.value.details()
    with pytest.raises(grpc.RpcError) as typo:
        stub.CreateTrainingJob(train(config=Config(lora_r=0)))
    assert details_of(typo.value)["fields"] == ["config.lora_r"]
    assert "(from flag)" not in typo.value.details() and "training.lora_r" not in typo.value.details()
    with pytest.raises(grpc.RpcError) as missing:
        stub.CreateTrainingJob(train(stages=[Stage(name="a"), Stage(name="b", data_path=MISSING)]))
    assert MISSING in missing.value.details()


def wait_done(operations: operations_pb2_grpc.OperationsStub, name: str,
              timeout: float = 180) -> operations_pb2.Operation:
    """What a generic poller does: WaitOperation / GetOperation until `done`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        operation = operations.WaitOperation(operations_pb2.WaitOperationRequest(
            name=name, timeout=duration_pb2.Duration(seconds=5)), timeout=30)
        if operation.done:
            return operation
        assert operations.GetOperation(operations_pb2.GetOperationRequest(name=name)).name == name
    raise AssertionError(f"{name} not done after {timeout}s")


def test_a_generic_operations_client_polls_a_training_job_to_done(
        stub: training_pb2_grpc.TrainingServiceStub, operations: operations_pb2_grpc.OperationsStub,
        channel: grpc.Channel, tmp_path: Path) -> None:
    request = train(output_dir=str(tmp_path / "model"), config=Config(max_steps=2, save_every_steps=1))
    operation = stub.CreateTrainingJob(request)
    metadata = training_pb2.JobMetadata()
    assert operation.metadata.Unpack(metadata)
    assert operation.name == "operations/" + metadata.job.removeprefix("jobs/")
    assert metadata.kind == training_pb2.JOB_KIND_TRAIN and not operation.done

    final = wait_done(operations, operation.name)
    assert final.WhichOneof("result") == "response", final.error
    job = training_pb2.Job()
    assert final.response.Unpack(job)
    assert job.name == metadata.job and job.state == training_pb2.JOB_STATE_SUCCEEDED
    assert job.training_result.steps == 2 and job.training_result.model_dir == str(tmp_path / "model")
    assert len(job.training_result.losses) == 2 and job.training_result.HasField("final_loss")
    assert job.spec["config"]["max_steps"] == 2 and job.operation == operation.name
    assert job.metrics["step"] == 2
    assert stub.GetJob(training_pb2.GetJobRequest(name=job.name)) == job
    listed = stub.ListJobs(List(filter="kind = TRAIN AND state = SUCCEEDED", order_by="create_time desc"))
    assert job.name in [j.name for j in listed.jobs]
    assert stub.ListJobs(List(filter="kind = EVALUATE AND state = SUCCEEDED")).jobs == []
    names = [o.name for o in operations.ListOperations(operations_pb2.ListOperationsRequest(
        name="operations", filter="state = SUCCEEDED")).operations]
    assert operation.name in names
    with pytest.raises(grpc.RpcError) as ended:
        stub.CancelJob(training_pb2.CancelJobRequest(name=job.name))
    assert ended.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert_serving(channel, TRAINING)
    assert_serving(channel, OPERATIONS)


def test_a_retried_create_with_the_same_request_id_returns_the_same_job(
        server: GrpcServer, stub: training_pb2_grpc.TrainingServiceStub, tmp_path: Path) -> None:
    request_id = str(uuid.uuid4())
    request = train(output_dir=str(tmp_path / "retried"), config=Config(max_steps=1), request_id=request_id)
    first = stub.CreateTrainingJob(request)
    again = stub.CreateTrainingJob(request)
    assert again.name == first.name
    only = stub.ListJobs(List(filter=f'request_id = "{request_id}"')).jobs
    assert [j.operation for j in only] == [first.name] and only[0].request_id == request_id

    changed = train(output_dir=str(tmp_path / "retried"), config=Config(max_steps=2), request_id=request_id)
    with pytest.raises(grpc.RpcError) as reused:
        stub.CreateTrainingJob(changed)
    info = details_of(reused.value)
    assert reused.value.code() == INVALID and info["reason"] == "REQUEST_ID_REUSED"
    assert info["fields"] == ["request_id"]

    # A restarted service (a new manager on the same job store) still knows the request.
    settings: Settings = server.settings  # type: ignore[attr-defined]
    restarted = JobManager(settings.training, evaluation_settings=evaluation_settings(settings),
                           start_monitor=False)
    job = restarted.create_training_job(output_dir=str(tmp_path / "retried"), data_path=str(DATA),
                                        config={"max_steps": 1}, request_id=request_id)
    assert "operations/" + job.id == first.name
    assert len(stub.ListJobs(List(filter=f'request_id = "{request_id}"')).jobs) == 1


def test_an_evaluation_job_is_created_and_cancelled(stub: training_pb2_grpc.TrainingServiceStub,
                                                   operations: operations_pb2_grpc.OperationsStub,
                                                   tiny_model: Path) -> None:
    operation = stub.CreateEvaluationJob(evaluate(model=str(tiny_model), limit=1, k=[1],
                                                  suites=[Suite(name="humaneval", limit=1)]))
    metadata = training_pb2.JobMetadata()
    operation.metadata.Unpack(metadata)
    assert metadata.kind == training_pb2.JOB_KIND_EVALUATE
    operations.CancelOperation(operations_pb2.CancelOperationRequest(name=operation.name))
    final = wait_done(operations, operation.name, timeout=90)
    assert final.error.code == grpc.StatusCode.CANCELLED.value[0]
    job = stub.GetJob(training_pb2.GetJobRequest(name=metadata.job))
    assert job.state == training_pb2.JOB_STATE_CANCELLED and not job.HasField("evaluation_result")


def test_serve_training_hosts_both_services_and_reflection_describes_them(channel: grpc.Channel,
                                                                        tmp_path: Path) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    from codeinstruct.cli.serve import load_specs

    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    requests = [reflection_pb2.ServerReflectionRequest(list_services=""),
                reflection_pb2.ServerReflectionRequest(file_containing_symbol=OPERATIONS),
                reflection_pb2.ServerReflectionRequest(file_containing_symbol="codeinstruct.v1.JobMetadata")]
    responses = list(stub.ServerReflectionInfo(iter(requests), timeout=10))
    assert {TRAINING, OPERATIONS} <= {s.name for s in responses[0].list_services_response.service}
    assert all(r.file_descriptor_response.file_descriptor_proto for r in responses[1:])
    specs = load_specs("training", Settings.from_mapping({"training": {"jobs": {"jobs_dir": str(tmp_path)}}}))
    assert [spec.full_name for spec in specs] == [TRAINING, OPERATIONS]
    for spec in specs:
        if spec.close is not None:
            spec.close()
