"""Translation between the training core (JobInfo, plain result dicts) and the protos of training.proto.

Both doors use it: the servicer (`service.py`, `operations.py`) turns jobs into `Job` messages and
operations, the client (`client.py`) turns them back, so a caller of `TrainingJobsLike` gets the
same `JobInfo` (with the same `result` dict) in-process and over gRPC.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.longrunning import operations_pb2
from google.protobuf import any_pb2, json_format, struct_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.jsontypes import JsonObject
from codeinstruct.core.records import Record
from codeinstruct.server.status import DOMAIN
from codeinstruct.training.jobs import JobInfo, JobState
from codeinstruct.v1 import common_pb2, training_pb2

OPERATION_PREFIX = "operations/"
KIND_TO_PROTO = {"train": training_pb2.JOB_KIND_TRAIN, "evaluate": training_pb2.JOB_KIND_EVALUATE}
KIND_FROM_PROTO = {number: kind for kind, number in KIND_TO_PROTO.items()}
BACKEND_TO_PROTO = {"local": training_pb2.TRAINING_BACKEND_LOCAL,
                    "kubernetes": training_pb2.TRAINING_BACKEND_KUBERNETES}
BACKEND_FROM_PROTO = {number: backend for backend, number in BACKEND_TO_PROTO.items()}
# Optional strings of the core's result dicts that are None when absent ("" in the proto).
_NONE_WHEN_EMPTY = {"adapter_dir", "resumed_from", "ranked_by"}


def state_to_proto(state: JobState) -> Any:
    """The JobState enum number of `state`."""
    return training_pb2.JobState.Value(f"JOB_STATE_{state.value}")


def state_from_proto(number: int) -> JobState:
    return JobState(training_pb2.JobState.Name(number).removeprefix("JOB_STATE_"))  # type: ignore[arg-type]


def _timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# --- plain dicts <-> messages of a fixed shape (results, config)
def _fill(message: Message, data: Mapping[str, Any], *, strict: bool = False, where: str = "") -> None:
    """Set `message`'s fields from `data` (None skipped). Unknown keys are ignored, or with `strict`
    raise UNKNOWN_SETTING naming `<where><key>`."""
    fields = message.DESCRIPTOR.fields_by_name
    for key, value in data.items():
        field = fields.get(key)
        if field is None:
            if strict:
                raise InvalidInput(f"unknown setting {where}{key}; known: {', '.join(sorted(fields))}",
                                   field=f"{where}{key}", reason="UNKNOWN_SETTING")
            continue
        if value is None:
            continue
        try:
            _set(message, field, value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{where}{key}: {value!r} is not a valid {field.name} ({exc})", field=f"{where}{key}",
                               reason="INVALID_SETTING") from None


def _cast(field: FieldDescriptor, value: Any) -> Any:
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return float(value)
    if field.type in (FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64):
        if isinstance(value, float) and not value.is_integer():
            raise ValueError("a whole number is needed")
        return int(value)
    if field.type == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise TypeError("true or false is needed")
        return value
    return str(value)


def _set(message: Message, field: FieldDescriptor, value: Any) -> None:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        target = getattr(message, field.name)
        value_field = field.message_type.fields_by_name["value"]
        for key, item in dict(value).items():
            target[str(key)] = _cast(value_field, item)
    elif field.is_repeated:
        target = getattr(message, field.name)
        for item in value:
            if field.message_type is not None:
                _fill(target.add(), item)
            else:
                target.append(_cast(field, item))
    elif field.message_type is not None:
        _fill(getattr(message, field.name), value)
    else:
        setattr(message, field.name, _cast(field, value))


def _plain(message: Message, *, defaults: bool = True) -> dict[str, Any]:
    """`message` as plain Python values (maps as dicts): every field, or with `defaults=False` only
    those set; a field with presence (`optional`, messages) only when set."""
    data: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.has_presence:
            if not message.HasField(field.name):
                continue
        elif not defaults and not (len(value) if field.is_repeated else value != field.default_value):
            continue
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            data[field.name] = dict(value)
        elif field.is_repeated:
            data[field.name] = [_plain(v) if field.message_type is not None else v for v in value]
        elif field.message_type is not None:
            data[field.name] = _plain(value)
        else:
            data[field.name] = value
    return data


def training_config_to_proto(config: JsonObject) -> training_pb2.TrainingConfig:
    """Training overrides ({"learning_rate": 1e-4, ...}) as the request's TrainingConfig; UNKNOWN_SETTING
    names `config.<key>` for a key it does not have."""
    message = training_pb2.TrainingConfig()
    _fill(message, config, strict=True, where="config.")
    return message


def training_config_from_proto(message: training_pb2.TrainingConfig) -> dict[str, Any]:
    """The overrides a request's TrainingConfig sets (unset fields absent)."""
    return _plain(message, defaults=False)


