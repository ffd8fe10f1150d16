"""The command-line contract: exit codes and one-line reasons (DESIGN section 6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from codeinstruct.cli.main import PIPELINES, build_parser, main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeinstruct", *args], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_every_contracted_command_parses() -> None:
    parser = build_parser()
    for argv in (
        ["demo"],
        ["serve", "sandbox", "--port", "1", "--config", "c.yaml"],
        ["sandbox", "exec", "f.py", "--language", "python", "--stdin", "in.txt", "--timeout-s", "2",
         "--memory-mb", "256", "--json"],
        ["eval", "humaneval", "--samples", "s.jsonl", "--k", "1,10", "--json"],
        ["eval", "humaneval", "--model", "dir", "--limit", "3", "--k", "1", "--json"],
        ["generate", "semi_instruct", "--seeds", "s.jsonl", "--output", "o.jsonl", "--limit", "2", "--config", "c"],
        ["decontaminate", "--input", "i", "--output", "o", "--benchmark", "humaneval", "--benchmark", "b.jsonl"],
        ["dedup", "--input", "i", "--output", "o", "--method", "rougel"],
        ["train", "--data", "d", "--output", "o", "--config", "c", "--max-steps", "3"],
        ["run", "semi_instruct", "--local", "--seeds", "s", "--config", "c", "--output", "o"],
        ["compile", "end_to_end", "-o", "x.yaml"],
    ):
        assert parser.parse_args(argv).handler
    assert set(PIPELINES) >= {"semi_instruct", "inverse_instruct", "evol_instruct", "wavecoder",
                              "self_instruct", "train_eval", "end_to_end"}


@pytest.mark.parametrize("argv", [
    ["sandbox", "exec"],
    ["eval", "humaneval", "--samples", "s", "--k", "0"],
    ["generate", "not_a_method", "--seeds", "s", "--output", "o"],
    ["dedup", "--input", "i", "--output", "o", "--method", "fuzzy"],
])
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert capsys.readouterr().err


def test_bad_config_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = run_cli("serve", "sandbox", "--config", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing.yaml" in lines[0] and "does not exist" in lines[0]
