"""`codeinstruct train --data FILE.jsonl --output DIR [--config FILE] [--max-steps N]`.

Fine-tunes in this process (the same `train()` the service's workers run) with a progress bar
showing step, loss, learning rate, tokens/s and ETA. Rerunning with the same output folder resumes
from its latest checkpoint.
"""

from __future__ import annotations

import argparse
import json
import logging

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.progress import quiet_library_bars
from codeinstruct.settings import Settings

logger = logging.getLogger(__name__)


def train_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from codeinstruct.core.records import read_records
    from codeinstruct.training.trainer import train

    config = Settings.load(args.config, overrides={"training": {"max_steps": args.max_steps}}).training
    data = Path(args.data)
    if not data.is_file():
        raise InvalidInput(f"--data {args.data!r} does not exist or is not a file", field="data")
    for _ in read_records(data, field="data"):  # a malformed line is reported (file:line) before the model loads
        pass
    quiet_library_bars()
    summary = train(data, args.output, config)  # progress: the trainer's task (codeinstruct.core.progress)
    losses = summary["losses"]
    first = losses[0]["loss"] if losses else float("nan")
    last = losses[-1]["loss"] if losses else float("nan")
    print(f"trained {summary['steps']} step(s) ({summary['mode']}): loss {first:.4f} -> {last:.4f}, "
          f"{summary['tokens_per_s']:.0f} tokens/s; model in {summary['model_dir']}")
    logger.debug("summary: %s", json.dumps({k: v for k, v in summary.items() if k != "losses"}))
    return 0
