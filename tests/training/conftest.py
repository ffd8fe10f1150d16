"""Fixtures for the training tests: a tiny Llama (2 layers, 32 wide) with a byte-level BPE tokenizer
and a ChatML template like SmolLM2's (pad == eos), built offline in a second; and small record sets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from codeinstruct.core.records import write_jsonl_atomic
from tests.support.training import build_tiny_model, make_records


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.jsonl"
    write_jsonl_atomic(path, make_records(12))
    return path
