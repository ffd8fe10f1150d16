"""Merging a LoRA adapter for folder-only engines (vLLM): the adapter folder is only read, the merge
lands in a scratch cache keyed by the adapter's files, is reused, and is written atomically."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from codeinstruct.core.errors import FailedPrecondition, InvalidInput
from codeinstruct.engines.merge import adapter_digest, merge_adapter, merged_location
from codeinstruct.engines.models import is_adapter_folder, model_folder, resolve_model
from codeinstruct.training.evaluate import evaluate_model

UID_BASE = 64000 + (os.getpid() % 400) * 2


def make_adapter(base: Path, path: Path) -> Path:
    """A LoRA adapter with random (non-zero) B matrices: built in a second, no training needed."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base), LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(base).save_pretrained(path)
    return path


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every path under `folder` with its mode and content hash: any write shows up."""
    state = {}
    for path in sorted(folder.rglob("*")):
        content = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        state[str(path.relative_to(folder))] = (path.stat().st_mode, content)
    state["."] = (folder.stat().st_mode, "dir")
    return state


def set_read_only(folder: Path, read_only: bool) -> None:
    for path in [*folder.rglob("*"), folder]:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222 if read_only else mode | stat.S_IWUSR)


@pytest.fixture
def read_only_adapter(tiny_model: Path, tmp_path: Path) -> Iterator[Path]:
    adapter = make_adapter(tiny_model, tmp_path / "inputs" / "lora")
    set_read_only(adapter, True)
    yield adapter
    set_read_only(adapter, False)  # so pytest can clean up


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODEINSTRUCT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # the fallback scratch root
    (tmp_path / "tmp").mkdir()
    return tmp_path / "cache"


def test_evaluating_a_read_only_adapter_reads_it_only(read_only_adapter: Path, cache: Path) -> None:
    # Root ignores the mode bits, so the snapshot (not a PermissionError) is what proves no write.
    before = snapshot(read_only_adapter)
    from codeinstruct.sandbox.config import SandboxConfig
    from codeinstruct.sandbox.core import Sandbox
    from codeinstruct.training.config import EvalConfig, TrainingConfig

    config = TrainingConfig(eval=EvalConfig(max_tokens=4, prompt_style="completion"))
    with Sandbox(SandboxConfig(workers=1, uid_base=UID_BASE)) as sandbox:
        result = evaluate_model(str(read_only_adapter), limit=1, config=config, sandbox=sandbox)
    assert result["n_problems"] == 1 and result["model"] == str(read_only_adapter)
    assert result["adapter"] == str(read_only_adapter.resolve())  # applied in memory by the transformers engine
    assert snapshot(read_only_adapter) == before


def test_a_read_only_adapter_merges_into_the_cache_once(read_only_adapter: Path, cache: Path,
                                                        tiny_model: Path) -> None:
    before = snapshot(read_only_adapter)
    merged = Path(model_folder(resolve_model(str(read_only_adapter))))
    assert snapshot(read_only_adapter) == before
    assert merged == cache / "merged" / f"lora-{adapter_digest(read_only_adapter)}"
    assert (merged / "config.json").is_file() and not is_adapter_folder(merged)
    assert [p.name for p in merged.parent.iterdir()] == [merged.name]  # no temporary folder left behind

    from transformers import AutoModelForCausalLM

    base, tuned = AutoModelForCausalLM.from_pretrained(tiny_model), AutoModelForCausalLM.from_pretrained(merged)
    assert not torch.equal(base.model.layers[0].self_attn.q_proj.weight, tuned.model.layers[0].self_attn.q_proj.weight)
    assert torch.equal(base.model.layers[0].mlp.up_proj.weight, tuned.model.layers[0].mlp.up_proj.weight)

    # The second resolution reuses the merge instead of writing it again.
    written = (merged / "config.json").stat().st_mtime_ns
    assert model_folder(resolve_model(str(read_only_adapter))) == str(merged)
    assert (merged / "config.json").stat().st_mtime_ns == written


def test_scratch_falls_back_to_temp_when_the_cache_is_not_writable(read_only_adapter: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    # A folder under a regular file cannot be created, even by root (chmod would not stop root).
    monkeypatch.setenv("CODEINSTRUCT_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    merged = merge_adapter(read_only_adapter)
    assert merged.parent == tmp_path / "tmp" / "codeinstruct-merged" and (merged / "config.json").is_file()

    monkeypatch.setattr(tempfile, "tempdir", str(blocker / "tmp"))
    set_read_only(read_only_adapter, False)
    (read_only_adapter / "README.md").write_text("retrained\n")  # different files: a different merge
    with pytest.raises(FailedPrecondition, match="CODEINSTRUCT_CACHE_DIR") as info:
        merged_location(read_only_adapter)
    assert str(blocker / "cache") in info.value.message


def test_merge_rejects_a_folder_that_is_not_an_adapter(tiny_model: Path) -> None:
    with pytest.raises(InvalidInput, match="not a LoRA adapter folder"):
        merge_adapter(tiny_model)
