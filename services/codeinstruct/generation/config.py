"""Generation settings (config section `generation`): shared knobs, the engine and one nested
section per method.

Example YAML:
    generation:
      engine: {engine: transformers, model: default, batch_size: 8}
      seed: 0
      inverse: {samples: 10}
      evol: {rounds: 2}

Each method section lists exactly the settings that change that method's outputs, so the
fingerprint of a method is its section plus the shared fields it names in `SHARED` (no name
prefixes or exclusion lists to keep in step).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import field
from typing import Any, ClassVar, Literal, get_args

from codeinstruct.core.config import check, to_mapping
from codeinstruct.core.methods import Method
from codeinstruct.engines.config import EngineConfig
from codeinstruct.engines.embedded import DEFAULT, MODEL_NAME

# Models `wavecoder.instructions: auto` gives the template mode: the embedded one (engine model 'default').
SMALL_MODELS = (DEFAULT, MODEL_NAME)

WavecoderTask = Literal["summarization", "generation", "translation", "repair"]
EvolHeuristic = Literal["constraints", "less_common", "more_steps", "erroneous_code", "complexity"]
Prompting = Literal["staged", "single"]
WavecoderInstructions = Literal["auto", "llm", "template"]
WAVECODER_TASKS: tuple[WavecoderTask, ...] = get_args(WavecoderTask)
EVOL_HEURISTICS: tuple[EvolHeuristic, ...] = get_args(EvolHeuristic)


def _temperature(value: float, where: str) -> None:
    check(0 <= value <= 5, where, f"must be 0..5, got {value}")


@dataclasses.dataclass(frozen=True)
class EvolConfig:
    """evol_instruct (section `generation.evol`)."""

    SHARED: ClassVar[tuple[str, ...]] = ("answer_temperature",)

    rounds: int = field(default=3, metadata={
        "help": "the last evolution round M (WizardCoder: its ablation peaks at 3 rounds; each round evolves the "
                "previous round's survivors, failed instructions go back to the pool)"})
    start_round: int = field(default=1, metadata={
        "help": "the first round this job runs (1..rounds). Above 1 the seeds are the dataset so far (seed "
                "records and earlier rounds' evolutions, or evol_instruct.pool_seeds of it): each lineage "
                "continues from its latest surviving instruction. One round per job: start_round = rounds = k"})
    include_seeds: bool = field(default=True, metadata={
        "help": "the output also holds the ORIGINAL seed (instruction, response) pairs as round-0 records, as "
                "WizardCoder's 78K = its 20K Code Alpaca seeds + the evolutions; written by the job that runs "
                "round 1"})
    temperature: float = field(default=1.0, metadata={"help": "temperature of evolution"})
    top_p: float = field(default=0.9, metadata={"help": "top_p of evolution"})
    heuristics: tuple[EvolHeuristic, ...] = field(default=EVOL_HEURISTICS, metadata={
        "help": f"heuristics to draw from ({', '.join(EVOL_HEURISTICS)})"})
    equality_check: bool = field(default=True, metadata={
        "help": "ask the model whether the evolved instruction equals the original (elimination: no "
                "information gain)"})
    answer: bool = field(default=True, metadata={
        "help": "answer each evolved instruction (enables the answer elimination rules)"})
    max_tokens: int = field(default=256, metadata={"help": "budget of an evolved instruction"})

    def __post_init__(self) -> None:
        check(1 <= self.rounds <= 10, "generation.evol.rounds", f"must be 1..10, got {self.rounds}")
        check(1 <= self.start_round <= self.rounds, "generation.evol.start_round",
              f"must be 1..rounds ({self.rounds}), got {self.start_round}")
        check(bool(self.heuristics), "generation.evol.heuristics",
              f"must be a non-empty subset of {list(EVOL_HEURISTICS)}, got {list(self.heuristics)}")
        _temperature(self.temperature, "generation.evol.temperature")


@dataclasses.dataclass(frozen=True)
class InverseConfig:
    """inverse_instruct (section `generation.inverse`)."""

    SHARED: ClassVar[tuple[str, ...]] = ()

    samples: int = field(default=10, metadata={"help": "instructions per snippet (N)"})
    temperature: float = field(default=0.8, metadata={"help": "temperature"})
    repetition_penalty: float = field(default=1.1, metadata={"help": "repetition penalty"})
    max_tokens: int = field(default=256, metadata={
        "help": "token budget of one instruction (InverseCoder: 2048 on GPUs; 256 keeps the embedded model fast)"})

    def __post_init__(self) -> None:
        check(1 <= self.samples <= 64, "generation.inverse.samples", f"must be 1..64, got {self.samples}")
        _temperature(self.temperature, "generation.inverse.temperature")


@dataclasses.dataclass(frozen=True)
class SemiConfig:
    """semi_instruct (section `generation.semi`)."""

    SHARED: ClassVar[tuple[str, ...]] = ()

    samples: int = field(default=1, metadata={"help": "drafts per seed"})
    temperature: float = field(default=0.2, metadata={"help": "temperature of drafts"})
    max_tests: int = field(default=10, metadata={"help": "test inputs kept per draft"})
    prompting: Prompting = field(default="staged", metadata={
        "help": "'staged' asks for the instruction, the test inputs and the refined solution in separate short "
                "prompts whose answers it starts itself (works down to 135M models); 'single' asks for all four "
                "parts in one formatted answer (one call per draft; needs a capable model)"})
    input_samples: int = field(default=6, metadata={
        "help": "(staged) sampled answers asking for test inputs, one call each, per seed"})
    input_temperature: float = field(default=0.9, metadata={
        "help": "(staged) temperature of the test-input answers (diversity of inputs)"})

    def __post_init__(self) -> None:
        check(1 <= self.samples <= 16, "generation.semi.samples", f"must be 1..16, got {self.samples}")
        check(1 <= self.max_tests <= 100, "generation.semi.max_tests", f"must be 1..100, got {self.max_tests}")
        check(1 <= self.input_samples <= 32, "generation.semi.input_samples",
              f"must be 1..32, got {self.input_samples}")
        _temperature(self.temperature, "generation.semi.temperature")
        _temperature(self.input_temperature, "generation.semi.input_temperature")


# Regexes (searched per line, `re.M`) of raw code WaveCoder's selection drops: generated files and data blobs.
WAVECODER_BLACKLIST = (
    r"(?i)auto-?generated|@generated\b|\bdo not (?:edit|modify)\b|generated by (?:the )?(?:protoc|swig|cython)",
    r"[A-Za-z0-9+/=]{200,}",
)


@dataclasses.dataclass(frozen=True)
class WavecoderConfig:
    """wavecoder (section `generation.wavecoder`)."""

    SHARED: ClassVar[tuple[str, ...]] = ()

    tasks: tuple[WavecoderTask, ...] = field(default=WAVECODER_TASKS, metadata={
        "help": "tasks to generate (summarization, generation, translation, repair)"})
    tasks_per_seed: int = field(default=1, metadata={"help": "tasks per raw code seed (rotated through tasks)"})
    translation_languages: tuple[str, ...] = field(default=("javascript", "java", "cpp"), metadata={
        "help": "target languages of translation tasks"})
    temperature: float = field(default=0.7, metadata={"help": "temperature"})
    instructions: WavecoderInstructions = field(default="auto", metadata={
        "help": "'llm': the paper's generator writes each whole example (instruction, information, solution; "
                "repair: the bug too) from the task definition, requirements and few-shot examples of an example "
                "pool that the discriminator's accepted examples grow (needs a capable model); 'template': we "
                "write the fixed parts and start every answer, the model continues sentences and code (works "
                "down to 135M models; Python seeds; repair bugs by seeded mutation); 'auto': 'template' on the "
                "embedded model (engine model 'default'), else 'llm'"})
    shots: int = field(default=2, metadata={"help": "(llm) examples of the task drawn from the pool into a prompt"})
    pool_size: int = field(default=32, metadata={
        "help": "(llm) examples kept per task in the pool (the newest accepted ones; the packaged ones stay)"})
    discriminator: bool = field(default=True, metadata={
        "help": "(llm) judge each example (rule checks, then the LLM checklist) before keeping it; accepted "
                "ones grow the example pool (WaveCoder's generator-discriminator loop)"})
    judge_max_tokens: int = field(default=256, metadata={"help": "(llm) tokens the judge may write"})
    selection: Literal["auto", "always", "off"] = field(default="auto", metadata={
        "help": "raw-code selection before generation (length bounds, blacklist, KCenterGreedy down to the "
                "limit): 'auto' when the seed pool is larger than the limit, 'always', or 'off'"})
    min_code_tokens: int = field(default=50, metadata={"help": "(selection) shortest raw code kept, in tokens"})
    max_code_tokens: int = field(default=800, metadata={"help": "(selection) longest raw code kept, in tokens"})
    blacklist: tuple[str, ...] = field(default=WAVECODER_BLACKLIST, metadata={
        "help": "(selection) regexes (per line) of raw code to drop: generated files, data blobs ..."})
    embedding_model: str = field(default="", metadata={
        "help": "(selection) sentence-transformers folder embedding raw code; empty: packaged all-MiniLM-L6-v2"})

    def __post_init__(self) -> None:
        check(bool(self.tasks), "generation.wavecoder.tasks",
              f"must be a non-empty subset of {list(WAVECODER_TASKS)}, got {list(self.tasks)}")
        check(1 <= self.tasks_per_seed <= len(WAVECODER_TASKS), "generation.wavecoder.tasks_per_seed",
              f"must be 1..4, got {self.tasks_per_seed}")
        check(bool(self.translation_languages), "generation.wavecoder.translation_languages",
              "must name at least one language")
        _temperature(self.temperature, "generation.wavecoder.temperature")
        check(0 <= self.shots <= 8, "generation.wavecoder.shots", f"must be 0..8, got {self.shots}")
        check(self.shots <= self.pool_size <= 10_000, "generation.wavecoder.pool_size",
              f"must be shots ({self.shots})..10000, got {self.pool_size}")
        check(self.judge_max_tokens >= 8, "generation.wavecoder.judge_max_tokens",
              f"must be >= 8, got {self.judge_max_tokens}")
        check(1 <= self.min_code_tokens <= self.max_code_tokens, "generation.wavecoder.min_code_tokens",
              f"must be 1..max_code_tokens ({self.max_code_tokens}), got {self.min_code_tokens}")
        for pattern in self.blacklist:
            try:
                re.compile(pattern)
            except re.error as exc:
                check(False, "generation.wavecoder.blacklist", f"bad regex {pattern!r}: {exc}")

    def uses_llm(self, model_name: str) -> bool:
        """Whether the LLM writes whole examples: `instructions` 'llm', or 'auto' on another model than the
        embedded SmolLM2-135M (which never kept the labelled format: see docs/generation.md)."""
        return self.instructions == "llm" or (self.instructions == "auto" and model_name not in SMALL_MODELS)


@dataclasses.dataclass(frozen=True)
class SelfInstructConfig:
    """self_instruct (section `generation.self_instruct`)."""

    SHARED: ClassVar[tuple[str, ...]] = ("answer_temperature",)

    examples: int = field(default=3, metadata={"help": "seed instructions shown per new instruction"})
    temperature: float = field(default=1.0, metadata={"help": "temperature"})
    max_similarity: float = field(default=0.7, metadata={
        "help": "drop a new instruction whose ROUGE-L with a seed is above this"})

    def __post_init__(self) -> None:
        check(1 <= self.examples <= 16, "generation.self_instruct.examples", f"must be 1..16, got {self.examples}")
        check(0 < self.max_similarity <= 1, "generation.self_instruct.max_similarity",
              f"must be in (0, 1], got {self.max_similarity}")
        _temperature(self.temperature, "generation.self_instruct.temperature")


MethodConfig = EvolConfig | InverseConfig | SemiConfig | WavecoderConfig | SelfInstructConfig


@dataclasses.dataclass(frozen=True)
class GenerationConfig:
    """How each method generates (section `generation`)."""

    # The fingerprint of every method: the seed and the answer budget shape every record.
    SHARED: ClassVar[tuple[str, ...]] = ("seed", "max_tokens")

    engine: EngineConfig = field(default_factory=EngineConfig, metadata={
        "help": "the engine generation runs on (see codeinstruct.engines.config.EngineConfig)"})
    seed: int = field(default=0, metadata={"help": "global seed; each record's seed derives from it and the seed id"})
    max_tokens: int = field(default=512, metadata={"help": "token budget of answers and drafts"})
    seeds_per_batch: int = field(default=0, metadata={
        "help": "seeds processed together (batched prompts); 0: the engine batch size"})
    answer_temperature: float = field(default=0.2, metadata={
        "help": "temperature for answering instructions (evol_instruct, self_instruct)"})
    evol: EvolConfig = field(default_factory=EvolConfig, metadata={"help": "evol_instruct settings"})
    inverse: InverseConfig = field(default_factory=InverseConfig, metadata={"help": "inverse_instruct settings"})
    semi: SemiConfig = field(default_factory=SemiConfig, metadata={"help": "semi_instruct settings"})
    wavecoder: WavecoderConfig = field(default_factory=WavecoderConfig, metadata={"help": "wavecoder settings"})
    self_instruct: SelfInstructConfig = field(default_factory=SelfInstructConfig, metadata={
        "help": "self_instruct settings"})

    def __post_init__(self) -> None:
        check(self.max_tokens >= 16, "generation.max_tokens", f"must be >= 16, got {self.max_tokens}")
        check(self.seeds_per_batch >= 0, "generation.seeds_per_batch", f"must be >= 0, got {self.seeds_per_batch}")
        _temperature(self.answer_temperature, "generation.answer_temperature")

    def method(self, method: Method) -> MethodConfig:
        """The nested section of `method`."""
        sections: dict[Method, MethodConfig] = {
            "evol_instruct": self.evol, "inverse_instruct": self.inverse, "semi_instruct": self.semi,
            "wavecoder": self.wavecoder, "self_instruct": self.self_instruct}
        return sections[method]

    def method_settings(self, method: Method) -> dict[str, Any]:
        """What changes `method`'s outputs (its fingerprint): its section and the shared fields it reads."""
        section = self.method(method)
        shared = {name: getattr(self, name) for name in (*self.SHARED, *section.SHARED)}
        return {**shared, method: to_mapping(section)}
