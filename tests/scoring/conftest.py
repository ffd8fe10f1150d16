"""Scoring fixtures: record builders, a real Sandbox (own uid range) for the execution stages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from codeinstruct.core.records import Record

UID_BASE = 62000 + (os.getpid() % 200) * 4


def make(instruction: str = "Write a Python function.", code: str = "", **fields: Any) -> Record:
    fields.setdefault("method", "self_instruct")
    return Record(instruction=instruction, code=code, response=fields.pop("response", code), **fields)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from codeinstruct.sandbox.config import SandboxConfig
    from codeinstruct.sandbox.core import Sandbox

    with Sandbox(SandboxConfig(workers=2, uid_base=UID_BASE, default_timeout_s=5.0)) as instance:
        yield instance
