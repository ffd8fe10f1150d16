"""A service target (`inprocess`, or `host:port` of a deployed service) to an object with that
service's interface.

`inprocess` means the same thing everywhere: the service's core object in this process (no gRPC
loopback); `host:port` means its gRPC client. Either implements the service's protocol
(`SandboxLike`, `ScorerLike`, `GeneratorLike`, `TrainingJobsLike`), so callers take one code path whichever they got.

Example:
    with open_sandbox("inprocess", settings.sandbox) as box:
        print(box.execute("print(1)").status)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.generation.core import GeneratorLike
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.core import ScorerLike
from codeinstruct.settings import Settings
from codeinstruct.training.jobs import JobManager, TrainingJobsLike

INPROCESS = "inprocess"


def check_target(target: str, field: str) -> None:
    """InvalidInput naming `field` unless `target` is `inprocess` or `host:port`."""
    if target != INPROCESS and ":" not in target:
        raise InvalidInput(f"{field} must be host:port or {INPROCESS!r}, got {target!r}", field=field)


class _Closable(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=_Closable)


@contextlib.contextmanager
def _opened(target: str, field: str, local: Callable[[], S], remote: Callable[[], S]) -> Iterator[S]:
    """`local()` for `inprocess`, else `remote()` (each imports what it needs), closed after use."""
    check_target(target, field)
    service = local() if target == INPROCESS else remote()
    with contextlib.closing(service):
        yield service


def open_sandbox(target: str, config: SandboxConfig,
                 field: str = "sandbox_target") -> contextlib.AbstractContextManager[SandboxLike]:
    """A `Sandbox` built from `config` (inprocess) or a `SandboxClient` (deployed), closed after use."""
    def local() -> SandboxLike:
        from codeinstruct.sandbox.core import Sandbox

        return Sandbox(config)

    def remote() -> SandboxLike:
        from codeinstruct.sandbox.client import SandboxClient

        return SandboxClient(target)

    return _opened(target, field, local, remote)


def open_scorer(target: str, config: ScoringConfig, sandbox_config: SandboxConfig,
                field: str = "scoring_target") -> contextlib.AbstractContextManager[ScorerLike]:
    """A `Scorer` (inprocess; its sandbox at `config.sandbox_target`) or a `ScoringClient`, closed after use."""
    def local() -> ScorerLike:
        from codeinstruct.scoring.core import Scorer

        return Scorer(config, sandbox_config)

    def remote() -> ScorerLike:
        from codeinstruct.scoring.client import ScoringClient

        return ScoringClient(target, config)

    return _opened(target, field, local, remote)


def open_generator(target: str, config: GenerationConfig,
                   field: str = "generation_target") -> contextlib.AbstractContextManager[GeneratorLike]:
    """A `GenerationCore` on `config.engine` loaded here (inprocess) or a `GenerationClient`, closed after use.

    A deployed service runs its own engine: only `config`'s method settings travel with each request.
    """
    def local() -> GeneratorLike:
        from codeinstruct.engines import load_engine
        from codeinstruct.generation.core import GenerationCore

        return GenerationCore(load_engine(config.engine), config)

    def remote() -> GeneratorLike:
        from codeinstruct.generation.client import GenerationClient

        return GenerationClient(target)

    return _opened(target, field, local, remote)


def open_training(target: str, settings: Settings,
                  field: str = "training_target") -> contextlib.AbstractContextManager[TrainingJobsLike]:
    """A `JobManager` on `settings.training` (inprocess: jobs run as workers of this process) or a
    `TrainingClient` (a deployed service), closed after use."""
    def local() -> TrainingJobsLike:
        from codeinstruct.training.service import evaluation_settings

        return JobManager(settings.training, evaluation_settings=evaluation_settings(settings))

    def remote() -> TrainingJobsLike:
        from codeinstruct.training.client import TrainingClient

        return TrainingClient(target)

    return _opened(target, field, local, remote)
