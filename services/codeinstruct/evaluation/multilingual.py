"""Our HumanEval in JavaScript, C++ and Java, translated mechanically by the MultiPL-E method.

Suite `humaneval-multilingual` (ours, not the published MultiPL-E files, which `--file` loads):
each HumanEval problem's prompt and `check(candidate)` assertions are translated the way MultiPL-E
does it (Cassano et al., 2022): the signature gets target types, the docstring becomes a comment
(its `>>>` examples rewritten in the target's call syntax), and each `assert candidate(args) ==
expected` becomes a comparison in the target language whose failure exits non-zero. The model
completes the function body (completion mode: the prompt ends with the opening brace; as in
MultiPL-E, a JavaScript completion closes the function, C++ and Java tests start with the closing
brace, and `metadata["stop"]` holds MultiPL-E's stop sequences). Problems that do not translate
are skipped with a counted reason.

Types come from the Python annotations and, where those are missing (most HumanEval prompts), from
the test values (`evaluation/assertions.py`): int -> long, float -> double, str, bool, list ->
array / std::vector / ArrayList, tuple -> array / std::tuple (Java: skipped, no standard tuple),
dict -> object (string keys) / std::map / HashMap, T-or-None -> undefined / std::optional /
Optional. `abs(candidate(x) - y) < tol` assertions keep their tolerance; `==` stays exact, as in
the Python test.

Example:
    problems, skipped = multilingual.problems(language="cpp")   # (list[Problem], {"mixed_types": 6, ...})
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.evaluation.assertions import Case, Signature, Ty, Untranslatable, cases, signature
from codeinstruct.evaluation.problems import Problem

logger = logging.getLogger(__name__)

SUITE = "humaneval-multilingual"
METHOD = "MultiPL-E (Cassano et al., 2022) applied to HumanEval by codeinstruct"
LANGUAGES = ("javascript", "cpp", "java")
TAGS = {"javascript": "js", "cpp": "cpp", "java": "java"}
# MultiPL-E's stop sequences: a JavaScript completion closes the function itself; C++ and Java
# completions stop before the function's closing brace, which the test starts with.
STOPS = {"javascript": ("\nfunction ", "\n/*", "\n//", "\nconsole.log"), "cpp": ("\n}",), "java": ("\n    }\n",)}
JS_SAFE = 2 ** 53 - 1
LONG_MAX = 2 ** 63 - 1
RESERVED = {
    "javascript": {"function", "var", "let", "const", "class", "new", "delete", "in", "of", "default", "switch",
                   "case", "this", "typeof", "void", "with", "yield", "arguments", "eval", "package", "interface"},
    "cpp": {"new", "delete", "class", "default", "switch", "case", "this", "template", "typename", "operator",
            "char", "int", "long", "float", "double", "bool", "auto", "union", "struct", "register"},
    "java": {"new", "class", "default", "switch", "case", "this", "char", "int", "long", "float", "double",
             "boolean", "package", "interface", "final", "abstract", "native", "public", "private"},
}


def _string(text: str, language: str) -> str:
    if any(ord(ch) < 32 and ch not in "\n\t\r" for ch in text):
        raise Untranslatable("untranslatable_value", "a control character in a string")
    if language == "cpp" and not text.isascii():
        raise Untranslatable("non_ascii_string", "std::string holds bytes, not characters")
    if language == "java" and any(ord(ch) > 0xFFFF for ch in text):
        raise Untranslatable("non_ascii_string", "Java strings are UTF-16")
    return json.dumps(text, ensure_ascii=False)  # valid in JS; C++ and Java share JSON's escapes


def _int(value: int, language: str) -> str:
    bound = JS_SAFE if language == "javascript" else LONG_MAX
    if abs(value) > bound:
        raise Untranslatable("int_range", f"{value} does not fit the target's integers")
    return f"{value}L" if language == "java" else str(value)


def _float(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise Untranslatable("untranslatable_value", repr(value))
    return repr(float(value))


# -- types and values per language ----------------------------------------------------------------
def type_name(ty: Ty, language: str, boxed: bool = False) -> str:
    """The target type of `ty` (JavaScript: "" -- untyped)."""
    if language == "javascript":
        return ""
    kind, args = ty.kind, ty.args
    if language == "cpp":
        simple = {"int": "long", "float": "double", "bool": "bool", "str": "std::string"}
        if kind in simple:
            return simple[kind]
        inner = [type_name(a, language) for a in args]
        templates = {"list": "std::vector", "tuple": "std::tuple", "dict": "std::map", "optional": "std::optional"}
        return f"{templates[kind]}<{', '.join(inner)}>"
    primitive = {"int": ("long", "Long"), "float": ("double", "Double"), "bool": ("boolean", "Boolean"),
                 "str": ("String", "String")}
    if kind in primitive:
        return primitive[kind][boxed]
    if kind == "tuple":
        raise Untranslatable("tuple_in_java", "Java has no standard tuple type")
    inner = [type_name(a, language, boxed=True) for a in args]
    generic = {"list": "ArrayList", "dict": "HashMap", "optional": "Optional"}
    return f"{generic[kind]}<{','.join(inner)}>"


def value(data: Any, ty: Ty, language: str) -> str:
    """`data` (a Python value of type `ty`) as an expression of the target language."""
    kind, args = ty.kind, ty.args
    if kind == "optional":
        if data is None:
            return {"javascript": "undefined", "cpp": "std::nullopt", "java": "Optional.empty()"}[language]
        inner = value(data, args[0], language)
        return {"javascript": inner, "cpp": f"{type_name(ty, language)}({inner})",
                "java": f"Optional.of({inner})"}[language]
    if kind == "bool":
        return "true" if data else "false"
    if kind == "int":
        return _int(int(data), language)
    if kind == "float":
        return _float(float(data))
    if kind == "str":
        text = _string(data, language)
        return f"std::string({text})" if language == "cpp" else text
    if kind in ("list", "tuple"):
        items = [value(item, args[0] if kind == "list" else args[i], language) for i, item in enumerate(data)]
        if language == "javascript":
            return f"[{', '.join(items)}]"
        if language == "cpp":
            return f"{type_name(ty, language)}({{{', '.join(items)}}})" if kind == "list" \
                else f"std::make_tuple({', '.join(items)})"
        return f"new {type_name(ty, language)}(Arrays.asList({', '.join(items)}))"
    if kind == "dict":
        if language == "javascript" and args[0].kind != "str":
            raise Untranslatable("dict_keys_not_strings", "JavaScript object keys are strings")
        pairs = [(value(k, args[0], language), value(v, args[1], language)) for k, v in data.items()]
        if language == "javascript":
            return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
        if language == "cpp":
            return f"{type_name(ty, language)}({{{', '.join(f'{{{k}, {v}}}' for k, v in pairs)}}})"
        entries = ", ".join(f"Map.entry({k}, {v})" for k, v in pairs)
        java_map = type_name(ty, language)
        return f"new {java_map}(Map.ofEntries({entries}))" if pairs else f"new {java_map}()"
    raise Untranslatable("untranslatable_type", str(ty))


# -- prompt ---------------------------------------------------------------------------------------
def java_name(name: str) -> str:
    """snake_case -> camelCase, as MultiPL-E names Java methods."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest) if rest else name


