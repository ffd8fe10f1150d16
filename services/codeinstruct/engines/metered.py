"""`MeteredEngine`: any `Engine`, with the tokens and seconds of every call added to a `Usage`.

A wrapper rather than a change to the backends: generation methods and scoring stages get the
metered object where they got the engine, and every call is forwarded unchanged. Tokens are counted
with the wrapped engine's own `count_tokens`: prompts (or chat messages, or LM-Score
instruction + code) as `tokens_in`, completions as `tokens_out`; engine seconds are the wall time of
the calls. A backend without a tokenizer falls back to ~4 characters per token (logged once).

Example:
    usage = Usage()
    engine = MeteredEngine(load_engine(config), usage)
    engine.chat([[{"role": "user", "content": "hi"}]], SamplingParams())
    usage.tokens_out   # > 0
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from codeinstruct.core.usage import Usage
from codeinstruct.engines.base import Conversation, Engine, SamplingParams

logger = logging.getLogger(__name__)


class MeteredEngine(Engine):
    """Forwards every call to `engine`; does not own it (`close()` leaves it open)."""

    def __init__(self, engine: Engine, usage: Usage | None = None):
        self.engine = engine
        self.usage = usage if usage is not None else Usage()
        self.model_name = engine.model_name
        self.engine_name = engine.engine_name
        self._estimated = False

    def tokens(self, text: str) -> int:
        try:
            return int(self.engine.count_tokens(text))
        except Exception:  # accounting never fails a call
            if not self._estimated:
                self._estimated = True
                logger.warning("%s cannot count tokens; estimating 4 characters per token", self.engine_name)
            return (len(text) + 3) // 4

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        started = time.monotonic()
        out = self.engine.generate(prompts, params)
        seconds = time.monotonic() - started
        self.usage.add_engine(sum(self.tokens(p) for p in prompts),
                              sum(self.tokens(c) for completions in out for c in completions), seconds)
        return out

    def chat(self, conversations: list[Conversation],
             params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        started = time.monotonic()
        out = self.engine.chat(conversations, params)
        seconds = time.monotonic() - started
        # The messages' tokens (the chat template's few framing tokens are not counted).
        self.usage.add_engine(sum(self.tokens(m["content"]) for c in conversations for m in c),
                              sum(self.tokens(c) for completions in out for c in completions), seconds)
        return out

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        started = time.monotonic()
        out = self.engine.lm_score(instructions, codes)
        seconds = time.monotonic() - started
        # One forward pass per pair: its input is the instruction and the code; nothing is generated.
        self.usage.add_engine(sum(self.tokens(i) + self.tokens(c) for i, c in zip(instructions, codes, strict=True)),
                              0, seconds)
        return out

    def apply_chat_template(self, messages: Conversation, add_generation_prompt: bool = True) -> str:
        return self.engine.apply_chat_template(messages, add_generation_prompt)

    def count_tokens(self, text: str) -> int:
        return self.engine.count_tokens(text)

    def info(self) -> dict[str, Any]:
        return self.engine.info()

    def __getattr__(self, name: str) -> Any:
        # Backend-specific attributes (a tokenizer ...) of the wrapped engine.
        if name == "engine":
            raise AttributeError(name)
        return getattr(self.engine, name)

    def close(self) -> None:
        """The wrapped engine belongs to the caller."""
