"""`engine.model` resolution: 'default', a model folder, a LoRA adapter our trainer wrote, and the
folders that are none of these. The transformers engine applies an adapter in memory; vLLM's path
(merged once into the scratch cache) is tested up to the folder vLLM is handed, and that folder
loads into the same logits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from codeinstruct.core.errors import InvalidInput
from codeinstruct.engines import EngineConfig, SamplingParams, load_engine
from codeinstruct.engines.models import is_adapter_folder, resolve_model
from codeinstruct.engines.vllm_engine import vllm_model
from tests.support.training import build_tiny_model, make_records

PROMPT = "Write a function f3 that multiplies x by 5."


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def trained_adapter(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter trained by our trainer: 3 steps on 8 records (LoRA B starts at zero, so nonzero B
    weights prove the steps happened)."""
    from codeinstruct.training.config import TrainingConfig
    from codeinstruct.training.trainer import train

    out = tmp_path_factory.mktemp("run") / "lora"
    config = TrainingConfig(model=str(tiny_model), batch_size=4, learning_rate=2e-2, epochs=2, max_steps=3,
                            num_threads=1, lora_r=4, lora_alpha=8)
    summary = train(make_records(8), out, config)
    assert summary["steps"] == 3 and summary["adapter_dir"] == str(out)
    return out


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODEINSTRUCT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def logits(engine, text: str = PROMPT) -> torch.Tensor:
    ids = torch.tensor([engine.tokenizer.encode(text, add_special_tokens=False)])
    with torch.inference_mode():
        return engine.model(input_ids=ids).logits[0].float()


def load(model: str | Path):
    return load_engine(EngineConfig(model=str(model), threads=1, dtype="float32", max_model_len=256))


# -- resolution -----------------------------------------------------------------------------------

def test_a_model_folder_resolves_to_itself(tiny_model: Path) -> None:
    resolved = resolve_model(str(tiny_model))
    assert resolved.base == str(tiny_model.resolve()) and resolved.adapter is None and not resolved.hub
    assert vllm_model(EngineConfig(engine="vllm", model=str(tiny_model)))[1] == str(tiny_model.resolve())


def test_a_missing_path_is_refused_naming_the_field(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"engine\.model .* does not exist") as info:
        resolve_model(str(tmp_path / "nowhere"))
    assert info.value.field == "engine.model"


def test_a_hub_id_is_left_to_vllm_and_refused_by_transformers() -> None:
    resolved = resolve_model("some-org/some-model")
    assert resolved.hub and resolved.base == "some-org/some-model"
    assert vllm_model(EngineConfig(engine="vllm", model="some-org/some-model"))[1] == "some-org/some-model"
    with pytest.raises(InvalidInput, match="never downloads"):
        load_engine(EngineConfig(model="some-org/some-model"))


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.mkdir(), "is a folder, neither a model folder"),
    (lambda p: p.write_text("x"), "is a file, neither"),
    (lambda p: ((p / "checkpoints" / "step-000002").mkdir(parents=True)), "only checkpoints"),
    (lambda p: (p.mkdir(), (p / "state.json").write_text("{}"), (p / "trainable.safetensors").write_text("")),
     "a training checkpoint"),
])
def test_a_path_that_is_no_model_is_refused(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "thing"
    make(path)
    with pytest.raises(InvalidInput, match=message) as info:
        resolve_model(str(path))
    assert info.value.field == "engine.model"


def test_an_adapter_whose_base_is_missing_is_refused(trained_adapter: Path, tmp_path: Path) -> None:
    moved = tmp_path / "adapter"
    shutil.copytree(trained_adapter, moved, ignore=shutil.ignore_patterns("checkpoints"))
    config = json.loads((moved / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = str(tmp_path / "gone")
    (moved / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(InvalidInput, match=r"LoRA adapter whose base model .*gone.* is missing") as info:
        load(moved)
    assert info.value.field == "engine.model"
    del config["base_model_name_or_path"]
    (moved / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(InvalidInput, match="names no base_model_name_or_path"):
        resolve_model(str(moved))


# -- a trained adapter in the engines ----------------------------------------------------------------

def test_the_engine_loads_a_trained_adapter(trained_adapter: Path, tiny_model: Path, cache: Path) -> None:
    assert is_adapter_folder(trained_adapter)
    weights = load_file(str(trained_adapter / "adapter_model.safetensors"))
    assert any(name.endswith("lora_B.weight") and value.abs().max() > 0 for name, value in weights.items())

    base, tuned = load(tiny_model), load(trained_adapter)
    try:
        info = tuned.info()
        assert info["adapter"] == str(trained_adapter.resolve()) and info["base_model"] == str(tiny_model.resolve())
        assert base.info()["adapter"] is None
        assert not torch.allclose(logits(base), logits(tuned), atol=1e-4)  # the trained weights are applied
        greedy = SamplingParams(max_tokens=8)
        assert tuned.chat([[{"role": "user", "content": PROMPT}]], greedy)[0][0] is not None

        # vLLM's path: the adapter merged into a folder once; that folder gives the same model
        resolved, folder = vllm_model(EngineConfig(engine="vllm", model=str(trained_adapter)))
        assert resolved.adapter == trained_adapter.resolve() and Path(folder).parent == cache / "merged"
        merged = load(folder)
        try:
            assert merged.info()["adapter"] is None
            torch.testing.assert_close(logits(merged), logits(tuned), atol=1e-4, rtol=1e-4)
            assert merged.generate([PROMPT], greedy) == tuned.generate([PROMPT], greedy)
        finally:
            merged.close()
    finally:
        base.close()
        tuned.close()


def test_an_adapter_with_zero_lora_b_equals_its_base(trained_adapter: Path, tiny_model: Path,
                                                     tmp_path: Path) -> None:
    zeroed = tmp_path / "zeroed"
    shutil.copytree(trained_adapter, zeroed, ignore=shutil.ignore_patterns("checkpoints"))
    weights = load_file(str(zeroed / "adapter_model.safetensors"))
    save_file({k: torch.zeros_like(v) if "lora_B" in k else v for k, v in weights.items()},
              str(zeroed / "adapter_model.safetensors"))
    base, tuned = load(tiny_model), load(zeroed)
    try:
        assert tuned.info()["adapter"] == str(zeroed.resolve())
        torch.testing.assert_close(logits(base), logits(tuned))
    finally:
        base.close()
        tuned.close()


def test_training_resolves_its_base_the_same_way(trained_adapter: Path, tiny_model: Path, tmp_path: Path) -> None:
    from codeinstruct.training.trainer import resolve_model_path

    assert resolve_model_path(str(tiny_model)) == str(tiny_model.resolve())
    with pytest.raises(InvalidInput, match="is a LoRA adapter folder: train from a model folder") as info:
        resolve_model_path(str(trained_adapter))
    assert info.value.field == "training.model"
    with pytest.raises(InvalidInput, match="does not exist") as info:
        resolve_model_path(str(tmp_path / "nowhere"))
    assert info.value.field == "training.model"
