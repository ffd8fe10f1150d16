"""The generation service's core and its interface: `GeneratorLike`, implemented by `GenerationCore`
(one shared engine in this process) and `GenerationClient` (the service over gRPC).

The gRPC servicer (`service.py`) translates messages to `GenerationCore`; in-process callers hold it
directly (`codeinstruct.targets.open_generator`). Engines are not thread-safe, so `LockedEngine`
serializes calls and concurrent RPCs interleave batch by batch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from codeinstruct.core import deadline
from codeinstruct.core.config import updated
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.jsontypes import JsonObject, JsonValue
from codeinstruct.engines import Engine, SamplingParams
from codeinstruct.engines.base import Conversation, per_prompt, validate_conversation
from codeinstruct.generation.common import SeedOutcome
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.generation.run import context, generate_outcomes

MAX_ITEMS = 4096  # prompts, pairs or seeds per request


class GeneratorLike(Protocol):
    """The generation service: method runs (per-seed outcomes) and the engine's own operations."""

    def outcomes(self, method: str, seeds: Sequence[JsonObject], limit: int | None = ...,
                 settings: JsonObject | None = ...) -> Iterator[SeedOutcome]: ...

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]: ...

    def chat(self, conversations: list[Conversation],
             params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]: ...

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def apply_chat_template(self, conversation: Conversation, add_generation_prompt: bool = ...) -> str: ...

    def info(self) -> dict[str, JsonValue]: ...

    def close(self) -> None: ...


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

    def info(self) -> dict[str, JsonValue]:
        return self.inner.info()

    def close(self) -> None:
        with self.lock:
            self.inner.close()


class GenerationCore:
    """Transport-free operations of the service (the servicer only converts messages)."""

    def __init__(self, engine: Engine, config: GenerationConfig | None = None):
        self.engine = engine if isinstance(engine, LockedEngine) else LockedEngine(engine)
        self.base_config = config or GenerationConfig()
        batch = self.engine.info().get("batch_size")
        self.batch = batch if isinstance(batch, int) and batch > 0 else 8

    def config_with(self, settings: JsonObject) -> GenerationConfig:
        """The service's generation settings with a request's `settings` (same shape as the section) applied."""
        if "engine" in settings:
            raise InvalidInput("settings cannot change the engine: the service hosts one engine",
                               field="options.settings.engine")
        return updated(self.base_config, "generation", settings)

    def stream_generate(self, prompts: list[str], params: list[SamplingParams]) -> Iterator[tuple[int, list[str]]]:
        """(index, completions) per prompt, batch by batch (what the streaming RPC sends)."""
        check_size(len(prompts), "prompts")
        for start in range(0, len(prompts), self.batch):
            deadline.check()
            chunk = prompts[start:start + self.batch]
            for offset, completions in enumerate(self.engine.generate(chunk, params[start:start + len(chunk)])):
                yield start + offset, completions

    def stream_chat(self, conversations: list[Conversation],
                    params: list[SamplingParams]) -> Iterator[tuple[int, list[str]]]:
        for i, conversation in enumerate(conversations):
            validate_conversation(conversation, i)
        texts = [self.engine.apply_chat_template(c) for c in conversations]
        yield from self.stream_generate(texts, params)

    def generate(self, prompts: list[str], params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in prompts]
        for index, completions in self.stream_generate(prompts, per_prompt(params, len(prompts))):
            out[index] = completions
        return out

    def chat(self, conversations: list[Conversation],
             params: SamplingParams | Sequence[SamplingParams]) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in conversations]
        for index, completions in self.stream_chat(conversations, per_prompt(params, len(conversations))):
            out[index] = completions
        return out

    def count_tokens(self, texts: list[str]) -> list[int]:
        check_size(len(texts), "texts")
        return [self.engine.count_tokens(t) for t in texts]

    def apply_chat_template(self, conversation: Conversation, add_generation_prompt: bool = True) -> str:
        validate_conversation(conversation)
        return self.engine.apply_chat_template(conversation, add_generation_prompt)

    def info(self) -> dict[str, JsonValue]:
        return dict(self.engine.info())

    def lm_score(self, instructions: list[str], codes: list[str]) -> list[float]:
        check_size(len(instructions), "instructions")
        if len(instructions) != len(codes):
            raise InvalidInput(f"{len(instructions)} instructions but {len(codes)} codes", field="codes")
        return self.engine.lm_score(instructions, codes)

    def run_method(self, method: str, seeds: list[dict[str, Any]], limit: int | None,
                   settings: JsonObject) -> Iterator[tuple[SeedOutcome, str]]:
        check_size(len(seeds), "seeds")
        if not seeds:
            raise InvalidInput("no seeds given", field="seeds")
        config = self.config_with(settings)
        fingerprint = context(method, self.engine, config).fingerprint
        for outcome in generate_outcomes(method, seeds, self.engine, config, limit):
            yield outcome, fingerprint

    def outcomes(self, method: str, seeds: Sequence[JsonObject], limit: int | None = None,
                 settings: JsonObject | None = None) -> Iterator[SeedOutcome]:
        for outcome, _ in self.run_method(method, [dict(s) for s in seeds], limit, settings or {}):
            yield outcome

    def close(self) -> None:
        self.engine.close()


def check_size(count: int, field: str) -> None:
    if count > MAX_ITEMS:
        raise InvalidInput(f"{count} {field} in one request; at most {MAX_ITEMS} (split the request)", field=field)

