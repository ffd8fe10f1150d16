"""docs/api.md: generated from the protos, fresh, and its grpcurl examples are valid requests."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format, symbol_database

import codeinstruct.v1.generation_pb2
import codeinstruct.v1.sandbox_pb2
import codeinstruct.v1.scoring_pb2
import codeinstruct.v1.training_pb2  # noqa: F401  (registers the messages by full name)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"
EXAMPLE = re.compile(r"grpcurl -plaintext -d @ localhost:\d+ (\S+)/(\w+) <<'EOF'\n(.*?)\nEOF", re.S)


def _apidocs():
    spec = importlib.util.spec_from_file_location("apidocs", ROOT / "scripts" / "apidocs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["apidocs"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_api_reference_is_fresh() -> None:
    apidocs = _apidocs()
    assert DOC.read_text() == apidocs.render(apidocs.load(apidocs.compile_protos())), \
        "docs/api.md is stale: run .venv/bin/python scripts/apidocs.py"


def _examples() -> list[tuple[str, str, str]]:
    return EXAMPLE.findall(DOC.read_text())


def test_every_rpc_has_an_example() -> None:
    pool = symbol_database.Default().pool
    documented = {(service, method) for service, method, _ in _examples()}
    for name in ("GenerationService", "SandboxService", "ScoringService", "TrainingService"):
        service = pool.FindServiceByName(f"codeinstruct.v1.{name}")
        for method in service.methods:
            assert (service.full_name, method.name) in documented, f"{service.full_name}/{method.name}"


@pytest.mark.parametrize("service,method,body",
                         [pytest.param(*example, id=f"{example[0].split('.')[-1]}.{example[1]}")
                          for example in _examples()])
def test_examples_parse_as_their_request(service: str, method: str, body: str) -> None:
    pool = symbol_database.Default().pool
    descriptor = pool.FindServiceByName(service).methods_by_name[method].input_type
    request_class = symbol_database.Default().GetSymbol(descriptor.full_name)
    for line in body.splitlines():  # client streams: one JSON message per line
        json_format.Parse(line, request_class())  # raises on an unknown field or a bad value
        json.loads(line)
