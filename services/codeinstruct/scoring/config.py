"""Scoring settings (config section `scoring`): one frozen dataclass read by the core, the service
and the CLI alike. The scoring engine (LM-Score, discriminator) is the nested `engine:` section.

Example:
    >>> from codeinstruct.core.config import build
    >>> build(ScoringConfig, "scoring", data={"scoring": {"rougel_threshold": 0.6}}).rougel_threshold
    0.6
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from codeinstruct.core.config import check
from codeinstruct.engines.config import EngineConfig

DedupMethod = Literal["exact", "minhash", "rougel"]
DedupField = Literal["instruction", "code", "both"]


@dataclass(frozen=True)
class ScoringConfig:
    """Settings of every scoring stage (section `scoring`)."""

    # dedup
    dedup_method: DedupMethod = field(default="minhash", metadata={
        "help": "exact | minhash | rougel (minhash and rougel run exact first)"})
    dedup_field: DedupField = field(default="both", metadata={
        "help": "text compared by exact/minhash dedup: instruction, code or both"})
    minhash_threshold: float = field(default=0.8, metadata={
        "help": "estimated Jaccard similarity at or above which records are near-duplicates"})
    minhash_num_perm: int = field(default=128, metadata={
        "help": "MinHash permutations (more: finer estimates, more memory)"})
    minhash_shingle: int = field(default=3, metadata={"help": "token n-gram size of MinHash shingles"})
    rougel_threshold: float = field(default=0.7, metadata={
        "help": "ROUGE-L F1 between instructions at or above which the later one is dropped "
                "(Self-Instruct / Semi-Instruct use 0.7)"})
    # decontamination
    decontam_ngram: int = field(default=13, metadata={"help": "n-gram size (word tokens) of the overlap check"})
    decontam_min_substring_chars: int = field(default=50, metadata={
        "help": "texts too short for one n-gram are matched as substrings when at least this long"})
    decontam_embedding_threshold: float = field(default=0.85, metadata={
        "help": "cosine similarity between a record's instruction and a benchmark question that counts "
                "as a paraphrase; 0 disables the embedding check"})
    embedding_model: str = field(default="", metadata={
        "help": "sentence-transformers model folder; empty: the packaged all-MiniLM-L6-v2"})
    embedding_batch_size: int = field(default=64, metadata={"help": "texts per embedding batch"})
    # coreset
    coreset_field: Literal["instruction", "code", "both"] = field(default="instruction", metadata={
        "help": "text embedded for the KCenterGreedy coreset"})
    # sandbox stages
    sandbox_target: str = field(default="inprocess", metadata={
        "help": "sandbox service address host:port, or inprocess"})
    sandbox_concurrency: int = field(default=2, metadata={"help": "records checked at once"})
    test_timeout_s: float = field(default=0.0, metadata={
        "help": "time limit per test case in seconds; 0: the sandbox default"})
    semi_reject_trivial_tests: bool = field(default=True, metadata={
        "help": "Semi-Instruct validation drops a record whose gold tests a trivial function passes too "
                "(every output equals the only argument or the stdin, or 2+ tests share one output)"})
    # engine stages
    lm_score_batch_size: int = field(default=16, metadata={"help": "(instruction, code) pairs per LM-Score call"})
    discriminator_pool_size: int = field(default=8, metadata={
        "help": "judged samples kept in each of the good and bad few-shot pools"})
    discriminator_shots: int = field(default=1, metadata={
        "help": "examples taken from each pool into a judgment prompt"})
    discriminator_max_tokens: int = field(default=256, metadata={"help": "tokens the judge may write"})
    discriminator_unparsable: Literal["drop", "keep"] = field(default="drop", metadata={
        "help": "what to do with a record whose judgment has no readable yes/no verdict"})
    # transport
    stream_chunk: int = field(default=256, metadata={"help": "records per streamed message (bounds message sizes)"})
    engine: EngineConfig = field(default_factory=EngineConfig, metadata={
        "help": "the engine of LM-Score and the discriminator (see codeinstruct.engines.config)"})

    def __post_init__(self) -> None:
        check(0.0 < self.minhash_threshold <= 1.0, "scoring.minhash_threshold",
              f"must be in (0, 1], got {self.minhash_threshold}")
        check(16 <= self.minhash_num_perm <= 1024, "scoring.minhash_num_perm",
              f"must be 16..1024, got {self.minhash_num_perm}")
        check(1 <= self.minhash_shingle <= 10, "scoring.minhash_shingle", f"must be 1..10, got {self.minhash_shingle}")
        check(0.0 < self.rougel_threshold <= 1.0, "scoring.rougel_threshold",
              f"must be in (0, 1], got {self.rougel_threshold}")
        check(2 <= self.decontam_ngram <= 64, "scoring.decontam_ngram", f"must be 2..64, got {self.decontam_ngram}")
        check(self.decontam_min_substring_chars >= 10, "scoring.decontam_min_substring_chars",
              f"must be >= 10, got {self.decontam_min_substring_chars}")
        check(0.0 <= self.decontam_embedding_threshold <= 1.0, "scoring.decontam_embedding_threshold",
              f"must be in [0, 1], got {self.decontam_embedding_threshold}")
        check(self.embedding_batch_size >= 1, "scoring.embedding_batch_size",
              f"must be >= 1, got {self.embedding_batch_size}")
        check(1 <= self.sandbox_concurrency <= 256, "scoring.sandbox_concurrency",
              f"must be 1..256, got {self.sandbox_concurrency}")
        check(self.test_timeout_s >= 0, "scoring.test_timeout_s", f"must be >= 0, got {self.test_timeout_s}")
        check(self.lm_score_batch_size >= 1, "scoring.lm_score_batch_size",
              f"must be >= 1, got {self.lm_score_batch_size}")
        check(0 <= self.discriminator_pool_size <= 256, "scoring.discriminator_pool_size",
              f"must be 0..256, got {self.discriminator_pool_size}")
        check(0 <= self.discriminator_shots <= self.discriminator_pool_size, "scoring.discriminator_shots",
              f"must be 0..discriminator_pool_size ({self.discriminator_pool_size}), got {self.discriminator_shots}")
        check(self.discriminator_max_tokens >= 8, "scoring.discriminator_max_tokens",
              f"must be >= 8, got {self.discriminator_max_tokens}")
        check(1 <= self.stream_chunk <= 10_000, "scoring.stream_chunk", f"must be 1..10000, got {self.stream_chunk}")

