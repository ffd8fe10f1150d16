"""What the loaders share: reading JSON/JSONL(.gz) files, the sandbox's languages, limits, skip counts."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import read_jsonl
from codeinstruct.evaluation.problems import Problem
from codeinstruct.sandbox.config import LANGUAGES


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A suite's problems and the problems left out, by reason ("limit", "language go not in the sandbox" ...)."""

    problems: list[Problem]
    skipped: dict[str, int]

    @property
    def total(self) -> int:
        return len(self.problems) + sum(self.skipped.values())


def read_rows(path: str | Path | None, *, field: str = "file") -> list[dict[str, Any]]:
    """The objects of a JSONL file, or of a JSON file holding a list (either may be gzip-compressed)."""
    if not path:
        raise InvalidInput("this suite reads a published file: give --file PATH", field=field)
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{str(path)!r} does not exist or is not a file", field=field)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        head = handle.read(1)
        while head.isspace():
            head = handle.read(1)
    if head == "[":
        with opener(path, "rt", encoding="utf-8") as handle:
            rows = json.load(handle)
        if not all(isinstance(row, dict) for row in rows):
            raise InvalidInput(f"{path}: the JSON list must hold objects", field=field)
        return rows
    return list(read_jsonl(path, field=field))


def need(row: Mapping[str, Any], keys: Iterable[str], *, where: str, field: str = "file") -> None:
    """Refuse a row that lacks a key of its published schema, naming the row and the keys."""
    missing = [key for key in keys if key not in row]
    if missing:
        raise InvalidInput(f"{where}: missing field(s) {missing}; is this the right suite for the file?",
                           field=field)


def finish(problems: list[Problem], skipped: Counter[str], limit: int | None, language: str | None = None) -> Loaded:
    """Keep the problems in `language` (when given) and the first `limit`, counting what is left out."""
    if language:
        if language not in LANGUAGES:
            raise InvalidInput(f"unknown language {language!r}; the sandbox runs {list(LANGUAGES)}",
                               field="language")
        other = [p for p in problems if p.language != language]
        for problem in other:
            skipped[f"language {problem.language} not asked"] += 1
        problems = [p for p in problems if p.language == language]
    if limit and len(problems) > limit:
        skipped["limit"] += len(problems) - limit
        problems = problems[:limit]
    if not problems:
        raise InvalidInput(f"no problems to run (skipped: {dict(skipped) or 'none'})", field="file")
    return Loaded(problems, dict(skipped))


def sandbox_language(name: str, aliases: Mapping[str, str], skipped: Counter[str]) -> str | None:
    """The sandbox's name for a file's language, or None (counted as skipped) when the sandbox lacks it."""
    language = aliases.get(name, name)
    if language not in LANGUAGES:
        skipped[f"language {name} not run by the sandbox"] += 1
        return None
    return language
