"""Shared fixtures. Area-specific fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def python_exe() -> str:
    return sys.executable


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove CODEINSTRUCT_* variables so tests see defaults."""
    for key in list(os.environ):
        if key.startswith("CODEINSTRUCT_") and key not in {"CODEINSTRUCT_CACHE_DIR"}:
            monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="session")
def engine():
    """The embedded model on the transformers engine, one thread (robust on a busy 2-core machine)."""
    import torch

    from codeinstruct.engines import EngineConfig, load_engine

    threads = torch.get_num_threads()
    loaded = load_engine(EngineConfig(threads=1, batch_size=4))
    yield loaded
    loaded.close()
    torch.set_num_threads(threads)
