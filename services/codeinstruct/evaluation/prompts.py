"""What the model is asked for a problem, where its answer stops, and what of the answer is checked.

Two prompt styles (`training.eval.prompt_style`):
- `chat` (instruction-tuned models): the problem in the chat template; generation stops at the
  closing fence of the answer's code block, whose code is the sample;
- `completion` (base models): the raw prompt, continued up to the language's stop sequences.

For Python completion problems (HumanEval and its kin) the texts are exactly those
`codeinstruct eval humaneval` has always used, so earlier pass@k figures stay comparable. A chat
answer to a completion problem in another language is joined to the prompt by cutting it after
the function's signature and at the function's closing brace (`join_answer`).

Example:
    text = prompt_text(problem, "chat", engine)
    sample = to_sample(problem, engine.generate([text], params)[0][0], "chat")
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from codeinstruct.evaluation.problems import Problem

if TYPE_CHECKING:
    from codeinstruct.engines.base import Engine

# The Codex paper's stop sequences: the function body ends where top-level code starts.
COMPLETION_STOP = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert ")
# A chat answer's code block ends at its closing fence: stop there instead of generating prose.
CHAT_STOP = ("\n```",)
CHAT_INSTRUCTION = ("Complete the following Python function. Answer with the whole function in one "
                    "```python code block.\n\n```python\n{prompt}```")
OTHER_INSTRUCTION = ("Complete the following {name} function. Answer with the whole function in one "
                     "```{fence} code block.\n\n```{fence}\n{prompt}```")
FULL_INSTRUCTION = "{prompt}\n\nAnswer with the complete {name} code in one ```{fence} code block."
# MultiPL-E's stop sequences for the sandbox's other languages (used when a problem names none).
LANGUAGE_STOP = {"javascript": ("\nfunction ", "\n/*", "\n//", "\nconsole.log"), "cpp": ("\n}",),
                 "java": ("\n    }\n",)}
NAMES = {"python": "Python", "javascript": "JavaScript", "cpp": "C++", "java": "Java"}
FENCES = {"python": "python", "javascript": "javascript", "cpp": "cpp", "java": "java"}

_CODE_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.S)
_ANY_BLOCK = re.compile(r"```[\w+#-]*[ \t]*\n(.*?)(?:```|$)", re.S)


def extract_code(text: str) -> str:
    """The first fenced code block of a chat answer, or the whole answer when there is none."""
    match = _CODE_BLOCK.search(text)
    return (match.group(1) if match else text).strip("\n") + "\n"


def extract_any_code(text: str) -> str:
    """The first fenced code block in any language (```js, ```cpp ...), or the whole answer."""
    match = _ANY_BLOCK.search(text)
    return (match.group(1) if match else text).strip("\n") + "\n"


def prompt_text(problem: Problem, style: str, engine: Engine | None) -> str:
    """The text the model continues for `problem` (`engine` applies the chat template).

    A problem whose metadata has an `instruction` (HumanEvalPack's fix and explain tasks) is asked
    that instruction before its prompt, the way bigcode's harness builds its "instruct" prompts.
    """
    language = problem.language
    name, fence = NAMES.get(language, language), FENCES.get(language, language)
    instruction = str(problem.metadata.get("instruction") or "")
    if style == "completion":
        if problem.mode == "full":
            return f"{problem.prompt.rstrip()}\n\n```{fence}\n"
        return f"{instruction}\n\n{problem.prompt}" if instruction else problem.prompt
    if problem.mode in ("full", "literal"):
        content = FULL_INSTRUCTION.format(prompt=problem.prompt.rstrip(), name=name, fence=fence)
    elif language == "python" and not instruction:
        content = CHAT_INSTRUCTION.format(prompt=problem.prompt)
    else:
        content = OTHER_INSTRUCTION.format(prompt=problem.prompt, name=name, fence=fence)
        content = f"{instruction}\n\n{content}" if instruction else content
    if engine is None:
        return content
    return str(engine.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True))


def stops(problem: Problem, style: str) -> tuple[str, ...]:
    """Where generation stops: the closing fence (chat, or a full program), else the problem's or language's stops."""
    if style != "completion":
        return CHAT_STOP
    if problem.mode == "full":
        return ("```",)
    given = problem.metadata.get("stop")
    if given:
        return tuple(str(s) for s in given)
    return COMPLETION_STOP if problem.language == "python" else LANGUAGE_STOP.get(problem.language, ())


def to_sample(problem: Problem, text: str, style: str) -> str:
    """What is checked: the continuation (completion style), or the answer's code joined to the prompt."""
    if problem.mode == "literal":
        code = text if style == "completion" else extract_any_code(text)
        for marker in problem.metadata.get("stop") or ():
            code = code.split(str(marker))[0]
        return code
    if style == "completion":
        return text
    if problem.language == "python":
        code = extract_code(text)  # a full redefinition after the prompt: valid Python as it is,
        return code if not problem.prompt.rstrip().endswith(":") else python_body(problem, code)  # unless open
    code = extract_any_code(text)
    return code if problem.mode == "full" else join_answer(problem, code)


def python_body(problem: Problem, code: str) -> str:
    """The body of `entry_point` from an answer, for a prompt that ends in the bare `def` line."""
    lines = code.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines)
                  if re.match(rf"\s*def\s+{re.escape(problem.entry_point)}\s*\(", line)), None)
    if start is None:
        return code
    end = start
    while end < len(lines) - 1 and not lines[end].rstrip().endswith(":"):
        end += 1  # a signature continued over several lines ends with its colon
    body = lines[end + 1:]
    return "".join(body)


def join_answer(problem: Problem, code: str) -> str:
    """A chat answer (the whole function) as the continuation of `problem.prompt` in a brace language.

    The answer is cut after the line declaring `entry_point` and at the brace closing that function;
    the closing brace is kept unless the problem's test starts with it (MultiPL-E's C++ and Java),
    and the blocks the prompt left open around the function (HumanEvalPack's Java class) are
    closed. An answer without the declaration is returned unchanged (and most likely fails).
    """
    lines = code.splitlines(keepends=True)
    name = problem.entry_point
    start = next((i for i, line in enumerate(lines)
                  if name and re.search(rf"\b{re.escape(name)}\s*\(", line) and line.rstrip().endswith("{")), None)
    if start is None:
        return code
    body = "".join(lines[start + 1:])
    depth = 1
    for index, char in enumerate(body):
        depth += (char == "{") - (char == "}")
        if depth == 0:
            if problem.test.lstrip().startswith("}"):
                return body[:index].rstrip() + "\n"
            around = max(0, problem.prompt.count("{") - problem.prompt.count("}") - 1)
            return body[:index + 1].rstrip() + "\n" + "}\n" * around
    return body
