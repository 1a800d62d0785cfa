# FlexCharge — the two commands a user needs are `make run` and `make test`.
# Everything else they need is installed by `make setup` into .venv (pinned in requirements.txt).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MP := $(VENV)/bin/micropython
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)
# MICROPYPATH replaces the port's default path, which holds .frozen (asyncio, ssl...).
MPPATH := .frozen:$(CURDIR)/firmware:$(CURDIR)/boards/unix:$(CURDIR)/host_tests/portable
PYTEST := $(PY) -m pytest -q -p no:cacheprovider

.PHONY: help setup run test test-unit test-mpy test-integration bench clean

help:
	@echo "make run      — dev CSMS + simulated station on the MicroPython unix port: a short demo"
	@echo "make test     — unit tests (CPython), portable tests (MicroPython), integration tests"
	@echo "make bench    — benchmarks (ratios measured side by side)"
	@echo "make setup    — create .venv with the pinned host tools (run/test do this when needed)"
	@echo "make bundle BOARD=… | deploy BOARD=… PORT=… | flash BOARD=esp32 PORT=… IMAGE=… | firmware BOARD=… MPY_DIR=…"

setup: $(STAMP)

$(STAMP): requirements.txt
	@rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	@$(MP) -c "import ssl, asyncio; print('micropython ok')"
	@touch $@

run: setup
	$(PY) tools/demo.py

test: setup test-unit test-mpy test-integration

test-unit: setup
	$(PYTEST) host_tests/portable host_tests/unit

# 4 MB: the runner imports every firmware module from source into one heap (~400 KB of code that
# stays) and the WebSocket tests need 64 KB contiguous blocks after it; heap budgets are measured
# by `make bench` on the frozen qemu build, not here.
test-mpy: setup
	MICROPYPATH=$(MPPATH) timeout 600 $(MP) -X heapsize=4M host_tests/mpy_runner.py

test-integration: setup
	$(PYTEST) host_tests/integration

bench: setup
	@for b in tools/bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf build .pytest_cache

-include mk/*.mk
