"""`codeinstruct decontaminate` and `codeinstruct dedup`: read records, run the
scoring core in this process, write the kept records atomically, print a summary.

    codeinstruct dedup --input data.jsonl --output clean.jsonl --method rougel
    codeinstruct decontaminate --input clean.jsonl --output final.jsonl --benchmark humaneval --benchmark mine.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from codeinstruct.core.records import read_records, write_jsonl_atomic
from codeinstruct.scoring.types import StageReport
from codeinstruct.settings import Settings


def _write(args: argparse.Namespace, report: StageReport) -> None:
    write_jsonl_atomic(args.output, report.kept)
    dropped = getattr(args, "dropped", None)
    if dropped:
        write_jsonl_atomic(dropped, [{"id": r.id, "reason": reason, "record": r.to_dict()}
                                     for r, reason in report.dropped])


def _print(args: argparse.Namespace, counts: dict[str, Any], line: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(counts, sort_keys=True))
    else:
        print(line, file=sys.stdout)


def dedup_command(args: argparse.Namespace) -> int:
    from codeinstruct.scoring.deduplication import dedup

    config = Settings.load(args.config).scoring
    records = list(read_records(args.input))
    report = dedup(records, args.method or config.dedup_method, getattr(args, "threshold", None), config=config)
    _write(args, report)
    counts = report.counts()
    _print(args, counts, f"dedup ({counts['method']}): kept {counts['kept']} of {len(records)}, "
                         f"dropped {counts['dropped']} {counts['reasons']} -> {args.output}")
    return 0


def decontaminate_command(args: argparse.Namespace) -> int:
    from codeinstruct.scoring.decontamination import decontaminate

    config = Settings.load(args.config).scoring
    records = list(read_records(args.input))
    report = decontaminate(records, args.benchmark or ["humaneval"], config=config)
    _write(args, report)
    counts = report.counts()
    hits = ", ".join(f"{name} {h['records']} (n-gram {h['ngram_overlap']}, substring {h['substring_match']}, "
                     f"paraphrase {h['paraphrase']})" for name, h in counts["hits"].items())
    _print(args, counts, f"decontaminate: kept {counts['kept']} of {len(records)}; hits: {hits} -> {args.output}")
    return 0
