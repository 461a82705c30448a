"""The end-to-end suite's deployed target, with AWS's answers given by botocore's Stubber (no account here): with
DATASYNC_WORKFLOW_STACK set, the scenarios act on that stack's state machine, found from its outputs, and a scenario
runs against it unchanged. The bucket role is DATASYNC_WORKFLOW_E2E_BUCKET_ROLE_ARN, else the output of the fixtures
stack that `make e2e-fixtures` deploys."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from tests.e2e import target as e2e
from tests.e2e.test_runs import test_bad_input_fails_naming_the_fields_before_anything_is_made as bad_input_scenario

STACK = "DataSyncWorkflowE2E"
REGION = "eu-west-1"
MACHINE = f"arn:aws:states:{REGION}:111122223333:stateMachine:DataSyncWorkflow"
BATCH_MACHINE = f"{MACHINE}Batch"
EXECUTION = f"arn:aws:states:{REGION}:111122223333:execution:DataSyncWorkflow:e2e-run"
ROLE = "arn:aws:iam::111122223333:role/datasync-e2e-buckets"
SCHEDULER_ROLE = "arn:aws:iam::111122223333:role/datasync-e2e-scheduler"
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
    monkeypatch.setenv(e2e.SCHEDULER_ROLE_VARIABLE, SCHEDULER_ROLE)

    def stubber_of(service: str) -> Stubber:
        client(service, REGION)
        return clients[service][1]

    yield stubber_of
    for _, stubber in clients.values():
        stubber.assert_no_pending_responses()


def outputs(stubber: Stubber, stack: str = STACK, values: dict[str, str] | None = None) -> None:
    values = values or {
        "StateMachineArn": MACHINE,
        "BatchStateMachineArn": BATCH_MACHINE,
        "BatchBucketName": "datasync-workflow-batches",
    }
    stubber.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": stack,
                    "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in values.items()],
                }
            ]
        },
        {"StackName": stack},
    )


def no_fixtures_stack(stubber: Stubber) -> None:
    """CloudFormation's answer to DescribeStacks on a stack that does not exist."""
    stubber.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {e2e.FIXTURES_STACK} does not exist",
        http_status_code=400,
        expected_params={"StackName": e2e.FIXTURES_STACK},
    )


def test_the_deployed_target_is_the_stack_its_outputs_name(stubbed_aws):
    outputs(stubbed_aws("cloudformation"))
    deployed = e2e.deployed_target(STACK, REGION)
    assert (deployed.name, deployed.region, deployed.emulated) == (STACK, REGION, False)
    assert (deployed.state_machine_arn, deployed.batch_state_machine_arn) == (MACHINE, BATCH_MACHINE)
    assert (deployed.batch_bucket, deployed.bucket_role_arn) == ("datasync-workflow-batches", ROLE)
    assert deployed.scheduler_role_arn == SCHEDULER_ROLE
    assert deployed.run_seconds == e2e.DEPLOYED_RUN_SECONDS


def test_without_the_variables_the_roles_are_the_fixtures_stacks_outputs(stubbed_aws, monkeypatch):
    monkeypatch.delenv(e2e.BUCKET_ROLE_VARIABLE)
    monkeypatch.delenv(e2e.SCHEDULER_ROLE_VARIABLE)
    cloudformation, fixtures_role = stubbed_aws("cloudformation"), f"{ROLE}-{REGION}"
    outputs(cloudformation)
    outputs(
        cloudformation,
        e2e.FIXTURES_STACK,
        {e2e.FIXTURES_ROLE_OUTPUT: fixtures_role, e2e.FIXTURES_SCHEDULER_ROLE_OUTPUT: SCHEDULER_ROLE},
    )
    deployed = e2e.deployed_target(STACK, REGION)
    assert (deployed.bucket_role_arn, deployed.scheduler_role_arn) == (fixtures_role, SCHEDULER_ROLE)


