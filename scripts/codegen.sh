#!/usr/bin/env bash
# Regenerates the Python gRPC code from protos/ into services/codeinstruct/v1/.
# `scripts/codegen.sh --check` fails when the checked-in generated code is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
out=services
check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out/codeinstruct/v1"
deps=$(PYTHON="$PY" bash scripts/protodeps.sh)
"$PY" -m grpc_tools.protoc -I protos -I "$deps" --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  protos/codeinstruct/v1/*.proto
touch "$out/codeinstruct/v1/__init__.py"
if [ $check -eq 1 ]; then
  if ! diff -r -x __pycache__ -x __init__.py "$out/codeinstruct/v1" services/codeinstruct/v1 >/dev/null; then
    echo "generated code in services/codeinstruct/v1 is stale: run scripts/codegen.sh" >&2
    diff -r -x __pycache__ -x __init__.py "$out/codeinstruct/v1" services/codeinstruct/v1 | head -20 >&2
    exit 1
  fi
  echo "generated code is up to date"
fi
