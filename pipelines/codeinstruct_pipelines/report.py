"""Run reports: metrics.json, report.md (+ PNG plots) and a self-contained report.html.

`run_metrics` condenses a run (stage ledger, final dataset, losses, pass@k) into the metrics.json
dict; `render` draws the plots (matplotlib, Agg) and writes Markdown and HTML from it;
`write_report` puts all of it into a run folder. The same code runs inside the `build_report`
pipeline step (the Kubeflow UI shows its HTML artifact) and in `codeinstruct demo`.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from codeinstruct.core.methods import METHODS
from codeinstruct.core.progress import yield_text
from codeinstruct.core.records import Record, read_records, write_text_atomic

MODEL_NOTE = """\
The embedded model (SmolLM2-135M-Instruct on CPU) is deliberately tiny so the whole platform runs on
a laptop in minutes: it writes weak instructions, few of its programs survive the execution checks,
and a short LoRA run on a few records will not move HumanEval. The numbers here show that every
stage works and what it filtered, not what the method achieves. Point the same run at a real code
model on a GPU with a config file:"""

COST_NOTE = ("What each method spent for the records it has in the final dataset: tokens in and out of the "
             "engine (counted with its tokenizer), engine seconds, sandbox seconds (the sandbox's own run "
             "times) and step seconds; stages shared by several methods are apportioned by the records each "
             "method fed in. Training and evaluation are not included.")

REAL_MODEL_CONFIG = """\
# real-model.yaml  ->  codeinstruct demo --config real-model.yaml   (or: codeinstruct run end_to_end --local ...)
generation:
  engine: {engine: vllm, model: /models/deepseek-coder-6.7b-instruct}   # or a HF id cached on the node
  max_tokens: 1024
scoring:
  engine: {engine: vllm, model: /models/deepseek-coder-6.7b-instruct}
training:
  model: /models/deepseek-coder-6.7b-base
  max_steps: 2000
pipelines:
  base_model: /models/deepseek-coder-6.7b-base
  method_seeds: {semi_instruct: 2000, inverse_instruct: 2000, evol_instruct: 1000, wavecoder: 1000, self_instruct: 1000}
  require_tests: [semi_instruct]   # methods whose records must carry tests (every method meets its own standard)
  eval_limit: 0          # all 164 HumanEval problems
  eval_k: [1, 10]
  eval_samples: 20
"""


# --- metrics.json -----------------------------------------------------------------------------------

def run_metrics(pipeline_name: str, dataset_path: str | Path, ledger: Sequence[Mapping[str, Any]], *,
                losses: Sequence[float] | None = None, before: Mapping[str, Any] | None = None,
                after: Mapping[str, Any] | None = None, training_skipped: str = "",
                timings: Mapping[str, Any] | None = None,
                training_stages: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Everything a report shows, as one JSON-able dict (metrics.json)."""
    records = list(read_records(dataset_path))
    test_counts = [len(r.tests) for r in records]
    # LM-Scores of every pair the LM-Score stages scored (kept or not); else those in the final dataset.
    lm_scores = [float(v) for entry in ledger for v in (entry.get("lm_scores") or [])]
    if not lm_scores:
        lm_scores = [float(r.scores["lm_score"]) for r in records
                     if isinstance(r.scores.get("lm_score"), (int, float))]
    data: dict[str, Any] = {
        "pipeline": pipeline_name,
        "records": len(records),
        "by_method": dict(Counter(r.method for r in records)),
        "stages": [{k: v for k, v in entry.items() if k != "lm_scores"} for entry in ledger],
        "tests": {"per_record": dict(sorted(Counter(test_counts).items())),
                  "total": sum(test_counts),
                  "mean": round(sum(test_counts) / len(test_counts), 3) if test_counts else 0.0},
        "lm_score": {"values": [round(s, 5) for s in lm_scores],
                     "mean": round(sum(lm_scores) / len(lm_scores), 5) if lm_scores else None},
    }
    if losses is not None or training_skipped:
        values = [float(x) for x in losses or []]
        data["training"] = {"losses": values, "steps": len(values), "final_loss": values[-1] if values else None}
        if training_skipped:
            data["training"]["skipped"] = training_skipped
        if training_stages:  # a schedule of named stages (e.g. Inverse-Instruct: new data, then original)
            data["training"]["stages"] = [dict(stage) for stage in training_stages]
    data["cost"] = cost_by_method(ledger, data["by_method"])
    seconds = {str(e.get("stage")): float(e["seconds"]) for e in ledger if isinstance(e.get("seconds"), (int, float))}
    seconds.update({k: float(v) for k, v in (timings or {}).items() if isinstance(v, (int, float))})
    data["step_seconds"] = {k: round(v, 1) for k, v in seconds.items()}
    if before is not None or after is not None:
        data["evaluation"] = {"before": _pass_at(before or {}), "after": _pass_at(after or {}),
                              "suites": suite_table(before or {}, after or {})}
    else:
        data["evaluation"] = {}
    return data


