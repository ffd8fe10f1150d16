"""LM-Score arithmetic and token-set selection (fast; the model-backed checks are in test_transformers_engine)."""

import math

import pytest

from codeinstruct.core.errors import FailedPrecondition
from codeinstruct.engines import lm_score as lm
from codeinstruct.engines.openai_engine import score_from_top_logprobs


def test_prompt_is_the_inversecoder_prompt():
    text = lm.prompt_text("  Add two numbers. ", "def add(a, b):\n    return a + b\n")
    assert text == ("Here is a programming problem: Add two numbers. Here is the answer code to the problem: "
                    "def add(a, b):\n    return a + b Is the answer correct? Your reply should begin with Yes or No.")


def test_score_sums_variants_and_normalizes():
    # p(Yes variants) = 0.2 + 0.1, p(No variants) = 0.1 -> 0.75
    score = lm.score_from_logprobs([math.log(0.2), math.log(0.1)], [math.log(0.1)])
    assert score == pytest.approx(0.75)


def test_score_survives_tiny_probabilities():
    assert lm.score_from_logprobs([-1000.0], [-1001.0]) == pytest.approx(1 / (1 + math.exp(-1)))


def test_score_without_any_answer_token_is_neutral():
    assert lm.score_from_logprobs([-math.inf], [-math.inf]) == 0.5
    assert lm.score_from_logprobs([-math.inf], [math.log(0.3)]) == 0.0


def test_answer_tokens_keep_single_token_variants_only():
    vocab = {"Yes": [1], " Yes": [2], "yes": [3], " yes": [4], "YES": [5, 6], " YES": [7, 6], "Yes,": [1, 9],
             "Yes.": [1, 10], "No": [11], " No": [12], "no": [13], " no": [14], "NO": [15], " NO": [16],
             "No,": [11, 9], "No.": [11, 10]}
    yes, no = lm.answer_token_ids(lambda text: vocab[text])
    assert yes == [1, 2, 3, 4]
    assert no == [11, 12, 13, 14, 15, 16]


def test_answer_tokens_reject_a_tokenizer_without_yes():
    with pytest.raises(ValueError, match="Yes/No"):
        lm.answer_token_ids(lambda text: [1, 2])


def test_answer_tokens_resolve_on_first_use_and_are_cached():
    calls: list[str] = []
    vocab = {"Yes": [1], "No": [2]}

    def encode(text: str) -> list[int]:
        calls.append(text)
        return vocab.get(text, [7, 8])

    tokens = lm.AnswerTokens(encode, "tiny")
    assert calls == []  # loading an engine does not touch the tokenizer
    assert tokens.ids() == ([1], [2])
    resolved = len(calls)
    assert tokens.ids() == ([1], [2]) and len(calls) == resolved


def test_answer_tokens_missing_fail_only_lm_score_naming_the_model():
    tokens = lm.AnswerTokens(lambda text: [1, 2], "acme/no-yes-model")
    for _ in range(2):  # the failure is not cached as a success
        with pytest.raises(FailedPrecondition, match=r"LM-Score is not available for acme/no-yes-model.*yes=\[\]"):
            tokens.ids()


def test_openai_top_logprobs_are_matched_on_token_text():
    top = {" Yes": math.log(0.3), "Yes": math.log(0.1), "No": math.log(0.2), "Maybe": math.log(0.4)}
    assert score_from_top_logprobs(top) == pytest.approx(0.4 / 0.6)
    assert score_from_top_logprobs({"Maybe": 0.0}) == 0.5
