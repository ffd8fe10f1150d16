"""WaveCoder discriminator, the shared part: rule checks, then a checklist judged by the LLM with
few-shot pools.

The rules are cheap and certain (code parses, the answer is code only, the imports the code uses are
present, the instruction names the language, no logic hidden in cryptically named undocumented
functions). Records that pass them are judged by the engine against the WaveCoder checklist
(prompt templates in `prompts/`); the judge writes a yes/no per item and an overall verdict, which
`parse_judgment` reads. Judged samples join bounded good/bad pools (newest first out last) and the
most recent of each are shown as examples in later prompts. A judgment without a readable verdict
gets one short follow-up question.

Used by the scoring stage (`scoring.discriminator.discriminate`) and by the WaveCoder generator's
generator-discriminator loop (`generation.methods.wavecoder`).

Example:
    judge = Judge(engine, JudgeSettings(pool_size=8, shots=1))
    (judgment, text), = judge.judge([record])      # judgment.verdict: "yes" | "no" | None
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import logging
import re
import sys
from collections.abc import Sequence
from importlib import resources

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import Record

logger = logging.getLogger(__name__)

CHECKLIST = ("language", "related", "code_only", "documented", "imports")
CODE_TASKS = ("generation", "translation", "repair")
LANGUAGE_NAMES = {
    "python": ("python", "py"), "javascript": ("javascript", "js", "node"), "typescript": ("typescript", "ts"),
    "cpp": ("c++", "cpp"), "c": ("c",), "java": ("java",), "go": ("go", "golang"), "rust": ("rust",),
    "csharp": ("c#", "csharp"), "ruby": ("ruby",), "php": ("php",), "bash": ("bash", "shell"),
}
_FENCE = re.compile(r"```[^\n]*\n.*?(?:```|\Z)", re.S)
_CRYPTIC = re.compile(r"^(?:_*[a-z]{1,2}\d*|func\d*|helper\d*|foo|bar|baz|do_it|process\d*|tmp\d*)$", re.I)
_VERDICT = re.compile(r"\b(yes|no)\b(?!\s*[|/])", re.I)
_ITEM = re.compile(r"^[ \t>*-]*(?:\d+[.)][ \t]*)?\**[ \t]*(" + "|".join(CHECKLIST) + r")[ \t]*\**[ \t]*[:\-][ \t]*"
                   r"\**[ \t]*(yes|no)\b(?![ \t]*[|/])\**[ \t\-–:,.]*(.*)$", re.I | re.M)
# "yes|no" / "yes/no" is the template echoed back, not an answer.
_OVERALL = re.compile(r"overall\s*\**\s*[:\-]?\s*\**\s*(yes|no)\b(?!\s*[|/])", re.I)


def _template(name: str) -> str:
    return resources.files("codeinstruct.curation.prompts").joinpath(name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- rules

def _names_language(instruction: str, language: str) -> bool:
    names = LANGUAGE_NAMES.get(language.lower(), (language.lower(),))
    text = instruction.lower()
    if any(f"```{name}" in text for name in names):
        return True
    return any(re.search(rf"(?<![\w+#]){re.escape(name)}(?![\w+#])", text) for name in names if len(name) > 1) or \
        any(re.search(rf"\b{re.escape(name)}\b(?: language| program| code)", text) for name in names if len(name) == 1)


def _prose_outside_code(response: str, code: str) -> str:
    if not response.strip() or response.strip() == code.strip():
        return ""
    leftover = _FENCE.sub("", response).strip()
    return leftover if _FENCE.search(response) else (response.strip() if code.strip() not in response else
                                                   response.replace(code.strip(), "").strip())


def _missing_imports(tree: ast.Module) -> list[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
            if not isinstance(node, ast.ClassDef):
                args = node.args
                bound.update(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs))
                bound.update(a.arg for a in (args.vararg, args.kwarg) if a is not None)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add(node.asname or node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    missing = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                isinstance(node.value.ctx, ast.Load):
            name = node.value.id
            if name in sys.stdlib_module_names and name not in bound and name not in dir(__builtins__):
                missing.add(name)
    return sorted(missing)


def _hidden_logic(tree: ast.Module) -> list[str]:
    hidden = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _CRYPTIC.match(node.name) \
                and ast.get_docstring(node) is None and len(node.body) >= 5:
            hidden.append(node.name)
    return hidden


def rule_check(record: Record) -> str | None:
    """The first rule the record breaks, as `"rule_<name>: detail"`, or None when it passes them all."""
    if record.task in CODE_TASKS:
        if not record.code.strip():
            return "rule_no_code: the answer has no code"
        if record.task == "generation" and not _names_language(record.instruction, record.language):
            return f"rule_language: the instruction does not name {record.language}"
        prose = _prose_outside_code(record.response, record.code)
        if prose:
            return f"rule_code_only: prose outside the code ({prose[:60]!r})"
    if record.language == "python" and record.code.strip():
        try:
            tree = ast.parse(record.code)
        except SyntaxError as exc:
            return f"rule_syntax: line {exc.lineno}: {exc.msg}"
        missing = _missing_imports(tree)
        if missing:
            return f"rule_imports: uses {', '.join(missing)} without importing it"
        hidden = _hidden_logic(tree)
        if hidden:
            return f"rule_documented: undocumented cryptic function(s) {', '.join(hidden)}"
    return None


# ---------------------------------------------------------------- judgments

@dataclasses.dataclass(frozen=True)
class Judgment:
    verdict: str | None  # "yes", "no", or None when unreadable
    failed: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


def parse_judgment(text: str) -> Judgment:
    """Read the checklist answer: per-item yes/no with reasons and the overall verdict.

    Any item answered no makes the verdict "no"; otherwise the `Overall:` line decides, and without
    one the verdict is "yes" when all five items were answered yes, else None (unreadable).
    """
    items: dict[str, tuple[str, str]] = {}
    for match in _ITEM.finditer(text):
        name, answer, reason = match.group(1).lower(), match.group(2).lower(), match.group(3).strip()
        items.setdefault(name, (answer, reason))
    failed = tuple(name for name in CHECKLIST if items.get(name, ("", ""))[0] == "no")
    reasons = tuple(f"{name}: {items[name][1]}".rstrip(": ") for name in failed)
    overall = _OVERALL.search(text)
    if failed:  # a failed checklist item fails the sample, whatever the overall line says
        verdict: str | None = "no"
    elif overall:
        verdict = overall.group(1).lower()
    elif len(items) == len(CHECKLIST):
        verdict = "yes"
    else:
        verdict = None
    return Judgment(verdict, failed, reasons)


def parse_short_verdict(text: str) -> str | None:
    match = _VERDICT.search(text)
    return match.group(1).lower() if match else None


def _clip(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + "\n[... truncated]"


@dataclasses.dataclass(frozen=True)
class JudgeSettings:
    """How the LLM judge prompts: pool sizes, examples per prompt, the judgment's token budget."""

    pool_size: int = 8  # judged samples kept in each of the good and bad few-shot pools
    shots: int = 1  # examples taken from each pool into a judgment prompt
    max_tokens: int = 256  # tokens the judge may write

    def __post_init__(self) -> None:
        if not 0 <= self.shots <= self.pool_size:
            raise InvalidInput(f"judge shots must be 0..pool_size ({self.pool_size}), got {self.shots}",
                               field="shots")
        if self.max_tokens < 8:
            raise InvalidInput(f"judge max_tokens must be >= 8, got {self.max_tokens}", field="max_tokens")


