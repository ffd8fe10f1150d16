"""Deduplication: exact (normalized), MinHash-LSH near-duplicates, and the ROUGE-L instruction filter.

All three keep the first record of a group and drop later ones, so the input order decides which
copy survives. `exact` compares layout-, comment- and rename-insensitive tokens (see
`normalize.py`); `minhash` runs exact first, then drops records whose estimated Jaccard similarity
of token shingles to a kept record reaches the threshold (datasketch MinHashLSH, with the estimate
re-checked to remove LSH false positives); `rougel` runs exact first, then drops instructions whose
ROUGE-L F1 with a kept instruction reaches the threshold (Self-Instruct / Semi-Instruct filter).

ROUGE-L is made affordable with an exact candidate filter: F1 = 2*LCS/(|a|+|b|) and LCS is bounded
by the bag overlap of the token lists, so a pair can only reach F1 >= t when the lengths are close
and the rarest-first token prefixes of both instructions share a token (the AllPairs prefix
filter). Only those candidates pay for the quadratic LCS, and no true match is missed.

Example:
    report = dedup(records, method="rougel", threshold=0.7)
"""

from __future__ import annotations

import logging
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record, stable_hash
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.normalize import code_tokens, words
from codeinstruct.scoring.types import StageReport

logger = logging.getLogger(__name__)

METHODS = ("exact", "minhash", "rougel")


def record_tokens(record: Record, field: str = "both") -> list[str]:
    """The normalized tokens dedup compares for `record` (field: instruction, code or both)."""
    instruction = words(record.instruction)
    if field == "instruction":
        return instruction
    body = record.code or record.response
    code = code_tokens(body, record.language) if record.code else words(body)
    if field == "code":
        return code
    return [*instruction, "<sep>", *code]


def exact_dedup(records: Iterable[Record], field: str = "both") -> StageReport:
    report = StageReport("dedup")
    seen: dict[str, str] = {}
    for index, record in enumerate(records):
        if index % 1000 == 0:
            deadline.check()
        key = stable_hash(record_tokens(record, field))
        if key in seen:
            report.drop(record, f"exact_duplicate: of {seen[key]}")
        else:
            seen[key] = record.id
            report.keep(record)
    return report


def _shingles(tokens: Sequence[str], n: int) -> list[bytes]:
    if len(tokens) <= n:
        return ["\x1f".join(tokens).encode("utf-8")]
    return list({"\x1f".join(tokens[i:i + n]).encode("utf-8") for i in range(len(tokens) - n + 1)})


def minhash_dedup(records: Sequence[Record], threshold: float, *, num_perm: int = 128, shingle: int = 3,
                  field: str = "both") -> StageReport:
    """Drop records whose estimated Jaccard similarity to an earlier kept record is >= threshold."""
    # datasketch and rouge_score (nltk) take about a second to import: loaded when a stage runs, so
    # importing codeinstruct.scoring (and its config, which every entrypoint's Settings reads) stays quick.
    from datasketch import MinHash, MinHashLSH

    report = StageReport("dedup")
    signatures = MinHash.bulk((_shingles(record_tokens(r, field), shingle) for r in records), num_perm=num_perm)
    # The LSH only proposes candidates (every one is re-checked against `threshold`); very high
    # thresholds would leave it fewer than two bands, so it is capped.
    lsh = MinHashLSH(threshold=min(threshold, 0.9), num_perm=num_perm)
    for index, (record, signature) in enumerate(zip(records, signatures, strict=True)):
        if index % 1000 == 0:
            deadline.check()
        best, best_key = 0.0, -1
        for key in lsh.query(signature):
            similarity = signature.jaccard(signatures[key])
            if similarity > best:
                best, best_key = similarity, key
        if best >= threshold:
            report.drop(record, f"near_duplicate: of {records[best_key].id} (jaccard {best:.2f})")
        else:
            lsh.insert(index, signature)
            report.keep(record)
    return report


