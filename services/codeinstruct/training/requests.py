"""Checks of training and evaluation job requests, before any job starts.

`JobManager.create_training_job` / `create_evaluation_job` (and so the TrainingService, whose
requests carry the same fields) call these: every error names the REQUEST field path
(`stages[1].data_path`, `suites[0].name`, `config.lora_r`) and a specific reason, so a bad request
is refused at once instead of becoming a job that fails later.

Reasons raised here (stable, part of the API):
  FIELD_REQUIRED, RELATIVE_PATH, DATA_NOT_FOUND, MODEL_NOT_FOUND, PATH_OUTSIDE_VOLUME, UNKNOWN_BACKEND,
  UNKNOWN_SUITE, UNSUPPORTED_LANGUAGE, OUT_OF_RANGE, TOO_MANY_ITEMS, DUPLICATE_NAME,
  MUTUALLY_EXCLUSIVE, INVALID_REQUEST_ID, UNKNOWN_SETTING, INVALID_SETTING.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codeinstruct.core.config import updated
from codeinstruct.core.errors import InvalidInput
from codeinstruct.evaluation.suites import SUITES, SuiteRequest
from codeinstruct.server.validate import at_most, in_range, request_fields, required
from codeinstruct.training.config import TrainingConfig

BACKENDS = ("local", "kubernetes")
MAX_STAGES = 64
MAX_SUITES = 32
MAX_K_VALUES = 16
MAX_K = 1000
MAX_SAMPLES = 10000
# Sections of `training` a request may not override: where the service runs jobs and how it
# evaluates are the service's settings.
SERVICE_SECTIONS = ("jobs", "eval")


def absolute(value: str, field: str, what: str = "path") -> Path:
    """`value` as a Path, or RELATIVE_PATH: requests name files on the service's file system."""
    if not os.path.isabs(value):
        raise InvalidInput(f"{field} must be an absolute {what} readable by the service, got {value!r}",
                           field=field, reason="RELATIVE_PATH")
    return Path(value)


def data_file(value: str, field: str, *, volume: str | None = None) -> None:
    """An absolute path to a readable file (DATA_NOT_FOUND otherwise). With `volume` (the kubernetes
    backend's mount path) the file must lie inside it, and is only checked when the service sees it."""
    path = absolute(value, field)
    if volume is not None:
        inside(path, field, volume)
        if not Path(volume).is_dir():
            return
    if not path.is_file() or not os.access(path, os.R_OK):
        raise InvalidInput(f"{field} {value!r} is not a readable file on the service", field=field,
                           reason="DATA_NOT_FOUND")


def inside(path: Path, field: str, volume: str) -> None:
    root = volume.rstrip("/") + "/"
    if not str(path).startswith(root):
        raise InvalidInput(f"{field} {str(path)!r} must be inside {root} (the volume the kubernetes backend's "
                           "TrainJob pods mount)", field=field, reason="PATH_OUTSIDE_VOLUME")


def model_folder(value: str, field: str) -> None:
    """'default', or an absolute path to an existing folder (MODEL_NOT_FOUND otherwise)."""
    required(value, field, "'default' or the absolute path of a model folder")
    if value == "default":
        return
    path = absolute(value, field, "model folder path (or 'default')")
    if not path.is_dir():
        raise InvalidInput(f"{field}: no model folder at {value!r} on the service", field=field,
                           reason="MODEL_NOT_FOUND")


def finite(value: float, field: str, *, minimum: float = 0.0) -> None:
    if not math.isfinite(value):
        raise InvalidInput(f"{field} must be a finite number, got {value}", field=field, reason="OUT_OF_RANGE")
    in_range(value, field, minimum=minimum)


def request_id(value: str, field: str = "request_id") -> None:
    """Empty, or a UUID (AIP-155)."""
    if not value:
        return
    try:
        uuid.UUID(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a UUID (e.g. {uuid.uuid4()}), got {value!r}", field=field,
                           reason="INVALID_REQUEST_ID") from None


def backend(value: str, configured: str) -> str:
    """The backend a training job runs on: `value`, or the service's when empty."""
    if value and value not in BACKENDS:
        raise InvalidInput(f"backend {value!r} is not one of {', '.join(BACKENDS)}", field="backend",
                           reason="UNKNOWN_BACKEND")
    return value or configured


