"""What a person sees when the input is wrong: one line naming the file and line, the host, or the
config key, and nothing before it (no log line, no progress bar, no model loaded)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from codeinstruct.cli.main import main
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import read_records

GOOD = {"method": "seed", "instruction": "Add two numbers.", "response": "def add(a, b):\n    return a + b\n"}


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codeinstruct", *args], capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL, cwd=cwd)


def _write(path: Path, *lines: str) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """file -> (path, the `file:line:` its error must start with)."""
    good = json.dumps(GOOD)
    not_json = _write(tmp_path / "not_json.jsonl", good, "", '{"method": "seed", oops}')
    unknown = _write(tmp_path / "unknown.jsonl", good, json.dumps({**GOOD, "instrucion": "typo"}))
    wrong_type = _write(tmp_path / "wrong_type.jsonl", good, good.replace('"seed"', '"nope"'))
    return {"not_json": (not_json, f"{not_json}:3:"), "unknown": (unknown, f"{unknown}:2:"),
            "wrong_type": (wrong_type, f"{wrong_type}:2:")}


@pytest.mark.parametrize("kind", ["not_json", "unknown", "wrong_type"])
def test_the_record_reader_names_file_and_line(bad_files: dict[str, tuple[Path, str]], kind: str) -> None:
    path, prefix = bad_files[kind]
    with pytest.raises(InvalidInput) as info:
        list(read_records(path))
    assert info.value.message.startswith(prefix)


@pytest.mark.parametrize("command", [
    ["dedup", "--output", "{out}", "--input"],
    ["decontaminate", "--output", "{out}", "--input"],
    ["train", "--output", "{out}", "--data"],
])
def test_a_malformed_file_is_one_line_naming_file_and_line(bad_files: dict[str, tuple[Path, str]],
                                                            tmp_path: Path, command: list[str]) -> None:
    path, prefix = bad_files["unknown"]
    argv = [part.replace("{out}", str(tmp_path / "out")) for part in command] + [str(path)]
    proc = run_cli(*argv)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [f"codeinstruct {command[0]}: {prefix} record has unknown field(s) "
                                        f"['instrucion']; fields are " + proc.stderr.split("fields are ", 1)[1].strip()]
    assert proc.stdout == ""
    assert not (tmp_path / "out").exists()


def test_generate_reports_a_bad_seeds_file_before_loading_a_model(bad_files: dict[str, tuple[Path, str]],
                                                                   tmp_path: Path) -> None:
    path, prefix = bad_files["not_json"]
    proc = run_cli("generate", "inverse_instruct", "--seeds", str(path), "--output", str(tmp_path / "o.jsonl"))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"codeinstruct generate: {prefix} not valid JSON "
                                        "(Expecting property name enclosed in double quotes)"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_submit_to_an_unreachable_host_is_one_line_and_exit_2() -> None:
    host = f"http://127.0.0.1:{_closed_port()}"
    proc = run_cli("submit", "semi_instruct", "--host", host)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"codeinstruct submit: cannot reach the Kubeflow Pipelines API at {host}: "
                                        "connection refused"]


def test_submit_to_a_host_name_that_does_not_resolve_names_it() -> None:
    proc = run_cli("submit", "semi_instruct", "--host", "http://kfp.invalid:8888")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["codeinstruct submit: cannot reach the Kubeflow Pipelines API at "
                                        "http://kfp.invalid:8888: the host name does not resolve"]


@pytest.fixture
def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to load an engine fails the test: config errors must come first."""
    import codeinstruct.generation.service as generation_service

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model loader was reached")

    monkeypatch.setattr(generation_service, "load_engine", refuse)


def _serve(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["serve", "generation", *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("config", "says"), [
    ("generation:\n  engine:\n    model: /nowhere/model\n  server:\n    port: 1\n",
     "unknown generation setting 'server' (from file)"),
    ("generation:\n  temprature: 0.2\n", "unknown generation setting 'temprature'"),
    ("engine:\n  model: /nowhere/model\n", "has unknown section(s) ['engine']"),
    ("generation:\n  engine:\n    model: /nowhere/model\n", "generation.engine.model '/nowhere/model' does not exist"),
    ("server:\n  tls_cert: /nowhere/cert.pem\n  tls_key: /nowhere/key.pem\n",
     "server.tls_cert: '/nowhere/cert.pem' does not exist"),
])
def test_serve_rejects_a_bad_config_before_any_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            no_model_loads: None, config: str, says: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(config, encoding="utf-8")
    code, err = _serve(capsys, "--config", str(path))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and says in err


def test_serve_on_a_taken_port_fails_before_any_model_loads(capsys: pytest.CaptureFixture[str],
                                                            no_model_loads: None) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = _serve(capsys, "--host", "127.0.0.1", "--port", str(port))
    assert code == 1
    assert err.strip().splitlines() == [f"codeinstruct serve: cannot bind 127.0.0.1:{port} (server.port): "
                                        "Address already in use; nothing was loaded"]


def test_a_local_run_checks_its_seeds_before_any_step_starts(bad_files: dict[str, tuple[Path, str]],
                                                              tmp_path: Path) -> None:
    path, prefix = bad_files["not_json"]
    proc = run_cli("run", "semi_instruct", "--local", "--seeds", str(path), "--output", str(tmp_path / "run"))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"codeinstruct run: {prefix} not valid JSON "
                                        "(Expecting property name enclosed in double quotes)"]
    assert proc.stdout == ""  # not "running semi_instruct locally ..."


def test_errors_name_the_whole_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "exec", str(tmp_path / "missing.py")]) == 2
    assert capsys.readouterr().err == f"codeinstruct sandbox exec: {str(tmp_path / 'missing.py')!r} does not exist " \
                                      "or is not a file\n"


def test_a_grpc_client_command_to_an_unreachable_service_is_one_line_and_exit_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import codeinstruct.cli.scoring as scoring_area
    from codeinstruct.sandbox.client import SandboxClient

    port = _closed_port()

    def through_a_client(args: object) -> int:  # a command whose work goes through a service client
        with SandboxClient(f"127.0.0.1:{port}") as client:
            client.execute("print(1)")
        return 0

    monkeypatch.setattr(scoring_area, "dedup_command", through_a_client)
    assert main(["dedup", "--input", "in.jsonl", "--output", "out.jsonl"]) == 2
    assert capsys.readouterr().err == f"codeinstruct dedup: cannot reach the service at 127.0.0.1:{port}: " \
                                      "connection refused\n"
