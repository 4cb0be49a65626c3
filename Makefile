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

.PHONY: help demo test test-build test-chaos test-chaos-quotas test-spin test-rest unit emulator fmt bins cli build bench deploy invoke-remote logs lint one-tls-stack lambda-deps venv docs-check local invoke plan dlq redrive cat edit try-it

STACK_NAME ?= packprune
# The tools in the virtualenv (cargo-lambda, zig, sam, cfn-lint) come first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0
LAMBDA_BINARY := target/lambda/packprune/bootstrap

help:
	@echo "make demo      run the function end to end against the local stack"
	@echo "make test      run every test: unit, handler, emulator conformance, end to end"
	@echo "make test-build | test-chaos | test-chaos-quotas | test-spin | test-rest   make test's parts, one at a time"
	@echo "make test-spin the never-spin run (tests/spin.rs): one shared quota per service, faults, 5 s deadlines"
	@echo "make unit      cargo tests only, no virtualenv (end-to-end tests skip, saying so on the terminal)"
	@echo "make local     the whole local stack for your own requests (README, "Try your own request"): emulator, moto, the function, a queue poller"
	@echo "make invoke EVENT=events/x.json | REQUEST='{...}'   send a request to the local function"
	@echo "make plan EVENT=events/x.json | REQUEST='{...}'     packprune-cli plan against the local stack (read calls only)"
	@echo "make dlq | make redrive   read the local dead-letter queue | send its messages back to the work queue"
	@echo "make cat [URI=s3://...] | make edit PACKAGE=... VERSION=... SET=field=json   read a local report | change a version in the emulator"
	@echo "make try-it    run the README's \"Try your own request\" as written against a fresh make local"
	@echo "make docs-check   the docs name every variable, field, parameter, output and metric the code has"
	@echo "make emulator  run the emulator on http://127.0.0.1:4510 with the demo seed"
	@echo "make fmt       format the code"
	@echo "make lint      cargo fmt --check, clippy -D warnings, cfn-lint and sam validate --lint"
	@echo "make build     the Lambda binary: cargo lambda build --release --arm64"
	@echo "make cli       packprune-cli (docs/cli.md): target/debug/packprune-cli"
	@echo "make bench     quota-bound runs against the emulator, the download path, dependency protection, cold start, RSS, sizes: writes BENCHMARKS.md"
	@echo "make deploy    sam build && sam deploy (guided the first time)"
	@echo "make invoke-remote EVENT=events/x.json | REQUEST='{...}'   invoke the deployed function"
	@echo "make logs      tail the deployed function's logs"

# moto, boto3, pytest and cargo-lambda, from PyPI into a project-local virtualenv.
$(STAMP): requirements-dev.txt
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@

venv: $(STAMP)

# The binaries for `make demo`, `make local` (so `make try-it` and the
# walk-through in .ci/run) and `make emulator`: `cargo lambda watch` runs
# the function with `cargo run --bin packprune`. Each
# package is built on its own, as those commands build it: a workspace-wide
# build would unify features with the emulator's and build a different binary.
bins:
	$(CARGO) build --bin packprune
	$(CARGO) build -p packprune-emulator
	$(CARGO) build -p packprune-cli

# packprune-cli alone (docs/cli.md). `cargo install --path cli` installs it.
cli:
	$(CARGO) build -p packprune-cli
	@echo "built target/debug/packprune-cli"

demo: $(STAMP) bins
	$(CARGO) run --quiet --example demo

# Every test; a missing tool fails the end-to-end tests, never skips them.
# One build of every target (the virtualenv installs beside it), then the
# tests in three processes at once: the chaos suite's two runs are bound by
# the clock (quotas, latency, visibility timeouts) more than the CPU, and each
# sets its process's endpoints, so each gets a process of its own beside
# everything else, and so does the never-spin run (tests/spin.rs, also
# clock-bound). The fourth process runs every target, skipping exactly
# those three tests (a renamed one runs there rather than nowhere). The
# end-to-end tests run the `packprune` binary this build makes
# (tests/support, `LambdaWatch`), and pytest the emulator binary it makes.
test:
	@$(MAKE) --no-print-directory -j2 $(STAMP) test-build
	@$(MAKE) --no-print-directory -j4 --output-sync=target test-chaos test-chaos-quotas test-spin test-rest
	$(PY) -m pytest -q emulator/tests

CHAOS_RUN := five_thousand_versions_under_chaos_lose_nothing
CHAOS_QUOTAS := a_third_of_the_quotas_and_short_deadlines_exhaust_nothing
SPIN_RUN := one_shared_bucket_per_service_and_five_second_deadlines_still_settle_everything
TEST_RUN := PACKPRUNE_VENV=$(VENV) $(CARGO) test --workspace

# The test binaries, then the real ones with the same features (pytest
# starts the emulator's).
test-build:
	$(CARGO) test --workspace --all-targets --no-run
	$(CARGO) build --workspace --bins --tests

test-chaos:
	$(TEST_RUN) --test chaos -- --exact $(CHAOS_RUN)

test-chaos-quotas:
	$(TEST_RUN) --test chaos -- --exact $(CHAOS_QUOTAS)

# Issue 26: one token bucket per service shared by every call, faults,
# duplicate deliveries and 5 s deadlines; it must drain within 15 minutes
# (tests/spin.rs; RELIABILITY.md has its figures).
test-spin:
	$(TEST_RUN) --test spin -- --exact $(SPIN_RUN)

test-rest:
	$(TEST_RUN) --all-targets -- --exact --skip $(CHAOS_RUN) --skip $(CHAOS_QUOTAS) --skip $(SPIN_RUN)

# The documents name every variable, field, parameter and output the code
# has, and nothing else (also run by `make test`, as tests/docs.rs).
docs-check:
	$(CARGO) test --test docs

