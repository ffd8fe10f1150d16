"""Value types shared by the scoring stages.

A stage returns a `StageReport`: the records it kept (in order), the records it dropped, each with
a reason, and stage-specific figures in `extra` (hits per benchmark, dropped test inputs ...).
A reason is `"<category>"` or `"<category>: <detail>"`; `counts()` groups by the category so
reports stay small while the detail stays available per record.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from codeinstruct.core.records import Record


def reason_category(reason: str) -> str:
    return reason.split(":", 1)[0].strip()


@dataclasses.dataclass
class StageReport:
    stage: str
    kept: list[Record] = dataclasses.field(default_factory=list)
    dropped: list[tuple[Record, str]] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def keep(self, record: Record) -> None:
        self.kept.append(record)

    def drop(self, record: Record, reason: str) -> None:
        self.dropped.append((record, reason))

    def reasons(self) -> dict[str, int]:
        return dict(Counter(reason_category(reason) for _, reason in self.dropped).most_common())

    def counts(self) -> dict[str, Any]:
        """{"stage", "kept", "dropped", "reasons": {category: n}} plus the stage's extra figures."""
        out: dict[str, Any] = {"stage": self.stage, "kept": len(self.kept), "dropped": len(self.dropped),
                               "reasons": self.reasons()}
        out.update(self.extra)
        return out

