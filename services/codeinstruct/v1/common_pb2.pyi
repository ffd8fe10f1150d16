from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SandboxStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SANDBOX_STATUS_UNSPECIFIED: _ClassVar[SandboxStatus]
    SANDBOX_STATUS_OK: _ClassVar[SandboxStatus]
    SANDBOX_STATUS_WRONG_ANSWER: _ClassVar[SandboxStatus]
    SANDBOX_STATUS_RUNTIME_ERROR: _ClassVar[SandboxStatus]
    SANDBOX_STATUS_SYNTAX_ERROR: _ClassVar[SandboxStatus]
    SANDBOX_STATUS_TIMEOUT: _ClassVar[SandboxStatus]
    SANDBOX_STATUS_MEMORY_EXCEEDED: _ClassVar[SandboxStatus]
    SANDBOX_STATUS_OUTPUT_TRUNCATED: _ClassVar[SandboxStatus]
    SANDBOX_STATUS_SANDBOX_ERROR: _ClassVar[SandboxStatus]
SANDBOX_STATUS_UNSPECIFIED: SandboxStatus
SANDBOX_STATUS_OK: SandboxStatus
SANDBOX_STATUS_WRONG_ANSWER: SandboxStatus
SANDBOX_STATUS_RUNTIME_ERROR: SandboxStatus
SANDBOX_STATUS_SYNTAX_ERROR: SandboxStatus
SANDBOX_STATUS_TIMEOUT: SandboxStatus
SANDBOX_STATUS_MEMORY_EXCEEDED: SandboxStatus
SANDBOX_STATUS_OUTPUT_TRUNCATED: SandboxStatus
SANDBOX_STATUS_SANDBOX_ERROR: SandboxStatus

class TestCase(_message.Message):
    __slots__ = ("input", "output")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    input: str
    output: str
    def __init__(self, input: _Optional[str] = ..., output: _Optional[str] = ...) -> None: ...

class Record(_message.Message):
    __slots__ = ("id", "method", "task", "language", "instruction", "response", "code", "entry_point", "tests", "scores", "source", "generator")
    class SourceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class GeneratorEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_POINT_FIELD_NUMBER: _ClassVar[int]
    TESTS_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    method: str
    task: str
    language: str
    instruction: str
    response: str
    code: str
    entry_point: str
    tests: _containers.RepeatedCompositeFieldContainer[TestCase]
    scores: _struct_pb2.Struct
    source: _containers.ScalarMap[str, str]
    generator: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., method: _Optional[str] = ..., task: _Optional[str] = ..., language: _Optional[str] = ..., instruction: _Optional[str] = ..., response: _Optional[str] = ..., code: _Optional[str] = ..., entry_point: _Optional[str] = ..., tests: _Optional[_Iterable[_Union[TestCase, _Mapping]]] = ..., scores: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., source: _Optional[_Mapping[str, str]] = ..., generator: _Optional[_Mapping[str, str]] = ...) -> None: ...
