"""Run a method's generation stage: in memory (`generate`) or as a resumable batch job (`run_generation`).

Resuming: records go through `JsonlWriter` (`<output>.partial`, fsynced per record) and a journal
`<output>.seeds.jsonl` gets one line per FINISHED seed (its id, the fingerprint, kept and rejected
counts) after that seed's records are on disk. A rerun skips journaled seeds and first drops
records of seeds missing from the journal (interrupted half-way), so a kill -9 at any point loses
nothing and duplicates nothing. An output made with other settings (another fingerprint) is
refused rather than mixed.

Example:
    codeinstruct generate inverse_instruct --seeds seeds.jsonl --output out.jsonl --limit 4
"""

from __future__ import annotations

import collections
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from codeinstruct.core import progress as progress_mod
from codeinstruct.core.errors import FailedPrecondition, InvalidInput
from codeinstruct.core.methods import Method
from codeinstruct.core.records import JsonlWriter, Record, write_text_atomic
from codeinstruct.core.usage import Usage
from codeinstruct.engines import Engine, load_engine
from codeinstruct.engines.metered import MeteredEngine
from codeinstruct.generation import seeds as seeds_mod
from codeinstruct.generation import selection
from codeinstruct.generation.common import Context, SeedOutcome, make_fingerprint
from codeinstruct.generation.config import GenerationConfig
from codeinstruct.generation.methods import evol_instruct, inverse_instruct, self_instruct, semi_instruct, wavecoder

logger = logging.getLogger(__name__)

MethodRun = Callable[[Sequence[dict[str, Any]], Context], Iterator[SeedOutcome]]
# The one registry of generation methods (names: codeinstruct.core.methods.Method).
METHODS: dict[Method, MethodRun] = {
    "semi_instruct": semi_instruct.run,
    "inverse_instruct": inverse_instruct.run,
    "evol_instruct": evol_instruct.run,
    "wavecoder": wavecoder.run,
    "self_instruct": self_instruct.run,
}


def check_method(method: str) -> Method:
    """`method` as a `Method`, or InvalidInput naming the known ones."""
    for known in METHODS:
        if method == known:
            return known
    raise InvalidInput(f"unknown method {method!r}; methods: {sorted(METHODS)}", field="method")


def context(method: str, engine: Engine, config: GenerationConfig,
            engine_settings: Mapping[str, Any] | None = None, history: Sequence[dict[str, Any]] = ()) -> Context:
    settings = dict(engine_settings or {})
    info = engine.info()
    settings.setdefault("batch_size", info.get("batch_size", 8))
    # the dtype the engine resolved ("auto" -> float32 ...), so every entrypoint fingerprints alike
    settings["dtype"] = info.get("dtype", settings.get("dtype", ""))
    known = check_method(method)
    return Context(engine=engine, config=config, method=known,
                   fingerprint=make_fingerprint(known, config, engine, settings), engine_settings=settings,
                   history=list(history))


def generate_outcomes(method: str, seeds: Sequence[Mapping[str, Any]], engine: Engine,
                      config: GenerationConfig | None = None, limit: int | None = None) -> Iterator[SeedOutcome]:
    """Per-seed outcomes (kept records, rejection reasons) in seed order."""
    ctx = context(method, engine, config or GenerationConfig())
    normalized = [seeds_mod.normalize_seed(s, where=f"seed {i}") for i, s in enumerate(seeds)]
    yield from METHODS[ctx.method](normalized[:limit] if limit is not None else normalized, ctx)


def generate(method: str, seeds: Sequence[Mapping[str, Any]], engine: Engine, config: GenerationConfig | None = None,
             limit: int | None = None) -> Iterator[Record]:
    """The records `method` makes from `seeds` (at most `limit` seeds), as they finish."""
    for outcome in generate_outcomes(method, seeds, engine, config, limit):
        yield from outcome.records


def journal_path(output: Path) -> Path:
    return output.with_name(output.name + ".seeds.jsonl")


def _read_journal(path: Path, fingerprint: str) -> dict[str, dict[str, Any]]:
    done: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return done
    text = path.read_text(encoding="utf-8")
    valid = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill: that seed is not done
        valid.append(line)
        if entry.get("fingerprint") != fingerprint:
            raise FailedPrecondition(
                f"{path} was made with other settings (fingerprint {entry.get('fingerprint')}, now {fingerprint}): "
                "use another --output or delete the old output and its .seeds.jsonl journal",
                reason="FINGERPRINT_MISMATCH")
        done[entry["seed_id"]] = entry
    if (text and not text.endswith("\n")) or len(valid) != len(text.splitlines()):
        # drop the cut line, or the next entry appended to it would be unreadable too
        write_text_atomic(path, "".join(line + "\n" for line in valid))
    return done


def _drop_unfinished(output: Path, done: Mapping[str, Any]) -> int:
    """Remove records of seeds the journal does not list as finished (a run killed mid-seed)."""
    dropped = 0
    for path in (output, output.with_name(output.name + ".partial")):
        if not path.exists():
            continue
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                parent = json.loads(line).get("source", {}).get("parent_id")
            except json.JSONDecodeError:
                dropped += 1
                continue
            if parent in done:
                kept.append(line)
            else:
                dropped += 1
        write_text_atomic(path, "".join(line + "\n" for line in kept))
    return dropped


def selection_path(output: Path) -> Path:
    return output.with_name(output.name + ".selection.json")


def _selects(method: Method, config: GenerationConfig) -> bool:
    return method == "wavecoder" and config.wavecoder.selection != "off"


