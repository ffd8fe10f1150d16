"""Seeds: the human-written inputs of generation.

- `stdlib_seeds()`: the embedded default. Top-level functions mined from the CPython standard
  library on this machine: with a docstring, 3-40 lines, self-contained (every free name is a
  builtin, a parameter, a local, or a stdlib module the file imports, whose import line is added),
  never touching os/sys/subprocess/socket/threading, files or exec. License PSF-2.0 recorded in
  `source`. Never benchmark data (HumanEval): seeds must not leak the evaluation set.
- `load_seeds(path)`: JSON Lines of records (DESIGN section 4), of `{instruction, response}` pairs or
  of `{code, language}` snippets.

Each seed is a record-like dict (`id`, `method: "seed"`, `code`, `instruction`, `response`,
`language`, `entry_point`, `source` ...) so it can be written with the record writer as is.
"""

from __future__ import annotations

import ast
import builtins
import functools
import logging
import platform
import sysconfig
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from codeinstruct.core.errors import InvalidInput
from codeinstruct.core.records import numbered_jsonl, stable_hash
from codeinstruct.generation.parsers import extract_code

logger = logging.getLogger(__name__)

BANNED_MODULES = frozenset({"os", "sys", "subprocess", "socket", "threading", "multiprocessing", "shutil",
                            "signal", "ctypes", "asyncio", "tempfile", "pathlib", "io", "select", "importlib"})
BANNED_NAMES = frozenset({"open", "exec", "eval", "compile", "__import__", "input", "exit", "quit",
                          "breakpoint", "globals", "locals", "vars", "memoryview", "help"})
SKIP_DIRS = frozenset({"test", "tests", "idlelib", "lib2to3", "tkinter", "turtledemo", "ensurepip", "site-packages",
                       "dist-packages", "__pycache__", "venv", "distutils", "msilib", "pydoc_data", "__phello__"})
BUILTIN_NAMES = frozenset(dir(builtins))
MIN_LINES, MAX_LINES = 3, 40
SEED_VERSION = "stdlib-v1"
PER_MODULE = 6  # at most this many functions of one module (operator alone has 50)


def _free_names(func: ast.FunctionDef) -> set[str]:
    """Names the function reads that it does not bind itself (params, assignments, imports, defs)."""
    bound: set[str] = set()
    loaded: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node is not func:
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    bound.add(func.name)  # recursion
    return loaded - bound - BUILTIN_NAMES


def _module_imports(tree: ast.Module) -> dict[str, tuple[str, str]]:
    """name -> (root module, import line) for the module-level `import x` / `from x import y` of a file."""
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                line = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                found[name] = (alias.name.split(".")[0], line)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name == "*":
                    continue
                name = alias.asname or alias.name
                line = f"from {node.module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                found[name] = (node.module.split(".")[0], line)
    return found


def _instruction(func: ast.FunctionDef, doc: str) -> str:
    args = ast.unparse(func.args)
    first = " ".join(doc.strip().split("\n\n")[0].split())
    return f"Write a Python function `{func.name}({args})`. {first}"


def _seeds_from_file(path: Path, module: str) -> Iterable[dict[str, Any]]:
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return
    imports = _module_imports(tree)
    lines = source.splitlines()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_") or node.decorator_list:
            continue
        doc = ast.get_docstring(node)
        if not doc or node.end_lineno is None:
            continue
        length = node.end_lineno - node.lineno + 1
        if not MIN_LINES <= length <= MAX_LINES:
            continue
        if any(isinstance(n, ast.Global | ast.Nonlocal | ast.Import | ast.ImportFrom) for n in ast.walk(node)):
            continue
        free = _free_names(node)
        if free & BANNED_NAMES or any(
                isinstance(n, ast.Name) and n.id in BANNED_NAMES for n in ast.walk(node)):
            continue
        needed = []
        for name in sorted(free):
            if name not in imports or imports[name][0] in BANNED_MODULES or imports[name][0].startswith("_"):
                break
            needed.append(imports[name][1])
        else:
            body = textwrap.dedent("\n".join(lines[node.lineno - 1:node.end_lineno]))
            code = "\n".join([*sorted(set(needed)), "", "", body] if needed else [body]) + "\n"
            try:
                ast.parse(code)
            except SyntaxError:
                continue
            origin = f"cpython-stdlib:{module}.{node.name}"
            yield {
                "id": stable_hash("seed", origin, code),
                "method": "seed", "task": "generation", "language": "python",
                "instruction": _instruction(node, doc), "response": "", "code": code, "entry_point": node.name,
                "tests": [], "scores": {},
                "source": {"origin": origin, "license": "PSF-2.0",
                           "python": platform.python_version(), "seed_version": SEED_VERSION},
                "generator": {},
            }


@functools.lru_cache(maxsize=1)
def _stdlib_seeds() -> tuple[dict[str, Any], ...]:
    root = Path(sysconfig.get_paths()["stdlib"])
    found: list[dict[str, Any]] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(part in SKIP_DIRS or part.startswith("test") for part in relative.parts[:-1]) \
                or relative.name.startswith(("test_", "_")):
            continue
        module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        found.extend(list(_seeds_from_file(path, module))[:PER_MODULE])
    # a stable order that mixes modules, so any prefix (--limit N) is diverse
    found.sort(key=lambda seed: stable_hash(seed["source"]["origin"]))
    logger.debug("mined %d stdlib seed functions from %s", len(found), root)
    return tuple(found)


def stdlib_seeds(limit: int | None = None) -> list[dict[str, Any]]:
    """Human-written functions of the local CPython standard library (see module docstring)."""
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit must be >= 1, got {limit}", field="limit")
    seeds = _stdlib_seeds()
    return [dict(seed, source=dict(seed["source"])) for seed in seeds[:limit]]


def normalize_seed(obj: Mapping[str, Any], where: str = "seed") -> dict[str, Any]:
    """A seed dict from a record, an {instruction, response} pair or a {code, language} snippet."""
    if not isinstance(obj, Mapping):
        raise InvalidInput(f"{where}: a seed must be a JSON object", field="seeds")
    language = str(obj.get("language") or "python")
    instruction = str(obj.get("instruction") or "")
    response = str(obj.get("response") or "")
    code = str(obj.get("code") or "") or (extract_code(response, language) if response else "")
    if not code.strip() and not instruction.strip():
        raise InvalidInput(f"{where}: a seed needs 'code' (human code) or 'instruction'", field="seeds")
    source = dict(obj.get("source") or {})
    source.setdefault("origin", str(obj.get("origin") or "seeds-file"))
    if "license" in obj:
        source.setdefault("license", str(obj["license"]))
    seed_id = str(obj.get("id") or stable_hash("seed", language, instruction, response, code))
    return {"id": seed_id, "method": "seed", "task": str(obj.get("task") or "generation"), "language": language,
            "instruction": instruction, "response": response, "code": code,
            "entry_point": str(obj.get("entry_point") or ""), "tests": list(obj.get("tests") or []),
            "scores": dict(obj.get("scores") or {}), "source": source, "generator": {}}


def load_seeds(path: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Seeds from a JSON Lines file (records, {instruction, response} pairs or {code, language})."""
    seeds: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, obj in numbered_jsonl(path, field="seeds"):
        seed = normalize_seed(obj, where=f"{path}:{number}")
        if seed["id"] in seen:
            continue
        seen.add(seed["id"])
        seeds.append(seed)
        if limit is not None and len(seeds) >= limit:
            break
    if not seeds:
        raise InvalidInput(f"seeds file {str(path)!r} holds no seeds", field="seeds")
    return seeds
