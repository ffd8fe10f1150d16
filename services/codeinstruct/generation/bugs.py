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


# -- bugs the LLM wrote (WaveCoder repair, `instructions: llm`) ------------------------------------
MIN_SIMILARITY = 0.6  # an LLM "bug" below this difflib ratio to the original rewrote the code


def _behaviour(code: str) -> str:
    """The AST without docstrings: equal for two codes that differ only in layout, comments or docstrings."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return ast.dump(tree, annotate_fields=False)


def llm_bug_problem(original: str, buggy: str, entry_point: str = "") -> str | None:
    """Why `buggy` (the LLM's version of `original` with a bug) is unusable, or None when it is usable.

    Reasons: `bug_missing` (no code), `bug_identical` (the same text), `bug_syntax_error`,
    `bug_changes_nothing` (the same program: only layout, comments or docstrings differ),
    `bug_rewrites_code` (the entry point is gone, or under MIN_SIMILARITY of the text is kept).
    Whether the bug changes behaviour on real inputs is not run here (generation runs no code): a
    semantically equal rewrite other than layout (say `x + 0`) passes, and the scoring stages'
    execution checks see the record later.
    """
    import difflib

    if not buggy.strip():
        return "bug_missing"
    if buggy.strip() == original.strip():
        return "bug_identical"
    try:
        changed = _behaviour(buggy)
    except (SyntaxError, ValueError):
        return "bug_syntax_error"
    try:
        if changed == _behaviour(original):
            return "bug_changes_nothing"
    except (SyntaxError, ValueError):
        pass
    if entry_point and not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == entry_point
                               for n in ast.walk(ast.parse(buggy))):
        return "bug_rewrites_code"
    if difflib.SequenceMatcher(None, original.strip(), buggy.strip()).ratio() < MIN_SIMILARITY:
        return "bug_rewrites_code"
    return None
