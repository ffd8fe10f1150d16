"""`codeinstruct generate METHOD --seeds FILE --output FILE [--limit N] [--config FILE]`.

Runs one method's generation stage over the seeds as a resumable job (rerun the same command after
an interruption: finished seeds are skipped) and prints a JSON summary (records written, rejection
reasons, fingerprint). Progress per seed batch, with rate and ETA, goes to stderr.
"""

from __future__ import annotations

import argparse
import json

from codeinstruct.core.progress import quiet_library_bars
from codeinstruct.settings import Settings


def generate_command(args: argparse.Namespace) -> int:
    from codeinstruct.generation.run import run_generation  # torch: loaded when the command runs

    settings = Settings.load(args.config)
    quiet_library_bars()
    summary = run_generation(args.method, args.seeds, args.output, settings.generation, limit=args.limit)
    print(json.dumps(summary, indent=2))
    return 0
