"""`codeinstruct sandbox exec` (DESIGN section 6): JSON shape and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox.conftest import sandbox_config

ENV_UID = {"CODEINSTRUCT_SANDBOX__UID_BASE": str(sandbox_config().uid_base + 3)}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "codeinstruct", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **ENV_UID})


def test_exec_json(tmp_path: Path) -> None:
    program = tmp_path / "prog.py"
    program.write_text("import sys\nprint(sys.stdin.read().strip()[::-1])\nsys.exit(4)\n")
    stdin = tmp_path / "in.txt"
    stdin.write_text("abc\n")
    done = run_cli("sandbox", "exec", str(program), "--stdin", str(stdin), "--timeout-s", "5", "--memory-mb", "256",
                   "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"status", "exit_code", "stdout", "stderr", "wall_time_s"} <= set(result)
    assert (result["status"], result["exit_code"], result["stdout"]) == ("RUNTIME_ERROR", 4, "cba\n")


def test_exec_plain_prints_program_output(tmp_path: Path) -> None:
    program = tmp_path / "prog.py"
    program.write_text("print('hello')\n")
    done = run_cli("sandbox", "exec", str(program))
    assert done.returncode == 0
    assert done.stdout == "hello\n" and "[OK]" in done.stderr


@pytest.mark.parametrize("extra", [["--timeout-s", "100000"], ["--memory-mb", "1"], ["--language", "cobol"]])
def test_bad_input_exits_2_with_one_line(tmp_path: Path, extra: list[str]) -> None:
    program = tmp_path / "prog.py"
    program.write_text("print(1)\n")
    done = run_cli("sandbox", "exec", str(program), *extra)
    assert done.returncode == 2
    assert len([line for line in done.stderr.splitlines() if line.startswith("codeinstruct")]) == 1


def test_missing_file_exits_2(tmp_path: Path) -> None:
    done = run_cli("sandbox", "exec", str(tmp_path / "missing.py"), "--json")
    assert done.returncode == 2 and "does not exist" in done.stderr
