import datetime

from codeinstruct.v1 import common_pb2 as _common_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.longrunning import operations_pb2 as _operations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLING: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]

class JobKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_KIND_UNSPECIFIED: _ClassVar[JobKind]
    JOB_KIND_TRAIN: _ClassVar[JobKind]
    JOB_KIND_EVALUATE: _ClassVar[JobKind]

class TrainingBackend(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_BACKEND_UNSPECIFIED: _ClassVar[TrainingBackend]
    TRAINING_BACKEND_LOCAL: _ClassVar[TrainingBackend]
    TRAINING_BACKEND_KUBERNETES: _ClassVar[TrainingBackend]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLING: JobState
JOB_STATE_CANCELLED: JobState
JOB_KIND_UNSPECIFIED: JobKind
JOB_KIND_TRAIN: JobKind
JOB_KIND_EVALUATE: JobKind
TRAINING_BACKEND_UNSPECIFIED: TrainingBackend
TRAINING_BACKEND_LOCAL: TrainingBackend
TRAINING_BACKEND_KUBERNETES: TrainingBackend

class Job(_message.Message):
    __slots__ = ("name", "kind", "state", "progress", "message", "create_time", "update_time", "spec", "error", "metrics", "training_result", "evaluation_result", "backend", "request_id", "operation")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_RESULT_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_RESULT_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: JobKind
    state: JobState
    progress: float
    message: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    spec: _struct_pb2.Struct
    error: str
    metrics: _containers.ScalarMap[str, float]
    training_result: TrainingResult
    evaluation_result: EvaluationResult
    backend: TrainingBackend
    request_id: str
    operation: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[JobKind, str]] = ..., state: _Optional[_Union[JobState, str]] = ..., progress: _Optional[float] = ..., message: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., spec: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., error: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., training_result: _Optional[_Union[TrainingResult, _Mapping]] = ..., evaluation_result: _Optional[_Union[EvaluationResult, _Mapping]] = ..., backend: _Optional[_Union[TrainingBackend, str]] = ..., request_id: _Optional[str] = ..., operation: _Optional[str] = ...) -> None: ...

class JobMetadata(_message.Message):
    __slots__ = ("job", "kind", "state", "progress", "message", "create_time", "update_time", "cancel_requested")
    JOB_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    job: str
    kind: JobKind
    state: JobState
    progress: float
    message: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    cancel_requested: bool
    def __init__(self, job: _Optional[str] = ..., kind: _Optional[_Union[JobKind, str]] = ..., state: _Optional[_Union[JobState, str]] = ..., progress: _Optional[float] = ..., message: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_requested: _Optional[bool] = ...) -> None: ...

class TrainingConfig(_message.Message):
    __slots__ = ("preset", "model", "mode", "dtype", "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules", "merge_lora", "prompt_format", "max_length", "dynamic_padding", "curriculum", "shuffle", "epochs", "batch_size", "gradient_accumulation_steps", "effective_batch_size", "optimizer", "learning_rate", "lr_scheduler", "warmup_ratio", "warmup_steps", "weight_decay", "max_grad_norm", "max_steps", "seed", "num_threads", "save_every_steps", "keep_checkpoints", "resume")
    PRESET_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    LORA_R_FIELD_NUMBER: _ClassVar[int]
    LORA_ALPHA_FIELD_NUMBER: _ClassVar[int]
    LORA_DROPOUT_FIELD_NUMBER: _ClassVar[int]
    LORA_TARGET_MODULES_FIELD_NUMBER: _ClassVar[int]
    MERGE_LORA_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FORMAT_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_PADDING_FIELD_NUMBER: _ClassVar[int]
    CURRICULUM_FIELD_NUMBER: _ClassVar[int]
    SHUFFLE_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_ACCUMULATION_STEPS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    LR_SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    WARMUP_RATIO_FIELD_NUMBER: _ClassVar[int]
    WARMUP_STEPS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_DECAY_FIELD_NUMBER: _ClassVar[int]
    MAX_GRAD_NORM_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    NUM_THREADS_FIELD_NUMBER: _ClassVar[int]
    SAVE_EVERY_STEPS_FIELD_NUMBER: _ClassVar[int]
    KEEP_CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    RESUME_FIELD_NUMBER: _ClassVar[int]
    preset: str
    model: str
    mode: str
    dtype: str
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    lora_target_modules: _containers.RepeatedScalarFieldContainer[str]
    merge_lora: bool
    prompt_format: str
    max_length: int
    dynamic_padding: bool
    curriculum: bool
    shuffle: bool
    epochs: float
    batch_size: int
    gradient_accumulation_steps: int
    effective_batch_size: int
    optimizer: str
    learning_rate: float
    lr_scheduler: str
    warmup_ratio: float
    warmup_steps: int
    weight_decay: float
    max_grad_norm: float
    max_steps: int
    seed: int
    num_threads: int
    save_every_steps: int
    keep_checkpoints: int
    resume: bool
    def __init__(self, preset: _Optional[str] = ..., model: _Optional[str] = ..., mode: _Optional[str] = ..., dtype: _Optional[str] = ..., lora_r: _Optional[int] = ..., lora_alpha: _Optional[int] = ..., lora_dropout: _Optional[float] = ..., lora_target_modules: _Optional[_Iterable[str]] = ..., merge_lora: _Optional[bool] = ..., prompt_format: _Optional[str] = ..., max_length: _Optional[int] = ..., dynamic_padding: _Optional[bool] = ..., curriculum: _Optional[bool] = ..., shuffle: _Optional[bool] = ..., epochs: _Optional[float] = ..., batch_size: _Optional[int] = ..., gradient_accumulation_steps: _Optional[int] = ..., effective_batch_size: _Optional[int] = ..., optimizer: _Optional[str] = ..., learning_rate: _Optional[float] = ..., lr_scheduler: _Optional[str] = ..., warmup_ratio: _Optional[float] = ..., warmup_steps: _Optional[int] = ..., weight_decay: _Optional[float] = ..., max_grad_norm: _Optional[float] = ..., max_steps: _Optional[int] = ..., seed: _Optional[int] = ..., num_threads: _Optional[int] = ..., save_every_steps: _Optional[int] = ..., keep_checkpoints: _Optional[int] = ..., resume: _Optional[bool] = ...) -> None: ...

