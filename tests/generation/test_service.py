"""GenerationService over real gRPC on 127.0.0.1 with the embedded model (slow)."""

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.engines import SamplingParams
from codeinstruct.generation.client import GenerationClient
from codeinstruct.generation.config import GenerationConfig, InverseConfig
from codeinstruct.generation.seeds import stdlib_seeds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(engine):
    with GenerationClient("loopback", GenerationConfig(inverse=InverseConfig(max_tokens=16)), engine=engine) as c:
        yield c


def test_engine_operations_match_the_engine(client, engine):
    info = client.info()
    assert info["engine"] == "transformers" and info["model"] == "SmolLM2-135M-Instruct"
    prompts = ["def add(a, b):", "The capital of France is", "x = [1, 2,", "import", "class A:"]
    params = SamplingParams(max_tokens=6)
    assert client.generate(prompts, params) == engine.generate(prompts, params)  # streamed back in order
    conversation = [{"role": "user", "content": "hi"}]
    assert client.apply_chat_template(conversation) == engine.apply_chat_template(conversation)
    assert client.count_tokens(["hello world", ""]) == [2, 0]
    scores = client.lm_score(["Add two numbers."], ["def add(a, b):\n    return a + b"])
    assert scores == pytest.approx(engine.lm_score(["Add two numbers."], ["def add(a, b):\n    return a + b"]))
    assert client.chat([conversation], SamplingParams(max_tokens=4)) == engine.chat([conversation],
                                                                                   SamplingParams(max_tokens=4))


def test_method_rpc_streams_outcomes(client, engine):
    seeds = stdlib_seeds(2)
    outcomes = list(client.outcomes("inverse_instruct", seeds, limit=1, settings={"inverse": {"samples": 1}}))
    assert [o.seed_id for o in outcomes] == [seeds[0]["id"]]
    assert len(outcomes[0].records) + sum(outcomes[0].rejected.values()) == 1
    for record in outcomes[0].records:
        assert record.method == "inverse_instruct" and record.source["parent_id"] == seeds[0]["id"]


def test_bad_requests_come_back_as_invalid_input(client):
    with pytest.raises(InvalidInput, match="engine"):
        list(client.outcomes("inverse_instruct", stdlib_seeds(1), settings={"engine": {"model": "x"}}))
    with pytest.raises(InvalidInput, match="inverse_smaples"):
        list(client.outcomes("inverse_instruct", stdlib_seeds(1), settings={"inverse_smaples": 2}))
    with pytest.raises(InvalidInput):
        client.lm_score(["a", "b"], ["c"])
    with pytest.raises(InvalidInput, match="method"):
        list(client.outcomes("magic", stdlib_seeds(1)))


def test_remote_engine_serves_scoring(client):
    remote = client.as_engine()
    assert remote.engine_name == "remote:transformers"
    assert 0.0 < remote.lm_score(["Sort a list."], ["sorted(x)"])[0] < 1.0
