"""Conversions between the generation protos and plain Python values (used by service and client).

Chat roles are the `ChatRole` enum on the wire and the plain strings "system" / "user" /
"assistant" in the core and the engines; this module translates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2

from codeinstruct.core.config import updated
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.jsontypes import whole_numbers
from codeinstruct.core.records import Record
from codeinstruct.engines.base import SamplingParams
from codeinstruct.generation.common import SeedOutcome
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.generation.core import MAX_ITEMS
from codeinstruct.generation.seeds import normalize_seed
from codeinstruct.server import validate
from codeinstruct.v1 import common_pb2, generation_pb2

ROLE_TO_PROTO = {"system": generation_pb2.CHAT_ROLE_SYSTEM, "user": generation_pb2.CHAT_ROLE_USER,
                 "assistant": generation_pb2.CHAT_ROLE_ASSISTANT}
ROLE_FROM_PROTO = {number: name for name, number in ROLE_TO_PROTO.items()}

# Bounds of SamplingParams at the boundary (the engines' own checks are looser: temperature up to 5).
MAX_N = 64
MAX_TEMPERATURE = 2.0
MAX_REPETITION_PENALTY = 5.0
MAX_TOKENS_CAP = 32768  # SamplingParams' own ceiling; the service also caps at engine.max_model_len


def to_struct(data: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update({k: list(v) if isinstance(v, tuple) else v for k, v in data.items()})
    return message


def from_struct(message: struct_pb2.Struct) -> dict[str, Any]:
    data: dict[str, Any] = whole_numbers(json_format.MessageToDict(message))
    return data


def _str_map(data: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items() if v is not None}


def record_to_proto(record: Record | Mapping[str, Any]) -> common_pb2.Record:
    data = record.to_dict() if isinstance(record, Record) else dict(record)
    return common_pb2.Record(
        id=str(data.get("id", "")), method=str(data.get("method", "")), task=str(data.get("task", "")),
        language=str(data.get("language", "")), instruction=str(data.get("instruction", "")),
        response=str(data.get("response", "")), code=str(data.get("code", "")),
        entry_point=str(data.get("entry_point", "")),
        tests=[common_pb2.TestCase(input=str(t["input"]), output=str(t["output"])) for t in data.get("tests") or []],
        scores=to_struct(data.get("scores") or {}), source=_str_map(data.get("source") or {}),
        generator=_str_map(data.get("generator") or {}))


def record_dict_from_proto(message: common_pb2.Record) -> dict[str, Any]:
    return {"id": message.id, "method": message.method, "task": message.task or "generation",
            "language": message.language or "python", "instruction": message.instruction,
            "response": message.response, "code": message.code, "entry_point": message.entry_point,
            "tests": [{"input": t.input, "output": t.output} for t in message.tests],
            "scores": from_struct(message.scores), "source": dict(message.source),
            "generator": dict(message.generator)}


def record_from_proto(message: common_pb2.Record) -> Record:
    return Record(**record_dict_from_proto(message)).validate()


def sampling_to_proto(params: SamplingParams) -> generation_pb2.SamplingParams:
    message = generation_pb2.SamplingParams(
        n=params.n, temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_tokens,
        stop=list(params.stop), repetition_penalty=params.repetition_penalty)
    if params.seed is not None:
        message.seed = params.seed
    return message


def sampling_from_proto(message: generation_pb2.SamplingParams) -> SamplingParams:
    return SamplingParams(n=message.n or 1, temperature=message.temperature, top_p=message.top_p or 1.0,
                          max_tokens=message.max_tokens or 256, stop=tuple(message.stop),
                          repetition_penalty=message.repetition_penalty or 1.0,
                          seed=message.seed if message.HasField("seed") else None)


def sampling_list(messages: Sequence[generation_pb2.SamplingParams], count: int) -> list[SamplingParams]:
    """One SamplingParams per prompt from 0, 1 or `count` messages (checked by `check_sampling`)."""
    if not messages:
        return [SamplingParams()] * count
    if len(messages) == 1:
        return [sampling_from_proto(messages[0])] * count
    if len(messages) != count:
        raise InvalidInput(f"sampling has {len(messages)} entries for {count} prompts (give 0, 1 or {count})",
                           field="sampling", reason="LENGTH_MISMATCH")
    return [sampling_from_proto(m) for m in messages]


def outcome_to_proto(outcome: SeedOutcome, fingerprint: str) -> generation_pb2.SeedOutcome:
    return generation_pb2.SeedOutcome(seed_id=outcome.seed_id, records=[record_to_proto(r) for r in outcome.records],
                                      rejected=dict(outcome.rejected), fingerprint=fingerprint)


def outcome_from_proto(message: generation_pb2.SeedOutcome) -> SeedOutcome:
    outcome = SeedOutcome(seed_id=message.seed_id, records=[record_from_proto(r) for r in message.records])
    outcome.rejected.update(dict(message.rejected))
    return outcome


def role_to_proto(role: str, field: str) -> Any:
    """The ChatRole of a core role string (typed loosely: the stubs want the enum's own value type)."""
    if role not in ROLE_TO_PROTO:
        raise InvalidInput(f"{field} {role!r} is not a chat role; roles: {', '.join(ROLE_TO_PROTO)}", field=field,
                           reason="UNKNOWN_ENUM_VALUE")
    return ROLE_TO_PROTO[role]


def conversation_to_proto(messages: Sequence[Mapping[str, str]],
                          field: str = "conversation") -> generation_pb2.Conversation:
    return generation_pb2.Conversation(messages=[
        generation_pb2.ChatMessage(role=role_to_proto(m["role"], f"{field}.messages[{i}].role"), content=m["content"])
        for i, m in enumerate(messages)])


def conversation_from_proto(message: generation_pb2.Conversation) -> list[dict[str, str]]:
    """Core messages of a checked conversation (`check_conversation` rejects unknown roles first)."""
    return [{"role": ROLE_FROM_PROTO[m.role], "content": m.content} for m in message.messages]


# -- request checks (before the engine is used) ---------------------------------------------------------
def check_items(items: Sequence[object], field: str, what: str) -> None:
    """A required repeated field of at most MAX_ITEMS entries."""
    validate.required(items, field, what)
    validate.at_most(items, MAX_ITEMS, field)


def check_sampling(messages: Sequence[generation_pb2.SamplingParams], count: int, max_tokens: int,
                   what: str = "prompts") -> None:
    """0, 1 or `count` entries, each field in range (0 is each field's default)."""
    if len(messages) not in (0, 1, count):
        raise InvalidInput(f"sampling has {len(messages)} entries for {count} {what}; give 0 (defaults), 1 (for all) "
                           f"or {count} (one each)", field="sampling", reason="LENGTH_MISMATCH")
    for index, message in enumerate(messages):
        field = f"sampling[{index}]"
        validate.in_range(message.n, f"{field}.n", minimum=1, maximum=MAX_N, zero_means="one completion")
        validate.in_range(message.temperature, f"{field}.temperature", minimum=0.0, maximum=MAX_TEMPERATURE)
        validate.in_range(message.top_p, f"{field}.top_p", minimum=0.0, maximum=1.0, above=True, zero_means="no cut")
        validate.in_range(message.max_tokens, f"{field}.max_tokens", minimum=1, maximum=max_tokens,
                          zero_means="256 tokens")
        validate.in_range(message.repetition_penalty, f"{field}.repetition_penalty", minimum=0.0,
                          maximum=MAX_REPETITION_PENALTY, above=True, zero_means="no penalty")
        for number, stop in enumerate(message.stop):
            if not stop:
                raise InvalidInput(f"{field}.stop[{number}] is empty; stop strings must be non-empty",
                                   field=f"{field}.stop[{number}]", reason="INVALID_VALUE")


def check_conversation(message: generation_pb2.Conversation, field: str) -> None:
    validate.required(message.messages, f"{field}.messages", "at least one message")
    for index, turn in enumerate(message.messages):
        validate.known_enum(turn.role, generation_pb2.ChatRole.DESCRIPTOR, f"{field}.messages[{index}].role",
                            allow_unspecified=False)


def check_generate(request: generation_pb2.GenerateRequest, max_tokens: int) -> None:
    check_items(request.prompts, "prompts", "at least one prompt")
    for index, prompt in enumerate(request.prompts):
        validate.required(prompt, f"prompts[{index}]", "a prompt to complete")
    check_sampling(request.sampling, len(request.prompts), max_tokens)


def check_chat(request: generation_pb2.ChatRequest, max_tokens: int) -> None:
    check_items(request.conversations, "conversations", "at least one conversation")
    for index, conversation in enumerate(request.conversations):
        check_conversation(conversation, f"conversations[{index}]")
    check_sampling(request.sampling, len(request.conversations), max_tokens, "conversations")


def check_score(request: generation_pb2.ScoreAnswersRequest) -> None:
    check_items(request.instructions, "instructions", "at least one (instruction, code) pair")
    validate.same_length(request.codes, request.instructions, "codes", "instructions")


def check_apply_template(request: generation_pb2.ApplyChatTemplateRequest) -> None:
    validate.required(request.conversation.messages, "conversation", "a conversation of at least one message")
    check_conversation(request.conversation, "conversation")


def check_method(seeds: Sequence[common_pb2.Record], options: generation_pb2.MethodOptions,
                 base: GenerationConfig) -> None:
    """Seeds present, usable and uniquely named; limit >= 0; settings overrides valid for `base`."""
    check_items(seeds, "seeds", "at least one seed record")
    validate.unique_ids((seed.id for seed in seeds), "seeds")
    for index, seed in enumerate(seeds):
        try:
            normalize_seed(record_dict_from_proto(seed), where=f"seeds[{index}]")
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=f"seeds[{index}].code", reason="FIELD_REQUIRED") from None
    validate.in_range(options.limit, "options.limit", minimum=0)
    settings = from_struct(options.settings)
    if "engine" in settings:
        raise InvalidInput("options.settings cannot change the engine: the service hosts one engine",
                           field="options.settings.engine", reason="INVALID_SETTING")
    with validate.request_fields({"generation": "options.settings"}):
        updated(base, "generation", settings, origin="request")
