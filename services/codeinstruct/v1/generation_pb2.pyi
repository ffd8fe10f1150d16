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

class ChatRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAT_ROLE_UNSPECIFIED: _ClassVar[ChatRole]
    CHAT_ROLE_SYSTEM: _ClassVar[ChatRole]
    CHAT_ROLE_USER: _ClassVar[ChatRole]
    CHAT_ROLE_ASSISTANT: _ClassVar[ChatRole]
CHAT_ROLE_UNSPECIFIED: ChatRole
CHAT_ROLE_SYSTEM: ChatRole
CHAT_ROLE_USER: ChatRole
CHAT_ROLE_ASSISTANT: ChatRole

class SamplingParams(_message.Message):
    __slots__ = ("n", "temperature", "top_p", "max_tokens", "stop", "repetition_penalty", "seed")
    N_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    STOP_FIELD_NUMBER: _ClassVar[int]
    REPETITION_PENALTY_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    n: int
    temperature: float
    top_p: float
    max_tokens: int
    stop: _containers.RepeatedScalarFieldContainer[str]
    repetition_penalty: float
    seed: int
    def __init__(self, n: _Optional[int] = ..., temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., max_tokens: _Optional[int] = ..., stop: _Optional[_Iterable[str]] = ..., repetition_penalty: _Optional[float] = ..., seed: _Optional[int] = ...) -> None: ...

class GenerateRequest(_message.Message):
    __slots__ = ("prompts", "sampling")
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    prompts: _containers.RepeatedScalarFieldContainer[str]
    sampling: _containers.RepeatedCompositeFieldContainer[SamplingParams]
    def __init__(self, prompts: _Optional[_Iterable[str]] = ..., sampling: _Optional[_Iterable[_Union[SamplingParams, _Mapping]]] = ...) -> None: ...

class GenerateResponse(_message.Message):
    __slots__ = ("index", "completions")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    index: int
    completions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, index: _Optional[int] = ..., completions: _Optional[_Iterable[str]] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("role", "content")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    role: ChatRole
    content: str
    def __init__(self, role: _Optional[_Union[ChatRole, str]] = ..., content: _Optional[str] = ...) -> None: ...

class Conversation(_message.Message):
    __slots__ = ("messages",)
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    def __init__(self, messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ...) -> None: ...

class ChatRequest(_message.Message):
    __slots__ = ("conversations", "sampling")
    CONVERSATIONS_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    conversations: _containers.RepeatedCompositeFieldContainer[Conversation]
    sampling: _containers.RepeatedCompositeFieldContainer[SamplingParams]
    def __init__(self, conversations: _Optional[_Iterable[_Union[Conversation, _Mapping]]] = ..., sampling: _Optional[_Iterable[_Union[SamplingParams, _Mapping]]] = ...) -> None: ...

class ChatResponse(_message.Message):
    __slots__ = ("index", "completions")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    COMPLETIONS_FIELD_NUMBER: _ClassVar[int]
    index: int
    completions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, index: _Optional[int] = ..., completions: _Optional[_Iterable[str]] = ...) -> None: ...

class ScoreAnswersRequest(_message.Message):
    __slots__ = ("instructions", "codes")
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    instructions: _containers.RepeatedScalarFieldContainer[str]
    codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, instructions: _Optional[_Iterable[str]] = ..., codes: _Optional[_Iterable[str]] = ...) -> None: ...

class ScoreAnswersResponse(_message.Message):
    __slots__ = ("scores",)
    SCORES_FIELD_NUMBER: _ClassVar[int]
    scores: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, scores: _Optional[_Iterable[float]] = ...) -> None: ...

class CountTokensRequest(_message.Message):
    __slots__ = ("texts",)
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, texts: _Optional[_Iterable[str]] = ...) -> None: ...

class CountTokensResponse(_message.Message):
    __slots__ = ("counts",)
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    counts: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, counts: _Optional[_Iterable[int]] = ...) -> None: ...

