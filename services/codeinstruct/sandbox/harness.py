"""In-process Python harness: what a forked run child executes when the program is Python.

Runs INSIDE the sandbox, in the child the warm worker forked for one run, after rlimits and seccomp
are in force. Standard library only (the sandbox sees no project code but this and worker.py).

Modes:
- "script": run the file as `__main__` like `python main.py` (exit status, traceback on stderr).
- "call": run the file as `__main__`, then evaluate one call expression (DESIGN section 4) and report
  `repr()` of its value.
- "humaneval": run the file the way openai/human-eval's `check_correctness` does (empty globals,
  the same destructive functions disabled, stdio swallowed), then evaluate the expression.

Verdict events go to REPORT_FD as JSON lines carrying the per-run token; the supervisor ignores any
line without it, so a program that exits early (os._exit, SystemExit, killing its parent) never
produces the "harness finished" event a passing test needs.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import sys
import traceback
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

REPORT_FD = 3

# What human-eval's reliability_guard disables (module, attribute); replicated so that verdicts on
# HumanEval samples equal the reference evaluator's.
_HUMANEVAL_DISABLED = {
    "os": ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
           "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod", "fchown",
           "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir"),
    "shutil": ("rmtree", "move", "chown"),
    "subprocess": ("Popen",),
    "builtins": ("exit", "quit", "help"),
}
_HUMANEVAL_BLOCKED_MODULES = ("ipdb", "joblib", "resource", "psutil", "tkinter")


class _Reporter:
    def __init__(self, token: str):
        self._token = token

    def send(self, event: str, **fields: object) -> None:
        line = json.dumps({"token": self._token, "event": event, **fields}) + "\n"
        data = line.encode("utf-8", "backslashreplace")
        try:
            while data:
                written = os.write(REPORT_FD, data)
                data = data[written:]
        except OSError:
            pass  # the program closed or replaced the channel: no event arrives, so no pass


class _DiscardingIO(io.StringIO):
    """human-eval's swallowed stdio: writes vanish, reads raise."""

    def write(self, text: str) -> int:  # type: ignore[override]
        return len(text)

    def read(self, *args: object) -> str:  # type: ignore[override]
        raise OSError

    def readline(self, *args: object) -> str:  # type: ignore[override]
        raise OSError

    def readlines(self, *args: object) -> list[str]:  # type: ignore[override]
        raise OSError

    def readable(self) -> bool:
        return False


def _fresh_stdio() -> None:
    """New text streams over fds 0-2 with empty buffers, as a freshly started interpreter has."""
    stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8")
    stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8")
    stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding="utf-8",
                              errors="backslashreplace", line_buffering=True)
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = stdin, stdout, stderr  # type: ignore[misc]


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int) and not isinstance(code, bool):
        return code & 0xFF
    if isinstance(code, bool):
        return int(code)
    try:
        sys.stderr.write(f"{code}\n")
    except Exception:
        pass
    return 1


def _finish(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


class _DisableOnImport:
    """Meta-path hook: when a module named in `pending` is first imported, disable its attributes.

    Equivalent to importing it up front and disabling them (what human-eval does), without paying
    for the import (subprocess pulls in threading) in every run that never uses it.
    """

    def __init__(self, pending: dict[str, tuple[str, ...]]):
        self.pending = pending

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if name not in self.pending:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path)  # type: ignore[arg-type]
        if spec is None or spec.loader is None:
            return spec
        loader, names = spec.loader, self.pending.pop(name)
        original = loader.exec_module  # type: ignore[attr-defined]

        def exec_module(module: types.ModuleType) -> None:
            original(module)
            for attribute in names:
                setattr(module, attribute, None)

        setattr(loader, "exec_module", exec_module)  # noqa: B010  (mypy: a method slot)
        return spec


