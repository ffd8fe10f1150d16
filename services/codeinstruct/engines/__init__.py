"""LLM engines behind one interface (`Engine`), chosen by `EngineConfig.engine`.

Example:
    from codeinstruct.engines import EngineConfig, SamplingParams, load_engine
    with load_engine(EngineConfig()) as engine:          # the embedded SmolLM2-135M-Instruct
        print(engine.chat([[{"role": "user", "content": "Say hi"}]], SamplingParams(max_tokens=8)))
"""

from __future__ import annotations

from codeinstruct.engines.base import Engine, SamplingParams
from codeinstruct.engines.config import EngineConfig

__all__ = ["Engine", "EngineConfig", "SamplingParams", "load_engine"]


def load_engine(config: EngineConfig) -> Engine:
    """Load the engine `config` names (imports the backend's libraries only when used)."""
    if config.engine == "transformers":
        from codeinstruct.engines.transformers_engine import TransformersEngine

        return TransformersEngine(config)
    if config.engine == "vllm":
        from codeinstruct.engines.vllm_engine import VllmEngine

        return VllmEngine(config)
    if config.engine == "openai":
        from codeinstruct.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(config)
    raise AssertionError(f"unhandled engine {config.engine!r}")  # EngineConfig validated it