# --- cost and yield -------------------------------------------------------------------------------

_COST_KEYS = ("tokens_in", "tokens_out", "engine_seconds", "sandbox_seconds", "seconds")


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _entry_method(entry: Mapping[str, Any]) -> str:
    """The method a ledger entry belongs to ('' for a stage shared by several methods)."""
    method = str(entry.get("method") or "")
    if method in METHODS:
        return method
    prefix = str(entry.get("stage") or "").split("/", 1)[0]
    return prefix if prefix in METHODS and "/" in str(entry.get("stage")) else ""


def _spent_per_method(entry: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """What one stage spent per method: all of it for a method's own stage; for a shared stage the
    per-method figures it recorded (`by_method`), its seconds shared by the records each method fed in."""
    own = _entry_method(entry)
    if own:
        return {own: {key: _number(entry.get(key)) for key in _COST_KEYS}}
    by_method = entry.get("by_method") or {}
    total_in = sum(_number(f.get("input")) for f in by_method.values())
    out: dict[str, dict[str, float]] = {}
    for method, figures in by_method.items():
        share = _number(figures.get("input")) / total_in if total_in else 0.0
        out[str(method)] = {key: _number(figures.get(key)) for key in _COST_KEYS if key != "seconds"}
        out[str(method)]["seconds"] = round(_number(entry.get("seconds")) * share, 3)
    return out


def cost_by_method(ledger: Sequence[Mapping[str, Any]], kept: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Per method: tokens in/out, engine, sandbox and step seconds over its stages (shared stages
    apportioned), the same per record it has in the final dataset (`per_kept`, None when it kept
    none), and each stage's share of the method's seconds and tokens."""
    stages: dict[str, list[dict[str, Any]]] = {}
    for entry in ledger:
        for method, spent in _spent_per_method(entry).items():
            stages.setdefault(method, []).append({"stage": str(entry.get("stage")), **spent})
    out: dict[str, dict[str, Any]] = {}
    for method in [m for m in METHODS if m in stages or m in kept]:
        rows = stages.get(method, [])
        totals = {key: round(sum(row[key] for row in rows), 3) for key in _COST_KEYS}
        tokens = totals["tokens_in"] + totals["tokens_out"]
        n_kept = int(kept.get(method, 0))
        per_kept = {key: (round(value / n_kept, 3) if n_kept else None)
                    for key, value in (("tokens", tokens), ("engine_seconds", totals["engine_seconds"]),
                                       ("sandbox_seconds", totals["sandbox_seconds"]), ("seconds", totals["seconds"]))}
        for row in rows:
            row_tokens = row["tokens_in"] + row["tokens_out"]
            row["share_seconds"] = round(row["seconds"] / totals["seconds"], 4) if totals["seconds"] else 0.0
            row["share_tokens"] = round(row_tokens / tokens, 4) if tokens else 0.0
        out[method] = {"kept": n_kept, **totals, "tokens": tokens, "per_kept": per_kept, "stages": rows}
    return out


def cost_markdown(cost: Mapping[str, Mapping[str, Any]]) -> str:
    """The cost-and-yield tables: per method, then each stage's share."""
    if not cost:
        return ""

    def per(value: Any, digits: int = 1) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    lines = ["| method | kept | tokens in / out | engine s | sandbox s | step s | tokens / kept | engine s / kept "
             "| sandbox s / kept | step s / kept |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for method, c in cost.items():
        p = c["per_kept"]
        lines.append(f"| {method} | {c['kept']} | {int(c['tokens_in']):,} / {int(c['tokens_out']):,} | "
                     f"{c['engine_seconds']:.1f} | {c['sandbox_seconds']:.1f} | {c['seconds']:.1f} | "
                     f"{per(p['tokens'], 0)} | {per(p['engine_seconds'], 2)} | {per(p['sandbox_seconds'], 2)} | "
                     f"{per(p['seconds'], 2)} |")
    lines += ["", "| method | stage | share of seconds | share of tokens |", "|---|---|---:|---:|"]
    for method, c in cost.items():
        for row in c["stages"]:
            if row["share_seconds"] or row["share_tokens"]:
                lines.append(f"| {method} | {row['stage']} | {row['share_seconds']:.0%} | {row['share_tokens']:.0%} |")
    return "\n".join(lines) + "\n"


def _pass_at(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if str(k).startswith("pass@")}


def suite_table(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per evaluation suite (from the evaluate steps' `<suite>.<figure>` Metrics): problems run of
    the total, and pass@k before and after, so a score on 6 of 164 problems reads as such."""
    rows: dict[str, dict[str, Any]] = {}
    for when, metrics in (("before", before), ("after", after)):
        for key, value in metrics.items():
            suite, dot, figure = str(key).rpartition(".")
            if not dot or not isinstance(value, (int, float)):
                continue
            row = rows.setdefault(suite, {"suite": suite, "before": {}, "after": {}})
            if figure.startswith("pass@"):
                row[when][figure] = float(value)
            elif figure in ("problems_run", "problems_total"):
                row[figure] = int(value)
    return [row for row in rows.values() if row["before"] or row["after"]]


def _suite_cells(row: Mapping[str, Any]) -> tuple[str, str, str]:
    """(problems, before, after) cells of one suite row."""
    problems = f"{row.get('problems_run', '?')} of {row.get('problems_total', '?')}"
    keys = sorted(set(row["before"]) | set(row["after"]))

    def scores(when: str) -> str:
        return ", ".join(f"{k} {row[when][k]:.3f}" for k in keys if k in row[when]) or "not run"
    return problems, scores("before"), scores("after")


def headline_numbers(data: Mapping[str, Any]) -> dict[str, float]:
    """A few numbers for the Kubeflow run list: records, tests, pass@k before/after, final loss."""
    out = {"records": float(data["records"]), "tests_mean": float(data["tests"]["mean"])}
    for when in ("before", "after"):
        for key, value in (data.get("evaluation") or {}).get(when, {}).items():
            out[f"{key}_{when}"] = float(value)
    final = (data.get("training") or {}).get("final_loss")
    if final is not None:
        out["final_loss"] = float(final)
    for method, cost in (data.get("cost") or {}).items():
        out[f"{method}.kept"] = float(cost["kept"])
        out[f"{method}.tokens"] = float(cost["tokens"])
        out[f"{method}.engine_seconds"] = float(cost["engine_seconds"])
        out[f"{method}.sandbox_seconds"] = float(cost["sandbox_seconds"])
        for key, value in cost["per_kept"].items():
            if value is not None:
                out[f"{method}.{key}_per_kept"] = float(value)
    return out


def funnel_markdown(data: Mapping[str, Any]) -> str:
    lines = [f"## {data['pipeline']}: {data['records']} record(s)", "",
             "| stage | in | kept | dropped | yield | reject reasons |", "|---|---:|---:|---:|---:|---|"]
    for entry in data["stages"]:
        n_in, kept = int(entry.get("input", 0)), int(entry.get("kept", 0))
        reasons = ", ".join(f"{k} {v}" for k, v in sorted((entry.get("reasons") or {}).items(), key=lambda kv: -kv[1]))
        rate = yield_text(kept, n_in, "seed" if "seeds" in entry else "input")
        lines.append(f"| {entry.get('stage')} | {n_in} | {kept} | {int(entry.get('dropped', 0))} | {rate} | "
                     f"{reasons} |")
    suites = (data.get("evaluation") or {}).get("suites") or []
    if suites:
        lines += ["", "| suite | problems | before | after |", "|---|---:|---:|---:|"]
        for row in suites:
            problems, was, now = _suite_cells(row)
            lines.append(f"| {row['suite']} | {problems} | {was} | {now} |")
    return "\n".join(lines) + "\n"


# --- plots ------------------------------------------------------------------------------------------

def _figure_png(draw: Any, size: tuple[float, float] = (7.0, 3.6)) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=size)
    try:
        draw(ax)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        return buffer.getvalue()
    finally:
        plt.close(fig)


def plots(data: Mapping[str, Any]) -> dict[str, bytes]:
    """name -> PNG bytes of every plot the data supports."""
    out: dict[str, bytes] = {}
    stages = data["stages"]
    if stages:
        def funnel(ax: Any) -> None:
            names = [str(e.get("stage")) for e in stages][::-1]
            kept = [int(e.get("kept", 0)) for e in stages][::-1]
            dropped = [int(e.get("dropped", 0)) for e in stages][::-1]
            ax.barh(names, kept, color="#3a7d44", label="kept")
            ax.barh(names, dropped, left=kept, color="#c8553d", label="dropped")
            ax.set_xlabel("records")
            ax.set_title("stage funnel")
            ax.legend(loc="lower right")
        out["funnel"] = _figure_png(funnel, (8.0, max(3.0, 0.32 * len(stages) + 1.2)))
    per_record = {int(k): int(v) for k, v in data["tests"]["per_record"].items()}
    if per_record:
        def tests(ax: Any) -> None:
            ax.bar(list(per_record), list(per_record.values()), color="#2f6690")
            ax.set_xlabel("tests per record")
            ax.set_ylabel("records")
            ax.set_title("test-count distribution (final dataset)")
        out["tests"] = _figure_png(tests)
    scores = data["lm_score"]["values"]
    if scores:
        def lm(ax: Any) -> None:
            ax.hist(scores, bins=min(20, max(5, len(scores))), color="#7a5195")
            ax.set_xlabel("LM-Score")
            ax.set_ylabel("records")
            ax.set_title("LM-Score histogram")
        out["lm_score"] = _figure_png(lm)
    losses = (data.get("training") or {}).get("losses") or []
    if losses:
        def loss(ax: Any) -> None:
            ax.plot(range(1, len(losses) + 1), losses, marker="o", markersize=3, color="#ef8a17")
            ax.set_xlabel("optimizer step")
            ax.set_ylabel("training loss")
            ax.set_title("loss curve")
        out["loss"] = _figure_png(loss)
    evaluation = data.get("evaluation") or {}
    keys = sorted(set(evaluation.get("before", {})) | set(evaluation.get("after", {})))
    if keys:
        def passk(ax: Any) -> None:
            width = 0.38
            xs = range(len(keys))
            # A missing side (training skipped) is left out, never drawn as a zero.
            for offset, when, color in ((-width / 2, "before", "#8d99ae"), (width / 2, "after", "#2b2d42")):
                have = [(x, evaluation[when][k]) for x, k in zip(xs, keys, strict=True)
                        if k in evaluation.get(when, {})]
                if have:
                    ax.bar([x + offset for x, _ in have], [v for _, v in have], width, label=f"{when} training",
                           color=color)
            ax.set_xticks(list(xs), keys)
            ax.set_ylim(0, 1)
            ax.set_ylabel("HumanEval")
            ax.set_title("pass@k before / after training")
            ax.legend()
        out["pass_at_k"] = _figure_png(passk, (5.0, 3.4))
    return out


# --- documents --------------------------------------------------------------------------------------

@dataclasses.dataclass
class Rendered:
    markdown: str
    html: str
    images: dict[str, bytes]


_CAPTIONS = {"funnel": "Stage funnel", "tests": "Tests per record", "lm_score": "LM-Score histogram",
             "loss": "Loss curve", "pass_at_k": "pass@k before and after training"}


def _score(evaluation: Mapping[str, Any], when: str, key: str) -> str:
    value = evaluation.get(when, {}).get(key)
    return f"{value:.3f}" if isinstance(value, (int, float)) else "not run"


def _samples(dataset_path: str | Path, n: int = 3) -> list[Record]:
    return list(read_records(dataset_path))[:n]


def render(data: Mapping[str, Any], dataset_path: str | Path, *, config_yaml: str = "",
           image_dir: str = "plots") -> Rendered:
    images = plots(data)
    samples = _samples(dataset_path)
    evaluation = data.get("evaluation") or {}
    md = [f"# codeinstruct run: {data['pipeline']}", "",
          f"**{data['records']} record(s)** in the final dataset "
          f"({', '.join(f'{m}: {n}' for m, n in data['by_method'].items()) or 'none'}); "
          f"{data['tests']['total']} test case(s), {data['tests']['mean']} per record.", ""]
    if evaluation.get("suites"):
        md += ["| suite | problems | before | after |", "|---|---:|---:|---:|"]
        for row in evaluation["suites"]:
            problems, was, now = _suite_cells(row)
            md.append(f"| {row['suite']} | {problems} | {was} | {now} |")
        md.append("")
    elif evaluation:
        md += ["| HumanEval | before | after |", "|---|---:|---:|"]
        for key in sorted(set(evaluation.get("before", {})) | set(evaluation.get("after", {}))):
            md.append(f"| {key} | {_score(evaluation, 'before', key)} | {_score(evaluation, 'after', key)} |")
        md.append("")
    skipped = (data.get("training") or {}).get("skipped")
    if skipped:
        md += [f"**Training skipped:** {skipped}.", ""]
    md += ["## About the model", "", MODEL_NOTE, "", "```yaml", REAL_MODEL_CONFIG.rstrip(), "```", "",
           "## Stage funnel", "", funnel_markdown(data).split("\n", 2)[2]]
    for name in images:
        md += [f"### {_CAPTIONS[name]}", "", f"![{_CAPTIONS[name]}]({image_dir}/{name}.png)", ""]
    if data.get("cost"):
        md += ["## Cost and yield per method", "", COST_NOTE, "", cost_markdown(data["cost"])]
    if data.get("step_seconds"):
        md += ["## Where the time went", "", "| step | seconds |", "|---|---:|"]
        md += [f"| {k} | {v:.1f} |" for k, v in sorted(data["step_seconds"].items(), key=lambda kv: -kv[1])]
        md.append("")
    md += ["## Sample records", ""]
    for record in samples:
        md += [f"### {record.method} / {record.task} `{record.id}`", "", f"**Instruction.** {record.instruction}",
               "", "```" + record.language, record.code.rstrip(), "```", "",
               "Tests: " + "; ".join(f"`{t['input']}` -> `{t['output']}`" for t in record.tests[:4])
               + (" ..." if len(record.tests) > 4 else ""), ""]
    if config_yaml.strip():
        md += ["## Configuration of this run", "", "```yaml", config_yaml.rstrip(), "```", ""]
    markdown = "\n".join(md) + "\n"
    return Rendered(markdown=markdown, html=_html(data, images=images, samples=samples,
                                                  config_yaml=config_yaml), images=images)


def _html(data: Mapping[str, Any], *, images: Mapping[str, bytes],
          samples: Sequence[Record], config_yaml: str) -> str:
    esc = html.escape
    evaluation = data.get("evaluation") or {}
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>codeinstruct run: {esc(data['pipeline'])}</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
             "td:first-child,th:first-child,td:last-child{text-align:left}pre{background:#f5f5f5;padding:8px;"
             "overflow-x:auto}.note{background:#fff6e0;border-left:4px solid #f0a500;padding:8px 12px}</style>",
             "</head><body>", f"<h1>codeinstruct run: {esc(data['pipeline'])}</h1>",
             f"<p><b>{data['records']} record(s)</b> in the final dataset; {data['tests']['total']} test case(s), "
             f"{data['tests']['mean']} per record.</p>"]
    if evaluation.get("suites"):
        parts.append("<table><tr><th>suite</th><th>problems</th><th>before</th><th>after</th></tr>")
        for row in evaluation["suites"]:
            problems, was, now = _suite_cells(row)
            parts.append(f"<tr><td>{esc(row['suite'])}</td><td>{esc(problems)}</td><td>{esc(was)}</td>"
                         f"<td>{esc(now)}</td></tr>")
        parts.append("</table>")
    elif evaluation:
        parts.append("<table><tr><th>HumanEval</th><th>before</th><th>after</th></tr>")
        for key in sorted(set(evaluation.get("before", {})) | set(evaluation.get("after", {}))):
            parts.append(f"<tr><td>{esc(key)}</td><td>{_score(evaluation, 'before', key)}</td>"
                         f"<td>{_score(evaluation, 'after', key)}</td></tr>")
        parts.append("</table>")
    skipped = (data.get("training") or {}).get("skipped")
    if skipped:
        parts.append(f"<p><b>Training skipped:</b> {esc(str(skipped))}.</p>")
    parts += ["<h2>About the model</h2>", f"<div class='note'><p>{esc(MODEL_NOTE)}</p>",
              f"<pre>{esc(REAL_MODEL_CONFIG)}</pre></div>", "<h2>Stage funnel</h2>",
              "<table><tr><th>stage</th><th>in</th><th>kept</th><th>dropped</th><th>yield</th>"
              "<th>reject reasons</th></tr>"]
    for entry in data["stages"]:
        n_in, kept = int(entry.get("input", 0)), int(entry.get("kept", 0))
        reasons = ", ".join(f"{k} {v}" for k, v in sorted((entry.get("reasons") or {}).items(), key=lambda kv: -kv[1]))
        rate = yield_text(kept, n_in, "seed" if "seeds" in entry else "input")
        parts.append(f"<tr><td>{esc(str(entry.get('stage')))}</td><td>{n_in}</td><td>{kept}</td>"
                     f"<td>{int(entry.get('dropped', 0))}</td><td>{rate}</td>"
                     f"<td>{esc(reasons)}</td></tr>")
    parts.append("</table>")
    for name, png in images.items():
        parts.append(f"<h3>{esc(_CAPTIONS[name])}</h3><img alt='{esc(_CAPTIONS[name])}' "
                     f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>")
    if data.get("cost"):
        parts += ["<h2>Cost and yield per method</h2>", f"<p>{esc(COST_NOTE)}</p>", _cost_html(data["cost"])]
    if data.get("step_seconds"):
        parts.append("<h2>Where the time went</h2><table><tr><th>step</th><th>seconds</th></tr>")
        parts += [f"<tr><td>{esc(k)}</td><td>{v:.1f}</td></tr>"
                  for k, v in sorted(data["step_seconds"].items(), key=lambda kv: -kv[1])]
        parts.append("</table>")
    parts.append("<h2>Sample records</h2>")
    for record in samples:
        tests = "".join(f"<li><code>{esc(t['input'])}</code> &rarr; <code>{esc(t['output'])}</code></li>"
                        for t in record.tests[:4])
        parts.append(f"<h3>{esc(record.method)} / {esc(record.task)} <code>{esc(record.id)}</code></h3>"
                     f"<p><b>Instruction.</b> {esc(record.instruction)}</p><pre>{esc(record.code)}</pre>"
                     f"<ul>{tests}</ul>")
    if config_yaml.strip():
        parts.append(f"<h2>Configuration of this run</h2><pre>{esc(config_yaml)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _cost_html(cost: Mapping[str, Mapping[str, Any]]) -> str:
    """The cost tables of `cost_markdown` as HTML tables."""
    out: list[str] = []
    for block in cost_markdown(cost).strip().split("\n\n"):
        rows = [line.strip("|").split("|") for line in block.splitlines() if not line.startswith("|---")]
        head, body = rows[0], rows[1:]
        out.append("<table><tr>" + "".join(f"<th>{html.escape(c.strip())}</th>" for c in head) + "</tr>"
                   + "".join("<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in row) + "</tr>"
                             for row in body) + "</table>")
    return "\n".join(out)


def write_report(run_dir: str | Path, data: Mapping[str, Any], dataset_path: str | Path, *,
                 config_yaml: str = "") -> dict[str, Path]:
    """Write metrics.json, report.md, plots/*.png and report.html into `run_dir`."""
    run_dir = Path(run_dir)
    rendered = render(data, dataset_path, config_yaml=config_yaml)
    for name, png in rendered.images.items():
        (run_dir / "plots").mkdir(parents=True, exist_ok=True)
        (run_dir / "plots" / f"{name}.png").write_bytes(png)
    paths = {"metrics": run_dir / "metrics.json", "report_md": run_dir / "report.md",
             "report_html": run_dir / "report.html"}
    write_text_atomic(paths["metrics"], json.dumps(data, indent=2, sort_keys=True) + "\n")
    write_text_atomic(paths["report_md"], rendered.markdown)
    write_text_atomic(paths["report_html"], rendered.html)
    return paths
