"""Merge a LoRA adapter folder into its base model, for engines that load full model folders only (vLLM).

The adapter folder is an INPUT and is never written to: on a cluster it is often a read-only
artifact (a mounted volume, a pipeline input). The merged model goes to a scratch cache keyed by a
hash of the adapter's files, `$CODEINSTRUCT_CACHE_DIR/merged/<adapter name>-<hash>/` (falling back
to the system temp folder when the cache is not writable, as in the read-only image), so a second
evaluation of the same adapter reuses it and a retrained adapter gets a fresh merge. The folder is
written under a temporary name and renamed into place, so a complete-looking folder is complete.

Example:
    merged = merge_adapter("runs/lora")         # -> ~/.cache/codeinstruct/merged/lora-3f2a.../
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path

from codeinstruct.core import env
from codeinstruct.core.errors import FailedPrecondition, InvalidInput
from codeinstruct.engines.models import FIELD, load_causal_lm, resolve_model

logger = logging.getLogger(__name__)


def adapter_digest(adapter_dir: str | Path) -> str:
    """sha256 (first 16 hex digits) over the names and contents of the adapter folder's own files.

    Top-level files only: they are the adapter (config, weights, tokenizer); subfolders such as
    `checkpoints/` do not change the merge and can be large. The base model is named by path in
    adapter_config.json, so a different base gives a different hash (a base folder edited in place
    does not: base folders are treated as immutable).
    """
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(adapter_dir).iterdir() if p.is_file()):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _scratch_roots() -> list[Path]:
    # The cache first (persistent across runs); the temp folder when the cache is read-only, as
    # CODEINSTRUCT_CACHE_DIR is in the image the Helm chart runs with a read-only root filesystem.
    return [env.cache_dir() / "merged", Path(tempfile.gettempdir()) / "codeinstruct-merged"]


def _complete(folder: Path) -> bool:
    return (folder / "config.json").is_file()


def merged_location(adapter_dir: str | Path) -> Path:
    """Where the merge of `adapter_dir` is (or will be) kept: a reusable one if any, else a writable one."""
    adapter_dir = Path(adapter_dir)
    name = f"{adapter_dir.resolve().name or 'adapter'}-{adapter_digest(adapter_dir)}"
    roots = _scratch_roots()
    for root in roots:
        if _complete(root / name):
            return root / name
    errors = []
    for root in roots:
        try:
            root.mkdir(parents=True, exist_ok=True)
            # a real write: os.access answers yes for root even where the mode bits say no
            probe = tempfile.mkdtemp(dir=root, prefix=".probe-")
            Path(probe).rmdir()
            return root / name
        except OSError as exc:
            errors.append(f"{root}: {exc.strerror or exc}")
    raise FailedPrecondition(f"no writable folder for the merged model of {adapter_dir} ({'; '.join(errors)}); "
                             "set CODEINSTRUCT_CACHE_DIR to a writable folder")


def merge_adapter(adapter_dir: str | Path, output_dir: str | Path | None = None) -> Path:
    """Merge a LoRA adapter folder into its base model; the merged folder loads in every engine.

    `output_dir` None: the scratch cache (see the module docstring). An existing complete merge at
    the target is reused. `adapter_dir` is only read.
    """
    import torch

    adapter_dir = Path(adapter_dir)
    resolved = resolve_model(str(adapter_dir))  # the adapter's base must exist: refused with engine.model named
    if resolved.adapter is None:
        raise InvalidInput(f"{str(adapter_dir)!r} is not a LoRA adapter folder (adapter_config.json without "
                           "config.json)", field=FIELD)
    target = Path(output_dir) if output_dir else merged_location(adapter_dir)
    if _complete(target):
        logger.info("reusing the merged model %s", target)
        return target
    merged, tokenizer = load_causal_lm(resolved, torch.float32)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A unique temporary sibling, renamed into place when complete: concurrent merges of the same
    # adapter never see each other's half-written files, and the loser of the rename discards its copy.
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    tmp.chmod(0o755)  # mkdtemp makes it private; other users of a shared cache must read the model
    try:
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not _complete(target):
                raise
            logger.info("another process merged %s first; using its copy", adapter_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("merged the adapter %s into %s", adapter_dir, target)
    return target
