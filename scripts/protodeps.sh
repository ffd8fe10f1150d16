#!/usr/bin/env bash
# Prints a folder holding the Google API protos our protos import (google/api, google/rpc,
# google/longrunning), assembled from the installed googleapis-common-protos package: no network,
# no vendored copies. codegen.sh and buf.sh put it on the import path.
# (The package ships google/longrunning/operations.proto as operations_proto.proto; its descriptor,
# and so every import of it, is named operations.proto.)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
site=$("$PY" -c 'import google.api.field_behavior_pb2 as m, pathlib; print(pathlib.Path(m.__file__).parents[2])')
out=build/protodeps
rm -rf "$out"
mkdir -p "$out/google/api" "$out/google/rpc" "$out/google/longrunning"
cp "$site"/google/api/*.proto "$out/google/api/"
cp "$site"/google/rpc/*.proto "$out/google/rpc/"
cp "$site/google/longrunning/operations_proto.proto" "$out/google/longrunning/operations.proto"
echo "$out"
