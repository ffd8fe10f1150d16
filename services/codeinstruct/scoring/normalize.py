"""Text and code normalization shared by dedup and decontamination.

`code_tokens` turns Python code into a token list that ignores layout, comments and identifier
names (identifiers become `v0, v1 ...` in order of first use; keywords, builtins and attribute
names stay), so two snippets that differ only by whitespace or a consistent rename compare equal.
Other languages (or Python that does not tokenize) fall back to a regex tokenizer with the same
renaming, minus the layout tokens.
"""

from __future__ import annotations

import builtins
import io
import keyword
import re
import tokenize

_WORD = re.compile(r"\w+", re.UNICODE)
_CODE_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d+)?|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|\S")
_KEEP = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
# Common keywords of the other languages we generate (JavaScript, C++, Java, Go, Rust ...).
_OTHER_KEYWORD_TEXT = """
function var let const return if else for while do switch case break continue new this class public
private protected static void int long float double char bool boolean string String true false null
nullptr undefined include import package fn mut impl struct enum interface extends implements func
auto std cout cin endl vector map try catch throw throws final using namespace template typename
"""
_OTHER_KEYWORDS = frozenset(_OTHER_KEYWORD_TEXT.split())
_LINE_COMMENT = re.compile(r"//[^\n]*|#[^\n]*")
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def words(text: str) -> list[str]:
    """Lower-case word tokens (punctuation and layout dropped)."""
    return _WORD.findall(text.lower())


def normalize_text(text: str) -> str:
    return " ".join(words(text))


def _python_tokens(code: str) -> list[str]:
    out: list[str] = []
    names: dict[str, str] = {}
    previous = ""
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        kind, value = tok.type, tok.string
        if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER, tokenize.TYPE_COMMENT):
            continue
        if kind == tokenize.NEWLINE:
            value = ";"
        elif kind == tokenize.INDENT:
            value = "<in>"
        elif kind == tokenize.DEDENT:
            value = "<de>"
        elif kind == tokenize.NAME and value not in _KEEP and previous != ".":
            value = names.setdefault(value, f"v{len(names)}")
        elif kind == tokenize.STRING:
            value = " ".join(value.split())
        out.append(value)
        previous = tok.string
    # Python statements end with NEWLINE: a trailing ";" is layout, not content.
    while out and out[-1] in (";", "<de>"):
        out.pop()
    return out


def _generic_tokens(code: str) -> list[str]:
    code = _BLOCK_COMMENT.sub(" ", code)
    code = _LINE_COMMENT.sub(" ", code)
    out: list[str] = []
    names: dict[str, str] = {}
    previous = ""
    for value in _CODE_TOKEN.findall(code):
        token = value
        if (value[0].isalpha() or value[0] == "_") and value not in _OTHER_KEYWORDS and value not in _KEEP \
                and previous not in (".", "->"):
            token = names.setdefault(value, f"v{len(names)}")
        out.append(token)
        previous = value
    return out


def code_tokens(code: str, language: str = "python") -> list[str]:
    """Layout-, comment- and rename-insensitive tokens of `code` (see module docstring)."""
    if language == "python":
        try:
            return _python_tokens(code)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass
    return _generic_tokens(code)