# The local stack for one's own requests (README, "Try your own request"). It runs until
# interrupted; the commands below talk to it through target/local/env.
local: $(STAMP) bins
	$(CARGO) run --quiet --example local

# Runs the README's "Try your own request" as written against a fresh `make local` (CI does).
try-it: $(STAMP) bins
	$(PY) scripts/try_it.py

LOCAL_ENV := target/local/env
$(LOCAL_ENV):
	@echo "the local stack is not running: start it with make local" >&2; exit 1

# REQUEST and SET reach the commands through a file, unexpanded: a `$` or a
# quote in the JSON stays as written.
invoke: $(LOCAL_ENV)
	$(if $(EVENT)$(value REQUEST),,$(error give EVENT=events/<file>.json or REQUEST='<json>'))
	$(if $(EVENT),,$(file >target/local/request.json,$(value REQUEST)))
	@cargo lambda invoke packprune --invoke-address 127.0.0.1 --invoke-port 9000 --output-format json \
	  --data-file $(if $(EVENT),$(EVENT),target/local/request.json)
	@echo

# packprune-cli plan against the local stack: its endpoints and table from
# target/local/env; the plan goes to target/local/plans/.
plan: $(LOCAL_ENV)
	$(if $(EVENT)$(value REQUEST),,$(error give EVENT=events/<file>.json or REQUEST='<json>'))
	$(if $(EVENT),,$(file >target/local/plan-request.json,$(value REQUEST)))
	@set -a; . $(LOCAL_ENV); set +a; $(CARGO) run --quiet -p packprune-cli -- plan \
	  --out target/local/plans/$$(date +%s%N) $(if $(EVENT),$(EVENT),target/local/plan-request.json)

dlq: $(LOCAL_ENV)
	@$(PY) scripts/local.py dlq

redrive: $(LOCAL_ENV)
	@$(PY) scripts/local.py redrive

cat: $(LOCAL_ENV)
	@$(PY) scripts/local.py cat $(URI)

edit: $(LOCAL_ENV)
	$(file >target/local/set.txt,$(value SET))
	@$(PY) scripts/local.py edit "$(PACKAGE)" "$(VERSION)" target/local/set.txt "$(DOMAIN)" "$(REPOSITORY)" "$(NAMESPACE)"

unit:
	PACKPRUNE_SKIP_E2E=1 $(CARGO) test --workspace --all-targets

emulator: bins
	$(CARGO) run --quiet -p packprune-emulator -- --port 4510 --seed emulator/seeds/demo.json

fmt:
	$(CARGO) fmt --all

# The deployable binary: arm64 (Graviton), release, linked by zig from PyPI.
build: $(STAMP)
	rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 --bin packprune
	@echo "$(LAMBDA_BINARY): $$(du -h $(LAMBDA_BINARY) | cut -f1) ($$(stat -c %s $(LAMBDA_BINARY)) bytes)"

# BENCHMARKS.md: the release binary (x86_64) run through a local Runtime API
# against the emulator's quotas, beside a naive loop; the arm64 build for its
# size. Took 28 min 44 s on 2 cores (docs/testing.md), about 17 of them
# the download path against moto. The dependency workloads (issue 28) came
# after: `--only backfill` took 6 min 7 s (a 1 min build of the bench
# included) and `--only protected` 11 min 27 s, about 8 of them on moto.
bench: $(STAMP) build
	$(CARGO) build --release --bin packprune
	$(CARGO) run --release -p packprune-bench -- --out BENCHMARKS.md

# Exactly one rustls and one hyper, in the function's build and its tests'.
one-tls-stack:
	@for crate in rustls hyper; do \
	  found=$$($(CARGO) tree --workspace -e normal,dev --target all --prefix none | grep -E "^$$crate v" | cut -d' ' -f2 | sort -u); \
	  if [ "$$(echo "$$found" | wc -l)" -ne 1 ]; then \
	    echo "more than one $$crate in the dependency tree:" $$found; $(CARGO) tree --workspace -e normal,dev --target all -i $$crate; exit 1; \
	  fi; echo "one $$crate: $$found"; \
	done

# The Lambda binary links none of what only packprune-cli needs (the SSO
# and credential-process providers, argument parsing, terminal output).
CLI_ONLY := aws-sdk-sso aws-sdk-ssooidc clap indicatif console
lambda-deps:
	@found=$$($(CARGO) tree -p packprune -e normal --target all --prefix none | cut -d' ' -f1 | sort -u | grep -Fx -f <(printf '%s\n' $(CLI_ONLY)) || true); \
	if [ -n "$$found" ]; then echo "the Lambda binary's dependencies include what only packprune-cli needs:" $$found; exit 1; fi; \
	echo "the Lambda binary links none of: $(CLI_ONLY)"

lint: $(STAMP) one-tls-stack lambda-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cfn-lint template.yaml
	sam validate --lint --region us-east-1

# sam build uses cargo-lambda (BuildMethod: rust-cargolambda). The first
# deploy is guided and writes samconfig.toml; later ones reuse it.
deploy: $(STAMP)
	sam build --beta-features
	if [ -f samconfig.toml ]; then sam deploy; else sam deploy --guided --stack-name $(STACK_NAME) --capabilities CAPABILITY_IAM; fi

invoke-remote: $(STAMP)
	$(if $(EVENT)$(value REQUEST),,$(error give EVENT=events/<file>.json or REQUEST='<json>'))
	$(if $(EVENT),,$(file >target/remote-request.json,$(value REQUEST)))
	sam remote invoke Function --stack-name $(STACK_NAME) --event-file $(if $(EVENT),$(EVENT),target/remote-request.json)

logs: $(STAMP)
	sam logs --stack-name $(STACK_NAME) --name Function --tail
