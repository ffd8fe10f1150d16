"""`codeinstruct sandbox exec FILE [--language python] [--stdin FILE] [--timeout-s S] [--memory-mb M] [--json]`.

Runs one program in the sandbox (a one-worker Sandbox started for the command). Exit status 0 whenever
the command worked, whatever the program's verdict; 2 for bad usage or input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codeinstruct.core.errors import InvalidInput
from codeinstruct.sandbox.types import Limits
from codeinstruct.settings import Settings


def _read(path: str, field: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(f"{path!r} does not exist or is not a file", field=field)
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path!r} is not UTF-8 text", field=field) from None


def exec_command(args: argparse.Namespace) -> int:
    code = _read(args.file, "file")
    stdin = _read(args.stdin, "stdin") if args.stdin else ""
    config = Settings.load(args.config, overrides={"sandbox": {"workers": 1}}).sandbox
    limits = Limits(timeout_s=args.timeout_s, memory_mb=args.memory_mb)
    from codeinstruct.sandbox.core import Sandbox  # starts workers: imported when the command runs

    with Sandbox(config) as sandbox:
        result = sandbox.execute(code, args.language or "python", stdin, limits)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
        return 0
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    summary = f"[{result.status.value}] exit {result.exit_code} in {result.wall_time_s:.3f}s"
    if result.detail and result.status.value not in ("OK", "RUNTIME_ERROR"):
        summary += f": {result.detail.splitlines()[-1] if result.detail.strip() else ''}"
    print(summary, file=sys.stderr)
    return 0
