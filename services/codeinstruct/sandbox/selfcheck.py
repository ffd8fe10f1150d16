"""Start-up self-check: prove each isolation layer works on a worker before it takes runs (fail closed).

A probe program runs through the real path (warm worker, fork, own namespaces, rlimits, seccomp) on
each worker after every start, and reports what it can see and do; `verify` raises `Unavailable`
when any layer does not hold. At service start that makes the service refuse to start; for a worker
replaced later, the pool kills it and tries again (and reports NOT_SERVING if none can be made
healthy). `isolation: none` skips the layer checks (development only, logged as a warning).
"""

from __future__ import annotations

import json
import logging

from codeinstruct.core.errors import Unavailable
from codeinstruct.sandbox.config import SandboxConfig
from codeinstruct.sandbox.types import ExecutionResult

logger = logging.getLogger(__name__)

LAYERS = ("bubblewrap-namespaces(user,pid,net,ipc,uts,mount)", "per-run-mount-and-ipc-namespaces",
          "non-dumpable-worker", "unprivileged-uid", "no-capabilities", "seccomp", "rlimits", "memory-poll")

PROBE = r'''
import ctypes, json, os, resource, socket
out = {"uid": os.getuid(), "euid": os.geteuid(), "pid": os.getpid()}
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
out["cap_eff"] = status.get("CapEff", "").strip()
out["cap_prm"] = status.get("CapPrm", "").strip()
out["no_new_privs"] = status.get("NoNewPrivs", "").strip()
out["seccomp"] = status.get("Seccomp", "").strip()
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    out["inet_socket"] = "allowed"
except OSError as exc:
    out["inet_socket"] = type(exc).__name__
out["interfaces"] = [line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]]
out["processes"] = len([name for name in os.listdir("/proc") if name.isdigit()])
def writable(path):
    try:
        open(path, "w").close()
        os.unlink(path)
        return True
    except OSError:
        return False
out["usr_writable"] = writable("/usr/.sandbox-write-probe")
out["dev_writable"] = writable("/dev/.sandbox-write-probe")
try:
    open("/proc/1/mem", "rb").close()
    out["worker_memory"] = "readable"
except OSError as exc:
    out["worker_memory"] = type(exc).__name__
libc = ctypes.CDLL(None, use_errno=True)
old = (ctypes.c_ulong * 2)()
out["prlimit_worker"] = libc.prlimit64(1, resource.RLIMIT_NPROC, None, old) == 0  # read only: never change it
mountinfo = [line.split() for line in open("/proc/self/mountinfo")]
mounts = [fields[4] for fields in mountinfo]
out["shared_mounts"] = [fields[4] for fields in mountinfo if any(f.startswith("shared:") for f in fields[6:])]
out["own_tmp"] = os.getcwd().startswith("/tmp/") and mounts.count("/tmp") == 2 and os.listdir("/tmp") == ["run"]
out["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]
out["address_space"] = resource.getrlimit(resource.RLIMIT_AS)[0]
out["host_secrets"] = [p for p in ("/etc/shadow", "/root", "/work", "/home") if os.path.exists(p)]
print(json.dumps(out))
'''


def layers(config: SandboxConfig) -> tuple[str, ...]:
    """The layers a worker of this configuration must show (and `GetSandboxInfo` names)."""
    if config.isolation == "none":
        logger.warning("sandbox isolation is 'none': untrusted code runs with rlimits only, as this user, "
                       "with network and file system access. Use this for development only.")
        return ("rlimits",)
    return LAYERS


def verify(config: SandboxConfig, result: ExecutionResult) -> None:
    """Check one worker's probe result; raise Unavailable naming every layer that does not hold."""
    if config.isolation == "none":
        if result.stdout.strip() == "":
            raise Unavailable(f"sandbox probe failed: {result.status} {result.detail}")
        return
    if result.stdout.strip() == "":
        raise Unavailable(f"sandbox self-check could not run: {result.status} {result.detail} "
                          f"{result.stderr.strip()[-500:]}")
    seen = json.loads(result.stdout)
    failures: list[str] = []
    if seen["uid"] == 0 or seen["euid"] == 0:
        failures.append("uid: runs as root")
    if int(seen["cap_eff"] or "0", 16) != 0 or int(seen["cap_prm"] or "0", 16) != 0:
        failures.append(f"capabilities: CapEff={seen['cap_eff']} CapPrm={seen['cap_prm']}")
    if seen["seccomp"] != "2" or seen["no_new_privs"] != "1":
        failures.append(f"seccomp: Seccomp={seen['seccomp']} NoNewPrivs={seen['no_new_privs']}")
    if seen["inet_socket"] == "allowed":
        failures.append("seccomp: an AF_INET socket was allowed")
    if seen["prlimit_worker"]:
        failures.append("seccomp: prlimit64 on the worker was allowed")
    if seen["worker_memory"] == "readable":
        failures.append("worker: /proc/1/mem is readable (worker dumpable)")
    if seen["interfaces"] != ["lo"]:
        failures.append(f"network namespace: interfaces {seen['interfaces']}")
    if seen["processes"] > 8:
        failures.append(f"pid namespace: {seen['processes']} processes visible")
    if seen["usr_writable"] or seen["dev_writable"]:
        failures.append("mount namespace: /usr or /dev is writable")
    if seen["shared_mounts"]:
        failures.append(f"mount propagation: shared mounts {seen['shared_mounts']} (a run's mounts could reach "
                        "the worker)")
    if not seen["own_tmp"]:
        failures.append("per-run namespace: the run has no /tmp of its own")
    if seen["nproc"] != config.max_processes:
        failures.append(f"rlimits: RLIMIT_NPROC={seen['nproc']}")
    if seen["address_space"] <= 0:
        failures.append("rlimits: no RLIMIT_AS")
    if seen["host_secrets"]:
        failures.append(f"mount namespace: host paths visible {seen['host_secrets']}")
    if failures:
        raise Unavailable("sandbox isolation self-check failed, refusing to serve (set sandbox.isolation: none "
                          "only for development): " + "; ".join(sorted(set(failures))))
