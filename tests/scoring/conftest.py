"""Scoring fixtures: record builders, a real Sandbox (own uid range) for the execution stages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.scoring import UID_BASE


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    from codeinstruct.sandbox.config import SandboxConfig
    from codeinstruct.sandbox.core import Sandbox

    with Sandbox(SandboxConfig(workers=2, uid_base=UID_BASE, default_timeout_s=5.0)) as instance:
        yield instance
