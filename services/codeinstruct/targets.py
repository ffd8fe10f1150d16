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
from collections.abc import Iterator

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
    with contextlib.closing(box):
        yield box


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
    with contextlib.closing(scorer):
        yield scorer


@contextlib.contextmanager
def open_generator(target: str, config: GenerationConfig, field: str = "generation_target") -> Iterator[GeneratorLike]:
    """A `GenerationCore` on `config.engine` loaded here (inprocess) or a `GenerationClient`, closed after use.

    A deployed service runs its own engine: only `config`'s method settings travel with each request.
    """
    check_target(target, field)
    generator: GeneratorLike
    if target == INPROCESS:
        from codeinstruct.engines import load_engine
        from codeinstruct.generation.core import GenerationCore

        generator = GenerationCore(load_engine(config.engine), config)
    else:
        from codeinstruct.generation.client import GenerationClient

        generator = GenerationClient(target)
    with contextlib.closing(generator):
        yield generator


@contextlib.contextmanager
def open_training(target: str, settings: Settings, field: str = "training_target") -> Iterator[TrainingJobsLike]:
    """A `JobManager` on `settings.training` (inprocess: jobs run as workers of this process) or a
    `TrainingClient` (a deployed service), closed after use."""
    check_target(target, field)
    jobs: TrainingJobsLike
    if target == INPROCESS:
        from codeinstruct.training.service import evaluation_settings

        jobs = JobManager(settings.training, evaluation_settings=evaluation_settings(settings))
    else:
        from codeinstruct.training.client import TrainingClient

        jobs = TrainingClient(target).__enter__()
    with contextlib.closing(jobs):
        yield jobs
