"""Request validation at the gRPC boundary: every check names the request field path it failed on.

Servicers (or their `messages` modules) call these before any work starts, so a bad request is
INVALID_ARGUMENT with a `BadRequest.FieldViolation` whose `field` is the path in the REQUEST
(`runs[2].limits.timeout_s`, `config.learning_rate`), and a specific `ErrorInfo.reason`.

One rule for zero and unset, stated in the proto comments of each field: a scalar left at 0 or ""
means "the documented default" only where the comment says so; everywhere else it is missing.

Reasons used here (stable, part of the API; docs/api.md lists them):
  FIELD_REQUIRED, UNKNOWN_ENUM_VALUE, OUT_OF_RANGE, DUPLICATE_ID, TOO_MANY_ITEMS, LENGTH_MISMATCH,
  UNSUPPORTED_LANGUAGE, INVALID_NAME, OPTIONS_NOT_FIRST, UNKNOWN_SETTING, INVALID_SETTING, TOO_LARGE
  (a text over its byte cap; sandbox/messages.py).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Collection, Iterable, Iterator, Sequence, Sized

from google.protobuf.descriptor import EnumDescriptor

from codeinstruct.core.errors import InvalidInput


def required(value: object, field: str, what: str = "") -> None:
    """Raise FIELD_REQUIRED when `value` is empty ("", 0, empty list, unset message)."""
    if not value:
        raise InvalidInput(f"{field} is required{': ' + what if what else ''}", field=field, reason="FIELD_REQUIRED")


def known_enum(value: int, enum: EnumDescriptor, field: str, *, allow_unspecified: bool = True) -> None:
    """Raise UNKNOWN_ENUM_VALUE for a number the enum does not define (proto3 keeps unknown numbers)."""
    names = [v.name for v in enum.values if v.number != 0 or allow_unspecified]
    if value not in enum.values_by_number or (value == 0 and not allow_unspecified):
        raise InvalidInput(f"{field} {value} is not a {enum.name}; known: {', '.join(names)}", field=field,
                           reason="UNKNOWN_ENUM_VALUE" if value != 0 else "FIELD_REQUIRED")


def in_range(value: float, field: str, *, minimum: float | None = None, maximum: float | None = None,
             unit: str = "", above: bool = False, zero_means: str = "") -> None:
    """Raise OUT_OF_RANGE unless `value` is finite and within [minimum, maximum] (either bound optional;
    `above` makes the lower bound exclusive). With `zero_means`, 0 is accepted too: it means that default."""
    if zero_means and value == 0:
        return
    low = minimum is not None and (value <= minimum if above else value < minimum)
    high = maximum is not None and value > maximum
    if low or high or not math.isfinite(value):
        bounds = " and ".join(part for part in (
            f"{'>' if above else '>='} {minimum:g}{unit}" if minimum is not None else "",
            f"<= {maximum:g}{unit}" if maximum is not None else "") if part)
        zero = f"0 ({zero_means}) or " if zero_means else ""
        raise InvalidInput(f"{field} must be {zero}{bounds}, got {value:g}{unit}", field=field, reason="OUT_OF_RANGE")


def one_of(value: str, allowed: Collection[str], field: str, *, reason: str = "INVALID_VALUE") -> None:
    """Raise `reason` when a string of a closed set is not one of `allowed`."""
    if value not in allowed:
        raise InvalidInput(f"{field} {value!r} is not one of {', '.join(sorted(allowed))}", field=field,
                           reason=reason)


def at_most(items: Sized, limit: int, field: str) -> None:
    """Raise TOO_MANY_ITEMS when a repeated field holds more than `limit` entries."""
    if len(items) > limit:
        raise InvalidInput(f"{field} holds {len(items)} entries; at most {limit} per request", field=field,
                           reason="TOO_MANY_ITEMS")


def same_length(items: Sequence[object], other: Sequence[object], field: str, other_field: str) -> None:
    """Raise LENGTH_MISMATCH when two parallel repeated fields differ in length."""
    if len(items) != len(other):
        raise InvalidInput(f"{field} has {len(items)} entries but {other_field} has {len(other)}; they pair up",
                           field=field, reason="LENGTH_MISMATCH")


def unique_ids(ids: Iterable[str], field: str, *, start: int = 0, hint: str = "") -> None:
    """Raise DUPLICATE_ID (naming both positions) when two entries share a non-empty id.

    `field` is the repeated field's path; the error names `<field>[i].id`. `start` offsets the index
    (records spread over several stream messages are numbered across the stream). `hint` is appended
    to the message (why two entries may collide).
    """
    seen: dict[str, int] = {}
    for index, value in enumerate(ids, start):
        if not value:
            continue
        if value in seen:
            raise InvalidInput(f"{field}[{index}].id {value!r} repeats {field}[{seen[value]}].id; ids must be unique "
                               f"within a request{hint}", field=f"{field}[{index}].id", reason="DUPLICATE_ID")
        seen[value] = index


@contextlib.contextmanager
def request_fields(prefixes: dict[str, str], origin_from: str = "(from flag)",
                   origin_to: str = "(from request)") -> Iterator[None]:
    """Rewrite InvalidInput field paths raised by config code into request paths.

    `prefixes` maps a config path prefix to the request field it came from, e.g.
    {"training": "config"}: `training.learnin_rate` becomes `config.learnin_rate`, in the field and in
    the message. List a longer prefix before its parent ({"training.stages": "stages", "training": ...}).
    """
    try:
        yield
    except InvalidInput as exc:
        for old, new in prefixes.items():
            if exc.field == old or exc.field.startswith((old + ".", old + "[")):
                exc.field = new + exc.field[len(old):]
                break
        for old, new in prefixes.items():  # in order: a longer prefix is listed before its parent
            # In the text, a section name is a path only where one starts (`training.lora_r`, not "unknown
            # training setting"); a dotted path is one wherever it stands (`training.stages[1]`, `... stages:`).
            path = rf"\b{re.escape(old)}" + (r"\b" if "." in old else r"(?=\.)")
            exc.message = re.sub(path, new, exc.message).replace(f"{old!r}", f"{new!r}")
        exc.message = exc.message.replace(origin_from, origin_to)
        exc.args = (exc.message,)
        if exc.reason == InvalidInput.reason:
            exc.reason = "INVALID_SETTING" if "unknown" not in exc.message else "UNKNOWN_SETTING"
        raise

