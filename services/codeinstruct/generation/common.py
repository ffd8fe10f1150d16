"""What every generation method shares: the run context, per-seed outcomes, record building.

A method is a function `run(seeds, ctx) -> Iterator[SeedOutcome]` that processes seeds in batches
(one batched engine call per stage) and yields, per seed and in order, the records it kept and the
reasons it rejected the rest. Seeds of each record are derived from the global seed, the method,
the seed id and the stage, so a record does not depend on which other seeds shared its batch.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.core import deadline
from codeinstruct.core.methods import Method
from codeinstruct.core.records import Record, fingerprint
from codeinstruct.engines.base import Engine, SamplingParams, derive_seed
from codeinstruct.generation import prompts
from codeinstruct.generation.config import GenerationConfig

logger = logging.getLogger(__name__)

# Bump when parsing or record building changes outputs for the same model outputs.
PARSER_VERSION = "2"

# The prompt templates each method uses (their refs go into the fingerprint).
TEMPLATES: dict[Method, tuple[str, ...]] = {
    "evol_instruct": ("evol_instruct.evolve", "evol_instruct.heuristics", "evol_instruct.equal", "answer"),
    "inverse_instruct": ("inverse_instruct.summarize", "inverse_instruct.prefixes"),
    "semi_instruct": ("semi_instruct.draft", "semi_instruct.instruction", "semi_instruct.inputs",
                      "semi_instruct.stdin", "semi_instruct.solution"),
    "wavecoder": ("wavecoder.generate", "wavecoder.tasks", "wavecoder.examples", "wavecoder.instruction",
                  "wavecoder.summarize", "wavecoder.solution", "wavecoder.translate"),
    "self_instruct": ("self_instruct.new", "answer"),
}


@dataclasses.dataclass
class SeedOutcome:
    """What one seed produced: kept records and rejection counts by reason.

    `notes` counts events that did not cost a record (a fallback taken); `state` is what the method
    carries to later seeds of the same run (JSON; the batch job journals it with the seed and hands
    the journaled states back as `Context.history` when the run resumes).
    """

    seed_id: str
    records: list[Record] = dataclasses.field(default_factory=list)
    rejected: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    notes: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    state: dict[str, Any] = dataclasses.field(default_factory=dict)

    def reject(self, reason: str, detail: str = "") -> None:
        self.rejected[reason] += 1
        if detail:
            logger.debug("seed %s: rejected (%s) %s", self.seed_id, reason, detail)


@dataclasses.dataclass
class Context:
    engine: Engine
    config: GenerationConfig
    method: Method
    fingerprint: str
    engine_settings: dict[str, Any]
    # states of the seeds an earlier, interrupted run of the same output finished (journal order)
    history: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def batch(self) -> int:
        size = self.config.seeds_per_batch or int(self.engine_settings.get("batch_size", 8))
        return max(1, size)

    def seed_for(self, seed_id: str, stage: str, index: int = 0) -> int:
        return derive_seed(self.config.seed, self.method, seed_id, stage, index)

    def params(self, seed_id: str, stage: str, index: int = 0, **kwargs: Any) -> SamplingParams:
        kwargs.setdefault("max_tokens", self.config.max_tokens)
        return SamplingParams(seed=self.seed_for(seed_id, stage, index), **kwargs)

    def chat(self, turns: Sequence[str], params: Sequence[SamplingParams]) -> list[list[str]]:
        """One user turn per prompt, answered in one batched engine call."""
        deadline.check()
        if not turns:
            return []
        return self.engine.chat([[{"role": "user", "content": t}] for t in turns], list(params))

    def record(self, seed: dict[str, Any], *, instruction: str, response: str, code: str = "",
               task: str = "generation", language: str | None = None, entry_point: str = "",
               tests: list[dict[str, str]] | None = None, scores: dict[str, Any] | None = None,
               record_seed: int | None = None, source_extra: dict[str, str] | None = None) -> Record:
        source = {"origin": str(seed.get("source", {}).get("origin", "seeds")),
                  "license": str(seed.get("source", {}).get("license", "")),
                  "parent_id": seed["id"]}
        if seed.get("code"):
            source["code"] = seed["code"]
        source.update(source_extra or {})
        generator = {"model": self.engine.model_name, "engine": self.engine.engine_name,
                     "fingerprint": self.fingerprint}
        if record_seed is not None:
            generator["seed"] = str(record_seed)
        return Record(method=self.method, task=task, language=language or seed.get("language") or "python",
                      instruction=instruction, response=response, code=code, entry_point=entry_point,
                      tests=list(tests or []), scores=dict(scores or {}), source=source,
                      generator=generator).validate()


def make_fingerprint(method: Method, config: GenerationConfig, engine: Engine,
                     engine_settings: dict[str, Any]) -> str:
    """Hash of everything that changes `method`'s outputs: model, engine, prompts, settings, seed."""
    settings = {
        "method": method,
        "model": engine.model_name,
        "engine": engine.engine_name,
        "dtype": engine_settings.get("dtype", ""),
        "templates": [prompts.load(name).ref for name in TEMPLATES[method]],
        "parser_version": PARSER_VERSION,
        "settings": config.method_settings(method),
    }
    return fingerprint(settings)


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def fence(code: str, language: str) -> str:
    return f"```{language}\n{code.rstrip()}\n```"
