"""`codeinstruct generate METHOD --seeds FILE --output FILE [--limit N] [--config FILE]`.

Runs one method's generation stage over the seeds as a resumable job (rerun the same command after
an interruption: finished seeds are skipped) and prints a JSON summary (records written, rejection
reasons, fingerprint).
"""

from __future__ import annotations

import argparse
import json

from codeinstruct.settings import Settings


def generate_command(args: argparse.Namespace) -> int:
    from codeinstruct.generation.run import run_generation  # torch: loaded when the command runs

    settings = Settings.load(args.config)
    summary = run_generation(args.method, args.seeds, args.output, settings.generation, limit=args.limit)
    print(json.dumps(summary, indent=2))
    return 0
