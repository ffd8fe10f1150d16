"""Prompt templates of the scoring stages (package data, read with importlib.resources)."""
