"""A service target (`inprocess`, or `host:port` of a deployed service) to an object with that
service's interface.

`inprocess` means the same thing everywhere: the service's core object in this process (no gRPC
loopback); `host:port` means its gRPC client. Either implements the service's protocol
(`SandboxLike`, `ScorerLike`), so callers take one code path whichever they got.

Example:
    with open_sandbox("inprocess", settings.sandbox) as box:
        print(box.execute("print(1)").status)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.core import ScorerLike

INPROCESS = "inprocess"


def check_target(target: str, field: str) -> None:
    """InvalidInput naming `field` unless `target` is `inprocess` or `host:port`."""
    if target != INPROCESS and ":" not in target:
        raise InvalidInput(f"{field} must be host:port or {INPROCESS!r}, got {target!r}", field=field)


@contextlib.contextmanager
def open_sandbox(target: str, config: SandboxConfig, field: str = "sandbox_target") -> Iterator[SandboxLike]:
    """A `Sandbox` built from `config` (inprocess) or a `SandboxClient` (deployed), closed after use."""
    check_target(target, field)
    box: SandboxLike
    if target == INPROCESS:
        from codeinstruct.sandbox.core import Sandbox

        box = Sandbox(config)
    else:
        from codeinstruct.sandbox.client import SandboxClient

        box = SandboxClient(target)
    try:
        yield box
    finally:
        box.close()


@contextlib.contextmanager
def open_scorer(target: str, config: ScoringConfig, sandbox_config: SandboxConfig,
                field: str = "scoring_target") -> Iterator[ScorerLike]:
    """A `Scorer` (inprocess; its sandbox at `config.sandbox_target`) or a `ScoringClient`, closed after use."""
    check_target(target, field)
    scorer: ScorerLike
    if target == INPROCESS:
        from codeinstruct.scoring.core import Scorer

        scorer = Scorer(config, sandbox_config)
    else:
        from codeinstruct.scoring.client import ScoringClient

        scorer = ScoringClient(target, config)
    try:
        yield scorer
    finally:
        scorer.close()