class TrainingStage(_message.Message):
    __slots__ = ("name", "data_path", "epochs", "learning_rate")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_PATH_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    data_path: str
    epochs: float
    learning_rate: float
    def __init__(self, name: _Optional[str] = ..., data_path: _Optional[str] = ..., epochs: _Optional[float] = ..., learning_rate: _Optional[float] = ...) -> None: ...

class CreateTrainingJobRequest(_message.Message):
    __slots__ = ("data_path", "records", "output_dir", "config", "stages", "backend", "request_id")
    DATA_PATH_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_DIR_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    data_path: str
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    output_dir: str
    config: TrainingConfig
    stages: _containers.RepeatedCompositeFieldContainer[TrainingStage]
    backend: TrainingBackend
    request_id: str
    def __init__(self, data_path: _Optional[str] = ..., records: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., output_dir: _Optional[str] = ..., config: _Optional[_Union[TrainingConfig, _Mapping]] = ..., stages: _Optional[_Iterable[_Union[TrainingStage, _Mapping]]] = ..., backend: _Optional[_Union[TrainingBackend, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateEvaluationJobRequest(_message.Message):
    __slots__ = ("model", "limit", "k", "samples_per_problem", "output_path", "suites", "request_id")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_PER_PROBLEM_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    SUITES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    limit: int
    k: _containers.RepeatedScalarFieldContainer[int]
    samples_per_problem: int
    output_path: str
    suites: _containers.RepeatedCompositeFieldContainer[EvaluationSuite]
    request_id: str
    def __init__(self, model: _Optional[str] = ..., limit: _Optional[int] = ..., k: _Optional[_Iterable[int]] = ..., samples_per_problem: _Optional[int] = ..., output_path: _Optional[str] = ..., suites: _Optional[_Iterable[_Union[EvaluationSuite, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class EvaluationSuite(_message.Message):
    __slots__ = ("name", "file", "language", "limit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    file: str
    language: str
    limit: int
    def __init__(self, name: _Optional[str] = ..., file: _Optional[str] = ..., language: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "filter", "order_by")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    filter: str
    order_by: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class TrainingResult(_message.Message):
    __slots__ = ("model_dir", "adapter_dir", "base_model", "checkpoint_dir", "mode", "steps", "tokens", "first_loss", "final_loss", "tokens_per_s", "elapsed_s", "trainable_parameters", "resumed_from", "stopped", "losses", "stages")
    MODEL_DIR_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_DIR_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_DIR_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    FIRST_LOSS_FIELD_NUMBER: _ClassVar[int]
    FINAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_PER_S_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    TRAINABLE_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FROM_FIELD_NUMBER: _ClassVar[int]
    STOPPED_FIELD_NUMBER: _ClassVar[int]
    LOSSES_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    model_dir: str
    adapter_dir: str
    base_model: str
    checkpoint_dir: str
    mode: str
    steps: int
    tokens: int
    first_loss: float
    final_loss: float
    tokens_per_s: float
    elapsed_s: float
    trainable_parameters: int
    resumed_from: str
    stopped: str
    losses: _containers.RepeatedCompositeFieldContainer[LossPoint]
    stages: _containers.RepeatedCompositeFieldContainer[StageResult]
    def __init__(self, model_dir: _Optional[str] = ..., adapter_dir: _Optional[str] = ..., base_model: _Optional[str] = ..., checkpoint_dir: _Optional[str] = ..., mode: _Optional[str] = ..., steps: _Optional[int] = ..., tokens: _Optional[int] = ..., first_loss: _Optional[float] = ..., final_loss: _Optional[float] = ..., tokens_per_s: _Optional[float] = ..., elapsed_s: _Optional[float] = ..., trainable_parameters: _Optional[int] = ..., resumed_from: _Optional[str] = ..., stopped: _Optional[str] = ..., losses: _Optional[_Iterable[_Union[LossPoint, _Mapping]]] = ..., stages: _Optional[_Iterable[_Union[StageResult, _Mapping]]] = ...) -> None: ...

class LossPoint(_message.Message):
    __slots__ = ("step", "stage", "loss", "learning_rate", "epoch")
    STEP_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    step: int
    stage: str
    loss: float
    learning_rate: float
    epoch: float
    def __init__(self, step: _Optional[int] = ..., stage: _Optional[str] = ..., loss: _Optional[float] = ..., learning_rate: _Optional[float] = ..., epoch: _Optional[float] = ...) -> None: ...

class StageResult(_message.Message):
    __slots__ = ("name", "examples", "steps", "learning_rate", "epochs", "shuffled", "ranked_by", "accumulation_steps")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    SHUFFLED_FIELD_NUMBER: _ClassVar[int]
    RANKED_BY_FIELD_NUMBER: _ClassVar[int]
    ACCUMULATION_STEPS_FIELD_NUMBER: _ClassVar[int]
    name: str
    examples: int
    steps: int
    learning_rate: float
    epochs: float
    shuffled: bool
    ranked_by: str
    accumulation_steps: int
    def __init__(self, name: _Optional[str] = ..., examples: _Optional[int] = ..., steps: _Optional[int] = ..., learning_rate: _Optional[float] = ..., epochs: _Optional[float] = ..., shuffled: _Optional[bool] = ..., ranked_by: _Optional[str] = ..., accumulation_steps: _Optional[int] = ...) -> None: ...

class EvaluationResult(_message.Message):
    __slots__ = ("model", "base_model", "adapter", "prompt_style", "elapsed_s", "suites", "pass_at_k", "n_problems", "n_samples", "passed", "output_path")
    class PassAtKEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    PROMPT_STYLE_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    SUITES_FIELD_NUMBER: _ClassVar[int]
    PASS_AT_K_FIELD_NUMBER: _ClassVar[int]
    N_PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    N_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    model: str
    base_model: str
    adapter: str
    prompt_style: str
    elapsed_s: float
    suites: _containers.RepeatedCompositeFieldContainer[SuiteResult]
    pass_at_k: _containers.ScalarMap[str, float]
    n_problems: int
    n_samples: int
    passed: int
    output_path: str
    def __init__(self, model: _Optional[str] = ..., base_model: _Optional[str] = ..., adapter: _Optional[str] = ..., prompt_style: _Optional[str] = ..., elapsed_s: _Optional[float] = ..., suites: _Optional[_Iterable[_Union[SuiteResult, _Mapping]]] = ..., pass_at_k: _Optional[_Mapping[str, float]] = ..., n_problems: _Optional[int] = ..., n_samples: _Optional[int] = ..., passed: _Optional[int] = ..., output_path: _Optional[str] = ...) -> None: ...

class SuiteResult(_message.Message):
    __slots__ = ("suite", "label", "language", "problems_total", "problems_run", "skipped", "pass_at_k", "per_problem", "output_path")
    class SkippedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class PassAtKEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    SUITE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_RUN_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    PASS_AT_K_FIELD_NUMBER: _ClassVar[int]
    PER_PROBLEM_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_PATH_FIELD_NUMBER: _ClassVar[int]
    suite: str
    label: str
    language: str
    problems_total: int
    problems_run: int
    skipped: _containers.ScalarMap[str, int]
    pass_at_k: _containers.ScalarMap[str, float]
    per_problem: _containers.RepeatedCompositeFieldContainer[ProblemResult]
    output_path: str
    def __init__(self, suite: _Optional[str] = ..., label: _Optional[str] = ..., language: _Optional[str] = ..., problems_total: _Optional[int] = ..., problems_run: _Optional[int] = ..., skipped: _Optional[_Mapping[str, int]] = ..., pass_at_k: _Optional[_Mapping[str, float]] = ..., per_problem: _Optional[_Iterable[_Union[ProblemResult, _Mapping]]] = ..., output_path: _Optional[str] = ...) -> None: ...

class ProblemResult(_message.Message):
    __slots__ = ("task_id", "language", "statuses", "passed", "first_failure")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    FIRST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    language: str
    statuses: _containers.RepeatedScalarFieldContainer[str]
    passed: int
    first_failure: str
    def __init__(self, task_id: _Optional[str] = ..., language: _Optional[str] = ..., statuses: _Optional[_Iterable[str]] = ..., passed: _Optional[int] = ..., first_failure: _Optional[str] = ...) -> None: ...
