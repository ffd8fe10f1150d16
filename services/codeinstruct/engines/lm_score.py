"""LM-Score (InverseCoder): how strongly the model itself believes an answer solves a problem.

    LM-Score = p(Yes) / (p(Yes) + p(No))

read from the distribution of the FIRST answer token after the prompt below (wrapped in the
model's chat template as one user turn). Tokenizers spell Yes/No differently (on SmolLM2 "YES" is
two tokens), so each side is the SUM of the probabilities of its single-token variants ("Yes",
" Yes", "yes", "YES" ...). Multi-token variants are left out: their first token is shared with
unrelated words. Engines compute it with one forward pass over the prompt, last position only.

Engines resolve the answer tokens lazily (`AnswerTokens`): a tokenizer without single-token Yes/No
can still generate, and only LM-Score fails (FailedPrecondition, naming the model).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from codeinstruct.core.errors import FailedPrecondition

PROMPT_VERSION = "inversecoder-v1"
PROMPT = ("Here is a programming problem: {instruction} Here is the answer code to the problem: {code} "
          "Is the answer correct? Your reply should begin with Yes or No.")

YES_VARIANTS = ("Yes", " Yes", "yes", " yes", "YES", " YES", "Yes,", "Yes.")
NO_VARIANTS = ("No", " No", "no", " no", "NO", " NO", "No,", "No.")


def prompt_text(instruction: str, code: str) -> str:
    return PROMPT.format(instruction=instruction.strip(), code=code.strip())


def answer_token_ids(encode: Callable[[str], Sequence[int]]) -> tuple[list[int], list[int]]:
    """Token ids of the single-token Yes and No variants of a tokenizer (`encode` adds no specials)."""
    def single(variants: Sequence[str]) -> list[int]:
        ids: list[int] = []
        for text in variants:
            tokens = list(encode(text))
            if len(tokens) == 1 and tokens[0] not in ids:
                ids.append(tokens[0])
        return ids

    yes, no = single(YES_VARIANTS), single(NO_VARIANTS)
    if not yes or not no or set(yes) & set(no):
        raise ValueError(f"tokenizer has no usable single-token Yes/No answers (yes={yes}, no={no})")
    return yes, no


class AnswerTokens:
    """The Yes/No answer token ids of one engine's tokenizer, resolved on the first LM-Score call.

    Not at load time: generation does not need them, and a model whose tokenizer lacks them must
    still load and generate. The first `ids()` call on such a tokenizer raises FailedPrecondition;
    a successful resolution is cached.
    """

    def __init__(self, encode: Callable[[str], Sequence[int]], model_name: str):
        self._encode = encode
        self._model_name = model_name
        self._ids: tuple[list[int], list[int]] | None = None

    def ids(self) -> tuple[list[int], list[int]]:
        if self._ids is None:
            try:
                self._ids = answer_token_ids(self._encode)
            except ValueError as exc:
                raise FailedPrecondition(f"LM-Score is not available for {self._model_name}: {exc}") from exc
        return self._ids


def score_from_logprobs(yes_logprobs: Sequence[float], no_logprobs: Sequence[float]) -> float:
    """p(Yes) / (p(Yes) + p(No)) from the log-probabilities of each side's tokens (missing: -inf).

    Computed in log space so tiny probabilities do not underflow to 0/0; 0.5 when both sides are
    absent (no information either way).
    """
    yes = _logsumexp(yes_logprobs)
    no = _logsumexp(no_logprobs)
    if yes == -math.inf and no == -math.inf:
        return 0.5
    top = max(yes, no)
    p_yes, p_no = math.exp(yes - top), math.exp(no - top)
    return p_yes / (p_yes + p_no)


def _logsumexp(values: Sequence[float]) -> float:
    finite = [v for v in values if v != -math.inf and not math.isnan(v)]
    if not finite:
        return -math.inf
    top = max(finite)
    return top + math.log(sum(math.exp(v - top) for v in finite))
