"""Strict parsers of model outputs, and the elimination rules. Each rejection has a stable reason.

Parsers raise `Rejected(reason, detail)`; the methods count `reason` (a short snake_case key that
ends up in run summaries and metrics) and log `detail`. Everything here is pure text processing,
tested on fixed model outputs.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import string
from collections.abc import Iterable, Sequence

FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+#.-]*)[ \t]*\n(.*?)\n?[ \t]*```", re.DOTALL)
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")

# Small English stop-word list for the "only punctuation and stop words" rule (WizardLM).
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when
where which while who whom why will with you your yours yourself yourselves ok okay yes
""".split())  # noqa: SIM905 - a word list reads best as text

# Words of the Evol-Instruct prompt that must not leak into an evolved instruction (WizardLM rule 4).
TEMPLATE_LEAKS = ("#rewritten test#", "#given test#", "rewritten test", "given test", "#rewritten prompt#",
                  "rewritten prompt", "given prompt", "#given prompt#")


class Rejected(Exception):
    """A model output that does not meet the format or an elimination rule."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# -- code ----------------------------------------------------------------------------------------
def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language tag, code) of every closed ``` fenced block, in order."""
    return [(m.group(1).lower(), m.group(2)) for m in FENCE.finditer(text)]


def first_code_block(text: str) -> str | None:
    blocks = code_blocks(text)
    return blocks[0][1] if blocks else None


