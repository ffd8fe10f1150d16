"""The generation methods and the pipelines built from them: one literal each, read everywhere.

The command line's choices, the pipelines' config, the generation registry
(`codeinstruct.generation.run.METHODS`) and the generation client's RPC table all take their names
from here, so adding a method starts in this file (see docs/architecture.md).
"""

from __future__ import annotations

from typing import Literal, get_args

Method = Literal["semi_instruct", "inverse_instruct", "evol_instruct", "wavecoder", "self_instruct"]
Pipeline = Literal["semi_instruct", "inverse_instruct", "evol_instruct", "wavecoder", "self_instruct",
                   "train_eval", "end_to_end"]

METHODS: tuple[Method, ...] = get_args(Method)
PIPELINES: tuple[Pipeline, ...] = get_args(Pipeline)
