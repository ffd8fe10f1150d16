"""The job resource of the training service: states, the `JobInfo` snapshot, job names, stage specs
and `TrainingJobsLike`, the interface the in-process `JobManager` and the gRPC `TrainingClient`
both implement.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, TypedDict

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.jsontypes import JsonObject, JsonValue
from codeinstruct.core.records import Record
from codeinstruct.evaluation.suites import SuiteRequest


class JobState(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclasses.dataclass
class JobInfo:
    """A job snapshot (the core form of the proto `Job`)."""

    id: str
    kind: str
    spec: dict[str, JsonValue]
    state: JobState = JobState.QUEUED
    progress: float = 0.0
    message: str = ""
    metrics: dict[str, JsonValue] = dataclasses.field(default_factory=dict)
    result: dict[str, JsonValue] = dataclasses.field(default_factory=dict)
    error: str = ""
    backend: str = "local"
    pid: int | None = None
    external_name: str = ""
    create_time: float = dataclasses.field(default_factory=time.time)
    update_time: float = dataclasses.field(default_factory=time.time)
    cancel_requested_at: float | None = None
    # The caller's idempotency key (AIP-155) and a digest of the request it came with.
    request_id: str = ""
    request_hash: str = ""

    @property
    def name(self) -> str:
        return f"jobs/{self.id}"

    @property
    def state_name(self) -> str:
        return self.state.value

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["state"] = self.state.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobInfo:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["state"] = JobState(values.get("state", "QUEUED"))
        return cls(**values)


def parse_name(name: str, *, field: str = "name", prefix: str = "jobs/", strict: bool = False) -> str:
    """'jobs/<id>' -> '<id>' (also a bare '<id>' unless `strict`: what callers outside the process
    send must be the resource name). FIELD_REQUIRED when empty, INVALID_NAME when malformed."""
    if not name:
        raise InvalidInput(f"{field} is required: {prefix}<id>", field=field, reason="FIELD_REQUIRED")
    if strict and not name.startswith(prefix):
        raise InvalidInput(f"{field} must be {prefix}<id>, got {name!r}", field=field, reason="INVALID_NAME")
    job_id = name.removeprefix(prefix)
    if not job_id or not all(c.isalnum() or c == "-" for c in job_id):
        raise InvalidInput(f"{field} must be {prefix}<id> (letters, digits and '-'), got {name!r}", field=field,
                           reason="INVALID_NAME")
    return job_id


def request_digest(kind: str, request: dict[str, Any]) -> str:
    """A digest of a Create request: a retry with the same request_id must carry the same one."""
    text = json.dumps({"kind": kind, **request}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class StageSpec(TypedDict, total=False):
    """One stage of a training request's schedule: `data` a records JSONL path (empty: the job's
    data), `epochs` and `learning_rate` (0 or absent: the training settings')."""

    name: str
    data: str
    epochs: float
    learning_rate: float


def stage_spec(raw: Any) -> StageSpec:
    """A `config["stages"]` entry ({name, data, epochs, learning_rate}) as a StageSpec."""
    if not isinstance(raw, dict):
        raise InvalidInput(f"config.stages entries are mappings with name, data, epochs, learning_rate; got {raw!r}",
                           field="stages", reason="INVALID_SETTING")
    unknown = sorted(set(raw) - {"name", "data", "epochs", "learning_rate"})
    if unknown:
        raise InvalidInput(f"config.stages entry has unknown key(s) {unknown}", field="stages",
                           reason="UNKNOWN_SETTING")
    return StageSpec(**raw)  # type: ignore[typeddict-item]


class TrainingJobsLike(Protocol):
    """The training service: jobs as long-running operations. `JobManager` (in this process) and
    `TrainingClient` (over gRPC) implement it."""

    def create_training_job(self, *, output_dir: str, data_path: str = ...,
                            records: Iterable[Record | JsonObject] = ...,
                            config: JsonObject | None = ..., stages: Sequence[StageSpec] = ...,
                            backend: str = ..., request_id: str = ...) -> JobInfo: ...

    def create_evaluation_job(self, model: str, /, *, limit: int | None = ..., k: Sequence[int] = ...,
                              n_samples: int | None = ..., output_path: str = ...,
                              suites: Sequence[SuiteRequest] = ..., request_id: str = ...) -> JobInfo: ...

    def get_job(self, name: str, /) -> JobInfo: ...

    def list_jobs(self, kind: str = ..., state: str = ..., *, filter: str = ...,
                  order_by: str = ...) -> list[JobInfo]: ...

    def cancel_job(self, name: str, /) -> JobInfo: ...

    def watch_job(self, name: str, /, timeout: float | None = ...) -> Iterator[JobInfo]: ...

    def wait(self, name: str, /, timeout: float | None = ...) -> JobInfo: ...

    def close(self) -> None: ...