def _call(sig: Signature, args: tuple[Any, ...], language: str, name: str) -> str:
    rendered = ", ".join(value(arg, ty, language) for arg, (_, ty) in zip(args, sig.params, strict=True))
    return f"{name}({rendered})"


_EXAMPLE = re.compile(r"^(\s*)>>>\s*(.+)$")


def _docstring(sig: Signature, language: str, name: str) -> list[str]:
    """The docstring's lines, `>>> f(args)` examples and their result lines in the target syntax."""
    import ast

    lines = sig.docstring.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _EXAMPLE.match(line)
        translated = None
        if match and index + 1 < len(lines):
            try:
                call = ast.parse(match.group(2).strip(), mode="eval").body
                result = ast.literal_eval(lines[index + 1].strip())
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == sig.name:
                    args = tuple(ast.literal_eval(a) for a in call.args)
                    translated = [f"{match.group(1)}> {_call(sig, args, language, name)}",
                                  f"{match.group(1)}{value(result, sig.returns, language)}"]
            except (SyntaxError, ValueError, TypeError, Untranslatable, IndexError, KeyError, AttributeError):
                translated = None
        if translated:
            out.extend(translated)
            index += 2
        else:
            out.append(line)
            index += 1
    return out


def _header(sig: Signature, language: str) -> tuple[str, str]:
    """(prompt, the function's name in the target)."""
    for param, _ in sig.params:
        if param in RESERVED[language]:
            raise Untranslatable("reserved_word", f"parameter {param!r} is reserved in {language}")
    name = java_name(sig.name) if language == "java" else sig.name
    comment = _docstring(sig, language, name)
    if language == "javascript":
        doc = "".join(f"//{' ' if line else ''}{line}\n" for line in comment)
        return f"{doc}function {name}({', '.join(p for p, _ in sig.params)}){{\n", name
    params = ", ".join(f"{type_name(ty, language)} {p}" for p, ty in sig.params)
    returns = type_name(sig.returns, language)
    if language == "cpp":
        doc = "".join(f"//{' ' if line else ''}{line}\n" for line in comment)
        return f"#include<assert.h>\n#include<bits/stdc++.h>\n{doc}{returns} {name}({params}) {{\n", name
    doc = "".join(f"    //{' ' if line else ''}{line}\n" for line in comment)
    return ("import java.util.*;\nimport java.lang.*;\n\npublic class Problem {\n"
            f"{doc}    public static {returns} {name}({params}) {{\n"), name


