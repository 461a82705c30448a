"""Opt-in: run the deployed state machine for real. `make e2e` with DATASYNC_WORKFLOW_STACK naming a deployed
stack (and AWS credentials for its account and region); DATASYNC_WORKFLOW_E2E_TASK_ARN names a DataSync task
that may be run, for the test that transfers."""

import json
import os
import time

import boto3
import pytest

STACK = os.environ.get("DATASYNC_WORKFLOW_STACK")
TASK_ARN = os.environ.get("DATASYNC_WORKFLOW_E2E_TASK_ARN")
TIMEOUT_SECONDS = int(os.environ.get("DATASYNC_WORKFLOW_E2E_TIMEOUT", "3600"))

pytestmark = pytest.mark.skipif(not STACK, reason="set DATASYNC_WORKFLOW_STACK to the name of a deployed stack")


@pytest.fixture(scope="module")
def state_machine_arn():
    (stack,) = boto3.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "StateMachineArn")


def run(state_machine_arn: str, execution_input: dict) -> tuple[dict, list[dict]]:
    sfn = boto3.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=state_machine_arn, input=json.dumps(execution_input))["executionArn"]
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            sfn.stop_execution(executionArn=arn, cause="the end-to-end test ran out of time")
            pytest.fail(f"{arn} still running after {TIMEOUT_SECONDS} s; stopped")
        time.sleep(5)
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    return described, [event for page in pages for event in page["events"]]


def test_bad_input_fails_with_the_field_named_and_the_plain_cause(state_machine_arn):
    described, history = run(state_machine_arn, {"task_arn": "not-an-arn", "max_iterations": 0})
    assert described["status"] == "FAILED"
    assert described["error"] == "DataSyncInvalidInputError"
    assert "task_arn" in described["cause"] and "max_iterations" in described["cause"]
    assert "stackTrace" not in described["cause"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered[0] == "Validate input and find task" and "Start execution" not in entered


def test_a_password_in_the_input_is_refused_and_appears_in_no_later_event(state_machine_arn):
    password = "e2e-not-a-real-password"
    smb = {"ServerHostname": "h", "Subdirectory": "/s", "User": "u", "Password": password, "AgentArns": []}
    execution_input = {"source_location_uri": "smb://h/s", "destination_location_uri": "s3://b/p"}
    described, history = run(state_machine_arn, {**execution_input, "create_source_location_kwargs": smb})
    assert described["error"] == "DataSyncInvalidInputError" and "Password" in described["cause"]
    holding = [e["type"] for e in history if password in json.dumps(e, default=str)]
    assert holding == ["ExecutionStarted", "TaskStateEntered"]  # the execution's own input, nothing after


@pytest.mark.skipif(not TASK_ARN, reason="set DATASYNC_WORKFLOW_E2E_TASK_ARN to a task that may be run")
def test_a_real_task_runs_to_success_and_datasyncs_event_ends_the_wait(state_machine_arn):
    # An hour between checks: the run ends well before that only if DataSync's event reached the workflow.
    described, history = run(state_machine_arn, {"task_arn": TASK_ARN, "wait_interval_seconds": 3600})
    assert described["status"] == "SUCCEEDED", described.get("cause")
    output = json.loads(described["output"])
    assert output["TaskArn"] == TASK_ARN
    assert output["TaskExecution"]["Status"] == "SUCCESS"
    assert output["ConsoleUrls"]["TaskExecution"].endswith(output["TaskExecutionArn"].split("/")[-1])
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert entered.index("Start execution") < entered.index("Describe finished execution")
    assert "Check execution status" not in entered
    (woken,) = [e for e in history if e["type"] == "TaskSucceeded"]
    assert json.loads(woken["taskSucceededEventDetails"]["output"]) == {"Status": "SUCCESS"}