def test_a_variable_names_its_role_and_the_fixtures_stack_the_other(stubbed_aws, monkeypatch):
    monkeypatch.delenv(e2e.SCHEDULER_ROLE_VARIABLE)
    cloudformation = stubbed_aws("cloudformation")
    outputs(cloudformation)
    fixtures = {e2e.FIXTURES_ROLE_OUTPUT: f"{ROLE}-fixtures", e2e.FIXTURES_SCHEDULER_ROLE_OUTPUT: SCHEDULER_ROLE}
    outputs(cloudformation, e2e.FIXTURES_STACK, fixtures)
    deployed = e2e.deployed_target(STACK, REGION)
    assert (deployed.bucket_role_arn, deployed.scheduler_role_arn) == (ROLE, SCHEDULER_ROLE)


def test_the_variables_are_used_before_the_fixtures_stack_which_is_not_looked_up(stubbed_aws):
    outputs(stubbed_aws("cloudformation"))  # a DescribeStacks of the fixtures stack would fail: none is queued
    assert e2e.deployed_target(STACK, REGION).bucket_role_arn == ROLE


@pytest.mark.parametrize("variable", [e2e.BUCKET_ROLE_VARIABLE, e2e.SCHEDULER_ROLE_VARIABLE])
def test_a_deployed_target_needs_the_variable_or_the_fixtures_stack_and_says_both(stubbed_aws, monkeypatch, variable):
    monkeypatch.delenv(variable)
    cloudformation = stubbed_aws("cloudformation")
    outputs(cloudformation)
    no_fixtures_stack(cloudformation)
    with pytest.raises(RuntimeError) as raised:
        e2e.deployed_target(STACK, REGION)
    assert all(part in str(raised.value) for part in (variable, e2e.FIXTURES_STACK, "e2e-fixtures"))


def test_a_refused_look_up_of_the_fixtures_stack_is_not_taken_for_its_absence(stubbed_aws, monkeypatch):
    monkeypatch.delenv(e2e.BUCKET_ROLE_VARIABLE)
    cloudformation = stubbed_aws("cloudformation")
    outputs(cloudformation)
    cloudformation.add_client_error(
        "describe_stacks", service_error_code="AccessDenied", expected_params={"StackName": e2e.FIXTURES_STACK}
    )
    with pytest.raises(ClientError, match="AccessDenied"):
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


def test_on_a_stack_what_a_role_may_do_is_asked_of_iams_policy_simulator(stubbed_aws):
    outputs(stubbed_aws("cloudformation"))
    deployed = e2e.deployed_target(STACK, REGION)
    function, role = "DataSyncWorkflowE2E-WorkflowAnnounceFunction-AbC", "arn:aws:iam::111122223333:role/announce"
    stubbed_aws("cloudformation").add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": "WorkflowAnnounceFunction0123ABCD",
                    "PhysicalResourceId": function,
                    "ResourceType": "AWS::Lambda::Function",
                    "LastUpdatedTimestamp": datetime(2026, 12, 1, tzinfo=UTC),
                    "ResourceStatus": "CREATE_COMPLETE",
                }
            ]
        },
        {"StackName": STACK},
    )
    stubbed_aws("lambda").add_response(
        "get_function_configuration", {"FunctionName": function, "Role": role}, {"FunctionName": function}
    )
    bus = f"arn:aws:events:{REGION}:111122223333:event-bus/default"
    stubbed_aws("iam").add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [{"EvalActionName": "events:PutEvents", "EvalDecision": "implicitDeny"}]},
        {
            "PolicySourceArn": role,
            "ActionNames": ["events:PutEvents"],
            "ResourceArns": [bus],
            "ContextEntries": [
                {
                    "ContextKeyName": "events:source",
                    "ContextKeyValues": ["aws.datasync"],
                    "ContextKeyType": "stringList",
                }
            ],
        },
    )
    assert deployed.may("announce", "events:PutEvents", bus, {"events:source": ["aws.datasync"]}) is False
