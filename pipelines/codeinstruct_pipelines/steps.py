"""What each pipeline step does, in plain Python over JSONL files: the core the KFP components call.

Every function reads records (DESIGN section 4) from a JSONL path, writes the survivors to another
and returns `Stats`, a small JSON-able dict the component logs as Metrics and Markdown and appends
to the dataset's stage ledger (artifact metadata `stages`), from which reports draw the funnel:

    {"stage": "semi_instruct/validate", "input": 12, "kept": 7, "dropped": 5,
     "reasons": {"WRONG_ANSWER": 3, "no_tests": 2}, "seconds": 4.1,
     "tokens_in": 0, "tokens_out": 0, "engine_calls": 0, "engine_seconds": 0.0,
     "sandbox_runs": 40, "sandbox_seconds": 2.7, "sandbox_cpu_seconds": 1.2,
     "by_method": {"semi_instruct": {"input": 12, "kept": 7, "sandbox_seconds": 2.7, ...}}, ...extra figures}

Every entry carries the cost figures (`codeinstruct.core.usage.USAGE_KEYS`: tokens in and out and
engine seconds from the metered engine, sandbox seconds from the sandbox's own run times; 0 for a
stage that spends none) and, for stages that see several methods' records, `by_method`. Reports
turn them into tokens and seconds per kept record per method (`report.cost_by_method`).

Tests call these functions directly; nothing here imports KFP.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from codeinstruct.core import progress
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.core.records import Record, read_jsonl, read_records, write_jsonl_atomic
from codeinstruct.core.usage import USAGE_KEYS
from codeinstruct.evaluation.suites import SuiteRequest
from codeinstruct.scoring import validation
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.settings import Settings
from codeinstruct_pipelines import services

logger = logging.getLogger(__name__)

Stats = dict[str, Any]

# Stages a filter step can run (scoring functions, plus `verify`: every record meets its method's standard).
STAGES = ("validate_semi_instruct", "execution_filter", "lm_score", "discriminate", "dedup", "decontaminate",
          "coreset", "curriculum", "verify", "mix")


def parse_config(config_yaml: str) -> Settings:
    """The step's `Settings`, from the YAML config text a pipeline carries as a parameter (+ environment)."""
    if not config_yaml.strip():
        return Settings.from_mapping({})
    try:
        data = yaml.safe_load(config_yaml) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"pipeline parameter config_yaml is not valid YAML: {exc}", field="config_yaml") from exc
    if not isinstance(data, dict):
        raise InvalidInput("pipeline parameter config_yaml must hold a mapping of sections", field="config_yaml")
    return Settings.from_mapping(data)


def _stats(stage: str, n_in: int, kept: int, reasons: Mapping[str, int], started: float, **extra: Any) -> Stats:
    out: Stats = {"stage": stage, "input": n_in, "kept": kept, "dropped": max(n_in - kept, 0),
                  "reasons": dict(reasons), "seconds": round(time.monotonic() - started, 3)}
    out.update({key: 0 for key in USAGE_KEYS})
    out.update(extra)
    return out


