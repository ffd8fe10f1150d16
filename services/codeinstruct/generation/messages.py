"""Conversions between the generation protos and plain Python values (used by service and client)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from google.protobuf import json_format, struct_pb2

from codeinstruct.core.records import Record
from codeinstruct.engines.base import SamplingParams
from codeinstruct.generation.common import SeedOutcome
from codeinstruct.v1 import common_pb2, generation_pb2


def to_struct(data: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update({k: list(v) if isinstance(v, tuple) else v for k, v in data.items()})
    return message


def from_struct(message: struct_pb2.Struct) -> dict[str, Any]:
    data = json_format.MessageToDict(message)
    # Struct numbers are doubles: give whole numbers back as ints (counts, rounds, sample indexes)
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in data.items()}


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
    from codeinstruct.core.errors import InvalidInput

    if not messages:
        return [SamplingParams()] * count
    if len(messages) == 1:
        return [sampling_from_proto(messages[0])] * count
    if len(messages) != count:
        raise InvalidInput(f"sampling has {len(messages)} entries for {count} prompts (give 1 or {count})",
                           field="sampling")
    return [sampling_from_proto(m) for m in messages]


def outcome_to_proto(outcome: SeedOutcome, fingerprint: str) -> generation_pb2.SeedOutcome:
    return generation_pb2.SeedOutcome(seed_id=outcome.seed_id, records=[record_to_proto(r) for r in outcome.records],
                                      rejected=dict(outcome.rejected), fingerprint=fingerprint)


def outcome_from_proto(message: generation_pb2.SeedOutcome) -> SeedOutcome:
    outcome = SeedOutcome(seed_id=message.seed_id, records=[record_from_proto(r) for r in message.records])
    outcome.rejected.update(dict(message.rejected))
    return outcome


def conversation_to_proto(messages: Sequence[Mapping[str, str]]) -> generation_pb2.Conversation:
    return generation_pb2.Conversation(messages=[generation_pb2.ChatMessage(role=m["role"], content=m["content"])
                                                 for m in messages])


def conversation_from_proto(message: generation_pb2.Conversation) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in message.messages]
