"""GenerationService at the boundary: every bad request is INVALID_ARGUMENT naming the request field,
with a specific reason, before the engine is used; the server stays SERVING; good requests still work.

A real server on 127.0.0.1 with the embedded engine (loaded once per module: about 10 s here, so slow).
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import struct_pb2

from codeinstruct.core.config import ServerConfig
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.generation.service import FULL_NAME, make_spec
from codeinstruct.server.bootstrap import GrpcServer
from codeinstruct.server.status import details_of
from codeinstruct.v1 import common_pb2, generation_pb2, generation_pb2_grpc
from tests.support.boundary import Case, cases_named, check_case

pytestmark = pytest.mark.slow

pb = generation_pb2
USER = pb.ChatMessage(role=pb.CHAT_ROLE_USER, content="hi")
CONVERSATION = pb.Conversation(messages=[USER])
SEED = common_pb2.Record(id="s0", code="def double(x):\n    return 2 * x\n", language="python")


def _seeds(count: int) -> list[common_pb2.Record]:
    return [common_pb2.Record(id=f"s{i}", code=f"def f{i}(x):\n    return x + {i}\n") for i in range(count)]


def _settings(data: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(data)
    return message


def _sampling(**values: float) -> pb.SamplingParams:
    return pb.SamplingParams(**values)  # type: ignore[arg-type]


def _method_cases(rpc: str, request_type: type) -> list[Case]:
    return [
        Case(rpc, request_type(), "seeds", "FIELD_REQUIRED"),
        Case(rpc, request_type(seeds=[*_seeds(3), common_pb2.Record(id="s1", code="x = 1")]), "seeds[3].id",
             "DUPLICATE_ID"),
        Case(rpc, request_type(seeds=[SEED, common_pb2.Record(id="empty")]), "seeds[1].code", "FIELD_REQUIRED"),
        Case(rpc, request_type(seeds=[SEED], options=pb.MethodOptions(limit=-1)), "options.limit", "OUT_OF_RANGE"),
        Case(rpc, request_type(seeds=[SEED], options=pb.MethodOptions(settings=_settings({"evol": {"roundz": 2}}))),
             "options.settings.evol.roundz", "UNKNOWN_SETTING"),
        Case(rpc, request_type(seeds=[SEED], options=pb.MethodOptions(settings=_settings({"evol": {"rounds": 99}}))),
             "options.settings.evol.rounds", "INVALID_SETTING"),
        Case(rpc, request_type(seeds=[SEED], options=pb.MethodOptions(settings=_settings({"evol": 3}))),
             "options.settings.evol", "INVALID_SETTING", label="section-not-object"),
        Case(rpc, request_type(seeds=[SEED], options=pb.MethodOptions(settings=_settings({"engine": {"model": "x"}}))),
             "options.settings.engine", "INVALID_SETTING"),
    ]


CASES = cases_named([
    # Generate: prompts required, sampling 0/1/one per prompt, each field in range
    Case("Generate", pb.GenerateRequest(), "prompts", "FIELD_REQUIRED"),
    Case("Generate", pb.GenerateRequest(prompts=["a", ""]), "prompts[1]", "FIELD_REQUIRED"),
    Case("Generate", pb.GenerateRequest(prompts=["a"] * 4097), "prompts", "TOO_MANY_ITEMS"),
    Case("Generate", pb.GenerateRequest(prompts=["a", "b", "c"], sampling=[_sampling()] * 2), "sampling",
         "LENGTH_MISMATCH"),
    Case("Generate", pb.GenerateRequest(prompts=["a", "b"], sampling=[_sampling(), _sampling(temperature=2.5)]),
         "sampling[1].temperature", "OUT_OF_RANGE"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[_sampling(temperature=-0.1)]),
         "sampling[0].temperature", "OUT_OF_RANGE", label="temperature-negative"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[_sampling(temperature=float("nan"))]),
         "sampling[0].temperature", "OUT_OF_RANGE", label="temperature-nan"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[_sampling(n=-1)]), "sampling[0].n", "OUT_OF_RANGE"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[_sampling(n=65)]), "sampling[0].n", "OUT_OF_RANGE",
         label="n-above-cap"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[_sampling(top_p=1.5)]), "sampling[0].top_p",
         "OUT_OF_RANGE"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[_sampling(top_p=-0.5)]), "sampling[0].top_p",
         "OUT_OF_RANGE", label="top_p-negative"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[_sampling(max_tokens=-1)]), "sampling[0].max_tokens",
         "OUT_OF_RANGE"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[_sampling(max_tokens=1 << 20)]),
         "sampling[0].max_tokens", "OUT_OF_RANGE", label="max_tokens-above-engine"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[_sampling(repetition_penalty=-1)]),
         "sampling[0].repetition_penalty", "OUT_OF_RANGE"),
    Case("Generate", pb.GenerateRequest(prompts=["a"], sampling=[pb.SamplingParams(stop=["x", ""])]),
         "sampling[0].stop[1]", "INVALID_VALUE"),
    # Chat: conversations required, roles an enum, sampling as for Generate
    Case("Chat", pb.ChatRequest(), "conversations", "FIELD_REQUIRED"),
    Case("Chat", pb.ChatRequest(conversations=[CONVERSATION, pb.Conversation()]), "conversations[1].messages",
         "FIELD_REQUIRED"),
    Case("Chat", pb.ChatRequest(conversations=[pb.Conversation(messages=[USER, pb.ChatMessage(content="x")])]),
         "conversations[0].messages[1].role", "FIELD_REQUIRED"),
    Case("Chat", pb.ChatRequest(conversations=[pb.Conversation(messages=[USER, pb.ChatMessage(role=7)])]),  # type: ignore[arg-type]
         "conversations[0].messages[1].role", "UNKNOWN_ENUM_VALUE"),
    Case("Chat", pb.ChatRequest(conversations=[CONVERSATION] * 2, sampling=[_sampling()] * 3), "sampling",
         "LENGTH_MISMATCH"),
    Case("Chat", pb.ChatRequest(conversations=[CONVERSATION], sampling=[_sampling(temperature=9)]),
         "sampling[0].temperature", "OUT_OF_RANGE"),
    # ScoreAnswers, CountTokens, ApplyChatTemplate
    Case("ScoreAnswers", pb.ScoreAnswersRequest(), "instructions", "FIELD_REQUIRED"),
    Case("ScoreAnswers", pb.ScoreAnswersRequest(instructions=["a", "b"], codes=["c"]), "codes", "LENGTH_MISMATCH"),
    Case("CountTokens", pb.CountTokensRequest(), "texts", "FIELD_REQUIRED"),
    Case("CountTokens", pb.CountTokensRequest(texts=["a"] * 4097), "texts", "TOO_MANY_ITEMS"),
    Case("ApplyChatTemplate", pb.ApplyChatTemplateRequest(), "conversation", "FIELD_REQUIRED"),
    Case("ApplyChatTemplate", pb.ApplyChatTemplateRequest(conversation=pb.Conversation(messages=[
        pb.ChatMessage(role=pb.CHAT_ROLE_UNSPECIFIED, content="x")])), "conversation.messages[0].role",
        "FIELD_REQUIRED"),
    # method RPCs: seeds required and uniquely named, limit >= 0, settings checked as request settings
    *_method_cases("SummarizeCode", pb.SummarizeCodeRequest),
    *_method_cases("EvolveInstructions", pb.EvolveInstructionsRequest),
    *_method_cases("DraftSemiInstruct", pb.DraftSemiInstructRequest),
    *_method_cases("GenerateWaveCoderTasks", pb.GenerateWaveCoderTasksRequest),
    *_method_cases("SelfInstruct", pb.SelfInstructRequest),
])


@pytest.fixture(scope="module")
def channel(engine) -> Iterator[grpc.Channel]:
    server = GrpcServer(ServerConfig(host="127.0.0.1", port=0), [make_spec(GenerationConfig(), engine=engine)])
    server.start()
    with grpc.insecure_channel(server.address) as opened:
        yield opened
    server.stop(grace=1.0)


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> generation_pb2_grpc.GenerationServiceStub:
    return generation_pb2_grpc.GenerationServiceStub(channel)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_request(case: Case, stub: generation_pb2_grpc.GenerationServiceStub, channel: grpc.Channel) -> None:
    check_case(case, stub, channel, FULL_NAME)


def test_settings_errors_say_request_not_flag(stub: generation_pb2_grpc.GenerationServiceStub) -> None:
    request = pb.EvolveInstructionsRequest(seeds=[SEED], options=pb.MethodOptions(
        settings=_settings({"evol": {"roundz": 2}})))
    with pytest.raises(grpc.RpcError) as caught:
        list(stub.EvolveInstructions(request, timeout=30))
    details = details_of(caught.value)
    assert "(from request)" in str(details["message"]) and "(from flag)" not in str(details["message"])


def test_malformed_bytes_are_invalid_argument(channel: grpc.Channel) -> None:
    """A client we did not write sends bytes that are no CountTokensRequest."""
    raw = channel.unary_unary(f"/{FULL_NAME}/CountTokens")
    with pytest.raises(grpc.RpcError) as caught:
        raw(b"\x0a\xff\xff\xff\xff\x0f", timeout=10)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_good_requests_still_answer(stub: generation_pb2_grpc.GenerationServiceStub) -> None:
    info = stub.GetEngineInfo(pb.GetEngineInfoRequest(), timeout=30)
    assert info.details["max_tokens_limit"] == 4096
    assert list(stub.CountTokens(pb.CountTokensRequest(texts=["hello world", ""]), timeout=30).counts) == [2, 0]
    conversation = pb.Conversation(messages=[pb.ChatMessage(role=pb.CHAT_ROLE_SYSTEM, content="Be brief."), USER])
    text = stub.ApplyChatTemplate(pb.ApplyChatTemplateRequest(conversation=conversation, add_generation_prompt=True),
                                  timeout=30).text
    assert "Be brief." in text and "hi" in text
    replies = list(stub.Generate(pb.GenerateRequest(prompts=["def add(a, b):", "x ="], sampling=[
        _sampling(max_tokens=3, temperature=2.0, top_p=1.0, n=2, seed=0)]), timeout=120))
    assert sorted(r.index for r in replies) == [0, 1] and all(len(r.completions) == 2 for r in replies)
    chat = list(stub.Chat(pb.ChatRequest(conversations=[conversation], sampling=[_sampling(max_tokens=3)]),
                          timeout=120))
    assert [r.index for r in chat] == [0]
    scores = stub.ScoreAnswers(pb.ScoreAnswersRequest(instructions=["Add."], codes=["a + b"]), timeout=120).scores
    assert 0.0 < scores[0] < 1.0
    outcomes = list(stub.SummarizeCode(pb.SummarizeCodeRequest(seeds=_seeds(2), options=pb.MethodOptions(
        limit=1, settings=_settings({"inverse": {"samples": 1, "max_tokens": 8}}))), timeout=300))
    assert [o.outcome.seed_id for o in outcomes] == ["s0"]
