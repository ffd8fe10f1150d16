#!/usr/bin/env bash
# buf over protos/ with the Google API protos on the import path (scripts/protodeps.sh).
#   scripts/buf.sh lint       STANDARD lint rules (protos/buf.yaml)
#   scripts/buf.sh breaking   FILE-level breaking-change check against the released API,
#                             protos/released/codeinstruct-v1.binpb (a buf image)
#   scripts/buf.sh release    writes that image from the current protos: a deliberate act, done
#                             when an API version is released or a breaking change is accepted
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BUF=$(realpath "${BUF:-.venv/bin/buf}")
deps=$(PYTHON="$PY" bash scripts/protodeps.sh)
work=build/bufworkspace
rm -rf "$work"
mkdir -p "$work"
cp -r protos "$work/protos"
rm -rf "$work/protos/released" "$work/protos/buf.yaml"
cp -r "$deps" "$work/deps"
cat > "$work/buf.yaml" <<YAML
version: v2
modules:
  - path: protos
    lint:
      use: [STANDARD]
    breaking:
      use: [FILE]
  - path: deps
YAML
released=$PWD/protos/released/codeinstruct-v1.binpb
case "${1:-}" in
  lint)
    (cd "$work" && "$BUF" lint --path protos/codeinstruct)
    echo "buf lint: clean" ;;
  breaking)
    if [ ! -f "$released" ]; then echo "no released API image at $released" >&2; exit 1; fi
    # Image against image: both hold only our files (the Google protos are imports, not checked).
    (cd "$work" && "$BUF" build --path protos/codeinstruct -o current.binpb &&
      "$BUF" breaking current.binpb --against "$released" --config '{"version": "v2", "breaking": {"use": ["FILE"]}}')
    echo "buf breaking: no breaking change against $released" ;;
  release)
    mkdir -p protos/released
    (cd "$work" && "$BUF" build --path protos/codeinstruct -o "$released")
    echo "wrote $released" ;;
  *) echo "usage: scripts/buf.sh lint|breaking|release" >&2; exit 2 ;;
esac
