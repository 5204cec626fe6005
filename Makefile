# Set-up and everyday commands. A fresh clone needs only `make up` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.practicum-installed
PROXY := node_modules/.bin/configurable-http-proxy
PIP := $(VENV)/bin/python -m pip
# pip prints a warning for each unused local index entry; they are noise here.
QUIET_PIP := 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true

.PHONY: install bubblewrap chromium datasets up down status demo test bench lint clean

install: $(VENV_STAMP) $(PROXY) bubblewrap chromium

$(VENV_STAMP): pyproject.toml
	@echo "==> Python environment in $(VENV)/"
	$(PYTHON) -m venv $(VENV)
	@# torch first, pinned: otherwise monai pulls a multi-GB CUDA build of torch.
	set -o pipefail; $(PIP) install --quiet "torch==2.13.0" $(QUIET_PIP)
	set -o pipefail; $(PIP) install --quiet -e ".[test]" $(QUIET_PIP)
	@# jsonschema's optional IRI checker compiles a grammar on import (about 1.4 s in every
	@# Jupyter process: hub, sandbox, formgrader, nbgrader); nothing here validates IRIs.
	$(PIP) uninstall --quiet --yes rfc3987-syntax lark
	$(VENV)/bin/python -c "import torch, monai, pydicom, sklearn, mlflow, jupyterhub, nbgrader, fastapi" 
	touch $@

$(PROXY): package.json package-lock.json
	@echo "==> configurable-http-proxy (npm)"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

bubblewrap:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "==> bubblewrap (sandboxes)"; \
	    (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap)) >/dev/null; \
	  else \
	    echo "note: bubblewrap is not installed; sandboxes will run unconfined (--sandbox none)"; \
	  fi; }

# Debian's chromium drives the LMS pages' browser tests (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "==> chromium (browser tests of the LMS pages)"; \
	    (apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)) >/dev/null; \
	  else \
	    echo "note: chromium is not installed; the LMS pages' browser tests will be skipped"; \
	  fi; }

# The small default datasets, built once into the lab's state folder (mounted by `practicum up`).
DATASETS_BUILD := .lab/datasets/reports/build.json

$(DATASETS_BUILD): | $(VENV_STAMP)
	$(VENV)/bin/practicum datasets build --size small --out .lab/datasets

datasets: install $(DATASETS_BUILD)

up: install $(DATASETS_BUILD)
	$(VENV)/bin/practicum up

down:
	$(VENV)/bin/practicum down

status:
	$(VENV)/bin/practicum status

demo: install
	$(VENV)/bin/practicum demo

test: install
	$(VENV)/bin/pytest

bench: install
	$(VENV)/bin/python bench/lab_startup.py

clean:
	rm -rf $(VENV) node_modules .lab