# -- tests ----------------------------------------------------------------------------------------
JS_EQUAL = """function equal(a, b) {
  if (b === undefined || b === null) return a === undefined || a === null;
  if (Array.isArray(b)) return Array.isArray(a) && a.length === b.length && b.every((x, i) => equal(a[i], x));
  if (typeof b === "object") {
    if (typeof a !== "object" || a === null || Array.isArray(a)) return false;
    const keys = Object.keys(b);
    return Object.keys(a).length === keys.length && keys.every((k) => equal(a[k], b[k]));
  }
  return a === b;
}
"""


def _check(sig: Signature, case: Case, language: str, name: str) -> str:
    # C++ and Java call the function by name: `auto candidate = strlen;` would be ambiguous with ::strlen
    call = _call(sig, case.args, language, "candidate" if language == "javascript" else name)
    expected = value(case.expected, sig.returns, language)
    if case.kind == "close":
        if sig.returns.kind not in ("float", "int"):
            raise Untranslatable("test_form", "a tolerance on a non-number")
        tolerance = repr(case.tolerance)
        return {"javascript": f"  assert.ok(Math.abs({call} - ({expected})) < {tolerance});",
                "cpp": f"    assert((std::abs({call} - ({expected})) < {tolerance}));",
                "java": f"        if (!(Math.abs({call} - ({expected})) < {tolerance})) throw new AssertionError();"
                }[language]
    if language == "javascript":
        return f"  assert.ok(equal({call}, {expected}), {json.dumps(call[:200])});"
    if language == "cpp":
        return f"    assert(({call} == {expected}));"
    primitive = sig.returns.kind in ("int", "float", "bool")
    test = f"{call} == {expected}" if primitive else f"{call}.equals({expected})"
    return f"        if (!({test})) throw new AssertionError({json.dumps(call[:200])});"


def _test(sig: Signature, found: list[Case], language: str, name: str) -> str:
    checks = "\n".join(_check(sig, case, language, name) for case in found)
    if language == "javascript":
        return (f"const assert = require('node:assert');\n\n{JS_EQUAL}\nfunction test() {{\n"
                f"  let candidate = {name};\n{checks}\n}}\n\ntest();\n")
    if language == "cpp":
        return f"}}\nint main() {{\n{checks}\n}}\n"
    return f"    }}\n    public static void main(String[] args) {{\n{checks}\n    }}\n\n}}\n"


def translate(problem: dict[str, Any], language: str) -> Problem:
    """One HumanEval problem in `language`; raises Untranslatable (with the counted reason)."""
    found = cases(problem["test"])
    sig = signature(problem["prompt"], problem["entry_point"], found)
    prompt, name = _header(sig, language)
    test = _test(sig, found, language, name)
    number = problem["task_id"].rpartition("/")[2]
    return Problem(task_id=f"HumanEval-{TAGS[language]}/{number}", language=language, prompt=prompt, test=test,
                   entry_point=name, mode="completion",
                   metadata={"suite": SUITE, "method": METHOD, "source_task_id": problem["task_id"],
                             "stop": list(STOPS[language]),
                             "asserts": len(found), "signature": {p: str(t) for p, t in sig.params} |
                             {"return": str(sig.returns)}})


def problems(limit: int | None = None, language: str = "javascript",
             source: dict[str, dict[str, Any]] | None = None) -> tuple[list[Problem], dict[str, int]]:
    """The first `limit` translatable HumanEval problems in `language` (all when None), and the skipped
    counts by reason (problems not tried because of `limit` count as "limit")."""
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}", field="language")
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit must be >= 1, got {limit}", field="limit")
    if source is None:
        from codeinstruct.evaluation.humaneval import load_problems

        source = load_problems()
    ordered = sorted(source.values(), key=lambda p: int(p["task_id"].rpartition("/")[2]))
    out: list[Problem] = []
    skipped: dict[str, int] = {}
    for index, problem in enumerate(ordered):
        if limit is not None and len(out) >= limit:
            skipped["limit"] = len(ordered) - index
            break
        try:
            out.append(translate(problem, language))
        except Untranslatable as exc:
            logger.debug("%s not translated to %s: %s", problem["task_id"], language, exc)
            skipped[exc.reason] = skipped.get(exc.reason, 0) + 1
    logger.info("%s (%s): %d problem(s), skipped %s", SUITE, language, len(out), skipped or "none")
    return out, skipped
