"""`codeinstruct train --data FILE.jsonl --output DIR [--config FILE] [--max-steps N]`.

Fine-tunes in this process (the same `train()` the service's workers run) with a progress bar
showing step, loss, learning rate, tokens/s and ETA. Rerunning with the same output folder resumes
from its latest checkpoint.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.settings import Settings

logger = logging.getLogger(__name__)


def train_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from codeinstruct.training.trainer import train

    config = Settings.load(args.config, overrides={"training": {"max_steps": args.max_steps}}).training
    data = Path(args.data)
    if not data.is_file():
        raise InvalidInput(f"--data {args.data!r} does not exist or is not a file", field="data")
    _quiet_libraries()
    bar: Any = None

    def progress(event: dict[str, Any]) -> None:
        nonlocal bar
        if event["event"] == "start":
            bar = tqdm(total=event["total_steps"], initial=event["step"], unit="step", desc="train",
                       dynamic_ncols=True)
            if event["resumed_from"]:
                bar.write(f"resuming from {event['resumed_from']}")
        elif event["event"] == "step" and bar is not None:
            bar.update(event["step"] - bar.n)
            bar.set_postfix(loss=f"{event['loss']:.4f}", lr=f"{event['learning_rate']:.2e}",
                            tok_s=f"{event['tokens_per_s']:.0f}", eta=f"{event['eta_s']:.0f}s", refresh=False)
        elif event["event"] == "checkpoint" and bar is not None:
            bar.write(f"checkpoint: {event['path']}")

    try:
        summary = train(data, args.output, config, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    losses = summary["losses"]
    first = losses[0]["loss"] if losses else float("nan")
    last = losses[-1]["loss"] if losses else float("nan")
    print(f"trained {summary['steps']} step(s) ({summary['mode']}): loss {first:.4f} -> {last:.4f}, "
          f"{summary['tokens_per_s']:.0f} tokens/s; model in {summary['model_dir']}")
    logger.debug("summary: %s", json.dumps({k: v for k, v in summary.items() if k != "losses"}))
    return 0


def _quiet_libraries() -> None:
    """Our progress bar is the one the user watches: silence the libraries' own bars and notices."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass
