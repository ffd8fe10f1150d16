"""WaveCoder's example pool: the few-shot examples the generator is shown, grown by the discriminator.

The pool starts with the packaged examples (prompt file `wavecoder.examples`, one per task) and
takes every example the discriminator accepts, at most `generation.wavecoder.pool_size` per task
(the newest; the packaged ones always stay). A prompt shows `shots` examples of its task drawn with
the record's seeded random generator.

Persistence: the examples a seed added travel in its `SeedOutcome.state["pool"]`, which the batch
job writes into that seed's journal line (`<output>.seeds.jsonl`, after the seed's records). A
resumed run rebuilds the pool from the journal in order (`Context.history`), so it continues from
exactly the pool the interrupted run had after its last finished seed.

    pool = ExamplePool.resumed(ctx.history, size=32)
    shots = pool.sample("repair", 2, random.Random(7))
"""

from __future__ import annotations

import collections
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from codeinstruct.generation import prompts

FIELDS = ("task", "language", "code", "instruction", "information", "solution")
STATE_KEY = "pool"


def packaged_examples() -> list[dict[str, str]]:
    return [_example(json.loads(line)) for line in prompts.load("wavecoder.examples").lines()]


def _example(obj: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(obj.get(name, "")) for name in FIELDS}


class ExamplePool:
    """Few-shot examples per task: the packaged ones plus the newest `size` accepted ones."""

    def __init__(self, size: int, initial: Iterable[Mapping[str, Any]] | None = None):
        self.size = size
        self.initial: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
        for example in packaged_examples() if initial is None else initial:
            item = _example(example)
            self.initial[item["task"]].append(item)
        self.accepted: dict[str, collections.deque[dict[str, str]]] = collections.defaultdict(
            lambda: collections.deque(maxlen=max(1, size)))

    @classmethod
    def resumed(cls, history: Sequence[Mapping[str, Any]], size: int,
                initial: Iterable[Mapping[str, Any]] | None = None) -> ExamplePool:
        """The pool after the finished seeds whose states (journal order) are `history`."""
        pool = cls(size, initial)
        for state in history:
            for example in state.get(STATE_KEY, ()):
                pool.add(example)
        return pool

    def add(self, example: Mapping[str, Any]) -> dict[str, str]:
        item = _example(example)
        if self.size > 0:
            self.accepted[item["task"]].append(item)
        return item

    def examples(self, task: str) -> list[dict[str, str]]:
        return [*self.initial.get(task, []), *self.accepted.get(task, ())]

    def sample(self, task: str, k: int, rng: random.Random) -> list[dict[str, str]]:
        """`k` examples of `task` (fewer when the pool has fewer), drawn without repetition by `rng`."""
        candidates = self.examples(task)
        return rng.sample(candidates, min(k, len(candidates)))

    def __len__(self) -> int:
        return sum(len(v) for v in self.initial.values()) + sum(len(v) for v in self.accepted.values())


def render_examples(examples: Sequence[Mapping[str, str]]) -> str:
    """Examples in the generator's reply format, each after the raw code it was made from."""
    blocks = []
    for number, example in enumerate(examples, 1):
        language = example["language"] or "python"
        blocks.append(f"Example {number}. Raw code:\n```{language}\n{example['code'].rstrip()}\n```\n"
                      f"Task name: {example['task']}\nInstruction: {example['instruction']}\n"
                      f"Information: {example['information'] or '<noinput>'}\nSolution: {example['solution']}\n\n")
    return "".join(blocks)