class Judge:
    """Judges records with an engine; keeps the bounded good/bad few-shot pools between calls."""

    def __init__(self, engine: object, settings: JudgeSettings | None = None):
        self.engine = engine
        self.settings = settings or JudgeSettings()
        size = self.settings.pool_size
        self.good: collections.deque[tuple[str, str]] = collections.deque(maxlen=size)
        self.bad: collections.deque[tuple[str, str]] = collections.deque(maxlen=size)
        self._system = _template("discriminator_system.txt").strip()
        self._user = _template("discriminator_user.txt")
        self._followup = _template("discriminator_followup.txt").strip()

    def prompt(self, record: Record) -> str:
        return self._user.format(instruction=_clip(record.instruction), response=_clip(record.response or record.code),
                                 language=record.language)

    def conversation(self, record: Record) -> list[dict[str, str]]:
        messages = [{"role": "system", "content": self._system}]
        shots = self.settings.shots
        examples = list(self.good)[-shots:] + list(self.bad)[-shots:] if shots else []
        for user, assistant in examples:
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        messages.append({"role": "user", "content": self.prompt(record)})
        return messages

    def judge(self, records: Sequence[Record]) -> list[tuple[Judgment, str]]:
        """(parsed judgment, raw text) per record; pools grow with the readable judgments."""
        from codeinstruct.engines.base import SamplingParams

        params = SamplingParams(max_tokens=self.settings.max_tokens, temperature=0.0)
        conversations = [self.conversation(r) for r in records]
        texts = [outs[0] if outs else "" for outs in self.engine.chat(conversations, params)]  # type: ignore[attr-defined]
        judgments = [parse_judgment(t) for t in texts]
        unclear = [i for i, j in enumerate(judgments) if j.verdict is None]
        if unclear:
            follow = [[*conversations[i], {"role": "assistant", "content": texts[i]},
                       {"role": "user", "content": self._followup}] for i in unclear]
            answers = self.engine.chat(follow, SamplingParams(max_tokens=4, temperature=0.0))  # type: ignore[attr-defined]
            for i, outs in zip(unclear, answers, strict=True):
                verdict = parse_short_verdict(outs[0] if outs else "")
                if verdict is not None:
                    judgments[i] = dataclasses.replace(judgments[i], verdict=verdict)
        for record, judgment, text in zip(records, judgments, texts, strict=True):
            if judgment.verdict == "yes":
                self.good.append((self.prompt(record), text.strip()))
            elif judgment.verdict == "no":
                self.bad.append((self.prompt(record), text.strip()))
        return list(zip(judgments, texts, strict=True))