def training_overrides(config: Mapping[str, object]) -> None:
    """Refuse overrides of the service's own sections (`config.jobs`, `config.eval`)."""
    for section in SERVICE_SECTIONS:
        if section in config:
            raise InvalidInput(f"config.{section} is a setting of the service, not of a job", field=f"config.{section}",
                               reason="UNKNOWN_SETTING")


def resolved_config(service: TrainingConfig, overrides: Mapping[str, Any]) -> TrainingConfig:
    """The service's training settings with a request's overrides, checked like a settings file;
    errors name the request path (`config.lora_r`, `stages`) in the field and in the message."""
    with request_fields({"training.stages": "stages", "training": "config"}):
        return updated(service, "training", overrides, origin="request")


def training_request(*, output_dir: str, data_path: str, n_records: int, stages: Sequence[Mapping[str, Any]],
                     service: TrainingConfig, backend_name: str) -> None:
    """Everything of a training request but its settings (`config`, checked when they are resolved)."""
    volume = service.jobs.kubernetes.mount_path if backend_name == "kubernetes" else None
    required(output_dir, "output_dir", "the absolute path of the output model folder")
    out = absolute(output_dir, "output_dir", "folder path")
    if volume is not None:
        inside(out, "output_dir", volume)
    if out.exists() and not out.is_dir():
        raise InvalidInput(f"output_dir {output_dir!r} is a file, not a folder", field="output_dir",
                           reason="OUTPUT_NOT_A_FOLDER")
    if data_path and n_records:
        raise InvalidInput("give data_path or records, not both", field="records", reason="MUTUALLY_EXCLUSIVE")
    if data_path:
        data_file(data_path, "data_path", volume=volume)
    at_most(stages, MAX_STAGES, "stages")
    names: dict[str, int] = {}
    for index, stage in enumerate(stages):
        where = f"stages[{index}]"
        name = str(stage.get("name") or "")
        if name in names:
            raise InvalidInput(f"{where}.name {name!r} repeats stages[{names[name]}].name; stage names must be "
                               "unique", field=f"{where}.name", reason="DUPLICATE_NAME")
        if name:
            names[name] = index
        if stage.get("data"):
            data_file(str(stage["data"]), f"{where}.data_path", volume=volume)
        for key in ("epochs", "learning_rate"):
            finite(float(stage.get(key) or 0.0), f"{where}.{key}")
    if not data_path and not n_records and (not stages or not all(s.get("data") for s in stages)):
        raise InvalidInput("training needs data: data_path, records, or a data_path on every stage",
                           field="data_path", reason="FIELD_REQUIRED")


def evaluation_request(*, model: str, limit: int, k: Sequence[int], n_samples: int, output_path: str,
                       suites: Sequence[SuiteRequest]) -> None:
    """Everything of an evaluation request."""
    model_folder(model, "model")
    in_range(limit, "limit", minimum=0)
    at_most(k, MAX_K_VALUES, "k")
    for index, value in enumerate(k):
        in_range(value, f"k[{index}]", minimum=1, maximum=MAX_K)
    in_range(n_samples, "samples_per_problem", minimum=0, maximum=MAX_SAMPLES)
    if n_samples and k and n_samples < max(k):
        raise InvalidInput(f"samples_per_problem {n_samples} is below max(k) = {max(k)}: pass@{max(k)} needs at "
                           f"least {max(k)} samples per problem", field="samples_per_problem", reason="OUT_OF_RANGE")
    if output_path:
        absolute(output_path, "output_path")
    at_most(suites, MAX_SUITES, "suites")
    for index, suite in enumerate(suites):
        evaluation_suite(suite, f"suites[{index}]")


def evaluation_suite(suite: SuiteRequest, where: str) -> None:
    required(suite.name, f"{where}.name", f"one of {', '.join(sorted(SUITES))}")
    if suite.name not in SUITES:
        raise InvalidInput(f"{where}.name: unknown suite {suite.name!r}; known: {', '.join(sorted(SUITES))}",
                           field=f"{where}.name", reason="UNKNOWN_SUITE")
    chosen = SUITES[suite.name]
    if chosen.needs_file:
        required(suite.file, f"{where}.file", f"suite {suite.name!r} reads the published benchmark file")
    if suite.file:
        data_file(suite.file, f"{where}.file")
    if suite.language and suite.language not in chosen.languages:
        raise InvalidInput(f"{where}.language: suite {suite.name!r} has no {suite.language!r} problems; languages: "
                           f"{', '.join(chosen.languages)}", field=f"{where}.language", reason="UNSUPPORTED_LANGUAGE")
    in_range(suite.limit, f"{where}.limit", minimum=0)
