"""`GenerationClient`: the generation service through gRPC (a `GeneratorLike`), deployed (`host:port`)
or `loopback` (a server started in this process; `codeinstruct.targets.open_generator` gives the core).

Example:
    with GenerationClient("loopback") as client:              # loads the embedded model here
        for outcome in client.outcomes("inverse_instruct", stdlib_seeds(2), settings={"inverse": {"samples": 2}}):
            print(outcome.seed_id, len(outcome.records), dict(outcome.rejected))
        engine = client.as_engine()   # an Engine for scoring stages (LM-Score over the wire)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.core.jsontypes import JsonObject, JsonValue
from codeinstruct.core.methods import Method
from codeinstruct.core.records import Record
from codeinstruct.engines.base import Conversation, Engine, SamplingParams, per_prompt
from codeinstruct.generation import messages
from codeinstruct.generation.common import SeedOutcome
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.generation.core import GeneratorLike
from codeinstruct.generation.run import check_method
from codeinstruct.generation.seeds import normalize_seed
from codeinstruct.server.client import LOOPBACK, ServiceClient, call, stream
from codeinstruct.v1 import generation_pb2, generation_pb2_grpc

RPCS: dict[Method, tuple[str, type[Any]]] = {"inverse_instruct": ("SummarizeCode", generation_pb2.SummarizeCodeRequest),
        "evol_instruct": ("EvolveInstructions", generation_pb2.EvolveInstructionsRequest),
        "semi_instruct": ("DraftSemiInstruct", generation_pb2.DraftSemiInstructRequest),
        "wavecoder": ("GenerateWaveCoderTasks", generation_pb2.GenerateWaveCoderTasksRequest),
        "self_instruct": ("SelfInstruct", generation_pb2.SelfInstructRequest)}


class GenerationClient(ServiceClient):
    """A `GeneratorLike` over gRPC. The service rejects empty `prompts`, `conversations`, pairs and
    `texts` (INVALID_ARGUMENT); this client answers those calls itself with an empty list, as the
    in-process `GenerationCore` does, so callers see one behaviour whichever object they hold."""

    def __init__(self, target: str = LOOPBACK, config: GenerationConfig | None = None, *,
                 engine: Engine | None = None, timeout_s: float | None = None):
        """`config` (and `engine`, already loaded) configure the service `loopback` starts."""
        from codeinstruct.generation.service import make_spec

        self.target = target
        self.timeout_s = timeout_s
        channel = self._connect(target, lambda: make_spec(config, engine=engine))
        self.stub = generation_pb2_grpc.GenerationServiceStub(channel)

    def info(self) -> dict[str, JsonValue]:
        reply = call(self.stub.GetEngineInfo, generation_pb2.GetEngineInfoRequest(), timeout=self.timeout_s)
        return {"engine": reply.engine, "model": reply.model, **messages.from_struct(reply.details)}

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        if not prompts:
            return []
        plist = per_prompt(params, len(prompts))
        request = generation_pb2.GenerateRequest(prompts=prompts,
                                                 sampling=[messages.sampling_to_proto(p) for p in plist])
        out: list[list[str]] = [[] for _ in prompts]
        for reply in stream(self.stub.Generate, request, timeout=self.timeout_s):
            out[reply.index] = list(reply.completions)
        return out

    def chat(self, conversations: list[Conversation],
             params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        if not conversations:
            return []
        plist = per_prompt(params, len(conversations))
        request = generation_pb2.ChatRequest(conversations=[messages.conversation_to_proto(c, f"conversations[{i}]")
                                                            for i, c in enumerate(conversations)],
                                             sampling=[messages.sampling_to_proto(p) for p in plist])
        out: list[list[str]] = [[] for _ in conversations]
        for reply in stream(self.stub.Chat, request, timeout=self.timeout_s):
            out[reply.index] = list(reply.completions)
        return out

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        if not instructions and not codes:
            return []
        request = generation_pb2.ScoreAnswersRequest(instructions=instructions, codes=codes)
        return list(call(self.stub.ScoreAnswers, request, timeout=self.timeout_s).scores)

    def count_tokens(self, texts: list[str]) -> list[int]:
        if not texts:
            return []
        request = generation_pb2.CountTokensRequest(texts=texts)
        return list(call(self.stub.CountTokens, request, timeout=self.timeout_s).counts)

    def apply_chat_template(self, conversation: Conversation, add_generation_prompt: bool = True) -> str:
        request = generation_pb2.ApplyChatTemplateRequest(conversation=messages.conversation_to_proto(conversation),
                                                          add_generation_prompt=add_generation_prompt)
        return call(self.stub.ApplyChatTemplate, request, timeout=self.timeout_s).text

    def outcomes(self, method: str, seeds: Sequence[JsonObject], limit: int | None = None,
                 settings: JsonObject | None = None) -> Iterator[SeedOutcome]:
        """Per-seed outcomes of `method`'s generation stage, streamed as seeds finish."""
        name, request_type = RPCS[check_method(method)]
        request = request_type(
            seeds=[messages.record_to_proto(normalize_seed(s, where=f"seed {i}")) for i, s in enumerate(seeds)],
            options=generation_pb2.MethodOptions(limit=limit or 0, settings=messages.to_struct(dict(settings or {}))))
        for reply in stream(getattr(self.stub, name), request, timeout=self.timeout_s):
            yield messages.outcome_from_proto(reply.outcome)

    def records(self, method: str, seeds: Sequence[JsonObject], limit: int | None = None,
                settings: JsonObject | None = None) -> Iterator[Record]:
        for outcome in self.outcomes(method, seeds, limit, settings):
            yield from outcome.records

    def as_engine(self) -> RemoteEngine:
        return RemoteEngine(self)


class RemoteEngine(Engine):
    """An `Engine` backed by a generation service (so scoring can use a remote GPU model)."""

    def __init__(self, client: GeneratorLike):
        self.client = client
        info = client.info()
        self.model_name = str(info.get("model", ""))
        self.engine_name = f"remote:{info.get('engine', '')}"
        self._info = info

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        return self.client.generate(prompts, params)

    def chat(self, conversations: list[Conversation],
             params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        return self.client.chat(conversations, params)

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        return self.client.lm_score(instructions, codes)

    def apply_chat_template(self, messages: Conversation, add_generation_prompt: bool = True) -> str:
        return self.client.apply_chat_template(messages, add_generation_prompt)

    def count_tokens(self, text: str) -> int:
        return self.client.count_tokens([text])[0]

    def info(self) -> dict[str, JsonValue]:
        return dict(self._info)