def _by_method(records: Sequence[Record], kept: Sequence[Record],
               spent: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Per method: records in and kept, plus what the stage spent on that method's records."""
    n_in, n_kept = Counter(r.method for r in records), Counter(r.method for r in kept)
    out: dict[str, dict[str, Any]] = {}
    for method in n_in:
        out[method] = {"input": n_in[method], "kept": n_kept[method], **dict((spent or {}).get(method) or {})}
    return out


def _read(path: str | Path) -> list[Record]:
    return list(read_records(path))


# --- seeds and fan-out ---------------------------------------------------------------------------

def prepare_seeds(method: str, seeds_path: str, output_path: str | Path, *, limit: int = 0,
                  num_shards: int = 1) -> tuple[Stats, list[int]]:
    """Write the seeds one method run uses (a file, or the embedded stdlib functions) and plan its shards."""
    started = time.monotonic()
    if seeds_path:
        seeds = list(read_jsonl(seeds_path))
        for number, seed in enumerate(seeds, 1):
            if not (seed.get("code") or seed.get("instruction")):
                raise InvalidInput(f"{seeds_path}: seed {number} has neither 'code' nor 'instruction'", field="seeds")
        origin = str(seeds_path)
    else:
        from codeinstruct.generation.seeds import stdlib_seeds

        seeds = stdlib_seeds(limit=limit or None)
        origin = "embedded stdlib"
    if limit:
        seeds = seeds[:limit]
    write_jsonl_atomic(output_path, seeds)
    shards = list(range(max(1, min(num_shards, len(seeds)))))
    logger.info("%s: %d seed(s) from %s in %d shard(s)", method, len(seeds), origin, len(shards))
    return _stats(f"{method}/seeds", len(seeds), len(seeds), {}, started, method=method, origin=origin,
                  shards=len(shards)), shards


def select_raw_code(seeds_path: str, output_path: str | Path, *, settings: Settings, limit: int = 0,
                    num_shards: int = 1) -> tuple[Stats, list[int]]:
    """WaveCoder's raw-code selection before generation (length bounds, blacklist, KCenterGreedy on
    code embeddings; generation.wavecoder.selection) + the shard plan. Tokens are approximated here
    (a CPU step loads no model)."""
    from codeinstruct.generation.selection import select_seeds

    started = time.monotonic()
    selected = select_seeds(seeds_path or None, output_path, limit=limit or None, config=settings.generation)
    kept = int(selected["seeds_out"])
    shards = list(range(max(1, min(num_shards, kept))))
    reasons = {str(k): int(v) for k, v in dict(selected.get("dropped") or {}).items()}
    extra = {k: v for k, v in selected.items() if k not in {"seeds_in", "seeds_out", "dropped"} and _jsonable(v)}
    return _stats("wavecoder/select raw code", int(selected["seeds_in"]), kept, reasons, started,
                  method="wavecoder", origin=seeds_path or "embedded stdlib", shards=len(shards), **extra), shards


def shard_of(items: Sequence[Any], shard_index: int, num_shards: int) -> list[Any]:
    """Round-robin slice: shard i gets items i, i+n, i+2n ... (balanced when items vary in size)."""
    if not 0 <= shard_index < num_shards:
        raise InvalidInput(f"shard_index must be 0..{num_shards - 1}, got {shard_index}", field="shard_index")
    return list(items[shard_index::num_shards])


def generate_shard(method: str, seeds_path: str | Path, output_path: str | Path, *, shard_index: int,
                   num_shards: int, settings: Settings, target: str = services.INPROCESS, model: str = "") -> Stats:
    """Run one method's generation over one shard of the seeds (with `model`, a model trained earlier in
    the pipeline, instead of `generation.engine.model` when given)."""
    started = time.monotonic()
    seeds = shard_of(list(read_jsonl(seeds_path)), shard_index, num_shards)
    output_path = Path(output_path)
    with tempfile.TemporaryDirectory(prefix="codeinstruct-shard-") as tmp:
        shard_seeds = Path(tmp) / "seeds.jsonl"
        write_jsonl_atomic(shard_seeds, seeds)
        with progress.scope(f"shard {shard_index + 1}/{num_shards}"):
            summary = services.generate(method, shard_seeds, output_path, settings, target, model=model)
    if not output_path.exists():
        write_jsonl_atomic(output_path, [])
    kept = sum(1 for _ in read_jsonl(output_path))
    reasons = {str(k): int(v) for k, v in summary["rejected"].items()}
    # Tokens and engine seconds of the in-process job (a remote generation service reports none yet).
    usage = {key: value for key, value in dict(summary.get("usage") or {}).items() if key in USAGE_KEYS}
    return _stats(f"{method}/generate", len(seeds), kept, reasons, started, method=method, shard=shard_index,
                  seeds=len(seeds), records=kept, **usage, **({"model": model} if model else {}))


def seed_corpus(method: str, seeds_path: str | Path, output_path: str | Path) -> Stats:
    """The seeds' own instruction-response pairs as records of `method` (`source.corpus: original`):
    the corpus a self-improvement loop starts from and trains on again (Inverse-Instruct)."""
    started = time.monotonic()
    seeds = list(read_jsonl(seeds_path))
    kept: list[Record] = []
    reasons: Counter[str] = Counter()
    for seed in seeds:
        response = str(seed.get("response") or "").strip() or _fenced(seed)
        if not str(seed.get("instruction") or "").strip():
            reasons["no_instruction"] += 1
        elif not response:
            reasons["no_response_or_code"] += 1
        else:
            kept.append(Record(method=method, task="generation", instruction=str(seed["instruction"]),
                               response=response, code=str(seed.get("code") or ""),
                               language=str(seed.get("language") or "python"),
                               entry_point=str(seed.get("entry_point") or ""), tests=list(seed.get("tests") or []),
                               source={**dict(seed.get("source") or {}), "corpus": "original",
                                       "seed_id": str(seed.get("id") or "")}).validate())
    write_jsonl_atomic(output_path, kept)
    return _stats(f"{method}/original corpus", len(seeds), len(kept), dict(reasons), started, method=method)


def _fenced(seed: Mapping[str, Any]) -> str:
    code = str(seed.get("code") or "").strip("\n")
    return f"```{seed.get('language') or 'python'}\n{code}\n```" if code.strip() else ""


def merge_datasets(paths: Iterable[str | Path], output_path: str | Path) -> Stats:
    """Fan-in: concatenate shard (or method) outputs, keeping the first copy of a repeated id."""
    started = time.monotonic()
    seen: set[str] = set()
    merged: list[Record] = []
    total = 0
    for path in paths:
        for record in read_records(path):
            total += 1
            if record.id not in seen:
                seen.add(record.id)
                merged.append(record)
    write_jsonl_atomic(output_path, merged)
    return _stats("merge", total, len(merged), {"duplicate_id": total - len(merged)} if total > len(merged) else {},
                  started)


# --- filter stages -------------------------------------------------------------------------------

def run_stage(stage: str, input_path: str | Path, output_path: str | Path, *, settings: Settings,
              label: str = "", sandbox_target: str = services.INPROCESS,
              scoring_target: str = services.INPROCESS, options: Mapping[str, Any] | None = None) -> Stats:
    """Run one filter/ranking stage over a dataset; `options` are the stage's own knobs."""
    if stage not in STAGES:
        raise InvalidInput(f"unknown stage {stage!r}; known: {list(STAGES)}", field="stage")
    started = time.monotonic()
    records = _read(input_path)
    options = dict(options or {})
    extra: dict[str, Any] = {}
    if stage == "verify":
        required = options.get("require_tests", settings.pipelines.methods_requiring_tests)
        with services.open_sandbox(sandbox_target, settings.sandbox, "pipelines.sandbox_target") as box:
            report = validation.verify(records, box, config=settings.scoring,
                                       require_tests=required if isinstance(required, bool) else tuple(required))
        kept, reasons = report.kept, report.reasons()
        extra = {k: v for k, v in report.extra.items() if _jsonable(v)}
        extra["require_tests"] = sorted(validation.methods_requiring_tests(required))
        extra["standards"] = dict(Counter(str(r.scores.get("standard")) for r in kept))
    elif stage == "mix":
        from codeinstruct.scoring.mixture import mix

        kept, table = mix(records, settings.pipelines.mixture, seed=settings.training.seed)
        reasons = {f"over_{m}_share": int(row["available"] - row["kept"])
                   for m, row in table.items() if row["available"] > row["kept"]}
        extra = {"mixture": table}
    elif stage == "curriculum":
        kept = services.rank(records, by=str(options.get("by", "n_tests")), target=scoring_target)
        reasons, extra = {}, {"by": options.get("by", "n_tests")}
    elif not records:
        kept, reasons = [], {}
    else:
        report = services.score(stage, records, settings=settings, sandbox_target=sandbox_target,
                                scoring_target=scoring_target, options=options)
        kept = list(report.kept)
        counts = report.counts()
        reasons = dict(counts.get("reasons") or {})
        extra = {k: v for k, v in counts.items() if k not in {"stage", "kept", "dropped", "reasons"}
                 and _jsonable(v)}
        if stage == "lm_score":
            extra["judge_model"] = str(options.get("model") or settings.scoring.engine.model)
            # Every scored pair, kept or not: the report's LM-Score histogram.
            scored = list(report.kept) + [record for record, _ in report.dropped]
            extra["lm_scores"] = [round(float(r.scores["lm_score"]), 5) for r in scored
                                  if isinstance(r.scores.get("lm_score"), (int, float))]
    write_jsonl_atomic(output_path, kept)
    extra["by_method"] = _by_method(records, kept, extra.get("by_method"))
    return _stats(label or stage, len(records), len(kept), reasons, started, **extra)


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def verify_records(records: Iterable[Record], sandbox: SandboxLike, *,
                   require_tests: bool | Sequence[str] = True,
                   config: ScoringConfig | None = None) -> tuple[list[Record], dict[str, int]]:
    """The records that meet their method's standard (`codeinstruct.scoring.validation.verify`;
    `require_tests`: the methods whose records must carry tests, True = those that make tests), and
    the failure reasons counted."""
    report = validation.verify(records, sandbox, config=config, require_tests=require_tests)
    return report.kept, report.reasons()


# --- training and evaluation ---------------------------------------------------------------------

def training_overrides(**values: Any) -> dict[str, Any]:
    """The step's `training.<key>` overrides: every value that is not None/''."""
    return {k: v for k, v in values.items() if v not in (None, "")}


def base_model_name(settings: Settings, base_model: str = "") -> str:
    """The model a run starts from: the pipeline's base_model, else training.model ('default' unless set)."""
    return base_model or settings.training.model


def train_model(dataset_path: str | Path, output_dir: str | Path, *, settings: Settings,
                base_model: str = "", curriculum: bool = True, target: str = services.INPROCESS) -> Stats:
    """Fine-tune the base model on the dataset, in its (curriculum) order; losses per step."""
    started = time.monotonic()
    records = _read(dataset_path)
    if not records:
        return _skip_training(output_dir, started)
    overrides = training_overrides(model=base_model, curriculum=curriculum or None)
    result = services.train(records, output_dir, settings=settings, overrides=overrides, target=target)
    # The trainer reports one entry per optimizer step: a number, or a dict with "loss" (and step, stage ...).
    losses = [float(x["loss"] if isinstance(x, Mapping) else x) for x in (result.get("losses") or [])]
    return _stats("train", len(records), len(records), {}, started, steps=len(losses), losses=losses,
                  final_loss=losses[-1] if losses else None, model_dir=str(result.get("model_dir") or output_dir))


def _skip_training(output_dir: str | Path, started: float) -> Stats:
    # Every record was filtered out upstream (a weak model can do that): say so instead of failing the run.
    reason = "the dataset is empty: every record was dropped upstream, so there was nothing to train on"
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    (Path(output_dir) / "SKIPPED.txt").write_text(reason + "\n", encoding="utf-8")
    logger.warning("training skipped: %s", reason)
    return _stats("train", 0, 0, {}, started, steps=0, losses=[], skipped=reason)


def train_schedule(stages: Sequence[tuple[str, str | Path, float]], output_dir: str | Path, *, settings: Settings,
                   base_model: str = "", target: str = services.INPROCESS) -> Stats:
    """Fine-tune the base model through `stages` in order: (name, records JSONL, epochs) each, every
    stage with a fresh schedule (e.g. Inverse-Instruct: the new data 1 epoch, then the original 2)."""
    started = time.monotonic()
    sizes = {name: sum(1 for _ in read_jsonl(path)) for name, path, _ in stages}
    empty = [name for name, size in sizes.items() if not size]
    if empty:
        logger.warning("training stage(s) %s skipped: no records reached them", empty)
    stages = [stage for stage in stages if sizes[stage[0]]]
    if not stages:
        return _skip_training(output_dir, started)
    overrides = training_overrides(model=base_model, curriculum=True, stages=[
        {"name": name, "data": str(path), "epochs": float(epochs)} for name, path, epochs in stages])
    result = services.train([], output_dir, settings=settings, overrides=overrides, target=target)
    entries = list(result.get("losses") or [])
    losses = [float(x["loss"] if isinstance(x, Mapping) else x) for x in entries]
    steps_in = Counter(str(x.get("stage")) for x in entries if isinstance(x, Mapping))
    total = sum(sizes.values())
    return _stats("train", total, total, {}, started, steps=len(losses), losses=losses,
                  final_loss=losses[-1] if losses else None, stages=[
                      {"name": name, "records": sizes[name], "epochs": float(epochs), "steps": steps_in[name]}
                      for name, _, epochs in stages],
                  skipped_stages=empty, model_dir=str(result.get("model_dir") or output_dir))


def evaluate_trained(model_dir: str, model_metadata: Mapping[str, Any], **kwargs: Any) -> Stats:
    """Evaluate the train step's model; when training was skipped, report that instead of a score."""
    if model_metadata.get("skipped"):
        return _stats(str(kwargs.get("label", "evaluate after")), 0, 0, {}, time.monotonic(),
                      skipped=str(model_metadata["skipped"]))
    return evaluate(model_dir, **kwargs)


def suite_requests(specs: Sequence[str]) -> list[SuiteRequest]:
    """`NAME[:LANGUAGE][@FILE]` strings (pipelines.eval_suites) as checked suite requests."""
    requests = []
    for index, text in enumerate(specs):
        head, _, file = str(text).strip().partition("@")
        name, _, language = head.partition(":")
        request = SuiteRequest(name=name.strip(), file=file.strip(), language=language.strip())
        request.check(field=f"pipelines.eval_suites[{index}]")
        requests.append(request)
    if not requests:
        raise InvalidInput("name at least one evaluation suite", field="pipelines.eval_suites")
    return requests


def evaluate(model: str, *, settings: Settings, limit: int, k: Sequence[int], n_samples: int,
             label: str = "evaluate", target: str = services.INPROCESS,
             sandbox_target: str = services.INPROCESS, suites: Sequence[str] = ("humaneval",)) -> Stats:
    """pass@k of `model` (a folder, or `default`) on each suite (`limit` problems each; 0: all).

    Figures per suite are `<label>.pass@k`, `<label>.problems_run`, `<label>.problems_total`
    (Metrics take flat numbers); the first suite's pass@k is also `pass@k`, and `suites` lists them
    all with their skip reasons."""
    started = time.monotonic()
    result = services.evaluate(model, settings=settings, limit=limit or None, k=tuple(k), n_samples=n_samples,
                               target=target, sandbox_target=sandbox_target, suites=suite_requests(suites))
    rows: list[dict[str, Any]] = [
        {"suite": str(s.get("label") or s["suite"]), "problems_run": int(s["problems_run"]),
         "problems_total": int(s["problems_total"]), "skipped": dict(s.get("skipped") or {}),
         **{key: float(value) for key, value in s.items() if key.startswith("pass@")}}
        for s in result["suites"]]
    flat = {f"{row['suite']}.{key}": value for row in rows for key, value in row.items()
            if key not in ("suite", "skipped")}
    primary = {key: value for key, value in rows[0].items() if key.startswith("pass@")} if rows else {}
    run = sum(int(row["problems_run"]) for row in rows)
    return _stats(label, run, run, {}, started, model=model, suites=rows, **primary, **flat)


# --- stage ledger ----------------------------------------------------------------------------------

def merge_ledgers(ledgers: Iterable[Sequence[Stats]]) -> list[Stats]:
    """Combine the stage ledgers of fan-in inputs: equal entries once, per-shard entries summed."""
    order: list[str] = []
    groups: dict[str, list[Stats]] = {}
    for ledger in ledgers:
        for entry in ledger:
            name = str(entry.get("stage"))
            if name not in groups:
                order.append(name)
                groups[name] = []
            if entry not in groups[name]:
                groups[name].append(entry)
    return [_sum_entries(groups[name]) for name in order]


def _sum_entries(entries: list[Stats]) -> Stats:
    if len(entries) == 1:
        return dict(entries[0])
    total: Stats = {"stage": entries[0]["stage"]}
    reasons: Counter[str] = Counter()
    for entry in entries:
        reasons.update(entry.get("reasons") or {})
        for key, value in entry.items():
            if key in {"stage", "reasons", "shard"}:
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
            else:
                total.setdefault(key, value)
    total["reasons"] = dict(reasons)
    total["shards"] = len(entries)
    if "seconds" in total:
        total["seconds"] = round(total["seconds"], 3)
    return total


def markdown_summary(title: str, stats: Stats) -> str:
    """The Markdown the Kubeflow UI shows for one step."""
    lines = [f"## {title}", ""]
    if "input" in stats:
        rate = progress.yield_text(stats["kept"], stats["input"], "seed" if "seeds" in stats else "input")
        lines += ["| in | kept | dropped | yield | seconds |", "|---:|---:|---:|---:|---:|",
                  f"| {stats['input']} | {stats['kept']} | {stats['dropped']} | {rate} | {stats['seconds']} |", ""]
    if stats.get("reasons"):
        lines += ["**Reject reasons**", "", "| reason | records |", "|---|---:|"]
        lines += [f"| {reason} | {n} |" for reason, n in sorted(stats["reasons"].items(), key=lambda kv: -kv[1])]
        lines.append("")
    if stats.get("suites"):
        lines += ["| suite | problems run | of | skipped | pass@k |", "|---|---:|---:|---|---|"]
        for row in stats["suites"]:
            scores = ", ".join(f"{k} {v:.3f}" for k, v in row.items() if k.startswith("pass@")) or "none"
            skipped = ", ".join(f"{k} {v}" for k, v in row["skipped"].items()) or "none"
            lines.append(f"| {row['suite']} | {row['problems_run']} | {row['problems_total']} | {skipped} | {scores} |")
        lines.append("")
    spent = {k: stats[k] for k in USAGE_KEYS if stats.get(k)}
    if spent:
        lines += ["**Cost**: " + ", ".join(f"{k} {v}" for k, v in spent.items()), ""]
    scalars = {k: v for k, v in stats.items() if k not in {"stage", "input", "kept", "dropped", "reasons", "seconds",
                                                           "losses", *USAGE_KEYS} and isinstance(v, (int, float, str))
               and not ("." in k and stats.get("suites"))}
    if scalars:
        lines += [f"- **{k}**: {v}" for k, v in scalars.items()]
    return "\n".join(lines) + "\n"


def metric_values(stats: Stats) -> dict[str, float]:
    """Numbers for a Metrics artifact: counts, yield, reject reasons, pass@k, final loss."""
    out: dict[str, float] = {}
    for key, value in stats.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)
    if stats.get("input"):
        out["yield"] = round(stats["kept"] / stats["input"], 4)
    for reason, n in (stats.get("reasons") or {}).items():
        out[f"reject.{reason}"] = float(n)
    for method, figures in (stats.get("by_method") or {}).items():
        for key, value in figures.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[f"{method}.{key}"] = float(value)
    return out


def load_dataset(dataset_path: str, output_path: str | Path) -> Stats:
    """Copy a records JSONL into the pipeline, validating every record (DESIGN section 4)."""
    started = time.monotonic()
    if not dataset_path:
        raise InvalidInput("train_eval needs a records JSONL (dataset_path / --seeds)", field="dataset_path")
    records = _read(dataset_path)
    write_jsonl_atomic(output_path, records)
    return _stats("load dataset", len(records), len(records), {}, started, origin=str(dataset_path))