def _disable_like_humaneval() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"  # before putenv goes
    later: dict[str, tuple[str, ...]] = {}
    for module_name, names in _HUMANEVAL_DISABLED.items():
        module = sys.modules.get(module_name)
        if module is None:
            later[module_name] = names
            continue
        for name in names:
            setattr(module, name, None)
    if later:
        sys.meta_path.insert(0, _DisableOnImport(later))  # type: ignore[arg-type]
    for name in _HUMANEVAL_BLOCKED_MODULES:
        sys.modules[name] = None  # type: ignore[assignment]


def run(spec: dict[str, Any], token: str) -> None:
    """Run the program described by `spec` and exit the process; never returns."""
    reporter = _Reporter(token)
    del token
    mode = spec.get("mode", "script")
    path = spec.get("path", "main.py")
    _fresh_stdio()
    sys.argv = [path]
    sys.path[0:1] = [os.getcwd()]
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            source = handle.read()
        code = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, OverflowError) as exc:
        # A program too deeply nested for the compiler is rejected at compile time, as by `python main.py`.
        traceback.print_exception(exc, limit=0)
        reporter.send("syntax", detail=traceback.format_exception_only(exc)[-1].strip())
        _finish(1)
        return
    except MemoryError:
        reporter.send("memory", detail="MemoryError while compiling the program")
        _finish(1)
        return
    if mode == "humaneval":
        _run_humaneval(code, spec.get("input", ""), reporter)
        return
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": path, "__builtins__": builtins, "__doc__": None,
                       "__package__": None, "__spec__": None, "__loader__": None}
    status = _run_code(code, namespace, reporter)
    if status is not None:
        _finish(status)
        return
    if mode == "script":
        reporter.send("finished")
        _finish(0)
        return
    # mode == "call": evaluate the test input against the loaded program.
    try:
        value = eval(compile(spec.get("input", ""), "<test input>", "eval", dont_inherit=True), namespace)
        text = repr(value)
    except SyntaxError as exc:
        reporter.send("input_error", detail=traceback.format_exception_only(exc)[-1].strip())
        _finish(1)
        return
    except SystemExit as exc:
        _finish(_exit_code(exc))
        return
    except BaseException as exc:
        _report_exception(exc, reporter)
        _finish(1)
        return
    reporter.send("value", repr=text)
    _finish(0)


def _run_code(code: types.CodeType, namespace: dict[str, Any], reporter: _Reporter) -> int | None:
    """Exec the module body; None when it completed, else the exit status to leave with."""
    try:
        exec(code, namespace)
    except SystemExit as exc:
        return _exit_code(exc)
    except BaseException as exc:
        _report_exception(exc, reporter)
        return 1
    return None


def _report_exception(exc: BaseException, reporter: _Reporter) -> None:
    try:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # hide the harness's own frames, as `python main.py` shows none
        traceback.print_exception(type(exc), exc, tb)
    except BaseException:
        pass
    kind = "memory" if isinstance(exc, MemoryError) else "exception"
    try:
        detail = traceback.format_exception_only(exc)[-1].strip()
    except BaseException:
        detail = type(exc).__name__
    reporter.send(kind, type=type(exc).__name__, detail=detail[-2000:])


def _run_humaneval(code: types.CodeType, expression: str, reporter: _Reporter) -> None:
    sink = _DiscardingIO()
    _disable_like_humaneval()
    namespace: dict[str, Any] = {}
    sys.stdout = sys.stderr = sink
    sys.stdin = sink
    try:
        exec(code, namespace)
        value = eval(compile(expression or "None", "<test input>", "eval", dont_inherit=True), namespace)
        text = repr(value)
    except BaseException as exc:
        kind = "memory" if isinstance(exc, MemoryError) else "exception"
        try:
            message = f"failed: {exc}"
        except BaseException:
            message = "failed: "
        reporter.send(kind, type=type(exc).__name__, detail=message[-2000:])
        os._exit(1)
    reporter.send("value", repr=text)
    os._exit(0)
