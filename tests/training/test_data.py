"""Prompt formats, labels on response tokens only, dynamic padding and batch order."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoTokenizer

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.training.data import (
    IGNORE_INDEX,
    BatchPlan,
    collate,
    prompt_and_response,
    tokenize_record,
    tokenize_records,
)
from tests.support.training import make_records


@pytest.fixture(scope="module")
def tokenizer(tiny_model: Path):
    return AutoTokenizer.from_pretrained(tiny_model)


def test_labels_cover_exactly_the_response_and_its_eos(tokenizer) -> None:
    record = make_records(1)[0]
    example = tokenize_record(record, tokenizer, "chat", max_length=512)
    prompt, _response = prompt_and_response(record, tokenizer, "chat")
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert example.labels[:n_prompt] == [IGNORE_INDEX] * n_prompt
    assert example.labels[n_prompt:] == example.input_ids[n_prompt:]
    # pad == eos here (as on SmolLM2): the end-of-turn token must still be learned.
    assert tokenizer.pad_token_id == tokenizer.eos_token_id
    assert tokenizer.eos_token_id in example.labels
    assert tokenizer.decode([t for t in example.labels if t != IGNORE_INDEX]).startswith("```python\ndef f0")


@pytest.mark.parametrize("fmt, marker", [("alpaca", "### Response:\n"), ("magicoder", "@@ Response\n")])
def test_instruction_templates_end_the_prompt_and_append_eos(tokenizer, fmt: str, marker: str) -> None:
    record = make_records(1)[0]
    prompt, response = prompt_and_response(record, tokenizer, fmt)
    assert prompt.endswith(marker) and record.instruction in prompt and response == record.response
    example = tokenize_record(record, tokenizer, fmt, max_length=512)
    assert example.labels[-1] == tokenizer.eos_token_id


def test_truncation_and_records_without_room_for_a_response(tokenizer) -> None:
    long = Record(method="seed", instruction="word " * 300, response="x = 1")
    short = make_records(1)[0]
    with pytest.raises(InvalidInput):
        tokenize_records([long], tokenizer, "chat", max_length=64)
    examples = tokenize_records([long, short], tokenizer, "chat", max_length=64)
    assert len(examples) == 1 and len(examples[0].input_ids) <= 64


def test_empty_response_is_rejected(tokenizer) -> None:
    with pytest.raises(InvalidInput, match="non-empty"):
        prompt_and_response(Record(method="seed", instruction="do it", response=" "), tokenizer, "chat")


def test_dynamic_padding_pads_to_the_longest_and_masks_padding(tokenizer) -> None:
    examples = tokenize_records(make_records(3), tokenizer, "chat", 512)
    examples.append(tokenize_record(Record(method="seed", instruction="a", response="b"), tokenizer, "chat", 512))
    longest = max(len(e.input_ids) for e in examples)
    batch = collate(examples, tokenizer.pad_token_id)
    assert batch["input_ids"].shape == (4, longest)
    short = examples[-1]
    n = len(short.input_ids)
    assert batch["attention_mask"][3, :n].all() and not batch["attention_mask"][3, n:].any()
    assert (batch["labels"][3, n:] == IGNORE_INDEX).all()
    fixed = collate(examples, tokenizer.pad_token_id, pad_to=256)
    assert fixed["input_ids"].shape == (4, 256)


def test_curriculum_keeps_order_and_shuffle_is_seeded_per_epoch() -> None:
    kept = BatchPlan(n_examples=10, batch_size=4, epochs=2, seed=0, shuffle=False)
    assert [kept.batch(i)[1] for i in range(3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert kept.batch(3) == (1, [0, 1, 2, 3])
    assert kept.total_micro_batches == 6
    shuffled = BatchPlan(n_examples=10, batch_size=4, epochs=2, seed=0, shuffle=True)
    epoch0 = [i for p in range(3) for i in shuffled.batch(p)[1]]
    epoch1 = [i for p in range(3, 6) for i in shuffled.batch(p)[1]]
    assert sorted(epoch0) == sorted(epoch1) == list(range(10))
    assert epoch0 != list(range(10)) and epoch0 != epoch1
    assert BatchPlan(10, 4, 2, 0, True).batch(4) == shuffled.batch(4)
    assert BatchPlan(10, 4, 0.5, 0, True).total_micro_batches == 2
