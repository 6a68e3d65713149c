# image-api: `make run` starts the API on a local emulator; `make test` runs everything CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
DEPLOY_VENV ?= .venv-deploy
CHECKOV_VENV ?= .venv-checkov
SCHEMATHESIS_VENV ?= .venv-schemathesis
BENCH_VENV ?= .venv-bench
stamp = $(1)/.installed-$(shell cksum < $(2) | cut -d' ' -f1)
VENV_STAMP := $(call stamp,$(VENV),requirements-dev.txt)
DEPLOY_STAMP := $(call stamp,$(DEPLOY_VENV),requirements-deploy.txt)
CHECKOV_STAMP := $(call stamp,$(CHECKOV_VENV),requirements-checkov.txt)
SCHEMATHESIS_STAMP := $(call stamp,$(SCHEMATHESIS_VENV),requirements-schemathesis.txt)
BENCH_STAMP := $(call stamp,$(BENCH_VENV),requirements-bench.txt)
BROWSER_VENV ?= .venv-browser
BROWSER_STAMP := $(call stamp,$(BROWSER_VENV),requirements-browser.txt)
# Debian's Chromium, driven by Playwright; never a browser download (`playwright install`).
CHROMIUM ?= /usr/bin/chromium

# Lambda build: arm64 by default, `make build-lambda LAMBDA_ARCH=--x86-64` for x86.
LAMBDA_ARCH ?= --arm64
STACK_NAME ?= image-api
REGION ?= us-east-1

export VENV DEPLOY_VENV SCHEMATHESIS_VENV
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/$(DEPLOY_VENV)/bin:$(PATH)
export SAM_CLI_TELEMETRY := 0

.PHONY: bench help run test lint lint-template check-template-table test-rust test-iam test-schemathesis test-browser test-cli load fuzz fuzz-smoke openapi test-lambda sam-build \
        build-lambda deploy-local smoke-local start-api test-sam-local clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

# --- tool installs (each venv is rebuilt when its requirements file changes) ---------------
# $(call install_venv,DIR,REQUIREMENTS): a fresh venv with exactly those packages.
define install_venv
	@rm -f $(1)/.installed-*
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet --disable-pip-version-check -r $(2)
endef

$(VENV_STAMP): requirements-dev.txt
	$(call install_venv,$(VENV),$<)
	@touch $@

# aws-sam-cli, samlocal, cfn-lint, cargo-lambda and zig; plus the arm64 Rust target.
$(DEPLOY_STAMP): requirements-deploy.txt
	$(call install_venv,$(DEPLOY_VENV),$<)
	@# cargo-lambda looks for `zig` on PATH; the ziglang package ships it as a module.
	printf '#!/bin/sh\nexec "%s" -m ziglang "$$@"\n' "$(CURDIR)/$(DEPLOY_VENV)/bin/python" > $(DEPLOY_VENV)/bin/zig
	chmod +x $(DEPLOY_VENV)/bin/zig
	rustup target add aarch64-unknown-linux-gnu
	@touch $@

$(SCHEMATHESIS_STAMP): requirements-schemathesis.txt
	$(call install_venv,$(SCHEMATHESIS_VENV),$<)
	@touch $@

$(BENCH_STAMP): requirements-bench.txt
	$(call install_venv,$(BENCH_VENV),$<)
	@touch $@

$(BROWSER_STAMP): requirements-browser.txt
	$(call install_venv,$(BROWSER_VENV),$<)
	@touch $@

$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

$(CHECKOV_STAMP): requirements-checkov.txt
	$(call install_venv,$(CHECKOV_VENV),$<)
	@touch $@

# --- everyday -------------------------------------------------------------------------
run: $(VENV_STAMP) ## start moto (unless an emulator answers on :4566), create bucket+table, serve on 127.0.0.1:3000
	./scripts/run-local.sh

test: lint lint-template check-template-table test-rust test-iam fuzz-smoke test-schemathesis test-browser test-cli load test-lambda sam-build test-sam-local ## everything CI runs
	@echo "make test: all checks passed"

lint: ## rustfmt, clippy (warnings are errors), no import circle between modules
	cargo fmt --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(PYTHON) scripts/check_module_cycles.py

test-rust: $(VENV_STAMP) ## unit, integration and Lambda-event tests against a private moto server
	./scripts/with-moto.sh cargo test --locked --all-targets -p image-api -p image-api-imaging

test-iam: test-rust ## the API suites with exactly the template's permissions on an IAM-enforcing moto; and without s3:ListBucket they must fail
	./scripts/test-iam.sh

test-schemathesis: test-rust $(SCHEMATHESIS_STAMP) ## schemathesis on every operation (stateful links too) against the server on moto
	./scripts/with-moto.sh ./scripts/schemathesis.sh

test-browser: test-rust $(BROWSER_STAMP) $(CHROMIUM) ## the gallery page in Chromium (Playwright) against the server on moto; screenshots in the target dir
	./scripts/with-moto.sh env BROWSER_VENV=$(BROWSER_VENV) CHROMIUM=$(CHROMIUM) ./scripts/test-browser.sh