def _pool(method: Method, seeds_path: str | Path | None, limit: int | None,
          config: GenerationConfig) -> list[dict[str, Any]]:
    """The seeds read before any engine loads (a bad seeds file fails at once): at most `limit`,
    or the whole pool when WaveCoder selects from it."""
    most = None if _selects(method, config) else limit
    return seeds_mod.load_seeds(seeds_path, most) if seeds_path else seeds_mod.stdlib_seeds(most)


def _seeds(method: Method, pool: list[dict[str, Any]], limit: int | None, ctx: Context,
           output: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The seeds of this run (from `_pool`) and, for WaveCoder's raw-code selection, its stats.

    WaveCoder selects from the whole pool when `selection.applies`; the chosen ids are kept in
    `<output>.selection.json` (with the fingerprint), so a resumed run works on the same seeds.
    """
    if not _selects(method, ctx.config):
        return pool, None
    if not selection.applies(ctx.config.wavecoder, len(pool), limit):
        return pool[:limit] if limit is not None else pool, None
    saved = selection_path(output)
    if saved.exists():
        state = json.loads(saved.read_text(encoding="utf-8"))
        if state.get("fingerprint") == ctx.fingerprint:
            chosen = set(state["seed_ids"])
            return [s for s in pool if s["id"] in chosen], {**state["stats"], "resumed": True}
    picked = selection.select_raw_code(pool, ctx.config.wavecoder, limit=limit, count_tokens=ctx.engine.count_tokens,
                                       seed=ctx.config.seed)
    stats = picked.stats()
    write_text_atomic(saved, json.dumps({"fingerprint": ctx.fingerprint, "seed_ids": [s["id"] for s in picked.seeds],
                                         "stats": stats}, indent=1) + "\n")
    return picked.seeds, stats


def run_generation(method: str, seeds_path: str | Path | None, output_path: str | Path,
                   config: GenerationConfig | None = None, limit: int | None = None,
                   engine: Engine | None = None, progress: Callable[[dict[str, Any]], None] | None = None
                   ) -> dict[str, Any]:
    """Resumable batch job: seeds (default: the stdlib seeds) -> records JSONL. Returns a summary.

    The engine is `config.engine` loaded here, unless `engine` (already loaded) is given. The
    summary's `usage` holds the tokens and engine seconds this call spent (`core.usage.Usage`;
    seeds resumed from an earlier run cost nothing here).
    """
    known = check_method(method)
    started = time.monotonic()
    config = config or GenerationConfig()
    output = Path(output_path)
    pool = _pool(known, seeds_path, limit, config)
    own_engine = engine is None
    engine = engine or load_engine(config.engine)
    usage = Usage()
    try:
        ctx = context(known, MeteredEngine(engine, usage), config, config.engine.public_dict())
        journal = journal_path(output)
        done = _read_journal(journal, ctx.fingerprint)
        ctx.history = [entry["state"] for entry in done.values() if entry.get("state")]
        seeds, selected = _seeds(known, pool, limit, ctx, output)
        dropped = _drop_unfinished(output, done)
        if dropped:
            logger.info("%s: dropped %d record(s) of seeds an interrupted run did not finish", output, dropped)
        todo = [s for s in seeds if s["id"] not in done]
        rejected: collections.Counter[str] = collections.Counter()
        notes: collections.Counter[str] = collections.Counter()
        for entry in done.values():
            rejected.update(entry.get("rejected", {}))
            notes.update(entry.get("notes", {}))
        written = 0
        with JsonlWriter(output) as writer, journal.open("a", encoding="utf-8") as log, \
                progress_mod.track(method, total=len(todo), unit="seed") as task:
            task.activity = lambda: (f"{usage.engine_calls} model call{'' if usage.engine_calls == 1 else 's'}, "
                                     f"{usage.tokens_out:,} tokens out so far" if usage.engine_calls else "")
            for number, outcome in enumerate(METHODS[known](todo, ctx), 1):
                for record in outcome.records:
                    written += writer.write(record)
                entry = {"seed_id": outcome.seed_id, "fingerprint": ctx.fingerprint,
                         "kept": len(outcome.records), "rejected": dict(outcome.rejected)}
                if outcome.notes:
                    entry["notes"] = dict(outcome.notes)
                if outcome.state:
                    entry["state"] = outcome.state
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
                log.flush()
                os.fsync(log.fileno())
                rejected.update(outcome.rejected)
                notes.update(outcome.notes)
                if progress is not None:
                    progress({"seeds_done": number, "seeds_total": len(todo), "records": written})
                task.update(number, note=f"{written} record{'' if written == 1 else 's'}")
                logger.debug("%s: seed %d/%d -> %d record(s)%s", method, number, len(todo), len(outcome.records),
                            f", rejected {dict(outcome.rejected)}" if outcome.rejected else "")
            total = len(writer)
        summary = {"method": method, "output": str(output), "fingerprint": ctx.fingerprint,
                   "model": engine.model_name, "engine": engine.engine_name,
                   "seeds": len(seeds), "seeds_resumed": len(seeds) - len(todo), "seeds_run": len(todo),
                   "records_written": written, "records_total": total,
                   "rejected": dict(sorted(rejected.items())), "elapsed_s": round(time.monotonic() - started, 2),
                   "usage": usage.as_stats()}
        if notes:
            summary["notes"] = dict(sorted(notes.items()))
        if selected is not None:
            summary["selection"] = selected
        return summary
    finally:
        if own_engine:
            engine.close()
