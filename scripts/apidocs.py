"""Generate docs/api.md, the gRPC API reference, from protos/ (their comments, field behaviors and
a grpcurl example per RPC).

    .venv/bin/python scripts/apidocs.py           # writes docs/api.md
    .venv/bin/python scripts/apidocs.py --check   # exits 1 when docs/api.md is stale (make test)

The prose before the reference (conventions, errors, deliberate departures from the Google AIPs) is
scripts/apidocs/intro.md; curated request examples are scripts/apidocs/examples.json (RPCs without
one get an example built from their REQUIRED fields). tests/test_apidocs.py parses every example
as its request message, so an example cannot drift from the protos.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc_tools
from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "api.md"
HERE = Path(__file__).resolve().parent / "apidocs"
PACKAGE = "codeinstruct.v1"
PORTS = {"GenerationService": 50051, "SandboxService": 50052, "ScoringService": 50053, "TrainingService": 50054}
SERVICE_ORDER = ["GenerationService", "SandboxService", "ScoringService", "TrainingService"]

# FileDescriptorProto / DescriptorProto field numbers used in SourceCodeInfo paths.
MESSAGE, ENUM, SERVICE = 4, 5, 6
MSG_FIELD, MSG_NESTED, MSG_ENUM, MSG_ONEOF = 2, 3, 4, 8
ENUM_VALUE, METHOD = 2, 2

_FD = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    _FD.TYPE_DOUBLE: "double", _FD.TYPE_FLOAT: "float", _FD.TYPE_INT64: "int64", _FD.TYPE_UINT64: "uint64",
    _FD.TYPE_INT32: "int32", _FD.TYPE_BOOL: "bool", _FD.TYPE_STRING: "string", _FD.TYPE_BYTES: "bytes",
    _FD.TYPE_UINT32: "uint32", _FD.TYPE_SINT64: "sint64", _FD.TYPE_SINT32: "sint32", _FD.TYPE_FIXED64: "fixed64",
}
BEHAVIORS = {value.number: value.name for value in field_behavior_pb2.FieldBehavior.DESCRIPTOR.values}


@dataclass
class Protos:
    """Our descriptors (package codeinstruct.v1), their comments, and every message by full name."""

    files: list[descriptor_pb2.FileDescriptorProto]
    comments: dict[tuple[str, tuple[int, ...]], str]
    messages: dict[str, descriptor_pb2.DescriptorProto] = field(default_factory=dict)
    enums: dict[str, descriptor_pb2.EnumDescriptorProto] = field(default_factory=dict)
    owner: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)

    def comment(self, full_name: str) -> str:
        return self.comments.get(self.owner[full_name], "")


def compile_protos() -> descriptor_pb2.FileDescriptorSet:
    deps = subprocess.run(["bash", str(ROOT / "scripts" / "protodeps.sh")], check=True, capture_output=True,
                          text=True, env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"}).stdout.strip()
    sources = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos" / "codeinstruct").rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        builtin = Path(grpc_tools.__file__).parent / "_proto"
        args = ["protoc", f"-I{ROOT / 'protos'}", f"-I{ROOT / deps}", f"-I{builtin}", "--include_source_info",
                "--include_imports", f"--descriptor_set_out={out}", *sources]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed on protos/")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _clean(comment: str) -> str:
    lines = [line[1:] if line.startswith(" ") else line for line in comment.strip("\n").split("\n")]
    return "\n".join(line for line in lines if not line.startswith("buf:lint:")).strip()


def load(descriptor_set: descriptor_pb2.FileDescriptorSet) -> Protos:
    files = [f for f in descriptor_set.file if f.package == PACKAGE]
    comments: dict[tuple[str, tuple[int, ...]], str] = {}
    for file in files:
        for location in file.source_code_info.location:
            if location.leading_comments:
                comments[(file.name, tuple(location.path))] = _clean(location.leading_comments)
    protos = Protos(files, comments)
    for file in files:
        for index, message in enumerate(file.message_type):
            _index_message(protos, file.name, f"{PACKAGE}.{message.name}", message, (MESSAGE, index))
        for index, enum in enumerate(file.enum_type):
            protos.enums[f"{PACKAGE}.{enum.name}"] = enum
            protos.owner[f"{PACKAGE}.{enum.name}"] = (file.name, (ENUM, index))
    return protos


def _index_message(protos: Protos, file: str, name: str, message: descriptor_pb2.DescriptorProto,
                   path: tuple[int, ...]) -> None:
    protos.messages[name] = message
    protos.owner[name] = (file, path)
    for index, nested in enumerate(message.nested_type):
        if not nested.options.map_entry:
            _index_message(protos, file, f"{name}.{nested.name}", nested, (*path, MSG_NESTED, index))
    for index, enum in enumerate(message.enum_type):
        protos.enums[f"{name}.{enum.name}"] = enum
        protos.owner[f"{name}.{enum.name}"] = (file, (*path, MSG_ENUM, index))


def type_name(protos: Protos, f: descriptor_pb2.FieldDescriptorProto, message: descriptor_pb2.DescriptorProto) -> str:
    if f.type_name:
        name = f.type_name.lstrip(".")
        entry = next((n for n in message.nested_type if n.options.map_entry and name.endswith("." + n.name)), None)
        if entry is not None:
            key, value = entry.field
            return f"map<{type_name(protos, key, entry)}, {type_name(protos, value, entry)}>"
        short = name.removeprefix(PACKAGE + ".")
        return f"[{short}](#{anchor(short)})" if name.startswith(PACKAGE) else f"`{name}`"
    return SCALARS.get(f.type, "?")


def anchor(name: str) -> str:
    return name.lower().replace(".", "")


def behaviors(f: descriptor_pb2.FieldDescriptorProto) -> list[str]:
    return [BEHAVIORS[b] for b in f.options.Extensions[field_behavior_pb2.field_behavior]]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_message(protos: Protos, name: str) -> Iterator[str]:
    message = protos.messages[name]
    file, path = protos.owner[name]
    short = name.removeprefix(PACKAGE + ".")
    yield f"### {short}"
    yield ""
    if protos.comment(name):
        yield protos.comment(name)
        yield ""
    if not message.field:
        yield "No fields."
        yield ""
        return
    yield "| Field | Type | Behavior | Description |"
    yield "|---|---|---|---|"
    for index, f in enumerate(message.field):
        label = "repeated " if f.label == f.LABEL_REPEATED and not type_name(protos, f, message).startswith("map<") \
            else ""
        if f.proto3_optional:
            label = "optional "
        oneof = ""
        if f.HasField("oneof_index") and not f.proto3_optional:
            oneof = f"one of `{message.oneof_decl[f.oneof_index].name}`. "
        comment = protos.comments.get((file, (*path, MSG_FIELD, index)), "")
        yield (f"| `{f.name}` | {label}{type_name(protos, f, message)} | {', '.join(behaviors(f))} | "
               f"{_cell(oneof + comment)} |")
    yield ""


def render_enum(protos: Protos, name: str) -> Iterator[str]:
    enum = protos.enums[name]
    file, path = protos.owner[name]
    yield f"### {name.removeprefix(PACKAGE + '.')}"
    yield ""
    if protos.comment(name):
        yield protos.comment(name)
        yield ""
    yield "| Value | Number | Description |"
    yield "|---|---|---|"
    for index, value in enumerate(enum.value):
        comment = protos.comments.get((file, (*path, ENUM_VALUE, index)), "")
        yield f"| `{value.name}` | {value.number} | {_cell(comment)} |"
    yield ""


SAMPLES: dict[str, object] = {
    "code": "def add(a, b):\n    return a + b\n", "language": "python", "entry_point": "add", "input": "add(1, 2)",
    "output": "3", "name": "jobs/0123456789abcdef", "model": "default", "prompts": ["def fibonacci(n):"],
    "id": "r1", "instruction": "Write a function that adds two numbers.",
}


def example_value(protos: Protos, f: descriptor_pb2.FieldDescriptorProto, depth: int) -> object:
    if f.name in SAMPLES:
        value = SAMPLES[f.name]
        return value if f.label != f.LABEL_REPEATED or isinstance(value, list) else [value]
    if f.type == f.TYPE_MESSAGE:
        inner = example(protos, f.type_name.lstrip("."), depth + 1)
        return [inner] if f.label == f.LABEL_REPEATED else inner
    if f.type == f.TYPE_ENUM:
        enum = protos.enums.get(f.type_name.lstrip("."))
        value = enum.value[1].name if enum is not None and len(enum.value) > 1 else 0
        return [value] if f.label == f.LABEL_REPEATED else value
    scalar: object = {f.TYPE_STRING: "...", f.TYPE_BOOL: True}.get(f.type, 1)
    return [scalar] if f.label == f.LABEL_REPEATED else scalar


def example(protos: Protos, name: str, depth: int = 0) -> dict[str, object]:
    """A request built from the REQUIRED fields of message `name` (recursively)."""
    message = protos.messages.get(name)
    if message is None or depth > 4:
        return {}
    return {f.name: example_value(protos, f, depth) for f in message.field
            if field_behavior_pb2.REQUIRED in f.options.Extensions[field_behavior_pb2.field_behavior]}


def render_service(protos: Protos, file: descriptor_pb2.FileDescriptorProto, index: int,
                   examples: dict[str, object]) -> Iterator[str]:
    service = file.service[index]
    yield f"## {service.name}"
    yield ""
    comment = protos.comments.get((file.name, (SERVICE, index)), "")
    if comment:
        yield comment
        yield ""
    port = PORTS.get(service.name, 50051)
    yield f"Default port {port} (`codeinstruct serve {service.name.removesuffix('Service').lower()}`)."
    yield ""
    for m_index, method in enumerate(service.method):
        full = f"{PACKAGE}.{service.name}/{method.name}"
        request = method.input_type.lstrip(".")
        response = method.output_type.lstrip(".")
        shape = f"{'stream ' if method.client_streaming else ''}{_link(request)} → " \
                f"{'stream ' if method.server_streaming else ''}{_link(response)}"
        yield f"### {service.name}.{method.name}"
        yield ""
        yield shape
        yield ""
        comment = protos.comments.get((file.name, (SERVICE, index, METHOD, m_index)), "")
        if comment:
            yield comment
            yield ""
        body = examples.get(full, example(protos, request))
        if isinstance(body, list):
            data = "\n".join(json.dumps(item, sort_keys=False) for item in body)
        else:
            data = json.dumps(body, sort_keys=False)
        yield "```sh"
        yield f"grpcurl -plaintext -d @ localhost:{port} {full} <<'EOF'"
        yield data
        yield "EOF"
        yield "```"
        yield ""


def _link(name: str) -> str:
    short = name.removeprefix(PACKAGE + ".")
    return f"[{short}](#{anchor(short)})" if name.startswith(PACKAGE) else f"`{name}`"


def render(protos: Protos) -> str:
    examples = json.loads((HERE / "examples.json").read_text())
    lines = [
        "<!-- Generated by scripts/apidocs.py from protos/ and scripts/apidocs/: do not edit by hand. -->",
        "",
        (HERE / "intro.md").read_text().rstrip(),
        "",
        "# Services",
        "",
    ]
    by_name = {s.name: (f, i) for f in protos.files for i, s in enumerate(f.service)}
    for name in sorted(by_name, key=lambda n: (SERVICE_ORDER.index(n) if n in SERVICE_ORDER else 99, n)):
        lines += render_service(protos, *by_name[name], examples)
    lines += ["# Messages", ""]
    for name in sorted(protos.messages):
        lines += render_message(protos, name)
    lines += ["# Enums", ""]
    for name in sorted(protos.enums):
        lines += render_enum(protos, name)
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description="Generate docs/api.md from protos/.")
    parser.add_argument("--check", action="store_true", help="fail when docs/api.md is stale instead of writing it")
    args = parser.parse_args()
    text = render(load(compile_protos()))
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            sys.stderr.write("docs/api.md is stale: run .venv/bin/python scripts/apidocs.py\n")
            return 1
        sys.stdout.write("docs/api.md is up to date\n")
        return 0
    OUTPUT.write_text(text)
    sys.stdout.write(f"wrote {OUTPUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
