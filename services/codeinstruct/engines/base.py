"""The engine interface every backend implements, and the sampling parameters they share.

An engine hosts one model and offers batched text generation (`generate`, `chat`), the InverseCoder
LM-Score (`lm_score`, see `codeinstruct.engines.lm_score`), chat templating and token counting.
Generation methods and scoring stages only talk to this interface, so a config switch moves them
from the embedded CPU model to vLLM on a GPU or to a remote OpenAI-compatible server.

Per-request seeds: `generate` accepts one `SamplingParams` for all prompts or one per prompt, so a
batch job can give each record its own seed (reproducible independently of its batch mates).
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

from codeinstruct.core.config import check
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.lifecycle import Closing

Message = dict[str, str]
Conversation = list[Message]


@dataclasses.dataclass(frozen=True)
class SamplingParams:
    """How to sample. `temperature == 0` means greedy decoding (then top_p and seed do not matter)."""

    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    repetition_penalty: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        check(1 <= self.n <= 64, "sampling.n", f"must be 1..64, got {self.n}")
        check(0.0 <= self.temperature <= 5.0, "sampling.temperature", f"must be 0..5, got {self.temperature}")
        check(0.0 < self.top_p <= 1.0, "sampling.top_p", f"must be in (0, 1], got {self.top_p}")
        check(1 <= self.max_tokens <= 32768, "sampling.max_tokens", f"must be 1..32768, got {self.max_tokens}")
        check(0.0 < self.repetition_penalty <= 5.0, "sampling.repetition_penalty",
              f"must be in (0, 5], got {self.repetition_penalty}")
        check(all(isinstance(s, str) and s for s in self.stop), "sampling.stop",
              f"stop strings must be non-empty strings, got {self.stop!r}")
        if not isinstance(self.stop, tuple):
            object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def sample_seed(self, index: int) -> int | None:
        """Seed of the `index`-th of the n samples: distinct per sample, stable across runs."""
        if self.seed is None:
            return None
        return derive_seed(self.seed, index)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any parts (global seed, item key, sample index): stable across processes."""
    digest = hashlib.sha256(repr(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


def per_prompt(params: SamplingParams | Sequence[SamplingParams], count: int) -> list[SamplingParams]:
    """Normalize `params` to one SamplingParams per prompt."""
    if isinstance(params, SamplingParams):
        return [params] * count
    params = list(params)
    if len(params) != count:
        raise InvalidInput(f"got {len(params)} sampling params for {count} prompts", field="params")
    return params


def truncate_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut `text` at the earliest stop string (the stop string itself is not returned)."""
    cut = len(text)
    for s in stop:
        pos = text.find(s)
        if pos != -1:
            cut = min(cut, pos)
    return text[:cut]


class Engine(Closing, abc.ABC):
    """One loaded model. Thread-compatible, not thread-safe: callers serialize calls (the service does)."""

    model_name: str = ""
    engine_name: str = ""

    @abc.abstractmethod
    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        """Complete raw prompts; returns `n` completions per prompt (stop strings cut off)."""

    @abc.abstractmethod
    def apply_chat_template(self, messages: Conversation, add_generation_prompt: bool = True) -> str:
        """The model's chat template applied to `messages`, as text."""

    @abc.abstractmethod
    def count_tokens(self, text: str) -> int:
        """Number of tokens `text` encodes to (no special tokens added)."""

    @abc.abstractmethod
    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        """InverseCoder LM-Score p(Yes) / (p(Yes) + p(No)) for each (instruction, code) pair."""

    def chat(self, conversations: list[Conversation],
             params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        """Answer each conversation (the chat template is applied here)."""
        for i, conversation in enumerate(conversations):
            validate_conversation(conversation, i)
        prompts = [self.apply_chat_template(c, add_generation_prompt=True) for c in conversations]
        return self.generate(prompts, params)

    def info(self) -> dict[str, Any]:
        return {"engine": self.engine_name, "model": self.model_name}



def validate_conversation(conversation: Conversation, index: int = 0) -> None:
    if not isinstance(conversation, list) or not conversation:
        raise InvalidInput(f"conversation {index} must be a non-empty list of messages", field="conversations")
    for message in conversation:
        if not isinstance(message, dict) or message.get("role") not in {"system", "user", "assistant"} \
                or not isinstance(message.get("content"), str):
            raise InvalidInput(f"conversation {index}: each message needs role system|user|assistant and "
                               f"string content, got {message!r}", field="conversations")
