"""Training data: prompt formatting, labels on response tokens only, batch order and dynamic padding.

A record becomes `prompt + response` in one of three formats: the base model's chat template
(`chat`), Alpaca's or Magicoder's instruction template. Prompt and response are tokenized apart and
concatenated, so the boundary is exact; labels are -100 on the prompt and on padding, and the token
ids of the response (ending with EOS) elsewhere. Labels are built explicitly rather than derived
from `input_ids != pad_id`, because SmolLM2 pads with its EOS token and that rule would also hide the
EOS that teaches the model to stop.

The batch order is a pure function of (seed, epoch, position), so a resumed run needs only the
position to continue exactly where it stopped; with curriculum ordering the dataset order is kept.
`ranked_by` recognises a ranked (curriculum) dataset from its records, so the trainer keeps its
order unless told to shuffle.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record, read_records, stable_hash

logger = logging.getLogger(__name__)

IGNORE_INDEX = -100

MAGICODER_SYSTEM = ("You are an exceptionally intelligent coding assistant that consistently delivers accurate "
                    "and reliable responses to user instructions.")
ALPACA_SYSTEM = ("Below is an instruction that describes a task. Write a response that appropriately completes "
                 "the request.")

TEMPLATES = {
    "magicoder": MAGICODER_SYSTEM + "\n\n@@ Instruction\n{instruction}\n\n@@ Response\n",
    "alpaca": ALPACA_SYSTEM + "\n\n### Instruction:\n{instruction}\n\n### Response:\n",
}


def load_records(data: str | Path | Iterable[Record | Mapping[str, Any]]) -> list[Record]:
    """Records from a JSONL path or an iterable of Record / record dicts, in their given order."""
    if isinstance(data, (str, Path)):
        return list(read_records(data))
    records = []
    for item in data:
        records.append(item if isinstance(item, Record) else Record.from_dict(item))
    return records


def prompt_and_response(record: Record, tokenizer: Any, prompt_format: str) -> tuple[str, str]:
    """The prompt text (what the model is given) and the response text (what it learns to write)."""
    response = record.response or record.code
    if not record.instruction.strip() or not response.strip():
        raise InvalidInput(f"record {record.id}: training needs a non-empty instruction and response",
                           field="response")
    if prompt_format in TEMPLATES:
        return TEMPLATES[prompt_format].format(instruction=record.instruction), response
    if prompt_format != "chat":
        raise InvalidInput(f"unknown prompt format {prompt_format!r}; use chat, alpaca or magicoder",
                           field="training.prompt_format")
    if not getattr(tokenizer, "chat_template", None):
        raise InvalidInput("the model has no chat template: set training.prompt_format to alpaca or magicoder",
                           field="training.prompt_format")
    user = [{"role": "user", "content": record.instruction}]
    prompt = tokenizer.apply_chat_template(user, add_generation_prompt=True, tokenize=False)
    full = tokenizer.apply_chat_template([*user, {"role": "assistant", "content": response}], tokenize=False)
    if not full.startswith(prompt):
        # Some templates render the generation prompt differently from a finished turn; the
        # instruction template is the safe fallback.
        logger.warning("chat template does not extend the prompt; using the magicoder format for %s", record.id)
        return TEMPLATES["magicoder"].format(instruction=record.instruction), response
    return prompt, full[len(prompt):]


@dataclass(frozen=True)
class Example:
    input_ids: list[int]
    labels: list[int]

    @property
    def n_response_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def tokenize_record(record: Record, tokenizer: Any, prompt_format: str, max_length: int) -> Example:
    """Token ids with labels on the response tokens only (EOS included), truncated to `max_length`."""
    prompt, response = prompt_and_response(record, tokenizer, prompt_format)
    prompt_ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    response_ids = list(tokenizer(response, add_special_tokens=False)["input_ids"])
    eos = tokenizer.eos_token_id
    if eos is not None and eos not in response_ids[-2:]:
        response_ids.append(eos)
    input_ids = (prompt_ids + response_ids)[:max_length]
    labels = ([IGNORE_INDEX] * len(prompt_ids) + response_ids)[:max_length]
    return Example(input_ids=input_ids, labels=labels)


def tokenize_records(records: Sequence[Record], tokenizer: Any, prompt_format: str,
                     max_length: int) -> list[Example]:
    """Tokenize in order; examples whose response was truncated away entirely are dropped (logged)."""
    examples, dropped = [], 0
    for record in records:
        example = tokenize_record(record, tokenizer, prompt_format, max_length)
        if example.n_response_tokens == 0:
            dropped += 1
            continue
        examples.append(example)
    if dropped:
        logger.warning("%d record(s) dropped: the prompt alone fills max_length", dropped)
    if not examples:
        raise InvalidInput("no trainable examples: the data is empty or every prompt is longer than "
                           "training.max_length", field="data")
    return examples


# What a curriculum ranking orders by (`scoring.ranking.rank`: descending, records without the score
# last), and the explicit position a ranking step may write (`scores.rank`: ascending, 0 or 1 first).
RANK_SCORES = ("n_tests", "lm_score")
RANK_POSITION = "rank"


def _number(value: Any) -> float | None:
    return None if isinstance(value, bool) or not isinstance(value, int | float) else float(value)


def ranked_by(records: Sequence[Record]) -> str | None:
    """`scores.<key>` by which `records` are in curriculum order, or None for an unranked dataset.

    Ranked means: every record carries `scores.rank` in ascending order; or the records are in the
    order a ranking by `scores.n_tests` / `scores.lm_score` gives (descending, records without the
    score last) and at least two distinct values occur (a constant score orders nothing).
    """
    positions = [p for p in (_number(r.scores.get(RANK_POSITION)) for r in records) if p is not None]
    if len(records) > 1 and len(positions) == len(records) and all(a <= b for a, b in pairwise(positions)):
        return RANK_POSITION
    for key in RANK_SCORES:
        values = [_number(r.scores.get(key)) for r in records]
        present = [v for v in values if v is not None]
        if len(set(present)) < 2 or None in values[:len(present)]:
            continue  # fewer than two distinct values, or a record without the score before one with it
        if all(a >= b for a, b in pairwise(present)):
            return key
    return None


def data_fingerprint(records: Sequence[Record]) -> str:
    """Hash of the record ids in order: a resumed run must see the same data in the same order."""
    return stable_hash([r.id for r in records])


@dataclass(frozen=True)
class BatchPlan:
    """Which examples form micro-batch `i` of a stage, for any i, without state.

    Epoch e uses a permutation seeded by (seed, e) (or the identity with curriculum ordering); the
    stage's micro-batches run through ceil(epochs * batches_per_epoch) of them.
    """

    n_examples: int
    batch_size: int
    epochs: float
    seed: int
    shuffle: bool

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(self.n_examples / self.batch_size)

    @property
    def total_micro_batches(self) -> int:
        return max(1, math.ceil(self.epochs * self.batches_per_epoch - 1e-9))

    def order(self, epoch: int) -> list[int]:
        indices = list(range(self.n_examples))
        if self.shuffle:
            random.Random(f"{self.seed}:{epoch}").shuffle(indices)
        return indices

    def batch(self, position: int) -> tuple[int, list[int]]:
        """(epoch, example indices) of micro-batch `position` of the stage."""
        epoch, index = divmod(position, self.batches_per_epoch)
        order = self.order(epoch)
        return epoch, order[index * self.batch_size:(index + 1) * self.batch_size]


def collate(examples: Sequence[Example], pad_id: int, pad_to: int | None = None) -> dict[str, Any]:
    """Right-padded tensors; `pad_to` None pads to the longest example (dynamic padding)."""
    import torch

    length = max(len(e.input_ids) for e in examples)
    if pad_to is not None:
        length = max(length, pad_to)
    ids = torch.full((len(examples), length), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), length), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(examples), length), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}
