"""Semi-Instruct drafts: from human-written code, an instruction, a refined solution, the answer
type and test INPUTS (DESIGN section 4 format), for the execution stage to check.

The answer type comes from the original code: a function (the seed's `entry_point`, else its last
top-level function) gives call-expression inputs such as `unquote('"a"')`; code without functions
that reads stdin gives stdin inputs. Gold outputs are NOT generated here: the scoring stage runs
the ORIGINAL code (`source.code`) on the inputs and keeps the record when the refined code
matches on all of them. So records leave this stage with empty outputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from codeinstruct.generation import parsers, prompts
from codeinstruct.generation.common import Context, SeedOutcome, batches, fence
from codeinstruct.generation.parsers import Rejected

START = "[INSTRUCTION]\n"


def answer_type(seed: dict[str, Any]) -> tuple[str, list[str]]:
    """(entry point or "" for a stdin program, functions the original defines) or Rejected."""
    code = str(seed.get("code", ""))
    if not code.strip():
        raise Rejected("seed_has_no_code")
    if seed.get("language", "python") != "python":
        raise Rejected("language_not_supported", str(seed.get("language")))
    if not parsers.python_parses(code):
        raise Rejected("seed_syntax_error")
    functions = parsers.defined_functions(code)
    entry = str(seed.get("entry_point") or "")
    if entry:
        if entry not in functions:
            raise Rejected("seed_entry_point_missing", entry)
        return entry, functions
    if functions:
        return functions[-1], functions
    if re.search(r"\binput\s*\(|sys\.stdin", code):
        return "", functions
    raise Rejected("seed_not_function_or_program")


def _prompt(template: prompts.Template, seed: dict[str, Any], entry: str) -> str:
    if entry:
        kind = f"function {entry}"
        tests = (f"One Python call expression per line, each calling {entry} with literal arguments, "
                 f"for example:\n{entry}(...)")
    else:
        kind = "program"
        tests = "Each input in its own ```text fenced block, holding the program's standard input."
    return template.render(language=seed.get("language", "python"), code=str(seed["code"]).strip("\n"),
                           answer_type=kind, test_format=tests)


def run(seeds: Sequence[dict[str, Any]], ctx: Context) -> Iterator[SeedOutcome]:
    cfg = ctx.config
    template = prompts.load("semi_instruct.draft")
    for chunk in batches(list(seeds), max(1, ctx.batch // cfg.semi_samples)):
        outcomes = {s["id"]: SeedOutcome(s["id"]) for s in chunk}
        jobs: list[tuple[dict[str, Any], str, list[str]]] = []
        for seed in chunk:
            try:
                entry, functions = answer_type(seed)
            except Rejected as exc:
                outcomes[seed["id"]].reject(exc.reason, exc.detail)
                continue
            jobs.append((seed, entry, functions))
        # the answer is started with its first header, which small models then follow
        texts = ctx.engine.generate(
            [ctx.engine.apply_chat_template([{"role": "user", "content": _prompt(template, seed, entry)}]) + START
             for seed, entry, _ in jobs],
            [ctx.params(seed["id"], "draft", 0, n=cfg.semi_samples, temperature=cfg.semi_temperature)
             for seed, _, _ in jobs]) if jobs else []
        for (seed, _entry, functions), samples in zip(jobs, texts, strict=True):
            outcome = outcomes[seed["id"]]
            for k, completion in enumerate(samples):
                text = START + completion
                try:
                    draft = parsers.parse_semi_draft(text, original_functions=functions,
                                                     language=seed.get("language", "python"),
                                                     max_tests=cfg.semi_max_tests)
                except Rejected as exc:
                    outcome.reject(exc.reason, exc.detail)
                    continue
                language = seed.get("language", "python")
                outcome.records.append(ctx.record(
                    seed, instruction=draft.instruction, response=fence(draft.solution, language),
                    code=draft.solution, entry_point=draft.entry_point,
                    tests=[{"input": i, "output": ""} for i in draft.inputs],
                    scores={"semi_sample": k}, record_seed=ctx.seed_for(seed["id"], "draft", 0)))
        yield from (outcomes[s["id"]] for s in chunk)
