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
# The CDK command line runs `python3 app.py` (cdk.json): the one in the virtual environment.
CDK := PATH="$(CURDIR)/$(BIN):$$PATH" npx --no-install cdk

.PHONY: install demo test e2e bench definition diagram lint format synth bootstrap deploy destroy clean

install: $(INSTALLED) $(NODE_TOOLS)

$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev,infra]'
	touch $@

$(NODE_TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Runs examples/find_or_create_update_run_delete.json on this machine, from an empty emulated account with only the
# secret that holds the SMB share's password.
demo: install
	$(BIN)/datasync-workflow run --local examples/find_or_create_update_run_delete.json --secret datasync-workflow/smb-password

# Four workers on two cores: most of a test's time is an emulated transfer waiting. Work stealing keeps them busy to
# the end, when the longest tests would otherwise run on one.
test: install
	$(BIN)/python -m pytest -n 4 --dist worksteal

# Against a deployed stack: DATASYNC_WORKFLOW_STACK=DataSyncWorkflow make e2e (see tests/e2e).
e2e: install
	$(BIN)/python -m pytest tests/e2e -v

# Prints the DataSync calls of a look-up, the transitions, invocations and history events of a run, what runs of
# a few lengths cost, and the steps' import times.
bench: install
	$(BIN)/python scripts/benchmark.py

# statemachine/datasync_workflow.asl.json from datasync_workflow/flow.py, then README's picture of it.
definition: install
	$(BIN)/python -m datasync_workflow.flow
	$(BIN)/python -m datasync_workflow.diagram

# README's picture of the state machine, drawn from statemachine/datasync_workflow.asl.json.
diagram: install
	$(BIN)/python -m datasync_workflow.diagram

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The CloudFormation template into cdk.out/, with no AWS account or credentials.
synth: install
	CDK_OUTDIR=cdk.out $(BIN)/python app.py

bootstrap: install
	$(CDK) bootstrap

deploy: install
	$(CDK) deploy DataSyncWorkflow

destroy: install
	$(CDK) destroy DataSyncWorkflow

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache cdk.out
