"""What every scoring stage checks of its input records before it runs (in-process and over gRPC alike).

`Scorer` (core.py) calls `check_records` first thing in every stage, so a pipeline step gets the
same answer from an in-process scorer as from the deployed service: records are counted
(`MAX_RECORDS`), ids are unique across the whole input (`records[i].id`, DUPLICATE_ID), and each
record carries what its stage cannot work without (FIELD_REQUIRED naming `records[i].<field>`).

What a stage DROPS (a verdict on the data, e.g. a code task whose answer has no code) is not
checked here: only what makes a record unusable as input to the stage at all.

Example:
    check_records("select_by_lm_score", records)   # InvalidInput(field="records[3].instruction")
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record
from codeinstruct.server.validate import at_most, unique_ids

# Records per stage call (one request stream). The server holds a stage's whole input in memory.
MAX_RECORDS = 1_000_000
# User-supplied benchmark problems per Decontaminate stream.
MAX_PROBLEMS = 100_000


def _semi_instruct(record: Record) -> tuple[str, str] | None:
    if not str(record.source.get("code", "") or "").strip():
        return "source.code", "the original code the gold outputs come from"
    return None


def _lm_score(record: Record) -> tuple[str, str] | None:
    if not record.instruction.strip():
        return "instruction", "the instruction LM-Score rates"
    if not (record.code or record.response).strip():
        return "code", "the code (or, failing that, the response) the instruction is scored against"
    return None


# stage -> the first missing field of a record (path below the record, what it is for), or None.
REQUIREMENTS: dict[str, Callable[[Record], tuple[str, str] | None]] = {
    "validate_semi_instruct": _semi_instruct,
    "select_by_lm_score": _lm_score,
}


def check_ids(records: Sequence[Record], field: str = "records") -> None:
    """DUPLICATE_ID when two records share an id (ids left empty were computed from the content)."""
    unique_ids((record.id for record in records), field,
               hint=" (a record sent without an id gets its content hash, so two identical records collide: "
                    "send each record once)")


def check_records(stage: str, records: Sequence[Record], field: str = "records") -> None:
    """Raise InvalidInput (TOO_MANY_ITEMS, DUPLICATE_ID, FIELD_REQUIRED) for input `stage` cannot take."""
    at_most(records, MAX_RECORDS, field)
    check_ids(records, field)
    requirement = REQUIREMENTS.get(stage)
    if requirement is None:
        return
    for index, record in enumerate(records):
        missing = requirement(record)
        if missing is not None:
            path, what = missing
            raise InvalidInput(f"{field}[{index}].{path} is required by {stage}: {what} (record {record.id})",
                               field=f"{field}[{index}].{path}", reason="FIELD_REQUIRED")
