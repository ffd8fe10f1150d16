"""`filter` and `order_by` of ListJobs: a small subset of AIP-160 and AIP-132.

Filter: comparisons `field = VALUE` / `field != VALUE` joined by `AND`, on `kind` (TRAIN, EVALUATE),
`state` (QUEUED ... CANCELLED), `backend` (LOCAL, KUBERNETES) and `request_id` (a quoted string).
Enum values may carry their proto prefix (JOB_STATE_RUNNING). Order: comma-separated `create_time`,
`update_time`, `name`, `state`, each optionally followed by `desc` or `asc`.

Example:
    terms = parse_filter('kind = TRAIN AND state != FAILED')
    jobs = sort_jobs([j for j in jobs if matches(j, terms)], parse_order("create_time desc"))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from codeinstruct.core.errors import InvalidInput

# field -> (proto enum prefix, {filter value: core value})
_ENUMS: dict[str, tuple[str, dict[str, str]]] = {
    "kind": ("JOB_KIND_", {"TRAIN": "train", "EVALUATE": "evaluate"}),
    "state": ("JOB_STATE_", {s: s for s in ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLING",
                                           "CANCELLED")}),
    "backend": ("TRAINING_BACKEND_", {"LOCAL": "local", "KUBERNETES": "kubernetes"}),
}
_STRINGS = ("request_id",)
_ORDER_KEYS = ("create_time", "update_time", "name", "state")
_TOKEN = re.compile(r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>!=|=)|(?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)|'
                    r"(?P<other>\S))")


class Listed(Protocol):
    """What a filter reads of a job (JobInfo)."""

    kind: str
    backend: str
    request_id: str
    create_time: float
    update_time: float

    @property
    def name(self) -> str: ...

    @property
    def state_name(self) -> str: ...


@dataclass(frozen=True)
class Term:
    field: str
    negated: bool
    value: str

    def matches(self, job: Listed) -> bool:
        actual = job.state_name if self.field == "state" else str(getattr(job, self.field))
        return (actual == self.value) != self.negated


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"filter: {message}", field="filter", reason="INVALID_FILTER")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens = []
    position = 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            break
        kind = found.lastgroup or "other"
        tokens.append((kind, found.group(kind)))
        position = found.end()
        if text[position:].strip() == "":
            break
    return tokens


def parse_filter(text: str) -> list[Term]:
    """The terms of `text` (all must hold); INVALID_FILTER naming the bad token otherwise."""
    tokens = _tokens(text)
    terms: list[Term] = []
    index = 0
    while index < len(tokens):
        if terms:
            kind, value = tokens[index]
            if kind != "word" or value != "AND":
                raise _bad(f"expected AND after {terms[-1].field} ..., got {value!r} (only AND is supported)")
            index += 1
        if index + 3 > len(tokens):
            rest = " ".join(v for _, v in tokens[index:]) or "the end"
            raise _bad(f"incomplete comparison at {rest!r}: expected `field = VALUE`")
        (kind, name), (_, op), (value_kind, value) = tokens[index:index + 3]
        index += 3
        if kind != "word" or (name not in _ENUMS and name not in _STRINGS):
            raise _bad(f"unknown field {name!r}; filterable: {', '.join([*_ENUMS, *_STRINGS])}")
        if op not in ("=", "!="):
            raise _bad(f"unsupported operator {op!r} after {name}; use = or !=")
        terms.append(Term(name, op == "!=", _value(name, value_kind, value)))
    return terms


def _value(field: str, kind: str, value: str) -> str:
    if field in _STRINGS:
        if kind != "string":
            raise _bad(f"{field} takes a quoted string, got {value!r}")
        return value[1:-1].replace('\\"', '"')
    prefix, values = _ENUMS[field]
    plain = value.strip('"').removeprefix(prefix)
    if plain not in values:
        raise _bad(f"unknown {field} value {value!r}; known: {', '.join(values)}")
    return values[plain]


def matches(job: Listed, terms: Sequence[Term]) -> bool:
    return all(term.matches(job) for term in terms)


def parse_order(text: str) -> list[tuple[str, bool]]:
    """[(field, descending)] of an order_by; "create_time desc" when empty."""
    if not text.strip():
        return [("create_time", True)]
    order = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or words[0] not in _ORDER_KEYS or \
                (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise InvalidInput(f"order_by: cannot use {part.strip()!r}; order by {', '.join(_ORDER_KEYS)}, each "
                               "optionally followed by desc", field="order_by", reason="INVALID_ORDER_BY")
        order.append((words[0], len(words) == 2 and words[1] == "desc"))
    return order


def sort_jobs(jobs: list[Any], order: Sequence[tuple[str, bool]]) -> list[Any]:
    """`jobs` sorted by `order` (stable; ties broken by name)."""
    keyed: list[Any] = sorted(jobs, key=lambda j: j.name)
    for field, descending in reversed(order):
        keyed.sort(key=_key(field), reverse=descending)
    return keyed


def _key(field: str) -> Callable[[Any], Any]:
    attribute = "state_name" if field == "state" else field
    return lambda job: getattr(job, attribute)
