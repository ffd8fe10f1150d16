from codeinstruct.v1 import common_pb2 as _common_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
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
    __slots__ = ("stage", "kept", "dropped", "reasons", "usage", "sandbox", "lm_score", "discriminate", "dedup", "decontaminate", "coreset", "rank")
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
    USAGE_FIELD_NUMBER: _ClassVar[int]
    SANDBOX_FIELD_NUMBER: _ClassVar[int]
    LM_SCORE_FIELD_NUMBER: _ClassVar[int]
    DISCRIMINATE_FIELD_NUMBER: _ClassVar[int]
    DEDUP_FIELD_NUMBER: _ClassVar[int]
    DECONTAMINATE_FIELD_NUMBER: _ClassVar[int]
    CORESET_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    stage: str
    kept: int
    dropped: int
    reasons: _containers.ScalarMap[str, int]
    usage: StageUsage
    sandbox: SandboxStageFigures
    lm_score: LmScoreFigures
    discriminate: DiscriminateFigures
    dedup: DedupFigures
    decontaminate: DecontaminateFigures
    coreset: CoresetFigures
    rank: RankFigures
    def __init__(self, stage: _Optional[str] = ..., kept: _Optional[int] = ..., dropped: _Optional[int] = ..., reasons: _Optional[_Mapping[str, int]] = ..., usage: _Optional[_Union[StageUsage, _Mapping]] = ..., sandbox: _Optional[_Union[SandboxStageFigures, _Mapping]] = ..., lm_score: _Optional[_Union[LmScoreFigures, _Mapping]] = ..., discriminate: _Optional[_Union[DiscriminateFigures, _Mapping]] = ..., dedup: _Optional[_Union[DedupFigures, _Mapping]] = ..., decontaminate: _Optional[_Union[DecontaminateFigures, _Mapping]] = ..., coreset: _Optional[_Union[CoresetFigures, _Mapping]] = ..., rank: _Optional[_Union[RankFigures, _Mapping]] = ...) -> None: ...

class StageUsage(_message.Message):
    __slots__ = ("tokens_in", "tokens_out", "engine_calls", "engine_seconds", "sandbox_runs", "sandbox_seconds", "sandbox_cpu_seconds")
    TOKENS_IN_FIELD_NUMBER: _ClassVar[int]
    TOKENS_OUT_FIELD_NUMBER: _ClassVar[int]
    ENGINE_CALLS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SANDBOX_RUNS_FIELD_NUMBER: _ClassVar[int]
    SANDBOX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SANDBOX_CPU_SECONDS_FIELD_NUMBER: _ClassVar[int]
    tokens_in: int
    tokens_out: int
    engine_calls: int
    engine_seconds: float
    sandbox_runs: int
    sandbox_seconds: float
    sandbox_cpu_seconds: float
    def __init__(self, tokens_in: _Optional[int] = ..., tokens_out: _Optional[int] = ..., engine_calls: _Optional[int] = ..., engine_seconds: _Optional[float] = ..., sandbox_runs: _Optional[int] = ..., sandbox_seconds: _Optional[float] = ..., sandbox_cpu_seconds: _Optional[float] = ...) -> None: ...

class SandboxStageFigures(_message.Message):
    __slots__ = ("dropped_inputs", "kept_tests", "by_method")
    class DroppedInputsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByMethodEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: StageUsage
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[StageUsage, _Mapping]] = ...) -> None: ...
    DROPPED_INPUTS_FIELD_NUMBER: _ClassVar[int]
    KEPT_TESTS_FIELD_NUMBER: _ClassVar[int]
    BY_METHOD_FIELD_NUMBER: _ClassVar[int]
    dropped_inputs: _containers.ScalarMap[str, int]
    kept_tests: int
    by_method: _containers.MessageMap[str, StageUsage]
    def __init__(self, dropped_inputs: _Optional[_Mapping[str, int]] = ..., kept_tests: _Optional[int] = ..., by_method: _Optional[_Mapping[str, StageUsage]] = ...) -> None: ...

class LmScoreFigures(_message.Message):
    __slots__ = ("snippets",)
    SNIPPETS_FIELD_NUMBER: _ClassVar[int]
    snippets: int
    def __init__(self, snippets: _Optional[int] = ...) -> None: ...

class DiscriminateFigures(_message.Message):
    __slots__ = ("pools",)
    POOLS_FIELD_NUMBER: _ClassVar[int]
    pools: DiscriminatorPools
    def __init__(self, pools: _Optional[_Union[DiscriminatorPools, _Mapping]] = ...) -> None: ...

class DiscriminatorPools(_message.Message):
    __slots__ = ("good", "bad")
    GOOD_FIELD_NUMBER: _ClassVar[int]
    BAD_FIELD_NUMBER: _ClassVar[int]
    good: int
    bad: int
    def __init__(self, good: _Optional[int] = ..., bad: _Optional[int] = ...) -> None: ...

class DedupFigures(_message.Message):
    __slots__ = ("method", "lcs_computed")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LCS_COMPUTED_FIELD_NUMBER: _ClassVar[int]
    method: DedupMethod
    lcs_computed: int
    def __init__(self, method: _Optional[_Union[DedupMethod, str]] = ..., lcs_computed: _Optional[int] = ...) -> None: ...

class DecontaminateFigures(_message.Message):
    __slots__ = ("hits",)
    class HitsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: BenchmarkHits
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[BenchmarkHits, _Mapping]] = ...) -> None: ...
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.MessageMap[str, BenchmarkHits]
    def __init__(self, hits: _Optional[_Mapping[str, BenchmarkHits]] = ...) -> None: ...

class BenchmarkHits(_message.Message):
    __slots__ = ("records", "ngram_overlap", "substring_match", "paraphrase", "items")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NGRAM_OVERLAP_FIELD_NUMBER: _ClassVar[int]
    SUBSTRING_MATCH_FIELD_NUMBER: _ClassVar[int]
    PARAPHRASE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    records: int
    ngram_overlap: int
    substring_match: int
    paraphrase: int
    items: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, records: _Optional[int] = ..., ngram_overlap: _Optional[int] = ..., substring_match: _Optional[int] = ..., paraphrase: _Optional[int] = ..., items: _Optional[_Iterable[str]] = ...) -> None: ...

class CoresetFigures(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, order: _Optional[_Iterable[str]] = ...) -> None: ...

class RankFigures(_message.Message):
    __slots__ = ("by",)
    BY_FIELD_NUMBER: _ClassVar[int]
    by: RankKey
    def __init__(self, by: _Optional[_Union[RankKey, str]] = ...) -> None: ...

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
