"""WaveCoder raw-code selection, before generation: length bounds, a blacklist, then KCenterGreedy.

WaveCoder filters its raw code (CodeSearchNet) before asking the generator for anything: code of
50-800 tokens only, no code matching a blacklist, and then a KCenterGreedy coreset over the raw
code's embeddings so the seeds that remain cover the space instead of repeating one kind of code.
Here, in that order, each dropped seed counted by reason:

- `no_code` (empty), `duplicate_code` (the same code as an earlier seed, whitespace aside),
- `too_few_tokens` / `too_many_tokens` (`generation.wavecoder.min_code_tokens`..`max_code_tokens`),
  counted with the engine's tokenizer when one is given (`count_tokens`), else approximated as
  1.15 x the lexical tokens (`\\w+` runs and single symbols): on the 130 stdlib seeds SmolLM2's
  tokenizer gives 1.14x that count on average (0.79-1.48),
- `blacklisted` (a `generation.wavecoder.blacklist` regex matches; `blacklist_hits` counts per
  pattern), `no_code_beyond_comments` (license headers, comment-only or docstring-only files),
- `not_selected`: what KCenterGreedy (`codeinstruct.curation.kcenter`) leaves out when more than
  `limit` seeds remain; the code is embedded with the packaged all-MiniLM-L6-v2
  (`codeinstruct.curation.embeddings`, nothing downloaded) or `generation.wavecoder.embedding_model`.

`select_raw_code` works on seed dicts in memory; `select_seeds` is the file-to-file step a pipeline
calls:

    stats = select_seeds("pool.jsonl", "seeds.jsonl", limit=1000, config=settings.generation)
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import io
import logging
import math
import re
import time
import tokenize
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import write_jsonl_atomic
from codeinstruct.generation import seeds as seeds_mod
from codeinstruct.generation.config import GenerationConfig, WavecoderConfig

logger = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], np.ndarray]
CountTokens = Callable[[str], int]
APPROX_TOKENS_PER_LEXEME = 1.15
_LEXEME = re.compile(r"\w+|[^\w\s]")
_C_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*|^\s*#[^\n]*", re.S | re.M)


def approx_tokens(code: str) -> int:
    """A tokenizer-free token count: 1.15 x the `\\w+` runs and symbols (see the module docstring)."""
    return math.ceil(APPROX_TOKENS_PER_LEXEME * len(_LEXEME.findall(code)))


def has_code_beyond_comments(code: str, language: str) -> bool:
    """False for code that is only comments, docstrings/strings, `pass` or blank lines (a license header)."""
    if language == "python":
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            return _strip_python_comments(code).strip() != ""
        return any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
                   and not isinstance(node, ast.Pass) for node in tree.body)
    return _C_COMMENTS.sub("", code).strip() != ""


def _strip_python_comments(code: str) -> str:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return code
    return " ".join(t.string for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                                                tokenize.INDENT, tokenize.DEDENT,
                                                                tokenize.ENDMARKER))


@dataclasses.dataclass
class Selection:
    """The seeds kept (in input order) and why each other one was dropped."""

    seeds: list[dict[str, Any]]
    seeds_in: int
    dropped: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    blacklist_hits: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    token_counter: str = "approx"
    coreset: bool = False

    def stats(self) -> dict[str, Any]:
        return {"seeds_in": self.seeds_in, "seeds_out": len(self.seeds), "dropped": dict(sorted(self.dropped.items())),
                "blacklist_hits": dict(self.blacklist_hits), "token_counter": self.token_counter,
                "coreset": self.coreset}


def _compiled(patterns: Sequence[str]) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for pattern in patterns:
        try:
            out.append((pattern, re.compile(pattern, re.M)))
        except re.error as exc:
            raise InvalidInput(f"generation.wavecoder.blacklist: bad regex {pattern!r}: {exc}",
                               field="generation.wavecoder.blacklist") from exc
    return out


def select_raw_code(seeds: Sequence[Mapping[str, Any]], config: WavecoderConfig, *, limit: int | None,
                    embed: Embed | None = None, count_tokens: CountTokens | None = None,
                    seed: int = 0) -> Selection:
    """Filter `seeds` by length and blacklist, then keep at most `limit` of them by KCenterGreedy.

    `embed` maps code strings to vectors (default: the packaged sentence model); `count_tokens`
    counts a code's tokens (default: `approx_tokens`); `seed` seeds KCenterGreedy's first pick.
    """
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit must be >= 1, got {limit}", field="limit")
    selection = Selection(seeds=[], seeds_in=len(seeds), token_counter="engine" if count_tokens else "approx")
    count = count_tokens or approx_tokens
    blacklist = _compiled(config.blacklist)
    seen: set[str] = set()
    for item in seeds:
        code = str(item.get("code") or "")
        if not code.strip():
            selection.dropped["no_code"] += 1
            continue
        key = "\n".join(line.rstrip() for line in code.strip().splitlines())
        if key in seen:
            selection.dropped["duplicate_code"] += 1
            continue
        seen.add(key)
        tokens = count(code)
        if tokens < config.min_code_tokens:
            selection.dropped["too_few_tokens"] += 1
            continue
        if tokens > config.max_code_tokens:
            selection.dropped["too_many_tokens"] += 1
            continue
        hit = next((pattern for pattern, regex in blacklist if regex.search(code)), None)
        if hit is not None:
            selection.dropped["blacklisted"] += 1
            selection.blacklist_hits[hit] += 1
            continue
        if not has_code_beyond_comments(code, str(item.get("language") or "python")):
            selection.dropped["no_code_beyond_comments"] += 1
            continue
        selection.seeds.append(dict(item))
    if limit is not None and len(selection.seeds) > limit:
        from codeinstruct.curation.kcenter import k_center_greedy

        embed = embed or _default_embed(config)
        vectors = embed([str(s["code"]) for s in selection.seeds])
        picked = set(k_center_greedy(vectors, limit, seed=seed))
        selection.dropped["not_selected"] += len(selection.seeds) - len(picked)
        selection.seeds = [s for i, s in enumerate(selection.seeds) if i in picked]
        selection.coreset = True
    logger.info("wavecoder selection: %d of %d seed(s) kept, dropped %s", len(selection.seeds), len(seeds),
                dict(selection.dropped))
    return selection


def _default_embed(config: WavecoderConfig) -> Embed:
    from codeinstruct.curation.embeddings import embed

    def run(texts: Sequence[str]) -> np.ndarray:
        return embed(texts, model_path=config.embedding_model or None)

    return run


def applies(config: WavecoderConfig, pool_size: int, limit: int | None) -> bool:
    """Whether the selection runs: `always`, or `auto` when the pool is larger than the request."""
    if config.selection == "off":
        return False
    return config.selection == "always" or (limit is not None and pool_size > limit)


def select_seeds(seeds_path: str | Path | None, output_path: str | Path, *, limit: int | None,
                 config: GenerationConfig, count_tokens: CountTokens | None = None,
                 embed: Embed | None = None) -> dict[str, Any]:
    """File step: the seeds of `seeds_path` (None: the embedded stdlib functions) -> the selected seeds
    as JSONL at `output_path`. Returns the selection's stats (seeds_in, seeds_out, dropped by reason,
    blacklist_hits, token_counter, coreset, applied, elapsed_s).

    Runs when `applies(...)` (otherwise the first `limit` seeds are written as they are), with the
    global `generation.seed` seeding KCenterGreedy.
    """
    started = time.monotonic()
    pool = seeds_mod.load_seeds(seeds_path) if seeds_path else seeds_mod.stdlib_seeds()
    if applies(config.wavecoder, len(pool), limit):
        selection = select_raw_code(pool, config.wavecoder, limit=limit, embed=embed, count_tokens=count_tokens,
                                    seed=config.seed)
        chosen, stats = selection.seeds, {**selection.stats(), "applied": True}
    else:
        chosen = pool[:limit] if limit is not None else pool
        stats = {"seeds_in": len(pool), "seeds_out": len(chosen), "dropped": {}, "applied": False}
    write_jsonl_atomic(output_path, chosen)
    return {**stats, "elapsed_s": round(time.monotonic() - started, 2)}