def python_parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def defined_functions(code: str) -> list[str]:
    """Names of the top-level functions `code` defines (empty when it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def inverse_code(response: str, language: str) -> str:
    """InverseCoder preprocessing: the first fenced block, else the whole text if it parses."""
    block = first_code_block(response)
    if block is not None:
        if not block.strip():
            raise Rejected("empty_code_block")
        return block.strip("\n")
    text = response.strip("\n")
    if language == "python" and text.strip() and python_parses(text):
        return text
    raise Rejected("no_code_block_and_unparseable", f"{len(response)} chars, language {language}")


def extract_code(answer: str, language: str = "python") -> str:
    """The code of an answer: its first fenced block, or the whole answer when that parses ("" if none)."""
    block = first_code_block(answer)
    if block is not None:
        return block.strip("\n")
    if language == "python" and answer.strip() and python_parses(answer):
        return answer.strip("\n")
    return ""


# -- prose ---------------------------------------------------------------------------------------
def sentences(text: str) -> int:
    """Sentences in prose (fenced code removed; a trailing fragment without a stop counts as one)."""
    prose = FENCE.sub(" ", text).strip()
    if not prose:
        return 0
    ends = len(SENTENCE_END.findall(prose))
    return ends + (0 if prose.rstrip()[-1] in ".!?" else 1)


def words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9_']+", text)


def only_punctuation_or_stop_words(text: str) -> bool:
    stripped = text.translate(str.maketrans("", "", string.punctuation)).strip()
    return not stripped or all(w.lower() in STOP_WORDS for w in words(stripped))


# -- Evol-Instruct -------------------------------------------------------------------------------
def clean_evolved(text: str) -> str:
    """The evolved instruction from a completion: trimmed; template words are NOT removed (rule 4)."""
    return text.strip()


def check_evolved(evolved: str, original: str) -> None:
    """Elimination rules on the evolved instruction itself (WizardLM section 3.3)."""
    if not evolved:
        raise Rejected("empty")
    lowered = evolved.lower()
    for leak in TEMPLATE_LEAKS:
        if leak in lowered:
            raise Rejected("copies_template", leak)
    if only_punctuation_or_stop_words(evolved):
        raise Rejected("only_punctuation_or_stop_words")
    # Small models often answer the instruction instead of rewriting it: a reply that opens with code,
    # or has hardly any prose outside its code blocks, is a solution, not an instruction.
    prose = FENCE.sub(" ", evolved)
    if evolved.lstrip().startswith("```") or len(words(prose)) < 4:
        raise Rejected("answered_instead_of_rewritten", evolved.strip()[:60])
    if evolved.strip() == original.strip():
        raise Rejected("no_information_gain", "identical to the original")


def check_answer(answer: str) -> None:
    """Elimination rules on the answer to an evolved instruction (WizardLM section 3.3)."""
    if not answer.strip():
        raise Rejected("empty_answer")
    if "sorry" in answer.lower() and len(words(answer)) < 80:
        raise Rejected("sorry_short_answer")
    if only_punctuation_or_stop_words(answer):
        raise Rejected("only_punctuation_or_stop_words")


def parse_equality(text: str) -> str:
    """'equal', 'not_equal' or 'unclear' from an equality-check completion."""
    lowered = re.sub(r"[^a-z ]", " ", text.lower())
    lowered = " ".join(lowered.split())
    if lowered.startswith(("not equal", "not the same", "no ")) or lowered in {"no", "not equal"}:
        return "not_equal"
    if lowered.startswith(("equal", "they are equal", "the same", "yes")):
        return "equal"
    if "not equal" in lowered:
        return "not_equal"
    if re.search(r"\bequal\b", lowered):
        return "equal"
    return "unclear"


# -- Semi-Instruct -------------------------------------------------------------------------------
SEMI_HEADERS = ("[INSTRUCTION]", "[SOLUTION]", "[ANSWER_TYPE]", "[TEST_INPUTS]")


@dataclasses.dataclass(frozen=True)
class SemiDraft:
    instruction: str
    solution: str
    entry_point: str  # "" for a stdin/stdout program
    inputs: tuple[str, ...]


def _sections(text: str, headers: tuple[str, ...]) -> dict[str, str]:
    positions = []
    for header in headers:
        found = [m.start() for m in re.finditer(r"(?m)^[ \t]*" + re.escape(header) + r"[ \t]*$", text)]
        if not found:
            raise Rejected("missing_section", header)
        if len(found) > 1:
            raise Rejected("repeated_section", header)
        positions.append((found[0], header))
    if [h for _, h in sorted(positions)] != list(headers):
        raise Rejected("sections_out_of_order", " ".join(h for _, h in sorted(positions)))
    out = {}
    ordered = sorted(positions)
    for i, (start, header) in enumerate(ordered):
        body_start = text.index(header, start) + len(header)
        end = ordered[i + 1][0] if i + 1 < len(ordered) else len(text)
        out[header] = text[body_start:end].strip()
    return out


def parse_semi_draft(text: str, *, original_functions: list[str], language: str = "python",
                     max_tests: int = 10) -> SemiDraft:
    """Parse a Semi-Instruct draft; the entry point must exist in the refined AND the original code."""
    parts = _sections(text, SEMI_HEADERS)
    instruction = parts["[INSTRUCTION]"]
    if len(words(instruction)) < 4:
        raise Rejected("instruction_too_short", repr(instruction[:80]))
    solution = first_code_block(parts["[SOLUTION]"])
    if solution is None or not solution.strip():
        raise Rejected("solution_not_fenced")
    if language == "python" and not python_parses(solution):
        raise Rejected("solution_syntax_error")
    answer_type = parts["[ANSWER_TYPE]"].strip().strip("`").strip()
    match = re.fullmatch(r"function\s*:?\s*([A-Za-z_][A-Za-z0-9_]*)(\s*\(.*\))?", answer_type)
    if match:
        entry_point = match.group(1)
        if entry_point not in original_functions:
            raise Rejected("entry_point_not_in_original", entry_point)
        if language == "python" and entry_point not in defined_functions(solution):
            raise Rejected("entry_point_not_in_solution", entry_point)
        inputs = _call_inputs(parts["[TEST_INPUTS]"], entry_point)
    elif answer_type.lower() in {"program", "stdin/stdout program", "stdin program"}:
        entry_point = ""
        inputs = tuple(code for _, code in code_blocks(parts["[TEST_INPUTS]"]))
        if not inputs:
            raise Rejected("no_test_inputs", "a program's inputs must be fenced blocks")
        inputs = tuple(i if i.endswith("\n") else i + "\n" for i in inputs)
    else:
        raise Rejected("bad_answer_type", repr(answer_type[:60]))
    unique = tuple(dict.fromkeys(inputs))
    if len(unique) > max_tests:
        unique = unique[:max_tests]
    return SemiDraft(instruction=instruction, solution=solution.strip("\n"), entry_point=entry_point, inputs=unique)


def _call_inputs(section: str, entry_point: str) -> tuple[str, ...]:
    body = section
    block = first_code_block(section)
    if block is not None:
        body = block
    calls = []
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        line = re.sub(r"^(?:[-*]|\d+[.)])\s+", "", line)  # list markers are tolerated
        try:
            node = ast.parse(line, mode="eval").body
        except SyntaxError:
            raise Rejected("test_input_not_an_expression", repr(line[:80])) from None
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point):
            raise Rejected("test_input_not_a_call", f"{line[:80]!r} does not call {entry_point}")
        calls.append(line)
    if not calls:
        raise Rejected("no_test_inputs")
    return tuple(calls)


# -- Semi-Instruct, staged prompting -------------------------------------------------------------
# Small models cannot keep a four-section format, so the staged mode asks for one part per prompt
# and starts each answer itself; these parsers take what is usable and count what is not.
MAX_INPUT_CHARS = 1000


def parse_semi_instruction(start: str, completion: str) -> str:
    """The exercise: the answer's start plus the completion's first paragraph (code never belongs here)."""
    body = re.split(r"\n\s*\n|```", completion.strip(), maxsplit=1)[0].strip()
    if len(words(body)) < 2:
        raise Rejected("instruction_too_short", repr((start + " " + body)[:80]))
    return f"{start.rstrip()} {body}"


def parse_semi_solution(text: str, entry_point: str, language: str = "python") -> str:
    """The refined solution: `text` is the code the answer started with plus the completion, up to the fence."""
    code = text.split("```", 1)[0].strip("\n")
    if not code.strip():
        raise Rejected("empty_solution")
    if language == "python":
        if not python_parses(code):
            raise Rejected("solution_syntax_error")
        if entry_point and entry_point not in defined_functions(code):
            raise Rejected("entry_point_not_in_solution", entry_point)
    return code


class _PlainStrings(ast.NodeTransformer):
    """An f-string without placeholders is a plain string (small models write f"..." everywhere)."""

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        if all(isinstance(v, ast.Constant) and isinstance(v.value, str) for v in node.values):
            return ast.copy_location(ast.Constant("".join(str(v.value) for v in node.values)), node)  # type: ignore[attr-defined]
        return node


def leading_call(line: str, entry_point: str) -> str | None:
    """`entry_point(...)` at the start of `line` with literal arguments, normalized; None if there is none.

    Trailing text (a comment, `== 5`, prose) is cut at the end of the call.
    """
    line = re.sub(r"^(?:>>>\s*|[-*]\s+|\d+[.)]\s+)", "", line.strip())
    if not line.startswith(entry_point + "(") or len(line) > 4 * MAX_INPUT_CHARS:
        return None
    for end in (i + 1 for i, ch in enumerate(line) if ch == ")"):
        try:
            node = ast.parse(line[:end], mode="eval").body
        except SyntaxError:
            continue  # the ")" closed something inside the arguments, or sat in a string
        node = _PlainStrings().visit(node)
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point):
            return None
        values = [*node.args, *(k.value for k in node.keywords)]
        if any(isinstance(v, ast.Starred) for v in node.args) or any(k.arg is None for k in node.keywords):
            return None
        try:
            for value in values:
                ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None  # names, calls, arithmetic on names: not something the prompt asked for
        call = ast.unparse(node)
        return call if len(call) <= MAX_INPUT_CHARS else None
    return None


def as_positional(call: str, params: Sequence[str]) -> str:
    """`f(b=2, a=1)` -> `f(1, 2)` when the keywords are exactly the first parameters `params`.

    Gold inputs then do not depend on the parameter names a refined solution chooses.
    """
    node = ast.parse(call, mode="eval").body
    if not isinstance(node, ast.Call) or not node.keywords:
        return call
    names = [k.arg for k in node.keywords]
    wanted = list(params[len(node.args):len(node.args) + len(names)])
    if sorted(n for n in names if n) != sorted(wanted) or len(set(names)) != len(names):
        return call
    by_name = {k.arg: k.value for k in node.keywords}
    positional = ast.Call(func=node.func, args=[*node.args, *(by_name[n] for n in wanted)], keywords=[])
    return ast.unparse(positional)


def call_inputs(texts: Iterable[str], entry_point: str) -> tuple[list[str], int]:
    """Unique literal calls of `entry_point` found one per line in `texts`, and how many lines had none."""
    found: list[str] = []
    dropped = 0
    for text in texts:
        for line in text.split("```", 1)[0].splitlines():
            if not line.strip() or line.strip().startswith("#"):
                continue
            call = leading_call(line, entry_point)
            if call is None:
                dropped += 1
            else:
                found.append(call)
    return list(dict.fromkeys(found)), dropped


def stdin_inputs(texts: Iterable[str]) -> list[str]:
    """Unique standard inputs: each text is the body of a fence the answer opened, up to its close."""
    found = []
    for text in texts:
        body = text.split("```", 1)[0].strip("\n")
        if body.strip() and len(body) <= MAX_INPUT_CHARS:
            found.append(body + "\n")
    return list(dict.fromkeys(found))


# -- WaveCoder -----------------------------------------------------------------------------------
WAVE_LABELS = ("Task name:", "Instruction:", "Information:", "Solution:")
NOINPUT = "<noinput>"


@dataclasses.dataclass(frozen=True)
class WaveExample:
    task_name: str
    instruction: str
    information: str  # "" when the model wrote <noinput>
    solution: str


def parse_wavecoder(text: str, task: str) -> WaveExample:
    """Accept only an output with each label exactly once, in order, and the WaveCoder size limits."""
    positions = []
    for label in WAVE_LABELS:
        hits = [m.start() for m in re.finditer(r"(?im)^[ \t*#]*" + re.escape(label), text)]
        if not hits:
            raise Rejected("missing_label", label)
        if len(hits) > 1:
            raise Rejected("repeated_label", label)
        positions.append(hits[0])
    if positions != sorted(positions):
        raise Rejected("labels_out_of_order")
    values = []
    for i, label in enumerate(WAVE_LABELS):
        start = text.lower().index(label.lower(), positions[i]) + len(label)
        end = positions[i + 1] if i + 1 < len(positions) else len(text)
        values.append(text[start:end].strip())
    task_name, instruction, information, solution = values
    if text.count(NOINPUT) > 1:
        raise Rejected("several_noinput")
    if task_name.strip("*` ").lower() != task.lower():
        raise Rejected("wrong_task_name", f"{task_name[:40]!r} for {task}")
    if not 1 <= sentences(instruction) <= 2 or first_code_block(instruction) is not None:
        raise Rejected("instruction_not_1_2_sentences", repr(instruction[:80]))
    if information.strip() == NOINPUT:
        information = ""
    elif NOINPUT in information:
        raise Rejected("noinput_mixed_with_text")
    elif sentences(information) > 2:
        raise Rejected("information_over_2_sentences")
    if not solution or solution == NOINPUT:
        raise Rejected("empty_solution")
    return WaveExample(task_name=task, instruction=instruction, information=information, solution=solution)


# -- WaveCoder, staged prompting -----------------------------------------------------------------
# One part per prompt, answers started by us (see methods/wavecoder.py); WaveCoder's size rules stay.
def parse_wave_instruction(start: str, completion: str) -> str:
    """The instruction: `start` plus the completion's first line, 1-2 sentences, no code block.

    An unfinished last sentence after a finished one is dropped; a lone one gets its full stop.
    """
    body = re.split(r"\n|```", completion.strip(), maxsplit=1)[0].strip()
    if len(words(body)) < 2:
        raise Rejected("instruction_too_short", repr((start + " " + body)[:80]))
    instruction = f"{start.rstrip()} {body}"
    ends = list(SENTENCE_END.finditer(instruction))
    if ends and instruction[ends[-1].end():].strip():  # a sentence cut off by the token budget goes
        instruction = instruction[:ends[-1].end()]
    if not instruction.endswith((".", "!", "?")):
        instruction += "."
    if not 1 <= sentences(instruction) <= 2:
        raise Rejected("instruction_not_1_2_sentences", repr(instruction[:80]))
    return instruction


def parse_wave_summary(start: str, completion: str) -> str:
    """The explanation of a summarization task: `start` plus the completion's first paragraph, no code,
    cut after its second sentence (the prompt asks for one or two; small models ramble on)."""
    body = re.split(r"\n\s*\n|```", completion.strip(), maxsplit=1)[0].strip()
    if len(words(body)) < 3:
        raise Rejected("summary_too_short", repr((start + " " + body)[:80]))
    summary = " ".join(f"{start.rstrip()} {body}".split())
    ends = list(SENTENCE_END.finditer(summary))
    return summary[:ends[1].end()] if len(ends) >= 2 else summary


def parse_wave_code(text: str, language: str, entry_point: str = "", *, source: str = "") -> str:
    """The code of a code answer: `text` is what the answer started with plus the completion, up to the fence.

    A translation (`language` other than Python) that still parses as Python with a `def`, or that
    repeats `source`, was not translated.
    """
    code = text.split("```", 1)[0].strip("\n")
    if not code.strip():
        raise Rejected("empty_solution")
    if source and code.strip() == source.strip():
        raise Rejected("solution_copies_source")
    if language == "python":
        if entry_point:
            code = _entry_function_code(code, entry_point)
        if not python_parses(code):
            raise Rejected("solution_syntax_error")
        if entry_point and entry_point not in defined_functions(code):
            raise Rejected("entry_point_not_in_solution", entry_point)
    elif python_parses(code) and re.search(r"(?m)^\s*def\s", code):
        raise Rejected("solution_not_translated", f"still Python, not {language}")
    return code


def _entry_function_code(code: str, entry_point: str) -> str:
    """`code` up to its `entry_point` function, plus later functions/classes that one uses.

    Small models go on after the function (calls, prints, a `main`, a cut-off extra function); that
    text is dropped. When the whole does not parse, it is cut before a later top-level line.
    """
    lines = code.splitlines()
    cuts = [len(lines)] + [i for i in range(len(lines) - 1, 0, -1) if lines[i][:1] not in ("", " ", "\t", "#")]
    for cut in cuts:
        try:
            tree = ast.parse("\n".join(lines[:cut]))
        except (SyntaxError, ValueError):
            continue
        nodes = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
                 and n.name == entry_point]
        if not nodes:
            continue
        entry = nodes[0]
        used = {n.id for n in ast.walk(entry) if isinstance(n, ast.Name)}
        keep = lines[:entry.end_lineno]
        for node in tree.body[tree.body.index(entry) + 1:]:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name in used:
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                keep += ["", "", *lines[first - 1:node.end_lineno]]
        return "\n".join(keep).strip("\n")
    return code


# -- Self-Instruct -------------------------------------------------------------------------------
def parse_new_instruction(text: str) -> str:
    """The first task a Self-Instruct completion proposes, with Self-Instruct's heuristic filters."""
    text = text.strip()
    text = re.split(r"(?im)^\s*task\s*\d+\s*:", text)[0].strip() or text
    text = re.sub(r"^(?:\d+[.)]|[-*])\s*", "", text).strip()
    paragraph = text.split("\n\n")[0].strip()
    count = len(words(paragraph))
    if count < 4:
        raise Rejected("instruction_too_short")
    if count > 150:
        raise Rejected("instruction_too_long")
    if not paragraph[0].isalnum():
        raise Rejected("starts_with_punctuation")
    for banned in ("image", "images", "graph", "graphs", "picture", "pictures", "video", "map", "draw", "plot"):
        if re.search(rf"\b{banned}\b", paragraph.lower()):
            raise Rejected("unsupported_modality", banned)
    return paragraph
