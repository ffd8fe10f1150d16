from codeinstruct.v1 import common_pb2 as _common_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TestHarness(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEST_HARNESS_UNSPECIFIED: _ClassVar[TestHarness]
    TEST_HARNESS_DEFAULT: _ClassVar[TestHarness]
    TEST_HARNESS_HUMANEVAL: _ClassVar[TestHarness]
TEST_HARNESS_UNSPECIFIED: TestHarness
TEST_HARNESS_DEFAULT: TestHarness
TEST_HARNESS_HUMANEVAL: TestHarness

class Limits(_message.Message):
    __slots__ = ("timeout_s", "memory_mb", "max_output_bytes")
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    MEMORY_MB_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_BYTES_FIELD_NUMBER: _ClassVar[int]
    timeout_s: float
    memory_mb: int
    max_output_bytes: int
    def __init__(self, timeout_s: _Optional[float] = ..., memory_mb: _Optional[int] = ..., max_output_bytes: _Optional[int] = ...) -> None: ...

class ExecutionResult(_message.Message):
    __slots__ = ("status", "exit_code", "stdout", "stderr", "wall_time_s", "cpu_time_s", "signal", "detail")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_S_FIELD_NUMBER: _ClassVar[int]
    CPU_TIME_S_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.SandboxStatus
    exit_code: int
    stdout: str
    stderr: str
    wall_time_s: float
    cpu_time_s: float
    signal: str
    detail: str
    def __init__(self, status: _Optional[_Union[_common_pb2.SandboxStatus, str]] = ..., exit_code: _Optional[int] = ..., stdout: _Optional[str] = ..., stderr: _Optional[str] = ..., wall_time_s: _Optional[float] = ..., cpu_time_s: _Optional[float] = ..., signal: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class ExecuteRequest(_message.Message):
    __slots__ = ("code", "language", "stdin", "limits")
    CODE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    code: str
    language: str
    stdin: str
    limits: Limits
    def __init__(self, code: _Optional[str] = ..., language: _Optional[str] = ..., stdin: _Optional[str] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ...) -> None: ...

class ExecuteResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: ExecutionResult
    def __init__(self, result: _Optional[_Union[ExecutionResult, _Mapping]] = ...) -> None: ...

class ExecuteBatchRequest(_message.Message):
    __slots__ = ("runs", "concurrency")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[ExecuteRequest]
    concurrency: int
    def __init__(self, runs: _Optional[_Iterable[_Union[ExecuteRequest, _Mapping]]] = ..., concurrency: _Optional[int] = ...) -> None: ...

class ExecuteBatchResponse(_message.Message):
    __slots__ = ("index", "result")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    index: int
    result: ExecutionResult
    def __init__(self, index: _Optional[int] = ..., result: _Optional[_Union[ExecutionResult, _Mapping]] = ...) -> None: ...

class TestCaseResult(_message.Message):
    __slots__ = ("index", "status", "expected_output", "actual_output", "detail", "wall_time_s")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_S_FIELD_NUMBER: _ClassVar[int]
    index: int
    status: _common_pb2.SandboxStatus
    expected_output: str
    actual_output: str
    detail: str
    wall_time_s: float
    def __init__(self, index: _Optional[int] = ..., status: _Optional[_Union[_common_pb2.SandboxStatus, str]] = ..., expected_output: _Optional[str] = ..., actual_output: _Optional[str] = ..., detail: _Optional[str] = ..., wall_time_s: _Optional[float] = ...) -> None: ...

class RunTestsRequest(_message.Message):
    __slots__ = ("code", "language", "entry_point", "tests", "limits", "harness")
    CODE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_POINT_FIELD_NUMBER: _ClassVar[int]
    TESTS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    HARNESS_FIELD_NUMBER: _ClassVar[int]
    code: str
    language: str
    entry_point: str
    tests: _containers.RepeatedCompositeFieldContainer[_common_pb2.TestCase]
    limits: Limits
    harness: TestHarness
    def __init__(self, code: _Optional[str] = ..., language: _Optional[str] = ..., entry_point: _Optional[str] = ..., tests: _Optional[_Iterable[_Union[_common_pb2.TestCase, _Mapping]]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., harness: _Optional[_Union[TestHarness, str]] = ...) -> None: ...

class RunTestsResponse(_message.Message):
    __slots__ = ("status", "cases", "passed", "total")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    status: _common_pb2.SandboxStatus
    cases: _containers.RepeatedCompositeFieldContainer[TestCaseResult]
    passed: int
    total: int
    def __init__(self, status: _Optional[_Union[_common_pb2.SandboxStatus, str]] = ..., cases: _Optional[_Iterable[_Union[TestCaseResult, _Mapping]]] = ..., passed: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class CaptureOutputsRequest(_message.Message):
    __slots__ = ("code", "language", "entry_point", "inputs", "limits")
    CODE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_POINT_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    code: str
    language: str
    entry_point: str
    inputs: _containers.RepeatedScalarFieldContainer[str]
    limits: Limits
    def __init__(self, code: _Optional[str] = ..., language: _Optional[str] = ..., entry_point: _Optional[str] = ..., inputs: _Optional[_Iterable[str]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ...) -> None: ...

class CapturedOutput(_message.Message):
    __slots__ = ("input", "status", "output", "detail")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    input: str
    status: _common_pb2.SandboxStatus
    output: str
    detail: str
    def __init__(self, input: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.SandboxStatus, str]] = ..., output: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class CaptureOutputsResponse(_message.Message):
    __slots__ = ("outputs",)
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    outputs: _containers.RepeatedCompositeFieldContainer[CapturedOutput]
    def __init__(self, outputs: _Optional[_Iterable[_Union[CapturedOutput, _Mapping]]] = ...) -> None: ...

class GetSandboxInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSandboxInfoResponse(_message.Message):
    __slots__ = ("languages", "isolation_layers", "default_limits", "max_limits", "workers", "python", "worker_recycles", "healthy_workers", "max_code_bytes", "max_stdin_bytes", "max_tests", "max_batch_runs", "max_concurrency")
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    ISOLATION_LAYERS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_LIMITS_FIELD_NUMBER: _ClassVar[int]
    MAX_LIMITS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    PYTHON_FIELD_NUMBER: _ClassVar[int]
    WORKER_RECYCLES_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_WORKERS_FIELD_NUMBER: _ClassVar[int]
    MAX_CODE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_STDIN_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_TESTS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_RUNS_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    languages: _containers.RepeatedScalarFieldContainer[str]
    isolation_layers: _containers.RepeatedScalarFieldContainer[str]
    default_limits: Limits
    max_limits: Limits
    workers: int
    python: str
    worker_recycles: int
    healthy_workers: int
    max_code_bytes: int
    max_stdin_bytes: int
    max_tests: int
    max_batch_runs: int
    max_concurrency: int
    def __init__(self, languages: _Optional[_Iterable[str]] = ..., isolation_layers: _Optional[_Iterable[str]] = ..., default_limits: _Optional[_Union[Limits, _Mapping]] = ..., max_limits: _Optional[_Union[Limits, _Mapping]] = ..., workers: _Optional[int] = ..., python: _Optional[str] = ..., worker_recycles: _Optional[int] = ..., healthy_workers: _Optional[int] = ..., max_code_bytes: _Optional[int] = ..., max_stdin_bytes: _Optional[int] = ..., max_tests: _Optional[int] = ..., max_batch_runs: _Optional[int] = ..., max_concurrency: _Optional[int] = ...) -> None: ...
