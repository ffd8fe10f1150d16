"""The scoring service's core: `Scorer`, and `ScorerLike`, the interface it shares with `ScoringClient`.

`Scorer` runs every stage in this process with one `ScoringConfig`; the sandbox (validation, the
execution filter) and the engine (LM-Score, discriminator) are opened on first use and closed with
it. Engine stages add the tokens and engine seconds they spent to their report's figures
(`core.usage`: `tokens_in`, `tokens_out`, `engine_seconds` ...), sandbox stages the sandbox seconds
(see `validation`). Every stage first checks its records (`checks.check_records`: count, unique ids,
the fields the stage needs), so in-process and gRPC callers get the same errors. The gRPC servicer
translates messages to these methods, and a pipeline step or CLI command holds a `ScorerLike`: a
`Scorer` (`inprocess`) or a `ScoringClient` (a deployed service), same calls.

Example:
    with Scorer(settings.scoring, settings.sandbox) as scorer:
        print(scorer.dedup(records, method="exact").counts())
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.lifecycle import Closing
from codeinstruct.core.records import Record
from codeinstruct.core.usage import Usage
from codeinstruct.engines.base import Engine
from codeinstruct.engines.metered import MeteredEngine
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.scoring import (
    coreset_selection,
    decontamination,
    deduplication,
    discriminator,
    lm_select,
    ranking,
    validation,
)
from codeinstruct.scoring.checks import check_records
from codeinstruct.scoring.config import DedupMethod, ScoringConfig
from codeinstruct.scoring.ranking import RankBy
from codeinstruct.scoring.types import StageReport

BenchmarkSpec = str | Path | decontamination.Benchmark


class ScorerLike(Protocol):
    """Every scoring stage, with the same arguments in-process and over gRPC."""

    def validate_semi_instruct(self, records: Sequence[Record]) -> StageReport: ...

    def execution_filter(self, records: Sequence[Record]) -> StageReport: ...

    def select_by_lm_score(self, records: Sequence[Record]) -> StageReport: ...

    def discriminate(self, records: Sequence[Record], *, use_llm: bool = ...) -> StageReport: ...

    def dedup(self, records: Sequence[Record], method: DedupMethod | None = ...,
              threshold: float | None = ...) -> StageReport: ...

    def decontaminate(self, records: Sequence[Record], benchmarks: Sequence[BenchmarkSpec] = ...) -> StageReport: ...

    def coreset(self, records: Sequence[Record], k: int, seed: int = ...) -> StageReport:
        """Keep `k` records (KCenterGreedy); `k` 0 keeps every record."""
        ...

    def rank(self, records: Sequence[Record], by: RankBy = ...) -> list[Record]: ...

    def close(self) -> None: ...


class Scorer(Closing):
    """Scoring stages in this process. `sandbox` / `engine` given here are used as they are (and not
    closed); otherwise they are opened from `scoring.sandbox_target` / `scoring.engine` on first use."""

    def __init__(self, config: ScoringConfig | None = None, sandbox_config: SandboxConfig | None = None, *,
                 sandbox: SandboxLike | None = None, engine: Engine | None = None):
        self.config = config or ScoringConfig()
        self.sandbox_config = sandbox_config or SandboxConfig()
        self._lock = threading.Lock()
        # Engines are not thread-safe: the service's RPC threads take turns on the one engine.
        self.engine_lock = threading.Lock()
        self._owned = ExitStack()
        self._sandbox = sandbox
        # Every engine call is metered; a stage reports what its own calls spent (calls are serialized).
        self.usage = Usage()
        self._engine: MeteredEngine | None = MeteredEngine(engine, self.usage) if engine is not None else None
        self._discriminator: discriminator.Discriminator | None = None

    def sandbox(self) -> SandboxLike:
        with self._lock:
            if self._sandbox is None:
                from codeinstruct.targets import open_sandbox

                self._sandbox = self._owned.enter_context(
                    open_sandbox(self.config.sandbox_target, self.sandbox_config, "scoring.sandbox_target"))
            return self._sandbox

    def engine(self) -> Engine:
        with self._lock:
            if self._engine is None:
                from codeinstruct.engines import load_engine

                loaded = load_engine(self.config.engine)
                self._owned.callback(loaded.close)
                self._engine = MeteredEngine(loaded, self.usage)
            return self._engine

    def _judge(self) -> discriminator.Discriminator:
        engine = self.engine()
        with self._lock:
            if self._discriminator is None:
                self._discriminator = discriminator.Discriminator(engine, self.config)
            return self._discriminator

    def validate_semi_instruct(self, records: Sequence[Record]) -> StageReport:
        check_records("validate_semi_instruct", records)
        return validation.validate_semi_instruct(records, self.sandbox(), config=self.config)

    def execution_filter(self, records: Sequence[Record]) -> StageReport:
        check_records("execution_filter", records)
        return validation.execution_filter(records, self.sandbox(), config=self.config)

    def select_by_lm_score(self, records: Sequence[Record]) -> StageReport:
        check_records("select_by_lm_score", records)
        engine = self.engine()
        with self.engine_lock:
            before = self.usage.snapshot()
            report = lm_select.select_by_lm_score(records, engine, config=self.config)
            report.extra.update(self.usage.since(before).as_stats())
            return report

    def discriminate(self, records: Sequence[Record], *, use_llm: bool = True) -> StageReport:
        check_records("discriminate", records)
        if not use_llm:
            return discriminator.discriminate(records, None, config=self.config, use_llm=False)
        judge = self._judge()
        with self.engine_lock:
            before = self.usage.snapshot()
            report = discriminator.discriminate(records, judge.engine, config=self.config, discriminator=judge)
            report.extra.update(self.usage.since(before).as_stats())
            return report

    def dedup(self, records: Sequence[Record], method: DedupMethod | None = None,
              threshold: float | None = None) -> StageReport:
        check_records("dedup", records)
        return deduplication.dedup(records, method or self.config.dedup_method, threshold, config=self.config)

    def decontaminate(self, records: Sequence[Record],
                      benchmarks: Sequence[BenchmarkSpec] = ("humaneval",)) -> StageReport:
        check_records("decontaminate", records)
        specs: list[str | decontamination.Benchmark] = [
            spec if isinstance(spec, (str, decontamination.Benchmark)) else str(spec) for spec in benchmarks]
        return decontamination.decontaminate(records, specs, config=self.config)

    def coreset(self, records: Sequence[Record], k: int, seed: int = 0) -> StageReport:
        """Keep `k` records; `k` 0 keeps every record (no selection), as over gRPC."""
        check_records("coreset", records)
        return coreset_selection.coreset(records, k or len(records), seed, config=self.config)

    def rank(self, records: Sequence[Record], by: RankBy = "n_tests") -> list[Record]:
        check_records("rank", records)
        return ranking.rank(records, by)

    def close(self) -> None:
        with self._lock:
            self._owned.close()
            self._sandbox = self._engine = self._discriminator = None
