"""Sandbox fixtures: one real Sandbox per test session (full isolation), and host-side probes.

Tests use their own uid range so sandboxes other processes run on this machine do not disturb the
process counts the adversarial tests assert on.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.core import Sandbox

UID_BASE = 63000 + (os.getpid() % 500) * 4
WORKERS = 2


def sandbox_config(**overrides: object) -> SandboxConfig:
    values: dict = {"workers": WORKERS, "uid_base": UID_BASE, "default_timeout_s": 5.0}
    values.update(overrides)
    return SandboxConfig(**values)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(sandbox_config()) as instance:
        yield instance


def processes_of_uids(uids: range) -> list[int]:
    """Host pids whose real uid is in `uids` (the sandbox workers' and their runs')."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as handle:
                for line in handle:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) in uids:
                            found.append(int(name))
                        break
        except OSError:
            continue
    return found


def sandbox_uids(count: int = WORKERS, base: int = UID_BASE) -> range:
    return range(base, base + count)


def wait_for_count(uids: range, expected: int, timeout_s: float = 10.0) -> int:
    """Poll until the number of processes with those uids is `expected` (or time runs out)."""
    stop = time.monotonic() + timeout_s
    count = len(processes_of_uids(uids))
    while count != expected and time.monotonic() < stop:
        time.sleep(0.05)
        count = len(processes_of_uids(uids))
    return count


@pytest.fixture
def baseline(sandbox: Sandbox) -> int:
    """Processes the idle workers have (bwrap + the worker, its namespace's init, each)."""
    return len(processes_of_uids(sandbox_uids()))
