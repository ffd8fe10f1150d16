"""gRPC `GenerationService`: a thin servicer over `GenerationCore` (core.py).

The engine is loaded once when the service starts (`make_spec`) and shared by all RPCs. Method RPCs
stream one `SeedOutcome` per seed as it finishes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import grpc

from codeinstruct.engines import Engine, load_engine
from codeinstruct.generation import messages
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.generation.core import GenerationCore
from codeinstruct.server.bootstrap import ServiceSpec
from codeinstruct.server.strict import register_strict
from codeinstruct.v1 import generation_pb2, generation_pb2_grpc

logger = logging.getLogger(__name__)

FULL_NAME = "codeinstruct.v1.GenerationService"


class GenerationServicer(generation_pb2_grpc.GenerationServiceServicer):
    """Checks each request whole (messages.check_*) before the engine is used, then calls the core."""

    def __init__(self, core: GenerationCore):
        self.core = core
        # largest SamplingParams.max_tokens a request may ask (reported as details.max_tokens_limit)
        self.max_tokens = min(messages.MAX_TOKENS_CAP, core.base_config.engine.max_model_len)

    def Generate(self, request: generation_pb2.GenerateRequest,
                 context: grpc.ServicerContext) -> Iterator[generation_pb2.GenerateResponse]:
        messages.check_generate(request, self.max_tokens)
        params = messages.sampling_list(request.sampling, len(request.prompts))
        for index, completions in self.core.stream_generate(list(request.prompts), params):
            yield generation_pb2.GenerateResponse(index=index, completions=completions)

    def Chat(self, request: generation_pb2.ChatRequest,
             context: grpc.ServicerContext) -> Iterator[generation_pb2.ChatResponse]:
        messages.check_chat(request, self.max_tokens)
        conversations = [messages.conversation_from_proto(c) for c in request.conversations]
        params = messages.sampling_list(request.sampling, len(conversations))
        for index, completions in self.core.stream_chat(conversations, params):
            yield generation_pb2.ChatResponse(index=index, completions=completions)

    def ScoreAnswers(self, request: generation_pb2.ScoreAnswersRequest,
                     context: grpc.ServicerContext) -> generation_pb2.ScoreAnswersResponse:
        messages.check_score(request)
        return generation_pb2.ScoreAnswersResponse(
            scores=self.core.lm_score(list(request.instructions), list(request.codes)))

    def CountTokens(self, request: generation_pb2.CountTokensRequest,
                    context: grpc.ServicerContext) -> generation_pb2.CountTokensResponse:
        messages.check_items(request.texts, "texts", "at least one text")
        return generation_pb2.CountTokensResponse(counts=self.core.count_tokens(list(request.texts)))

    def ApplyChatTemplate(self, request: generation_pb2.ApplyChatTemplateRequest,
                          context: grpc.ServicerContext) -> generation_pb2.ApplyChatTemplateResponse:
        messages.check_apply_template(request)
        conversation = messages.conversation_from_proto(request.conversation)
        return generation_pb2.ApplyChatTemplateResponse(
            text=self.core.apply_chat_template(conversation, request.add_generation_prompt))

    def GetEngineInfo(self, request: generation_pb2.GetEngineInfoRequest,
                      context: grpc.ServicerContext) -> generation_pb2.GetEngineInfoResponse:
        info: dict[str, Any] = {**self.core.info(), "max_tokens_limit": self.max_tokens}
        return generation_pb2.GetEngineInfoResponse(
            engine=str(info.pop("engine", "")), model=str(info.pop("model", "")),
            details=messages.to_struct({k: v if isinstance(v, int | float | str | bool) else str(v)
                                        for k, v in info.items()}))

    def _method(self, method: str, request: Any) -> Iterator[generation_pb2.SeedOutcome]:
        messages.check_method(request.seeds, request.options, self.core.base_config)
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


def make_spec(config: GenerationConfig | None = None, *, engine: Engine | None = None) -> ServiceSpec:
    """The generation service: loads the `config.engine` engine (or serves the `engine` given,
    which is then not closed with the server)."""
    config = config or GenerationConfig()
    owned = engine is None
    if engine is None:
        engine = load_engine(config.engine)
    core = GenerationCore(engine, config)
    servicer = GenerationServicer(core)

    def register(server: grpc.Server) -> None:
        register_strict(generation_pb2_grpc.add_GenerationServiceServicer_to_server, servicer, server)

    return ServiceSpec(FULL_NAME, register, close=core.close if owned else None, extra={"core": core})
