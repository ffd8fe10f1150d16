"""Fixtures of the deployment tests (helpers live in deploy_support.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.deploy.deploy_support import CHART, Rendered, render


@pytest.fixture(scope="session")
def rendered() -> Callable[[str], Rendered]:
    """rendered("defaults") or rendered("gpu") -> the objects of that scenario (cached)."""
    cache: dict[str, Rendered] = {}

    def get(scenario: str) -> Rendered:
        if scenario not in cache:
            files = [] if scenario == "defaults" else [CHART / "ci" / f"{scenario}-values.yaml"]
            cache[scenario] = render(files)
        return cache[scenario]

    return get
