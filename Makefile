# image-api: `make run` starts the API on a local emulator; `make test` runs everything CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
VENV_STAMP := $(VENV)/.installed-$(shell cksum < requirements-dev.txt | cut -d' ' -f1)

export VENV
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help venv run test lint unit-and-integration clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

$(VENV_STAMP): requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(VENV_STAMP) ## create .venv with moto and the aws CLI

run: $(VENV_STAMP) ## start moto (unless an emulator answers on :4566), create bucket+table, serve on 127.0.0.1:3000
	./scripts/run-local.sh

lint: ## rustfmt and clippy, warnings are errors
	cargo fmt --check
	cargo clippy --all-targets --locked -- -D warnings

test: lint $(VENV_STAMP) ## everything CI runs: lint, unit tests, integration tests against moto
	./scripts/with-moto.sh cargo test --locked --all-targets

clean: ## remove build output and the venv
	cargo clean
	rm -rf $(VENV)
