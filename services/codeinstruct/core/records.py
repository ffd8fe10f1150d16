"""The dataset record (DESIGN section 4) and JSON Lines I/O that is atomic and resumable.

Field names are a contract. `Record.validate()` checks types and values; `record_id()` makes the
stable content hash; `JsonlWriter` appends finished records to `<path>.partial` (flushed and
fsynced per record, so a kill -9 loses at most the record being written), skips ids already
present on a rerun, and renames the partial file to `<path>` atomically when the job completes.

Example:
    with JsonlWriter(Path("out.jsonl")) as writer:
        for rec in records:
            if rec.id not in writer:
                writer.write(rec)
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.methods import METHODS as GENERATION_METHODS

logger = logging.getLogger(__name__)

# A record's `method`: a generation method, or `seed` for human-written records (DESIGN section 4).
METHODS = (*GENERATION_METHODS, "seed")
TASKS = ("generation", "summarization", "translation", "repair")
FIELDS = ("id", "method", "task", "language", "instruction", "response", "code", "entry_point", "tests",
          "scores", "source", "generator")


def stable_hash(*parts: Any, length: int = 16) -> str:
    """Hex digest of JSON-encoded parts (sorted keys): equal inputs give equal hashes everywhere."""
    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]


def fingerprint(settings: Mapping[str, Any]) -> str:
    """Hash of every setting that changes outputs (model, prompts version, sampling, seed ...)."""
    return stable_hash(dict(settings))


@dataclasses.dataclass
class Record:
    method: str
    instruction: str
    response: str = ""
    code: str = ""
    language: str = "python"
    task: str = "generation"
    entry_point: str = ""
    tests: list[dict[str, str]] = dataclasses.field(default_factory=list)
    scores: dict[str, Any] = dataclasses.field(default_factory=dict)
    source: dict[str, Any] = dataclasses.field(default_factory=dict)
    generator: dict[str, Any] = dataclasses.field(default_factory=dict)
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = record_id(self)

    def validate(self) -> Record:
        where = f"record {self.id or '?'}"
        for name in ("id", "method", "task", "language", "instruction", "response", "code", "entry_point"):
            if not isinstance(getattr(self, name), str):
                raise InvalidInput(f"{where}: field {name!r} must be a string", field=name)
        if self.method not in METHODS:
            raise InvalidInput(f"{where}: method {self.method!r} is not one of {list(METHODS)}", field="method")
        if self.task not in TASKS:
            raise InvalidInput(f"{where}: task {self.task!r} is not one of {list(TASKS)}", field="task")
        if not isinstance(self.tests, list) or not all(
                isinstance(t, dict) and set(t) == {"input", "output"}
                and all(isinstance(v, str) for v in t.values()) for t in self.tests):
            raise InvalidInput(f"{where}: tests must be a list of {{'input': str, 'output': str}}", field="tests")
        for name in ("scores", "source", "generator"):
            if not isinstance(getattr(self, name), dict):
                raise InvalidInput(f"{where}: field {name!r} must be an object", field=name)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise InvalidInput(f"record has unknown field(s) {unknown}; fields are {list(FIELDS)}", field=unknown[0])
        if "method" not in data or "instruction" not in data:
            raise InvalidInput("record needs at least 'method' and 'instruction'", field="method")
        values = {k: v for k, v in data.items() if k in FIELDS}
        return cls(**values).validate()


def record_id(record: Record) -> str:
    """Stable content hash: same content + same generator fingerprint -> same id."""
    return stable_hash(record.method, record.task, record.language, record.instruction, record.response,
                       record.code, record.entry_point, record.tests,
                       record.source.get("parent_id", ""), record.generator.get("fingerprint", ""))


def numbered_jsonl(path: str | Path, *, field: str = "path") -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, JSON object) for each non-blank line of a JSON Lines file (gzip-compressed when it
    ends in .gz); a bad line raises InvalidInput naming file, line and `field`."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{str(path)!r} does not exist or is not a file", field=field)
    handle: IO[str]
    with (gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")) as handle:
        try:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInput(f"{path}:{number}: not valid JSON ({exc.msg})", field=field) from None
                if not isinstance(obj, dict):
                    raise InvalidInput(f"{path}:{number}: each line must be a JSON object", field=field)
                yield number, obj
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError) as exc:
            raise InvalidInput(f"{path}: not UTF-8 JSON Lines ({exc})", field=field) from None


def read_jsonl(path: str | Path, *, field: str = "path") -> Iterator[dict[str, Any]]:
    """Yield JSON objects from a JSON Lines file (see `numbered_jsonl`)."""
    for _, obj in numbered_jsonl(path, field=field):
        yield obj


def read_records(path: str | Path, *, field: str = "path") -> Iterator[Record]:
    """Records from a JSON Lines file; a line that is not a valid record raises InvalidInput that starts
    with `<file>:<line>:`."""
    for number, obj in numbered_jsonl(path, field=field):
        try:
            yield Record.from_dict(obj)
        except InvalidInput as exc:
            raise InvalidInput(f"{path}:{number}: {exc.message}", field=exc.field, reason=exc.reason) from None


def _new_file_mode() -> int:
    """The mode `open()` would give a new file (0o666 minus the umask), without touching the umask.

    mkstemp creates 0o600 files; reports and metrics written through it must stay readable by
    whoever can read the folder (the Kubeflow UI's artifact server, teammates on a shared box).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a whole file through a temp file in the same folder and rename it into place.

    The file keeps an existing file's mode, else gets the mode a plain `open()` would give it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = _new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl_atomic(path: str | Path, rows: Iterable[Record | Mapping[str, Any]]) -> int:
    lines = [r.to_json() if isinstance(r, Record) else json.dumps(r, ensure_ascii=False) for r in rows]
    write_text_atomic(path, "".join(line + "\n" for line in lines))
    return len(lines)


class JsonlWriter:
    """Resumable, crash-safe writer of records (see module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self._ids: set[str] = set()
        self._handle: Any = None
        self.resumed = 0

    def __enter__(self) -> JsonlWriter:
        self.open()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(complete=exc_type is None)

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept: list[str] = []
        for source in (self.path, self.partial):
            if not source.exists():
                continue
            for line in source.read_text(encoding="utf-8").splitlines():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    logger.warning("%s: dropping a truncated line left by an interrupted run", source)
                    continue
                if isinstance(obj, dict) and obj.get("id") and obj["id"] not in self._ids:
                    self._ids.add(obj["id"])
                    kept.append(line)
        self.resumed = len(kept)
        if self.resumed:
            logger.info("%s: resuming, %d record(s) already written", self.path, self.resumed)
        write_text_atomic(self.partial, "".join(line + "\n" for line in kept))
        self._handle = self.partial.open("a", encoding="utf-8")

    def write(self, record: Record | Mapping[str, Any]) -> bool:
        """Append one record; False (and nothing written) when its id is already there."""
        data = record.to_dict() if isinstance(record, Record) else dict(record)
        if data["id"] in self._ids:
            return False
        self._handle.write(json.dumps(data, ensure_ascii=False) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._ids.add(data["id"])
        return True

    def close(self, complete: bool = True) -> None:
        if self._handle is None:
            return
        self._handle.close()
        self._handle = None
        if complete:
            os.replace(self.partial, self.path)
