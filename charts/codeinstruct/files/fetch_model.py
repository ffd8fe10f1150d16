"""Fill the model volume with one Hugging Face model, unless it is already there (the chart's
fetch-model init container).

    python fetch_model.py --model deepseek-ai/deepseek-coder-6.7b-instruct --revision main \
        --dest /models/deepseek-ai/deepseek-coder-6.7b-instruct/main

The download goes to <dest>.partial and is renamed to <dest> when complete, so a pod never loads a
half-written folder; a lock file next to it lets one pod download while the others wait. HF_TOKEN
(gated and private models) and HF_HOME come from the environment.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import shutil
import sys
import time
from pathlib import Path

logger = logging.getLogger("fetch_model")
MARKER = ".codeinstruct-complete"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="Hugging Face model id")
    parser.add_argument("--revision", default="main", help="branch, tag or commit")
    parser.add_argument("--dest", required=True, type=Path, help="folder the model ends up in")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    dest: Path = args.dest
    if (dest / MARKER).is_file():
        logger.info("%s@%s is already in %s: nothing to fetch", args.model, args.revision, dest)
        return 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.parent / f".{dest.name}.lock", "w") as lock:
        started = time.monotonic()
        fcntl.flock(lock, fcntl.LOCK_EX)  # another pod may be downloading the same model
        if (dest / MARKER).is_file():
            logger.info("%s was fetched by another pod while this one waited %.0f s", dest,
                        time.monotonic() - started)
            return 0
        from huggingface_hub import snapshot_download

        partial = dest.with_name(dest.name + ".partial")
        logger.info("fetching %s@%s into %s", args.model, args.revision, dest)
        snapshot_download(repo_id=args.model, revision=args.revision, local_dir=partial)
        (partial / MARKER).write_text(f"{args.model}@{args.revision}\n")
        if dest.exists():
            shutil.rmtree(dest)
        partial.rename(dest)
        logger.info("fetched %s@%s in %.0f s", args.model, args.revision, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
