# The two commands a fresh machine needs: `make demo` and `make test`. Each installs what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NODE_TOOLS := node_modules/.installed
# jsii runs on the machine's Node; these keep its banner and the CLI's telemetry quiet.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
# MkDocs Material's banner about its successor, on every build.
export NO_MKDOCS_2_WARNING := 1
# Debian's Chromium, for the docs site's browser tests; another browser of the same kind with CHROMIUM=PATH.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# The CDK command line runs `python3 app.py` (cdk.json): the one in the virtual environment.
CDK := PATH="$(CURDIR)/$(BIN):$$PATH" npx --no-install cdk

.PHONY: install demo test e2e e2e-fixtures bench definition docs lint format synth bootstrap deploy destroy clean

# Installs the pinned Python packages into .venv and the pinned Node tools (the ASL validator, the CDK command line)
# into node_modules; every other target runs it first.
install: $(INSTALLED) $(NODE_TOOLS)

$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev,infra,docs]'
	touch $@

$(NODE_TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Where the machine has no Chromium: Debian's package (tests/workflow/test_docs_site.py opens the built site in it).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium

# Runs examples/find_or_create_update_run_delete.json on this machine, from an empty emulated account with only the
# secret that holds the SMB share's password: each state as it is entered, DataSync's status while it waits, and the
# output.
demo: install
	$(BIN)/datasync-workflow run --local examples/find_or_create_update_run_delete.json --secret datasync-workflow/smb-password

# Runs every test but the deployed ones, on four workers (two cores: most of a test's time is an emulated transfer
# waiting; work stealing keeps them busy to the end); the docs site's in headless Chromium, installed where missing.
test: install $(CHROMIUM)
	$(BIN)/python -m pytest -n 4 --dist worksteal

# Runs the end-to-end scenarios (tests/e2e) on the local emulation, or, with DATASYNC_WORKFLOW_STACK=NAME and AWS
# credentials, on that deployed stack (docs/development.md: what it needs and costs); a verdict line per scenario.
e2e: install
	$(BIN)/python -m pytest tests/e2e -n 4 --dist worksteal -p no:cacheprovider

# Deploys DataSyncWorkflowE2EFixtures, once per account and region: the bucket role make e2e reads on a stack.
e2e-fixtures: install
	$(CDK) deploy -c e2e_fixtures=true DataSyncWorkflowE2EFixtures

# Prints the steps' import times, the DataSync calls of a look-up, the transitions, invocations and history events of
# a run, what runs of a few lengths cost, and a local batch of 1,000 transfers.
bench: install
	$(BIN)/python scripts/benchmark.py

# Writes statemachine/*.asl.json from datasync_workflow/definition/flow.py, then the docs' diagrams of them.
definition: install
	$(BIN)/python -m datasync_workflow.definition.flow
	$(BIN)/python -m docs_tooling.reference

# Writes the reference sections of docs/ from the code (input, errors, permissions, settings, these targets,
# diagrams), then builds the site into site/, strictly: a broken link or anchor, or a page missing, fails.
docs: install
	$(BIN)/python -m docs_tooling.reference
	$(BIN)/mkdocs build --strict --site-dir site

# Checks the code: ruff's lint and format, and mypy with the DataSync, Step Functions and DynamoDB client stubs.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Formats the code and fixes what ruff can.
format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The CloudFormation template into cdk.out/, with no AWS account or credentials.
synth: install
	CDK_OUTDIR=cdk.out $(BIN)/python app.py

# Bootstraps the CDK in your account and region (once), with the credentials of your AWS profile.
bootstrap: install
	$(CDK) bootstrap

# Deploys the stack DataSyncWorkflow with the settings in cdk.json's datasync_workflow context.
deploy: install
	$(CDK) deploy DataSyncWorkflow

# Deletes the stack (its batch bucket is kept, with what it holds).
destroy: install
	$(CDK) destroy DataSyncWorkflow

# Deletes what the targets installed and made.
clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache cdk.out site
