"""The end-to-end suite's deployed target, with AWS's answers given by botocore's Stubber (no account here): with
DATASYNC_WORKFLOW_STACK set, the scenarios act on that stack's state machine, found from its outputs, and a scenario
runs against it unchanged."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.e2e import target as e2e
from tests.e2e.test_runs import test_bad_input_fails_naming_the_fields_before_anything_is_made as bad_input_scenario

STACK = "DataSyncWorkflowE2E"
REGION = "eu-west-1"
MACHINE = f"arn:aws:states:{REGION}:111122223333:stateMachine:DataSyncWorkflow"
BATCH_MACHINE = f"{MACHINE}Batch"
EXECUTION = f"arn:aws:states:{REGION}:111122223333:execution:DataSyncWorkflow:e2e-run"
ROLE = "arn:aws:iam::111122223333:role/datasync-e2e-buckets"
CAUSE = "Invalid workflow input: task_arn: must be a DataSync task ARN; max_iterations: at least 1."


@pytest.fixture
def stubbed_aws(monkeypatch):
    """Every client the target makes, stubbed: a test queues AWS's answers on them, and any call not queued fails."""
    clients: dict[str, tuple] = {}
    make = boto3.client

    def client(service: str, region_name: str | None = None, **_):
        if service not in clients:
            made = make(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
            clients[service] = (made, Stubber(made))
            clients[service][1].activate()
        return clients[service][0]

    monkeypatch.setattr(boto3, "client", client)
    monkeypatch.setenv(e2e.BUCKET_ROLE_VARIABLE, ROLE)

    def stubber_of(service: str) -> Stubber:
        client(service, REGION)
        return clients[service][1]

    yield stubber_of
    for _, stubber in clients.values():
        stubber.assert_no_pending_responses()


def outputs(stubber: Stubber) -> None:
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [
                        {"OutputKey": "StateMachineArn", "OutputValue": MACHINE},
                        {"OutputKey": "BatchStateMachineArn", "OutputValue": BATCH_MACHINE},
                        {"OutputKey": "BatchBucketName", "OutputValue": "datasync-workflow-batches"},
                    ],
                }
            ]
        },
        {"StackName": STACK},
    )


def test_the_deployed_target_is_the_stack_its_outputs_name(stubbed_aws):
    outputs(stubbed_aws("cloudformation"))
    deployed = e2e.deployed_target(STACK, REGION)
    assert (deployed.name, deployed.region, deployed.emulated) == (STACK, REGION, False)
    assert (deployed.state_machine_arn, deployed.batch_state_machine_arn) == (MACHINE, BATCH_MACHINE)
    assert (deployed.batch_bucket, deployed.bucket_role_arn) == ("datasync-workflow-batches", ROLE)
    assert deployed.run_seconds == e2e.DEPLOYED_RUN_SECONDS


def test_a_deployed_target_needs_the_bucket_role(stubbed_aws, monkeypatch):
    monkeypatch.delenv(e2e.BUCKET_ROLE_VARIABLE)
    outputs(stubbed_aws("cloudformation"))
    with pytest.raises(RuntimeError, match=e2e.BUCKET_ROLE_VARIABLE):
        e2e.deployed_target(STACK, REGION)


def test_a_scenario_runs_unchanged_on_the_stack(stubbed_aws, monkeypatch):
    monkeypatch.setattr(e2e.time, "sleep", lambda seconds: None)
    outputs(stubbed_aws("cloudformation"))
    deployed = e2e.deployed_target(STACK, REGION)
    sfn, started = stubbed_aws("stepfunctions"), datetime(2026, 12, 3, tzinfo=UTC)
    sfn.add_response(
        "start_execution",
        {"executionArn": EXECUTION, "startDate": started},
        {"stateMachineArn": MACHINE, "name": ANY, "input": '{"task_arn": "not-an-arn", "max_iterations": 0}'},
    )
    running = {"executionArn": EXECUTION, "stateMachineArn": MACHINE, "status": "RUNNING", "startDate": started}
    sfn.add_response("describe_execution", running, {"executionArn": EXECUTION})
    sfn.add_response(
        "describe_execution",
        {**running, "status": "FAILED", "error": "DataSyncInvalidInputError", "cause": CAUSE},
        {"executionArn": EXECUTION},
    )
    entered = [
        {"name": name, "input": "{}"} for name in ("First try", "Validate input and find task", "Classify failure")
    ]
    history = [
        {"id": n + 1, "timestamp": started, "type": "TaskStateEntered", "stateEnteredEventDetails": details}
        for n, details in enumerate(entered)
    ]
    sfn.add_response("get_execution_history", {"events": history}, {"executionArn": EXECUTION})
    bad_input_scenario(deployed)