def _with_pass_at_k(row: Mapping[str, Any]) -> dict[str, Any]:
    plain = {k: v for k, v in row.items() if not k.startswith("pass@")}
    plain["pass_at_k"] = {k: float(v) for k, v in row.items() if k.startswith("pass@")}
    if "output" in plain:
        plain["output_path"] = plain.pop("output")
    return plain


def _without_pass_at_k(data: dict[str, Any]) -> dict[str, Any]:
    figures = data.pop("pass_at_k", {})
    if "output_path" in data:
        data["output"] = data.pop("output_path")
    return {**data, **figures}


def training_result_to_proto(result: Mapping[str, Any]) -> training_pb2.TrainingResult:
    message = training_pb2.TrainingResult()
    _fill(message, result)
    return message


def training_result_from_proto(message: training_pb2.TrainingResult) -> dict[str, Any]:
    """The trainer's summary dict (what `train()` returns, as far as the proto carries it)."""
    data = _plain(message)
    data.setdefault("first_loss", None)
    data.setdefault("final_loss", None)
    data["output_dir"] = data["model_dir"]
    for entries in (data, *data["stages"]):
        for key in _NONE_WHEN_EMPTY & set(entries):
            entries[key] = entries[key] or None
    return data


def evaluation_result_to_proto(result: Mapping[str, Any]) -> training_pb2.EvaluationResult:
    """An evaluation summary: {"suites": [...], ...}, or HumanEval alone {"pass@1", "suite", ...}."""
    data = _with_pass_at_k(result)
    if "suite" in data and "suites" not in data:  # HumanEval alone: its one suite result
        data["suites"] = [data.pop("suite")]
    data["suites"] = [_with_pass_at_k(row) for row in data.get("suites") or []]
    message = training_pb2.EvaluationResult()
    _fill(message, data)
    return message


def evaluation_result_from_proto(message: training_pb2.EvaluationResult) -> dict[str, Any]:
    """The evaluation summary dict, in the shape the job produced (suites, or HumanEval alone)."""
    data = _plain(message)
    suites = [_drop_empty(_without_pass_at_k(row), "label", "output") for row in data.pop("suites")]
    data = _drop_empty(data, "base_model", "adapter", "output_path")
    if message.n_samples:  # HumanEval alone (no suites requested)
        data = _without_pass_at_k(data)
        data["suite"] = suites[0] if suites else {}
        return data
    for key in ("pass_at_k", "n_problems", "n_samples", "passed"):
        data.pop(key)
    return {**data, "suites": suites}


def _drop_empty(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not (k in keys and v == "")}


# --- jobs
def job_to_proto(job: JobInfo) -> training_pb2.Job:
    message = training_pb2.Job(
        name=job.name, kind=KIND_TO_PROTO[job.kind], state=state_to_proto(job.state), progress=job.progress,
        message=job.message, create_time=_timestamp(job.create_time), update_time=_timestamp(job.update_time),
        error=job.error, backend=BACKEND_TO_PROTO.get(job.backend, training_pb2.TRAINING_BACKEND_UNSPECIFIED),
        request_id=job.request_id, operation=OPERATION_PREFIX + job.id,
        metrics={k: float(v) for k, v in job.metrics.items()
                 if isinstance(v, (int, float)) and not isinstance(v, bool)})
    json_format.ParseDict(_jsonable(job.spec), message.spec)
    if job.state == JobState.SUCCEEDED and job.result:
        if job.kind == "train":
            message.training_result.CopyFrom(training_result_to_proto(job.result))
        else:
            message.evaluation_result.CopyFrom(evaluation_result_to_proto(job.result))
    return message


