from codeinstruct.v1 import common_pb2 as _common_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DedupMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEDUP_METHOD_UNSPECIFIED: _ClassVar[DedupMethod]
    DEDUP_METHOD_EXACT: _ClassVar[DedupMethod]
    DEDUP_METHOD_MINHASH: _ClassVar[DedupMethod]
    DEDUP_METHOD_ROUGEL: _ClassVar[DedupMethod]

class RankKey(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RANK_KEY_UNSPECIFIED: _ClassVar[RankKey]
    RANK_KEY_N_TESTS: _ClassVar[RankKey]
    RANK_KEY_LM_SCORE: _ClassVar[RankKey]
DEDUP_METHOD_UNSPECIFIED: DedupMethod
DEDUP_METHOD_EXACT: DedupMethod
DEDUP_METHOD_MINHASH: DedupMethod
DEDUP_METHOD_ROUGEL: DedupMethod
RANK_KEY_UNSPECIFIED: RankKey
RANK_KEY_N_TESTS: RankKey
RANK_KEY_LM_SCORE: RankKey

class RecordChunk(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    def __init__(self, records: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ...) -> None: ...

class DroppedRecord(_message.Message):
    __slots__ = ("record", "reason")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    record: _common_pb2.Record
    reason: str
    def __init__(self, record: _Optional[_Union[_common_pb2.Record, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class StageSummary(_message.Message):
    __slots__ = ("stage", "kept", "dropped", "reasons", "extra")
    class ReasonsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    STAGE_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    stage: str
    kept: int
    dropped: int
    reasons: _containers.ScalarMap[str, int]
    extra: _struct_pb2.Struct
    def __init__(self, stage: _Optional[str] = ..., kept: _Optional[int] = ..., dropped: _Optional[int] = ..., reasons: _Optional[_Mapping[str, int]] = ..., extra: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class BenchmarkProblem(_message.Message):
    __slots__ = ("benchmark", "id", "texts", "question")
    BENCHMARK_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    benchmark: str
    id: str
    texts: _containers.RepeatedScalarFieldContainer[str]
    question: str
    def __init__(self, benchmark: _Optional[str] = ..., id: _Optional[str] = ..., texts: _Optional[_Iterable[str]] = ..., question: _Optional[str] = ...) -> None: ...

class BenchmarkProblemChunk(_message.Message):
    __slots__ = ("problems",)
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    problems: _containers.RepeatedCompositeFieldContainer[BenchmarkProblem]
    def __init__(self, problems: _Optional[_Iterable[_Union[BenchmarkProblem, _Mapping]]] = ...) -> None: ...

class ValidateSemiInstructOptions(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ValidateSemiInstructRequest(_message.Message):
    __slots__ = ("options", "records")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    options: ValidateSemiInstructOptions
    records: RecordChunk
    def __init__(self, options: _Optional[_Union[ValidateSemiInstructOptions, _Mapping]] = ..., records: _Optional[_Union[RecordChunk, _Mapping]] = ...) -> None: ...

class ValidateSemiInstructResponse(_message.Message):
    __slots__ = ("kept", "dropped", "summary")
    KEPT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    kept: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    dropped: _containers.RepeatedCompositeFieldContainer[DroppedRecord]
    summary: StageSummary
    def __init__(self, kept: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., dropped: _Optional[_Iterable[_Union[DroppedRecord, _Mapping]]] = ..., summary: _Optional[_Union[StageSummary, _Mapping]] = ...) -> None: ...

class FilterByExecutionOptions(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FilterByExecutionRequest(_message.Message):
    __slots__ = ("options", "records")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    options: FilterByExecutionOptions
    records: RecordChunk
    def __init__(self, options: _Optional[_Union[FilterByExecutionOptions, _Mapping]] = ..., records: _Optional[_Union[RecordChunk, _Mapping]] = ...) -> None: ...

class FilterByExecutionResponse(_message.Message):
    __slots__ = ("kept", "dropped", "summary")
    KEPT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    kept: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    dropped: _containers.RepeatedCompositeFieldContainer[DroppedRecord]
    summary: StageSummary
    def __init__(self, kept: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., dropped: _Optional[_Iterable[_Union[DroppedRecord, _Mapping]]] = ..., summary: _Optional[_Union[StageSummary, _Mapping]] = ...) -> None: ...

class SelectByLmScoreOptions(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SelectByLmScoreRequest(_message.Message):
    __slots__ = ("options", "records")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    options: SelectByLmScoreOptions
    records: RecordChunk
    def __init__(self, options: _Optional[_Union[SelectByLmScoreOptions, _Mapping]] = ..., records: _Optional[_Union[RecordChunk, _Mapping]] = ...) -> None: ...

class SelectByLmScoreResponse(_message.Message):
    __slots__ = ("kept", "dropped", "summary")
    KEPT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    kept: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    dropped: _containers.RepeatedCompositeFieldContainer[DroppedRecord]
    summary: StageSummary
    def __init__(self, kept: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., dropped: _Optional[_Iterable[_Union[DroppedRecord, _Mapping]]] = ..., summary: _Optional[_Union[StageSummary, _Mapping]] = ...) -> None: ...

class DiscriminateOptions(_message.Message):
    __slots__ = ("rules_only",)
    RULES_ONLY_FIELD_NUMBER: _ClassVar[int]
    rules_only: bool
    def __init__(self, rules_only: _Optional[bool] = ...) -> None: ...

class DiscriminateRequest(_message.Message):
    __slots__ = ("options", "records")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    options: DiscriminateOptions
    records: RecordChunk
    def __init__(self, options: _Optional[_Union[DiscriminateOptions, _Mapping]] = ..., records: _Optional[_Union[RecordChunk, _Mapping]] = ...) -> None: ...

class DiscriminateResponse(_message.Message):
    __slots__ = ("kept", "dropped", "summary")
    KEPT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    kept: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    dropped: _containers.RepeatedCompositeFieldContainer[DroppedRecord]
    summary: StageSummary
    def __init__(self, kept: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., dropped: _Optional[_Iterable[_Union[DroppedRecord, _Mapping]]] = ..., summary: _Optional[_Union[StageSummary, _Mapping]] = ...) -> None: ...

class DedupOptions(_message.Message):
    __slots__ = ("method", "threshold")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    method: DedupMethod
    threshold: float
    def __init__(self, method: _Optional[_Union[DedupMethod, str]] = ..., threshold: _Optional[float] = ...) -> None: ...

class DedupRequest(_message.Message):
    __slots__ = ("options", "records")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    options: DedupOptions
    records: RecordChunk
    def __init__(self, options: _Optional[_Union[DedupOptions, _Mapping]] = ..., records: _Optional[_Union[RecordChunk, _Mapping]] = ...) -> None: ...

class DedupResponse(_message.Message):
    __slots__ = ("kept", "dropped", "summary")
    KEPT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    kept: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    dropped: _containers.RepeatedCompositeFieldContainer[DroppedRecord]
    summary: StageSummary
    def __init__(self, kept: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., dropped: _Optional[_Iterable[_Union[DroppedRecord, _Mapping]]] = ..., summary: _Optional[_Union[StageSummary, _Mapping]] = ...) -> None: ...

class DecontaminateOptions(_message.Message):
    __slots__ = ("benchmarks",)
    BENCHMARKS_FIELD_NUMBER: _ClassVar[int]
    benchmarks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, benchmarks: _Optional[_Iterable[str]] = ...) -> None: ...

class DecontaminateRequest(_message.Message):
    __slots__ = ("options", "records", "problems")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    options: DecontaminateOptions
    records: RecordChunk
    problems: BenchmarkProblemChunk
    def __init__(self, options: _Optional[_Union[DecontaminateOptions, _Mapping]] = ..., records: _Optional[_Union[RecordChunk, _Mapping]] = ..., problems: _Optional[_Union[BenchmarkProblemChunk, _Mapping]] = ...) -> None: ...

class DecontaminateResponse(_message.Message):
    __slots__ = ("kept", "dropped", "summary")
    KEPT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    kept: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    dropped: _containers.RepeatedCompositeFieldContainer[DroppedRecord]
    summary: StageSummary
    def __init__(self, kept: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., dropped: _Optional[_Iterable[_Union[DroppedRecord, _Mapping]]] = ..., summary: _Optional[_Union[StageSummary, _Mapping]] = ...) -> None: ...

class SelectCoresetOptions(_message.Message):
    __slots__ = ("k", "seed")
    K_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    k: int
    seed: int
    def __init__(self, k: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class SelectCoresetRequest(_message.Message):
    __slots__ = ("options", "records")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    options: SelectCoresetOptions
    records: RecordChunk
    def __init__(self, options: _Optional[_Union[SelectCoresetOptions, _Mapping]] = ..., records: _Optional[_Union[RecordChunk, _Mapping]] = ...) -> None: ...

class SelectCoresetResponse(_message.Message):
    __slots__ = ("kept", "dropped", "summary")
    KEPT_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    kept: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    dropped: _containers.RepeatedCompositeFieldContainer[DroppedRecord]
    summary: StageSummary
    def __init__(self, kept: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., dropped: _Optional[_Iterable[_Union[DroppedRecord, _Mapping]]] = ..., summary: _Optional[_Union[StageSummary, _Mapping]] = ...) -> None: ...

class RankOptions(_message.Message):
    __slots__ = ("by",)
    BY_FIELD_NUMBER: _ClassVar[int]
    by: RankKey
    def __init__(self, by: _Optional[_Union[RankKey, str]] = ...) -> None: ...

class RankRequest(_message.Message):
    __slots__ = ("options", "records")
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    options: RankOptions
    records: RecordChunk
    def __init__(self, options: _Optional[_Union[RankOptions, _Mapping]] = ..., records: _Optional[_Union[RecordChunk, _Mapping]] = ...) -> None: ...

class RankResponse(_message.Message):
    __slots__ = ("records", "summary")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    summary: StageSummary
    def __init__(self, records: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., summary: _Optional[_Union[StageSummary, _Mapping]] = ...) -> None: ...
