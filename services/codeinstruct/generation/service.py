"""gRPC `GenerationService`: a thin servicer over one engine and the methods' generation stage.

The engine is loaded once when the service starts (`make_spec`) and shared by all RPCs; a lock
serializes engine calls (engines are not thread-safe), so concurrent RPCs interleave batch by
batch. Method RPCs stream one `SeedOutcome` per seed as it finishes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import grpc

from codeinstruct.core import config as config_mod
from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput
from codeinstruct.engines import Engine, EngineConfig, SamplingParams, engine_config, load_engine
from codeinstruct.engines.base import Conversation, validate_conversation
from codeinstruct.generation import messages
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.generation.run import context, generate_outcomes
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.v1 import generation_pb2, generation_pb2_grpc

logger = logging.getLogger(__name__)

FULL_NAME = "codeinstruct.v1.GenerationService"
MAX_ITEMS = 4096  # prompts, pairs or seeds per request


class LockedEngine(Engine):
    """Forwards to an engine while holding a lock, so RPC threads never call it concurrently."""

    def __init__(self, engine: Engine):
        self.inner = engine
        self.lock = threading.Lock()
        self.model_name = engine.model_name
        self.engine_name = engine.engine_name

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        with self.lock:
            return self.inner.generate(prompts, params)

    def chat(self, conversations: list[Conversation],
             params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        with self.lock:
            return self.inner.chat(conversations, params)

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        with self.lock:
            return self.inner.lm_score(instructions, codes)

    def apply_chat_template(self, messages: Conversation, add_generation_prompt: bool = True) -> str:
        return self.inner.apply_chat_template(messages, add_generation_prompt)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def info(self) -> dict[str, Any]:
        return self.inner.info()

    def close(self) -> None:
        with self.lock:
            self.inner.close()


class GenerationCore:
    """Transport-free operations of the service (the servicer only converts messages)."""

    def __init__(self, engine: Engine, file_data: Mapping[str, Any] | None = None):
        self.engine = engine if isinstance(engine, LockedEngine) else LockedEngine(engine)
        self.file_data = dict(file_data or {})
        self.base_config = config_mod.build(GenerationConfig, "generation", file_data=self.file_data)
        self.batch = int(self.engine.info().get("batch_size", 8) or 8)

    def config_with(self, settings: Mapping[str, Any]) -> GenerationConfig:
        if "engine" in settings:
            raise InvalidInput("settings cannot change the engine: the service hosts one engine",
                               field="options.settings.engine")
        return config_mod.build(GenerationConfig, "generation", file_data=self.file_data, overrides=dict(settings))

    def generate(self, prompts: list[str], params: list[SamplingParams]) -> Iterator[tuple[int, list[str]]]:
        _check_size(len(prompts), "prompts")
        for start in range(0, len(prompts), self.batch):
            deadline.check()
            chunk = prompts[start:start + self.batch]
            for offset, completions in enumerate(self.engine.generate(chunk, params[start:start + len(chunk)])):
                yield start + offset, completions

    def chat(self, conversations: list[Conversation], params: list[SamplingParams]) -> Iterator[tuple[int, list[str]]]:
        for i, conversation in enumerate(conversations):
            validate_conversation(conversation, i)
        texts = [self.engine.apply_chat_template(c) for c in conversations]
        yield from self.generate(texts, params)

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        _check_size(len(instructions), "instructions")
        if len(instructions) != len(codes):
            raise InvalidInput(f"{len(instructions)} instructions but {len(codes)} codes", field="codes")
        return self.engine.lm_score(instructions, codes)

    def run_method(self, method: str, seeds: list[dict[str, Any]], limit: int | None,
                   settings: Mapping[str, Any]) -> Iterator[tuple[Any, str]]:
        _check_size(len(seeds), "seeds")
        if not seeds:
            raise InvalidInput("no seeds given", field="seeds")
        config = self.config_with(settings)
        fingerprint = context(method, self.engine, config).fingerprint
        for outcome in generate_outcomes(method, seeds, self.engine, config, limit):
            yield outcome, fingerprint

    def close(self) -> None:
        self.engine.close()


def _check_size(count: int, field: str) -> None:
    if count > MAX_ITEMS:
        raise InvalidInput(f"{count} {field} in one request; at most {MAX_ITEMS} (split the request)", field=field)


class GenerationServicer(generation_pb2_grpc.GenerationServiceServicer):
    def __init__(self, core: GenerationCore):
        self.core = core

    def Generate(self, request: generation_pb2.GenerateRequest,
                 context: grpc.ServicerContext) -> Iterator[generation_pb2.GenerateResponse]:
        params = messages.sampling_list(request.sampling, len(request.prompts))
        for index, completions in self.core.generate(list(request.prompts), params):
            yield generation_pb2.GenerateResponse(index=index, completions=completions)

    def Chat(self, request: generation_pb2.ChatRequest,
             context: grpc.ServicerContext) -> Iterator[generation_pb2.ChatResponse]:
        conversations = [messages.conversation_from_proto(c) for c in request.conversations]
        params = messages.sampling_list(request.sampling, len(conversations))
        for index, completions in self.core.chat(conversations, params):
            yield generation_pb2.ChatResponse(index=index, completions=completions)

    def ScoreAnswers(self, request: generation_pb2.ScoreAnswersRequest,
                     context: grpc.ServicerContext) -> generation_pb2.ScoreAnswersResponse:
        return generation_pb2.ScoreAnswersResponse(
            scores=self.core.lm_score(list(request.instructions), list(request.codes)))

    def CountTokens(self, request: generation_pb2.CountTokensRequest,
                    context: grpc.ServicerContext) -> generation_pb2.CountTokensResponse:
        _check_size(len(request.texts), "texts")
        return generation_pb2.CountTokensResponse(counts=[self.core.engine.count_tokens(t) for t in request.texts])

    def ApplyChatTemplate(self, request: generation_pb2.ApplyChatTemplateRequest,
                          context: grpc.ServicerContext) -> generation_pb2.ApplyChatTemplateResponse:
        conversation = messages.conversation_from_proto(request.conversation)
        validate_conversation(conversation)
        return generation_pb2.ApplyChatTemplateResponse(
            text=self.core.engine.apply_chat_template(conversation, request.add_generation_prompt))

    def GetEngineInfo(self, request: generation_pb2.GetEngineInfoRequest,
                      context: grpc.ServicerContext) -> generation_pb2.GetEngineInfoResponse:
        info = dict(self.core.engine.info())
        return generation_pb2.GetEngineInfoResponse(
            engine=str(info.pop("engine", "")), model=str(info.pop("model", "")),
            details=messages.to_struct({k: v if isinstance(v, int | float | str | bool) else str(v)
                                        for k, v in info.items()}))

    def _method(self, method: str, request: Any) -> Iterator[generation_pb2.SeedOutcome]:
        seeds = [messages.record_dict_from_proto(s) for s in request.seeds]
        settings = messages.from_struct(request.options.settings)
        for outcome, fingerprint in self.core.run_method(method, seeds, request.options.limit or None, settings):
            yield messages.outcome_to_proto(outcome, fingerprint)

    def SummarizeCode(self, request: generation_pb2.SummarizeCodeRequest,
                      context: grpc.ServicerContext) -> Iterator[generation_pb2.SummarizeCodeResponse]:
        for outcome in self._method("inverse_instruct", request):
            yield generation_pb2.SummarizeCodeResponse(outcome=outcome)

    def EvolveInstructions(self, request: generation_pb2.EvolveInstructionsRequest,
                           context: grpc.ServicerContext) -> Iterator[generation_pb2.EvolveInstructionsResponse]:
        for outcome in self._method("evol_instruct", request):
            yield generation_pb2.EvolveInstructionsResponse(outcome=outcome)

    def DraftSemiInstruct(self, request: generation_pb2.DraftSemiInstructRequest,
                          context: grpc.ServicerContext) -> Iterator[generation_pb2.DraftSemiInstructResponse]:
        for outcome in self._method("semi_instruct", request):
            yield generation_pb2.DraftSemiInstructResponse(outcome=outcome)

    def GenerateWaveCoderTasks(self, request: generation_pb2.GenerateWaveCoderTasksRequest,
                               context: grpc.ServicerContext
                               ) -> Iterator[generation_pb2.GenerateWaveCoderTasksResponse]:
        for outcome in self._method("wavecoder", request):
            yield generation_pb2.GenerateWaveCoderTasksResponse(outcome=outcome)

    def SelfInstruct(self, request: generation_pb2.SelfInstructRequest,
                     context: grpc.ServicerContext) -> Iterator[generation_pb2.SelfInstructResponse]:
        for outcome in self._method("self_instruct", request):
            yield generation_pb2.SelfInstructResponse(outcome=outcome)


def make_spec(file_data: dict | None = None, *, engine: Engine | None = None,
              engine_cfg: EngineConfig | None = None) -> ServiceSpec:
    """The generation service: loads the `generation.engine` engine (or serves the `engine` given,
    which is then not closed with the server)."""
    file_data = dict(file_data or {})
    owned = engine is None
    if engine is None:
        engine = load_engine(engine_cfg or engine_config(file_data, "generation"))
    core = GenerationCore(engine, file_data)
    servicer = GenerationServicer(core)

    def register(server: grpc.Server) -> None:
        generation_pb2_grpc.add_GenerationServiceServicer_to_server(servicer, server)

    return ServiceSpec(FULL_NAME, register, close=core.close if owned else None, extra={"core": core})
