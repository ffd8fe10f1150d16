"""Which weights an engine loads: `engine.model` resolved once, for every engine that hosts a model.

`engine.model` may be
- `default`: the embedded SmolLM2-135M-Instruct (`engines.embedded`);
- a model folder (`config.json`): a Hugging Face folder, a full fine-tuning output, a merged LoRA;
- a LoRA adapter folder (`adapter_config.json`, no `config.json`): what the trainer writes in LoRA
  mode; its base is `base_model_name_or_path` of the adapter config, itself resolved here;
- anything else that does not exist and looks like `owner/name`: a Hugging Face model id, which
  only vLLM may fetch (this platform never downloads; the transformers engine refuses it).

A folder that is none of these (a checkpoint `step-N` folder, a training output whose run has not
finished, an empty folder) is refused with an `InvalidInput` naming `engine.model`, as is a missing
path and an adapter whose base model is missing.

The transformers engine applies an adapter in memory (`load_causal_lm`: base + LoRA merged in
place); engines that load folders only (vLLM) get the merged folder from `model_folder`, merged
once into a scratch cache by `engines.merge`.

Example:
    from codeinstruct.engines.models import resolve_model
    resolved = resolve_model("runs/lora")   # ResolvedModel(base=/…/smollm2-…, adapter=runs/lora)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from pathlib import Path
from typing import Any

from codeinstruct.core.errors import InvalidInput

logger = logging.getLogger(__name__)

DEFAULT = "default"
FIELD = "engine.model"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
# The embedded model's cache folder is named after the converter versions: an adapter trained on
# it before a library upgrade names a folder that no longer exists, but the same weights do.
_EMBEDDED_PREFIX = "smollm2-135m-instruct-"


@dataclasses.dataclass(frozen=True)
class ResolvedModel:
    """What `engine.model` names: a base model (folder, or hub id when `hub`) and an optional adapter."""

    requested: str
    base: str
    adapter: Path | None = None
    name: str = ""
    hub: bool = False

    def info(self) -> dict[str, Any]:
        """What an engine reports about its weights (`Engine.info()`)."""
        return {"base_model": self.base, "adapter": str(self.adapter) if self.adapter else None}


def is_adapter_folder(path: str | Path) -> bool:
    path = Path(path)
    return (path / "adapter_config.json").is_file() and not (path / "config.json").is_file()


def resolve_model(model: str, field: str = FIELD) -> ResolvedModel:
    """Resolve `model` ('default', a model or adapter folder, or a hub id); errors name `field`."""
    if model in ("", DEFAULT):
        from codeinstruct.engines.embedded import MODEL_NAME, default_model_path

        return ResolvedModel(requested=DEFAULT, base=str(default_model_path()), name=MODEL_NAME)
    path = Path(model).expanduser()
    if not path.exists():
        if _HUB_ID.fullmatch(model) and not model.startswith("."):
            return ResolvedModel(requested=model, base=model, name=model, hub=True)
        raise InvalidInput(f"{field} {model!r} does not exist: give 'default', a model folder or a LoRA "
                           "adapter folder", field=field)
    if (path / "config.json").is_file():
        return ResolvedModel(requested=model, base=str(path.resolve()), name=model)
    if is_adapter_folder(path):
        return ResolvedModel(requested=model, base=_adapter_base(path, field), adapter=path.resolve(), name=model)
    raise InvalidInput(f"{field} {model!r} is {_what_it_is(path)}, neither a model folder (config.json) nor a "
                       "LoRA adapter folder (adapter_config.json)", field=field)


def _what_it_is(path: Path) -> str:
    if not path.is_dir():
        return "a file"
    if (path / "state.json").is_file() and (path / "trainable.safetensors").is_file():
        return "a training checkpoint (give the run's output folder, written when training finishes)"
    if (path / "checkpoints").is_dir():
        return "a training output holding only checkpoints (the run has not finished)"
    return "a folder"


def _adapter_base(adapter: Path, field: str) -> str:
    """The existing model folder an adapter was trained on."""
    config_file = adapter / "adapter_config.json"
    try:
        base = json.loads(config_file.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{field} {str(adapter)!r}: unreadable adapter_config.json ({exc})", field=field) from None
    if not base:
        raise InvalidInput(f"{field} {str(adapter)!r}: adapter_config.json names no base_model_name_or_path",
                           field=field)
    if base == DEFAULT:
        return resolve_model(DEFAULT, field).base
    path = Path(base).expanduser()
    if (path / "config.json").is_file():
        return str(path.resolve())
    if path.name.startswith(_EMBEDDED_PREFIX):
        current = resolve_model(DEFAULT, field).base
        logger.warning("adapter %s was trained on the embedded model converted at %s; using its current "
                       "conversion %s", adapter, base, current)
        return current
    raise InvalidInput(f"{field} {str(adapter)!r} is a LoRA adapter whose base model {base!r} is missing "
                       "(adapter_config.json base_model_name_or_path must be an existing model folder)",
                       field=field)


def load_causal_lm(resolved: ResolvedModel, dtype: Any, trust_remote_code: bool = False) -> tuple[Any, Any]:
    """(model, tokenizer) on the CPU: the base model with the adapter, if any, merged into it in memory.

    The tokenizer is the adapter folder's when it has one (the trainer saves it there), else the base's.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(resolved.base, dtype=dtype, trust_remote_code=trust_remote_code)
    tokenizer_dir = resolved.base
    if resolved.adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(resolved.adapter)).merge_and_unload()
        if (resolved.adapter / "tokenizer_config.json").is_file():
            tokenizer_dir = str(resolved.adapter)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, trust_remote_code=trust_remote_code)
    return model, tokenizer


def model_folder(resolved: ResolvedModel) -> str:
    """A folder (or hub id) holding the whole model: an adapter is merged once into the scratch cache."""
    if resolved.adapter is None:
        return resolved.base
    from codeinstruct.engines.merge import merge_adapter

    return str(merge_adapter(resolved.adapter))
