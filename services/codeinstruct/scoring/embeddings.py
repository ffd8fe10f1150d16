"""Sentence embeddings of scoring: the shared `codeinstruct.curation.embeddings` (packaged
all-MiniLM-L6-v2, nothing downloaded)."""

from codeinstruct.curation.embeddings import default_model_path, embed, load_model

__all__ = ["default_model_path", "embed", "load_model"]