def job_from_proto(message: training_pb2.Job) -> JobInfo:
    def plain(struct: struct_pb2.Struct) -> dict[str, Any]:
        return json_format.MessageToDict(struct) if struct.fields else {}

    which = message.WhichOneof("result")
    result = training_result_from_proto(message.training_result) if which == "training_result" else \
        evaluation_result_from_proto(message.evaluation_result) if which == "evaluation_result" else {}
    return JobInfo(id=message.name.removeprefix("jobs/"), kind=KIND_FROM_PROTO.get(message.kind, ""),
                   state=state_from_proto(message.state), progress=message.progress, message=message.message,
                   spec=plain(message.spec), result=result, error=message.error, metrics=dict(message.metrics),
                   backend=BACKEND_FROM_PROTO.get(message.backend, ""), request_id=message.request_id,
                   create_time=message.create_time.ToNanoseconds() / 1e9,
                   update_time=message.update_time.ToNanoseconds() / 1e9)


def record_from_proto(message: common_pb2.Record, field: str = "records") -> Record:
    """A request's record; INVALID_RECORD naming `<field>.<record field>` when it is not one."""
    data = json_format.MessageToDict(message, preserving_proto_field_name=True)
    data.setdefault("tests", [])
    data["tests"] = [{"input": t.get("input", ""), "output": t.get("output", "")} for t in data["tests"]]
    try:
        return Record.from_dict(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{field}: {exc.message}", field=f"{field}.{exc.field}" if exc.field else field,
                           reason="INVALID_RECORD") from None


def record_to_proto(record: Record | JsonObject) -> common_pb2.Record:
    data: dict[str, Any] = record.to_dict() if isinstance(record, Record) else dict(record)
    message = common_pb2.Record()
    for key in ("source", "generator"):  # string maps in the proto
        value = data.get(key)
        data[key] = {k: str(v) for k, v in value.items()} if isinstance(value, dict) else {}
    json_format.ParseDict(data, message)
    return message


# --- long-running operations
def job_metadata(job: JobInfo) -> training_pb2.JobMetadata:
    return training_pb2.JobMetadata(
        job=job.name, kind=KIND_TO_PROTO[job.kind], state=state_to_proto(job.state), progress=job.progress,
        message=job.message, create_time=_timestamp(job.create_time), update_time=_timestamp(job.update_time),
        cancel_requested=job.state in (JobState.CANCELLING, JobState.CANCELLED))


def operation_of(job: JobInfo) -> operations_pb2.Operation:
    """The operation following `job`: metadata always; once done, the Job (SUCCEEDED) or an error
    (FAILED: UNKNOWN with ErrorInfo JOB_FAILED; CANCELLED: CANCELLED)."""
    operation = operations_pb2.Operation(name=OPERATION_PREFIX + job.id, done=job.state.terminal)
    operation.metadata.Pack(job_metadata(job))
    if job.state == JobState.SUCCEEDED:
        operation.response.Pack(job_to_proto(job))
    elif job.state in (JobState.FAILED, JobState.CANCELLED):
        failed = job.state == JobState.FAILED
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason="JOB_FAILED" if failed else "JOB_CANCELLED", domain=DOMAIN,
                                              metadata={"job": job.name}))
        operation.error.CopyFrom(status_pb2.Status(
            code=code_pb2.UNKNOWN if failed else code_pb2.CANCELLED,
            message=f"job {job.name} {job.state.value.lower()}: {job.error or job.message}", details=[info]))
    return operation