class RougeLFilter:
    """Incremental ROUGE-L filter: `add(text)` is False when a kept text is too similar (keeps it otherwise).

    `document_frequency` (token -> count over the whole set) orders prefixes rarest first; without
    it the order is built from what has been seen, which is still exact but filters less.
    Candidates come from the prefix index; their bag overlap is counted per candidate in Python when
    they are few, or for all kept texts at once from per-token postings (numpy) when they are many
    (small vocabularies, template-like instructions).
    """

    def __init__(self, threshold: float = 0.7, document_frequency: Counter[str] | None = None):
        self.threshold = threshold
        self._df = document_frequency or Counter()
        from rouge_score import rouge_scorer  # imported on use: see minhash_dedup

        self._scorer = rouge_scorer.RougeScorer(["rougeL"])
        self._texts: list[str] = []
        self._lengths = array("i")
        self._bags: list[Counter[str]] = []
        self._index: dict[tuple[str, int], array[int]] = defaultdict(lambda: array("i"))
        self._postings: dict[str, tuple[array[int], array[int]]] = {}
        self.lcs_computed = 0

    @staticmethod
    def tokens(text: str) -> list[str]:
        from rouge_score import tokenize as rouge_tokenize  # imported on use: see minhash_dedup

        return list(rouge_tokenize.tokenize(text, None))

    def _prefix(self, tokens: list[str]) -> list[tuple[str, int]]:
        # Bag semantics: the k-th occurrence of a token is its own element, so set overlap = bag overlap.
        seen: Counter[str] = Counter()
        elements = []
        for token in tokens:
            elements.append((token, seen[token]))
            seen[token] += 1
        elements.sort(key=lambda e: (self._df.get(e[0], 0), e))
        length = len(tokens)
        required = math.ceil(self.threshold * length / (2.0 - self.threshold) - 1e-9)
        return elements[:max(1, length - required + 1)]

    def _overlaps(self, bag: Counter[str], candidates: np.ndarray) -> np.ndarray:
        """Bag overlap of `bag` with each candidate's tokens."""
        postings = [self._postings[t] + (n,) for t, n in bag.items() if t in self._postings]
        scanned = sum(len(ids) for ids, _, _ in postings)
        if scanned > 40 * len(candidates) * len(bag):  # few candidates: count them one by one
            return np.array([sum((bag & self._bags[c]).values()) for c in candidates.tolist()], dtype=np.int64)
        ids = np.concatenate([np.frombuffer(i, dtype=np.int32) for i, _, _ in postings])
        weights = np.concatenate([np.minimum(np.frombuffer(c, dtype=np.int32), n) for _, c, n in postings])
        return np.bincount(ids, weights=weights, minlength=len(self._texts)).astype(np.int64)[candidates]

    def best_match(self, text: str, tokens: list[str] | None = None) -> tuple[float, int]:
        """(highest ROUGE-L F1 >= threshold among kept texts, its index), or (0.0, -1)."""
        tokens = self.tokens(text) if tokens is None else tokens
        length = len(tokens)
        lists = [self._index[e] for e in self._prefix(tokens) if e in self._index] if length else []
        if not lists:
            return 0.0, -1
        candidates = np.unique(np.concatenate([np.frombuffer(ids, dtype=np.int32) for ids in lists]))
        lengths = np.frombuffer(self._lengths, dtype=np.int32)[candidates]
        low = self.threshold * length / (2.0 - self.threshold) - 1e-9
        high = (2.0 - self.threshold) * length / self.threshold + 1e-9
        near = (lengths >= low) & (lengths <= high)
        candidates, lengths = candidates[near], lengths[near]
        if not len(candidates):
            return 0.0, -1
        overlap = self._overlaps(Counter(tokens), candidates)
        bound = 2.0 * overlap / (length + lengths) >= self.threshold - 1e-9
        best, best_index = 0.0, -1
        for other in candidates[bound].tolist():
            self.lcs_computed += 1
            score = self._scorer.score(self._texts[other], text)["rougeL"].fmeasure
            if score >= self.threshold and score > best:
                best, best_index = score, other
        return best, best_index

    def add(self, text: str) -> tuple[bool, float, int]:
        """Keep `text` unless a kept text reaches the threshold: (kept, best score, index of the match)."""
        tokens = self.tokens(text)
        best, match = self.best_match(text, tokens)
        if match >= 0:
            return False, best, match
        position = len(self._texts)
        bag = Counter(tokens)
        self._texts.append(text)
        self._lengths.append(len(tokens))
        self._bags.append(bag)
        if tokens:
            for element in self._prefix(tokens):
                self._index[element].append(position)
            for token, count in bag.items():
                ids, counts = self._postings.setdefault(token, (array("i"), array("i")))
                ids.append(position)
                counts.append(count)
        return True, 0.0, -1


def rougel_dedup(records: Sequence[Record], threshold: float = 0.7) -> StageReport:
    """Drop records whose instruction has ROUGE-L F1 >= threshold with an earlier kept instruction."""
    report = StageReport("dedup")
    df: Counter[str] = Counter()
    for record in records:
        df.update(set(RougeLFilter.tokens(record.instruction)))
    flt = RougeLFilter(threshold, df)
    kept_ids: list[str] = []
    for index, record in enumerate(records):
        if index % 500 == 0:
            deadline.check()
        kept, score, match = flt.add(record.instruction)
        if kept:
            kept_ids.append(record.id)
            report.keep(record)
        else:
            report.drop(record, f"rougel_duplicate: of {kept_ids[match]} (rouge-l {score:.2f})")
    report.extra["lcs_computed"] = flt.lcs_computed
    return report


def dedup(records: Iterable[Record], method: str = "minhash", threshold: float | None = None, *,
          config: ScoringConfig | None = None, field: str | None = None) -> StageReport:
    """Deduplicate `records` (see module docstring); `threshold` defaults to the config's for the method."""
    config = config or ScoringConfig()
    if method not in METHODS:
        raise InvalidInput(f"dedup method must be one of {list(METHODS)}, got {method!r}", field="method")
    if threshold is not None and not 0.0 < threshold <= 1.0:
        raise InvalidInput(f"dedup threshold must be in (0, 1], got {threshold}", field="threshold")
    field = field or config.dedup_field
    if field not in ("instruction", "code", "both"):
        raise InvalidInput(f"dedup field must be instruction, code or both, got {field!r}", field="field")
    report = exact_dedup(records, field)
    if method == "minhash":
        near = minhash_dedup(report.kept, threshold or config.minhash_threshold,
                             num_perm=config.minhash_num_perm, shingle=config.minhash_shingle, field=field)
    elif method == "rougel":
        near = rougel_dedup(report.kept, threshold or config.rougel_threshold)
    else:
        near = None
    if near is not None:
        report.kept = near.kept
        report.dropped.extend(near.dropped)
        report.extra.update(near.extra)
    report.extra["method"] = method
    logger.info("dedup (%s): kept %d, dropped %d %s", method, len(report.kept), len(report.dropped),
                report.reasons())
    return report