test-cli: test-rust ## the command-line client end to end against the server on moto (and a failing one)
	./scripts/with-moto.sh ./scripts/test-cli.sh

load: test-rust ## 3000 mixed requests at concurrency 32: no 5xx, nothing lost, memory settles
	./scripts/with-moto.sh $(PYTHON) bench/load.py

fuzz: ## cargo-fuzz the image readers for FUZZ_SECONDS each (default 60); FUZZ_TARGETS=all adds the service's parsers
	./scripts/fuzz.sh $(FUZZ_TARGETS)

fuzz-smoke: test-rust ## each image reader's fuzz target for 10 s from the seeds and past findings (a crash fails the run)
	FUZZ_SECONDS=10 ./scripts/fuzz.sh

openapi: ## rewrite docs/openapi.json from the code
	cargo run --quiet --locked --bin image-api -- openapi > docs/openapi.json

lint-template: $(DEPLOY_STAMP) $(CHECKOV_STAMP) ## sam validate --lint, cfn-lint and checkov on template.yaml
	sam validate --lint --region $(REGION)
	cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --skip-download --quiet --compact

check-template-table: $(VENV_STAMP) $(DEPLOY_STAMP) ## template.yaml and setup-localstack.sh define the same table
	./scripts/with-moto.sh ./scripts/check-template-table.sh

test-lambda: $(VENV_STAMP) $(DEPLOY_STAMP) ## the function under `cargo lambda watch` (real runtime loop) against moto
	./scripts/with-moto.sh ./scripts/test-lambda.sh

bench: $(VENV_STAMP) $(BENCH_STAMP) bench/thumbs/node_modules ## benchmark the release binary against moto, thumbnails against sharp and Pillow, and the costliest inputs per format; tables on stdout, JSON in bench/ of the target dir
	cargo build --release --locked --bin image-api
	cargo build --release --locked --example floor --example thumbnail --example upload_steps
	$(BENCH_VENV)/bin/python bench/thumbnails.py "$$(./scripts/target-dir)/release/examples/thumbnail"
	./scripts/with-moto.sh $(PYTHON) bench/bench.py
	./scripts/with-moto.sh $(BENCH_VENV)/bin/python bench/hostile.py

# sharp, the thumbnail peer: exactly the version package-lock.json names, from the npm registry.
bench/thumbs/node_modules: bench/thumbs/package-lock.json
	cd bench/thumbs && npm ci --no-audit --no-fund
	@touch $@

# --- Lambda build and deploy ------------------------------------------------------------------
sam-build: $(DEPLOY_STAMP) ## sam build: the deployable arm64 bootstrap, built by cargo-lambda as users do
	sam build --beta-features
	@ls -l .aws-sam/build/ImageApiFunction/bootstrap

build-lambda: $(DEPLOY_STAMP) ## cargo lambda build --release (arm64; LAMBDA_ARCH=--x86-64 for x86), zipped
	cargo lambda build --release $(LAMBDA_ARCH) --output-format zip
	@ls -l "$$(./scripts/target-dir)/lambda/image-api/bootstrap.zip"

deploy-local: $(VENV_STAMP) $(DEPLOY_STAMP) ## build and deploy the SAM stack into LocalStack (needs Docker: docker compose up -d)
	./scripts/deploy-local.sh $(STACK_NAME)

smoke-local: $(VENV_STAMP) ## upload, list, fetch and delete one image through the LocalStack deployment (or API_URL=...)
	./scripts/smoke.sh "$${API_URL:-$$(./scripts/deploy-local.sh --url $(STACK_NAME))}"

# The function in Docker under `sam local start-api`, against the emulator of `make run` or of
# `docker compose` at EMULATOR_URL as the container sees it. host.docker.internal is the host:
# Docker Desktop knows it, and on Linux --add-host maps it to the bridge gateway (there the
# emulator must listen on the bridge address: `LOCALSTACK_ENDPOINT=http://172.17.0.1:4566 make run`;
# LocalStack's published port already does). arm64 on an x86-64 Linux host needs QEMU (README).
EMULATOR_URL ?= http://host.docker.internal:4566
start-api: $(DEPLOY_STAMP) ## sam local start-api on :3001 (needs Docker, and the emulator of make run or docker compose)
	sam build --beta-features
	sam local start-api --port 3001 --warm-containers EAGER \
	  --add-host host.docker.internal:host-gateway \
	  --env-vars <(printf '{"ImageApiFunction":{"LOCALSTACK_ENDPOINT":"%s","BUCKET_NAME":"images","TABLE_NAME":"images"}}' "$(EMULATOR_URL)")

test-sam-local: sam-build $(VENV_STAMP) ## the contract through sam local start-api in Docker, against a private moto (scripts/test-sam-local.sh)
	./scripts/test-sam-local.sh

clean: ## remove build output and the venvs
	cargo clean
	rm -rf $(VENV) $(DEPLOY_VENV) $(CHECKOV_VENV) $(SCHEMATHESIS_VENV) $(BENCH_VENV) .aws-sam bench/thumbs/node_modules
