# packprune. The two commands a newcomer needs:
#   make demo   runs the function end to end on a local AWS stack
#   make test   runs every test
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
CARGO   ?= cargo
STAMP   := $(VENV)/.installed

.PHONY: help demo test unit emulator fmt build venv

help:
	@echo "make demo      run the function end to end against the local stack"
	@echo "make test      run every test: unit, handler, emulator conformance, end to end"
	@echo "make unit      cargo tests only, no virtualenv (end-to-end tests skip, saying why)"
	@echo "make emulator  run the emulator on http://127.0.0.1:4510 with the demo seed"
	@echo "make fmt       format the code"

# moto, boto3, pytest and cargo-lambda, from PyPI into a project-local virtualenv.
$(STAMP): requirements-dev.txt
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

venv: $(STAMP)

# The binaries first: `cargo lambda watch` runs the function with
# `cargo run --bin packprune`, and pytest starts the emulator binary. Each
# package is built on its own, as those commands build it: a workspace-wide
# build would unify features with the emulator's and build a different binary.
build:
	$(CARGO) build --bin packprune
	$(CARGO) build -p packprune-emulator

demo: $(STAMP) build
	$(CARGO) run --quiet --example demo

# Every test; PACKPRUNE_REQUIRE_E2E makes a missing tool a failure, never a skip.
test: $(STAMP) build
	PACKPRUNE_REQUIRE_E2E=1 PACKPRUNE_VENV=$(VENV) $(CARGO) test --workspace --all-targets
	$(PY) -m pytest -q emulator/tests

unit:
	$(CARGO) test --workspace --all-targets

emulator: build
	$(CARGO) run --quiet -p packprune-emulator -- --port 4510 --seed emulator/seeds/demo.json

fmt:
	$(CARGO) fmt --all
