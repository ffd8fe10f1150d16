"""Generation settings (config section `generation`). The engine is the nested `engine:` mapping.

Example YAML:
    generation:
      engine: {engine: transformers, model: default, batch_size: 8}
      seed: 0
      inverse_samples: 10
      evol_rounds: 2
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import field
from typing import Any

from codeinstruct.core import config as config_mod
from codeinstruct.core.config import check

WAVECODER_TASKS = ("summarization", "generation", "translation", "repair")
EVOL_HEURISTICS = ("constraints", "less_common", "more_steps", "erroneous_code", "complexity")


@dataclasses.dataclass(frozen=True)
class GenerationConfig:
    """How each method generates (section `generation`)."""

    engine: dict[str, Any] = field(default_factory=dict, metadata={
        "help": "engine settings (see codeinstruct.engines.config.EngineConfig); built separately"})
    seed: int = field(default=0, metadata={"help": "global seed; each record's seed derives from it and the seed id"})
    max_tokens: int = field(default=512, metadata={"help": "token budget of answers and drafts"})
    seeds_per_batch: int = field(default=0, metadata={
        "help": "seeds processed together (batched prompts); 0: the engine batch size"})
    answer_temperature: float = field(default=0.2, metadata={
        "help": "temperature for answering instructions (evol_instruct, self_instruct)"})
    evol_rounds: int = field(default=1, metadata={"help": "evol_instruct: evolution rounds (M in WizardCoder)"})
    evol_temperature: float = field(default=1.0, metadata={"help": "evol_instruct: temperature of evolution"})
    evol_top_p: float = field(default=0.9, metadata={"help": "evol_instruct: top_p of evolution"})
    evol_heuristics: tuple[str, ...] = field(default=EVOL_HEURISTICS, metadata={
        "help": f"evol_instruct: heuristics to draw from ({', '.join(EVOL_HEURISTICS)})"})
    evol_equality_check: bool = field(default=True, metadata={
        "help": "evol_instruct: ask the model whether the evolved instruction equals the original "
                "(elimination: no information gain)"})
    evol_answer: bool = field(default=True, metadata={
        "help": "evol_instruct: answer each evolved instruction (enables the answer elimination rules)"})
    evol_max_tokens: int = field(default=256, metadata={"help": "evol_instruct: budget of an evolved instruction"})
    inverse_samples: int = field(default=10, metadata={"help": "inverse_instruct: instructions per snippet (N)"})
    inverse_temperature: float = field(default=0.8, metadata={"help": "inverse_instruct: temperature"})
    inverse_repetition_penalty: float = field(default=1.1, metadata={"help": "inverse_instruct: repetition penalty"})
    inverse_max_tokens: int = field(default=256, metadata={"help": "inverse_instruct: budget of one instruction"})
    semi_samples: int = field(default=1, metadata={"help": "semi_instruct: drafts per seed"})
    semi_temperature: float = field(default=0.2, metadata={"help": "semi_instruct: temperature of drafts"})
    semi_max_tests: int = field(default=10, metadata={"help": "semi_instruct: test inputs kept per draft"})
    semi_prompting: str = field(default="staged", metadata={
        "help": "semi_instruct: 'staged' asks for the instruction, the test inputs and the refined solution in "
                "separate short prompts whose answers it starts itself (works down to 135M models); 'single' "
                "asks for all four parts in one formatted answer (one call per draft; needs a capable model)"})
    semi_input_samples: int = field(default=6, metadata={
        "help": "semi_instruct (staged): sampled answers asking for test inputs, one call each, per seed"})
    semi_input_temperature: float = field(default=0.9, metadata={
        "help": "semi_instruct (staged): temperature of the test-input answers (diversity of inputs)"})
    wavecoder_tasks: tuple[str, ...] = field(default=WAVECODER_TASKS, metadata={
        "help": "wavecoder: tasks to generate (summarization, generation, translation, repair)"})
    wavecoder_tasks_per_seed: int = field(default=1, metadata={
        "help": "wavecoder: tasks per raw code seed (rotated through wavecoder_tasks)"})
    wavecoder_translation_languages: tuple[str, ...] = field(default=("javascript", "java", "cpp"), metadata={
        "help": "wavecoder: target languages of translation tasks"})
    wavecoder_temperature: float = field(default=0.7, metadata={"help": "wavecoder: temperature"})
    wavecoder_prompting: str = field(default="staged", metadata={
        "help": "wavecoder: 'staged' asks for each part of a task (instruction, answer) in short prompts whose "
                "answers it starts itself, and introduces repair bugs by a seeded one-token mutation (works down "
                "to 135M models; Python seeds); 'single' asks for the labelled Task name / Instruction / "
                "Information / Solution answer in one call (needs a capable model)"})
    self_instruct_examples: int = field(default=3, metadata={
        "help": "self_instruct: seed instructions shown per new instruction"})
    self_instruct_temperature: float = field(default=1.0, metadata={"help": "self_instruct: temperature"})
    self_instruct_max_similarity: float = field(default=0.7, metadata={
        "help": "self_instruct: drop a new instruction whose ROUGE-L with a seed is above this"})

    def __post_init__(self) -> None:
        check(self.max_tokens >= 16, "generation.max_tokens", f"must be >= 16, got {self.max_tokens}")
        check(self.seeds_per_batch >= 0, "generation.seeds_per_batch", f"must be >= 0, got {self.seeds_per_batch}")
        check(1 <= self.evol_rounds <= 10, "generation.evol_rounds", f"must be 1..10, got {self.evol_rounds}")
        unknown = sorted(set(self.evol_heuristics) - set(EVOL_HEURISTICS))
        check(bool(self.evol_heuristics) and not unknown, "generation.evol_heuristics",
              f"must be a non-empty subset of {list(EVOL_HEURISTICS)}, got {list(self.evol_heuristics)}")
        check(1 <= self.inverse_samples <= 64, "generation.inverse_samples",
              f"must be 1..64, got {self.inverse_samples}")
        check(1 <= self.semi_samples <= 16, "generation.semi_samples", f"must be 1..16, got {self.semi_samples}")
        check(1 <= self.semi_max_tests <= 100, "generation.semi_max_tests",
              f"must be 1..100, got {self.semi_max_tests}")
        check(self.semi_prompting in ("staged", "single"), "generation.semi_prompting",
              f"must be 'staged' or 'single', got {self.semi_prompting!r}")
        check(1 <= self.semi_input_samples <= 32, "generation.semi_input_samples",
              f"must be 1..32, got {self.semi_input_samples}")
        unknown = sorted(set(self.wavecoder_tasks) - set(WAVECODER_TASKS))
        check(bool(self.wavecoder_tasks) and not unknown, "generation.wavecoder_tasks",
              f"must be a non-empty subset of {list(WAVECODER_TASKS)}, got {list(self.wavecoder_tasks)}")
        check(1 <= self.wavecoder_tasks_per_seed <= len(WAVECODER_TASKS), "generation.wavecoder_tasks_per_seed",
              f"must be 1..4, got {self.wavecoder_tasks_per_seed}")
        check(bool(self.wavecoder_translation_languages), "generation.wavecoder_translation_languages",
              "must name at least one language")
        check(self.wavecoder_prompting in ("staged", "single"), "generation.wavecoder_prompting",
              f"must be 'staged' or 'single', got {self.wavecoder_prompting!r}")
        check(1 <= self.self_instruct_examples <= 16, "generation.self_instruct_examples",
              f"must be 1..16, got {self.self_instruct_examples}")
        check(0 < self.self_instruct_max_similarity <= 1, "generation.self_instruct_max_similarity",
              f"must be in (0, 1], got {self.self_instruct_max_similarity}")
        for name in ("answer_temperature", "evol_temperature", "inverse_temperature", "semi_temperature",
                     "semi_input_temperature",
                     "wavecoder_temperature", "self_instruct_temperature"):
            value = getattr(self, name)
            check(0 <= value <= 5, f"generation.{name}", f"must be 0..5, got {value}")

    def method_settings(self, method: str) -> dict[str, Any]:
        """The settings that change `method`'s outputs (they go into the fingerprint)."""
        prefix = {"evol_instruct": "evol_", "inverse_instruct": "inverse_", "semi_instruct": "semi_",
                  "wavecoder": "wavecoder_", "self_instruct": "self_instruct_"}[method]
        data = {k: v for k, v in dataclasses.asdict(self).items() if k.startswith(prefix)}
        data.update(seed=self.seed, max_tokens=self.max_tokens)
        if method in ("evol_instruct", "self_instruct"):
            data["answer_temperature"] = self.answer_temperature
        return data


def generation_config(file_data: Mapping[str, Any] | None = None,
                      overrides: Mapping[str, Any] | None = None) -> GenerationConfig:
    return config_mod.build(GenerationConfig, "generation", file_data=file_data, overrides=overrides)
