"""Scoring and ranking: verify, select, clean and order generated records.

Each stage is a plain function over `Record`s that returns a `StageReport` (kept records, dropped
records with a reason each). `core.Scorer` runs them with one `ScoringConfig` (the service's core);
the gRPC service (`service.py`), the client and the CLI are thin layers over it.

    from codeinstruct.scoring import dedup, decontaminate, rank

No submodule is named like an exported function (`deduplication.py` defines `dedup`,
`coreset_selection.py` defines `coreset`): importing a submodule binds its name on the package,
which would replace a same-named function export with the module.
"""

from __future__ import annotations

from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.coreset_selection import coreset
from codeinstruct.scoring.decontamination import decontaminate
from codeinstruct.scoring.deduplication import dedup
from codeinstruct.scoring.discriminator import discriminate
from codeinstruct.scoring.lm_select import select_by_lm_score
from codeinstruct.scoring.ranking import rank
from codeinstruct.scoring.types import StageReport
from codeinstruct.scoring.validation import execution_filter, validate_semi_instruct

__all__ = ["ScoringConfig", "StageReport", "coreset", "decontaminate", "dedup", "discriminate",
           "execution_filter", "rank", "select_by_lm_score", "validate_semi_instruct"]
