"""The transformers engine on the real embedded model (slow: loads SmolLM2-135M-Instruct)."""

import pytest

from codeinstruct.core.errors import InvalidInput
from codeinstruct.engines import SamplingParams

pytestmark = pytest.mark.slow

PROMPTS = ["def add(a, b):", "The capital of France is", "for i in range(10):\n   "]


def test_greedy_batch_equals_one_by_one(engine):
    params = SamplingParams(max_tokens=10)
    batched = [c[0] for c in engine.generate(PROMPTS, params)]
    single = [engine.generate([p], params)[0][0] for p in PROMPTS]
    assert batched == single
    assert all(batched)


def test_per_prompt_seeds_do_not_depend_on_batch_mates(engine):
    seeded = SamplingParams(temperature=1.0, seed=11, n=2, max_tokens=10)
    alone = engine.generate([PROMPTS[0]], seeded)[0]
    together = engine.generate(PROMPTS, [seeded, SamplingParams(temperature=1.0, seed=3, max_tokens=5),
                                         SamplingParams(max_tokens=3)])
    assert together[0] == alone
    assert len(alone) == 2 and alone[0] != alone[1]  # two samples, distinct seeds
    other = engine.generate([PROMPTS[0]], SamplingParams(temperature=1.0, seed=12, n=2, max_tokens=10))[0]
    assert other != alone


def test_token_budget_is_per_row(engine):
    out = engine.generate(PROMPTS[:2], [SamplingParams(max_tokens=3), SamplingParams(max_tokens=12)])
    assert engine.count_tokens(out[0][0]) <= 3
    assert 3 < engine.count_tokens(out[1][0]) <= 12


def test_stop_strings_are_cut(engine):
    free = engine.generate(["1, 2, 3, 4,"], SamplingParams(max_tokens=16))[0][0]
    assert " 7" in free  # the model counts on
    stopped = engine.generate(["1, 2, 3, 4,"], SamplingParams(max_tokens=16, stop=(" 7",)))[0][0]
    assert " 7" not in stopped and free.startswith(stopped)


def test_repetition_penalty_changes_greedy_output(engine):
    plain = engine.generate(["1, 2, 3, 4,"], SamplingParams(max_tokens=16))[0][0]
    penalized = engine.generate(["1, 2, 3, 4,"], SamplingParams(max_tokens=16, repetition_penalty=1.5))[0][0]
    assert plain != penalized


def test_chat_applies_the_template_with_its_default_system_prompt(engine):
    text = engine.apply_chat_template([{"role": "user", "content": "hi"}])
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")
    own = engine.apply_chat_template([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
    assert "SmolLM" not in own
    reply = engine.chat([[{"role": "user", "content": "Say hello."}]], SamplingParams(max_tokens=8))
    assert len(reply) == 1 and reply[0][0].strip()
    with pytest.raises(InvalidInput, match="role"):
        engine.chat([[{"role": "robot", "content": "x"}]], SamplingParams())


def test_lm_score_batch_of_one_equals_batch_of_n(engine):
    instructions = ["Add two numbers.", "Reverse a string.", "Return the larger of two numbers, or the first "
                    "one when they are equal, without using max().", "Sort a list."]
    codes = ["def add(a, b):\n    return a + b", "def rev(s):\n    return s[::-1]",
             "def larger(a, b):\n    if b > a:\n        return b\n    return a", "def f(x):\n    return 1"]
    batched = engine.lm_score(instructions, codes)  # 4 lengths in one padded batch
    single = [engine.lm_score([i], [c])[0] for i, c in zip(instructions, codes, strict=True)]
    assert batched == pytest.approx(single, abs=1e-4)
    assert all(0.0 < s < 1.0 for s in batched)
    assert len(set(round(s, 6) for s in batched)) > 1  # the score depends on the pair
    with pytest.raises(InvalidInput):
        engine.lm_score(["a"], [])


def test_count_tokens(engine):
    assert engine.count_tokens("") == 0
    assert engine.count_tokens("hello world") == 2
