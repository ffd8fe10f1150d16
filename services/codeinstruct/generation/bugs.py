"""One deterministic bug in Python code, for WaveCoder's repair task (staged prompting).

`introduce_bug(code, rng)` swaps ONE token of the code for a plausible mistake: a comparison made
strict or loose (`<` <-> `<=`, `>` <-> `>=`), `==` <-> `!=`, `+` <-> `-` (also `+=`/`-=`),
`and` <-> `or`, `True` <-> `False`, or an integer literal off by one. The site is drawn with `rng`
among all candidate tokens outside strings and comments, so the same seed gives the same bug. Only
that token's characters change: formatting, comments and docstrings stay as written. The result
must still parse; the original code is the known fix.

    >>> introduce_bug("def f(a, b):\\n    return a < b\\n", random.Random(0))
    Bug(code='def f(a, b):\\n    return a <= b\\n', line=2, before='<', after='<=')
"""

from __future__ import annotations

import ast
import dataclasses
import io
import random
import tokenize

SWAPS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "==", "+": "-", "-": "+",
         "+=": "-=", "-=": "+=", "and": "or", "or": "and", "True": "False", "False": "True"}


@dataclasses.dataclass(frozen=True)
class Bug:
    code: str  # the code with the bug
    line: int  # 1-based line of the changed token
    before: str
    after: str


def _replacement(token: tokenize.TokenInfo) -> str | None:
    if token.type == tokenize.NUMBER:
        text = token.string.replace("_", "")
        return str(int(text) + 1) if text.isdigit() and len(text) < 10 else None
    if token.type in (tokenize.OP, tokenize.NAME):
        return SWAPS.get(token.string)
    return None


def candidates(code: str) -> list[tuple[tokenize.TokenInfo, str]]:
    """(token, replacement) for every token `introduce_bug` may change, in source order."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    # tokens of `import` lines and decorators are left alone: changing them breaks loading, not logic
    skipped = {t.start[0] for t in tokens if t.type == tokenize.NAME and t.string in ("import", "from")
               and t.line.lstrip().startswith(t.string)}
    skipped |= {t.start[0] for t in tokens if t.type == tokenize.OP and t.string == "@" and t.line.lstrip()[:1] == "@"}
    out = []
    for token in tokens:
        new = _replacement(token)
        if new is not None and token.start[0] not in skipped and token.start[0] == token.end[0]:
            out.append((token, new))
    return out


def introduce_bug(code: str, rng: random.Random) -> Bug | None:
    """`code` with one token changed (see module docstring), or None when no candidate site exists."""
    sites = candidates(code)
    rng.shuffle(sites)
    lines = code.splitlines(keepends=True)
    for token, new in sites:
        row, col = token.start
        line = lines[row - 1]
        changed = "".join([*lines[:row - 1], line[:col] + new + line[token.end[1]:], *lines[row:]])
        try:
            ast.parse(changed)
        except (SyntaxError, ValueError):
            continue  # e.g. `-` of `->` or a swap that breaks precedence-free syntax
        if changed != code:
            return Bug(code=changed, line=row, before=token.string, after=new)
    return None
