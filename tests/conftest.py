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