class ApplyChatTemplateRequest(_message.Message):
    __slots__ = ("conversation", "add_generation_prompt")
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    ADD_GENERATION_PROMPT_FIELD_NUMBER: _ClassVar[int]
    conversation: Conversation
    add_generation_prompt: bool
    def __init__(self, conversation: _Optional[_Union[Conversation, _Mapping]] = ..., add_generation_prompt: _Optional[bool] = ...) -> None: ...

class ApplyChatTemplateResponse(_message.Message):
    __slots__ = ("text",)
    TEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    def __init__(self, text: _Optional[str] = ...) -> None: ...

class GetEngineInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetEngineInfoResponse(_message.Message):
    __slots__ = ("engine", "model", "details")
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    engine: str
    model: str
    details: _struct_pb2.Struct
    def __init__(self, engine: _Optional[str] = ..., model: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class MethodOptions(_message.Message):
    __slots__ = ("limit", "settings")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    limit: int
    settings: _struct_pb2.Struct
    def __init__(self, limit: _Optional[int] = ..., settings: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SeedOutcome(_message.Message):
    __slots__ = ("seed_id", "records", "rejected", "fingerprint")
    class RejectedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    SEED_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    seed_id: str
    records: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    rejected: _containers.ScalarMap[str, int]
    fingerprint: str
    def __init__(self, seed_id: _Optional[str] = ..., records: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., rejected: _Optional[_Mapping[str, int]] = ..., fingerprint: _Optional[str] = ...) -> None: ...

class SummarizeCodeRequest(_message.Message):
    __slots__ = ("seeds", "options")
    SEEDS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    seeds: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    options: MethodOptions
    def __init__(self, seeds: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., options: _Optional[_Union[MethodOptions, _Mapping]] = ...) -> None: ...

class SummarizeCodeResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: SeedOutcome
    def __init__(self, outcome: _Optional[_Union[SeedOutcome, _Mapping]] = ...) -> None: ...

class EvolveInstructionsRequest(_message.Message):
    __slots__ = ("seeds", "options")
    SEEDS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    seeds: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    options: MethodOptions
    def __init__(self, seeds: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., options: _Optional[_Union[MethodOptions, _Mapping]] = ...) -> None: ...

class EvolveInstructionsResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: SeedOutcome
    def __init__(self, outcome: _Optional[_Union[SeedOutcome, _Mapping]] = ...) -> None: ...

class DraftSemiInstructRequest(_message.Message):
    __slots__ = ("seeds", "options")
    SEEDS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    seeds: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    options: MethodOptions
    def __init__(self, seeds: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., options: _Optional[_Union[MethodOptions, _Mapping]] = ...) -> None: ...

class DraftSemiInstructResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: SeedOutcome
    def __init__(self, outcome: _Optional[_Union[SeedOutcome, _Mapping]] = ...) -> None: ...

class GenerateWaveCoderTasksRequest(_message.Message):
    __slots__ = ("seeds", "options")
    SEEDS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    seeds: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    options: MethodOptions
    def __init__(self, seeds: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., options: _Optional[_Union[MethodOptions, _Mapping]] = ...) -> None: ...

class GenerateWaveCoderTasksResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: SeedOutcome
    def __init__(self, outcome: _Optional[_Union[SeedOutcome, _Mapping]] = ...) -> None: ...

class SelfInstructRequest(_message.Message):
    __slots__ = ("seeds", "options")
    SEEDS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    seeds: _containers.RepeatedCompositeFieldContainer[_common_pb2.Record]
    options: MethodOptions
    def __init__(self, seeds: _Optional[_Iterable[_Union[_common_pb2.Record, _Mapping]]] = ..., options: _Optional[_Union[MethodOptions, _Mapping]] = ...) -> None: ...

class SelfInstructResponse(_message.Message):
    __slots__ = ("outcome",)
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    outcome: SeedOutcome
    def __init__(self, outcome: _Optional[_Union[SeedOutcome, _Mapping]] = ...) -> None: ...
