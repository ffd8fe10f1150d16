"""Start-up self-check: prove each configured isolation layer works before serving (fail closed).

A probe program runs through the real path (warm worker, fork, rlimits, seccomp) on every worker and
reports what it can see and do. Any layer that does not hold raises `Unavailable`, so the service
refuses to start, unless `isolation: none` is configured explicitly (logged as a warning).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from codeinstruct.core.errors import Unavailable

if TYPE_CHECKING:
    from codeinstruct.sandbox.core import Sandbox

logger = logging.getLogger(__name__)

PROBE = r'''
import json, os, resource, socket
out = {"uid": os.getuid(), "euid": os.geteuid(), "pid": os.getpid()}
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
out["cap_eff"] = status.get("CapEff", "").strip()
out["no_new_privs"] = status.get("NoNewPrivs", "").strip()
out["seccomp"] = status.get("Seccomp", "").strip()
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    out["inet_socket"] = "allowed"
except OSError as exc:
    out["inet_socket"] = type(exc).__name__
out["interfaces"] = [line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]]
out["processes"] = len([name for name in os.listdir("/proc") if name.isdigit()])
try:
    open("/usr/.sandbox-write-probe", "w").close()
    out["usr_writable"] = True
except OSError:
    out["usr_writable"] = False
out["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)[0]
out["address_space"] = resource.getrlimit(resource.RLIMIT_AS)[0]
out["host_secrets"] = [p for p in ("/etc/shadow", "/root", "/work", "/home") if os.path.exists(p)]
print(json.dumps(out))
'''


def verify(sandbox: Sandbox) -> tuple[str, ...]:
    """Run the probe on each worker; return the isolation layers in force or raise Unavailable."""
    from codeinstruct.sandbox.core import Sandbox as _Sandbox  # noqa: F401  (type only)

    config = sandbox.config
    if config.isolation == "none":
        logger.warning("sandbox isolation is 'none': untrusted code runs with rlimits only, as this user, "
                       "with network and file system access. Use this for development only.")
        probe = sandbox.execute("print('ok')")
        if probe.stdout.strip() != "ok":
            raise Unavailable(f"sandbox probe failed: {probe.status} {probe.detail}")
        return ("rlimits",)
    failures: list[str] = []
    for _ in range(sandbox._pool.size):
        result = sandbox.execute(PROBE)
        if result.stdout.strip() == "":
            raise Unavailable(f"sandbox self-check could not run: {result.status} {result.detail} "
                              f"{result.stderr.strip()[-500:]}")
        seen = json.loads(result.stdout)
        if seen["uid"] == 0 or seen["euid"] == 0:
            failures.append("uid: runs as root")
        if int(seen["cap_eff"] or "0", 16) != 0:
            failures.append(f"capabilities: CapEff={seen['cap_eff']}")
        if seen["seccomp"] != "2" or seen["no_new_privs"] != "1":
            failures.append(f"seccomp: Seccomp={seen['seccomp']} NoNewPrivs={seen['no_new_privs']}")
        if seen["inet_socket"] == "allowed":
            failures.append("seccomp: an AF_INET socket was allowed")
        if seen["interfaces"] != ["lo"]:
            failures.append(f"network namespace: interfaces {seen['interfaces']}")
        if seen["processes"] > 8:
            failures.append(f"pid namespace: {seen['processes']} processes visible")
        if seen["usr_writable"]:
            failures.append("mount namespace: /usr is writable")
        if seen["nproc"] != config.max_processes:
            failures.append(f"rlimits: RLIMIT_NPROC={seen['nproc']}")
        if seen["address_space"] <= 0:
            failures.append("rlimits: no RLIMIT_AS")
        if seen["host_secrets"]:
            failures.append(f"mount namespace: host paths visible {seen['host_secrets']}")
    if failures:
        raise Unavailable("sandbox isolation self-check failed, refusing to serve (set sandbox.isolation: none "
                          "only for development): " + "; ".join(sorted(set(failures))))
    layers = ("bubblewrap-namespaces(user,pid,net,ipc,uts,mount)", "unprivileged-uid", "no-capabilities",
              "seccomp", "rlimits")
    logger.info("sandbox isolation verified on %d workers: %s", sandbox._pool.size, ", ".join(layers))
    return layers
