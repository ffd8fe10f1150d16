"""Sandbox settings (config section `sandbox`): isolation mode, worker pool, limits and their maxima.

Example:
    >>> from codeinstruct.core.config import build
    >>> from codeinstruct.sandbox.config import SandboxConfig
    >>> build(SandboxConfig, "sandbox", data={"sandbox": {"workers": 2}}).workers
    2
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from codeinstruct.core.config import check

LANGUAGES = ("python", "javascript", "cpp", "java")


@dataclass(frozen=True)
class SandboxConfig:
    """How untrusted code is contained and how much it may use."""

    isolation: Literal["full", "none"] = field(default="full", metadata={
        "help": "full: bubblewrap namespaces + unprivileged uid + seccomp + rlimits, checked at start-up "
                "(the service refuses to start when a layer does not work); none: rlimits only, for "
                "development on machines without namespaces (logged as a warning)"})
    workers: int = field(default=0, metadata={
        "help": "warm workers (each runs one program at a time); 0 = two per CPU core, so one worker's "
                "run can use a core while another waits on I/O or a wake-up"})
    languages: tuple[str, ...] = field(default=LANGUAGES, metadata={
        "help": "languages to offer; ones whose toolchain is missing are left out at start-up"})
    default_timeout_s: float = field(default=5.0, metadata={"help": "wall-clock limit per run"})
    max_timeout_s: float = field(default=60.0, metadata={"help": "largest wall-clock limit a caller may ask"})
    default_memory_mb: int = field(default=512, metadata={"help": "memory limit per run (MiB)"})
    max_memory_mb: int = field(default=4096, metadata={"help": "largest memory limit a caller may ask"})
    default_max_output_bytes: int = field(default=1 << 20, metadata={
        "help": "stdout and stderr cap per run, each (bytes); over it the run is OUTPUT_TRUNCATED"})
    max_output_bytes: int = field(default=16 << 20, metadata={"help": "largest output cap a caller may ask"})
    max_response_mb: int = field(default=48, metadata={
        "help": "largest response the service builds (MiB; keep it below server.max_message_mb): one "
                "result holds stdout and stderr of at most max_output_bytes each, and RunTests / "
                "CaptureOutputs share this budget among their cases"})
    max_processes: int = field(default=32, metadata={
        "help": "processes + threads a run may have at once (RLIMIT_NPROC, per worker uid)"})
    max_file_mb: int = field(default=64, metadata={"help": "largest file a run may write (RLIMIT_FSIZE)"})
    max_open_files: int = field(default=256, metadata={"help": "open file descriptors per process"})
    tmpfs_mb: int = field(default=256, metadata={
        "help": "size of each run's private /tmp (a fresh tmpfs per run; its files count against the run's "
                "memory limit)"})
    shm_mb: int = field(default=64, metadata={
        "help": "size of each run's private /dev/shm (fresh per run; counts against the memory limit)"})
    compile_timeout_s: float = field(default=30.0, metadata={"help": "wall-clock limit of a compile step"})
    compile_memory_mb: int = field(default=2048, metadata={"help": "memory limit of a compile step"})
    max_code_bytes: int = field(default=1 << 20, metadata={"help": "largest program accepted"})
    max_stdin_bytes: int = field(default=16 << 20, metadata={"help": "largest stdin accepted"})
    max_tests: int = field(default=1000, metadata={"help": "most test cases / inputs per call"})
    max_batch: int = field(default=10000, metadata={"help": "most runs per batch call"})
    python: str = field(default="", metadata={
        "help": "interpreter for Python code; empty = this interpreter when every run uid can read it, "
                "else a system python3 of the same version"})
    uid_base: int = field(default=61000, metadata={
        "help": "when the service runs as root, worker i runs as host uid uid_base + i (RLIMIT_NPROC "
                "is ignored for root)"})
    bwrap: str = field(default="bwrap", metadata={"help": "bubblewrap executable"})
    startup_timeout_s: float = field(default=20.0, metadata={"help": "time a worker has to start"})

    def __post_init__(self) -> None:
        check(self.workers >= 0, "sandbox.workers", f"must be >= 0, got {self.workers}")
        unknown = sorted(set(self.languages) - set(LANGUAGES))
        check(not unknown, "sandbox.languages", f"unknown language(s) {unknown}; known: {list(LANGUAGES)}")
        check("python" in self.languages, "sandbox.languages", "python is required")
        check(0 < self.default_timeout_s <= self.max_timeout_s, "sandbox.default_timeout_s",
              f"must be > 0 and <= max_timeout_s ({self.max_timeout_s}), got {self.default_timeout_s}")
        check(16 <= self.default_memory_mb <= self.max_memory_mb, "sandbox.default_memory_mb",
              f"must be >= 16 and <= max_memory_mb ({self.max_memory_mb}), got {self.default_memory_mb}")
        check(1024 <= self.default_max_output_bytes <= self.max_output_bytes, "sandbox.default_max_output_bytes",
              f"must be >= 1024 and <= max_output_bytes ({self.max_output_bytes}), "
              f"got {self.default_max_output_bytes}")
        check(2 * self.max_output_bytes + (1 << 20) <= self.max_response_mb << 20, "sandbox.max_response_mb",
              f"must hold two full outputs plus 1 MiB ({(2 * self.max_output_bytes >> 20) + 1} MiB for "
              f"max_output_bytes {self.max_output_bytes}), got {self.max_response_mb}")
        check(4 <= self.max_processes <= 4096, "sandbox.max_processes", f"must be 4..4096, got {self.max_processes}")
        check(self.max_file_mb >= 1, "sandbox.max_file_mb", f"must be >= 1, got {self.max_file_mb}")
        check(self.max_open_files >= 32, "sandbox.max_open_files", f"must be >= 32, got {self.max_open_files}")
        check(self.tmpfs_mb >= 16, "sandbox.tmpfs_mb", f"must be >= 16, got {self.tmpfs_mb}")
        check(self.shm_mb >= 1, "sandbox.shm_mb", f"must be >= 1, got {self.shm_mb}")
        check(self.compile_timeout_s > 0, "sandbox.compile_timeout_s", f"must be > 0, got {self.compile_timeout_s}")
        check(self.uid_base >= 1000, "sandbox.uid_base", f"must be >= 1000, got {self.uid_base}")
        check(self.max_tests >= 1, "sandbox.max_tests", f"must be >= 1, got {self.max_tests}")

    @property
    def worker_count(self) -> int:
        return self.workers or 2 * (os.cpu_count() or 1)
