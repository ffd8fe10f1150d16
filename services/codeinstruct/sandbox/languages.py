"""Per-language recipes: source file name, compile step, run command, memory and process allowances.

Compiled languages compile INSIDE the sandbox (same isolation, compile limits); a failed compile is
SYNTAX_ERROR. Memory limits are RLIMIT_AS for Python (on top of the warm worker's inherited address
space) and C++; JavaScript and Java reserve large virtual ranges up front, so they get the limit as
their heap size (`--max-old-space-size`, `-Xmx`) and RLIMIT_AS = limit + a fixed runtime reserve.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

MIB = 1 << 20
MAX_FILE_NAME_BYTES = 255  # NAME_MAX: a Java public class longer than this (less .java) cannot compile


@dataclass(frozen=True)
class Recipe:
    name: str
    source_name: str
    compile_argv: tuple[str, ...] = ()
    run_argv: tuple[str, ...] = ()
    address_reserve_mb: int = 0  # added to the memory limit for RLIMIT_AS (runtime's own reservations)
    extra_processes: int = 0  # threads the runtime itself starts
    oom_markers: tuple[str, ...] = ()

    @property
    def compiled(self) -> bool:
        return bool(self.compile_argv)

    def source_file(self, code: str) -> str:
        return self.source_name.replace("{class}", java_main_class(code)) if self.name == "java" else self.source_name

    def argv(self, parts: tuple[str, ...], code: str, memory_mb: int) -> list[str]:
        values = {"{memory_mb}": str(memory_mb), "{source}": self.source_file(code),
                  "{class}": java_main_class(code) if self.name == "java" else ""}
        out = []
        for part in parts:
            for key, value in values.items():
                part = part.replace(key, value)
            out.append(part)
        return out


_JAVA_CLASS = re.compile(r"public\s+(?:final\s+)?class\s+([A-Za-z_$][A-Za-z0-9_$]*)")


def java_main_class(code: str) -> str:
    match = _JAVA_CLASS.search(code)
    return match.group(1) if match else "Main"


def detect(wanted: tuple[str, ...]) -> dict[str, Recipe]:
    """Recipes for the wanted languages whose toolchain exists on this machine (python always)."""
    recipes: dict[str, Recipe] = {
        "python": Recipe("python", "main.py", oom_markers=("MemoryError",)),
    }
    node = shutil.which("node")
    if "javascript" in wanted and node:
        recipes["javascript"] = Recipe(
            "javascript", "main.js", compile_argv=(node, "--check", "main.js"),
            run_argv=(node, "--max-old-space-size={memory_mb}", "main.js"),
            address_reserve_mb=1024, extra_processes=16,
            oom_markers=("JavaScript heap out of memory", "Allocation failed", "RangeError: Array buffer allocation",
                         "Cannot allocate memory"))
    gxx = shutil.which("g++")
    if "cpp" in wanted and gxx:
        recipes["cpp"] = Recipe(
            "cpp", "main.cpp", compile_argv=(gxx, "-O2", "-std=c++17", "-pipe", "-o", "main", "main.cpp"),
            run_argv=("./main",), address_reserve_mb=16,
            oom_markers=("std::bad_alloc", "Cannot allocate memory"))
    javac, java = shutil.which("javac"), shutil.which("java")
    if "java" in wanted and javac and java:
        jvm = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=64m",
               "-XX:CompressedClassSpaceSize=64m", "-Xss16m")
        recipes["java"] = Recipe(
            "java", "{class}.java",
            compile_argv=(javac, "-J-Xmx512m", *(f"-J{flag}" for flag in jvm), "-encoding", "UTF-8", "{source}"),
            run_argv=(java, "-Xmx{memory_mb}m", *jvm, "-cp", ".", "{class}"),
            address_reserve_mb=1536, extra_processes=64,
            oom_markers=("java.lang.OutOfMemoryError", "Cannot allocate memory"))
    return recipes
