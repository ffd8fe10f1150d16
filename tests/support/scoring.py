"""Scoring test helpers: a record builder and the uid range of the scoring tests' sandboxes."""

from __future__ import annotations

import os
from typing import Any

from codeinstruct.core.records import Record

# Per test process, so parallel runs never share sandbox uids.
UID_BASE = 62000 + (os.getpid() % 200) * 4


def make(instruction: str = "Write a Python function.", code: str = "", **fields: Any) -> Record:
    fields.setdefault("method", "self_instruct")
    return Record(instruction=instruction, code=code, response=fields.pop("response", code), **fields)
