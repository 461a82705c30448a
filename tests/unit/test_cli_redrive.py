"""`datasync-workflow redrive EXECUTION_ARN`: Step Functions' RedriveExecution of a deployed execution with the user's
credentials, then the same follow as `run`. Step Functions is botocore's Stubber, which checks each request and answer
against the service's API model and fails on a call not queued."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from datasync_steps.names import PREPARE_BATCH_STATE
from datasync_workflow.cli.commands import main
from tests.conftest import stubbed_client

REGION = "eu-west-1"  # the ARN's, whatever the configuration says
EXECUTION = f"arn:aws:states:{REGION}:111122223333:execution:datasync-workflow:nightly-1"
MACHINE = f"arn:aws:states:{REGION}:111122223333:stateMachine:datasync-workflow"
BATCH = f"arn:aws:states:{REGION}:111122223333:execution:datasync-workflow-batch:tonight"
STARTED = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
INPUT = {"task_arn": "arn:aws:datasync:eu-west-1:111122223333:task/task-0123456789abcdef0", "task_id": "copy_finance"}


@pytest.fixture
def sfn(monkeypatch):
    """The Step Functions client the command makes, stubbed; the region it was made for in `regions`."""
    with stubbed_client("stepfunctions") as (client, stubber):
        regions: list[str | None] = []
        make_client = boto3.session.Session.client

        def client_for(self, *args, **kwargs):
            if (kwargs.get("service_name") or args[0]) != "stepfunctions":
                return make_client(self, *args, **kwargs)
            regions.append(self.region_name)
            return client

        monkeypatch.setattr(boto3.session.Session, "client", client_for)
        yield stubber, regions


def described(status: str, execution_input: dict = INPUT, arn: str = EXECUTION, **more) -> dict:
    return {
        "executionArn": arn,
        "stateMachineArn": MACHINE,
        "status": status,
        "startDate": STARTED,
        "input": json.dumps(execution_input),
        **more,
    }


def event(number: int, kind: str, seconds: float = 0, **details) -> dict:
    return {
        "id": number,
        "previousEventId": number - 1,
        "type": kind,
        "timestamp": STARTED + timedelta(seconds=seconds),
        **details,
    }


FIRST_ATTEMPT = [
    event(1, "ExecutionStarted", executionStartedEventDetails={"input": json.dumps(INPUT), "roleArn": "r"}),
    event(2, "TaskStateEntered", 1, stateEnteredEventDetails={"name": "Validate input and find task", "input": "{}"}),
    event(
        3,
        "TaskFailed",
        2,
        taskFailedEventDetails={"resourceType": "lambda", "resource": "invoke", "error": "DataSyncTaskNotFoundError"},
    ),
    event(4, "ExecutionFailed", 3, executionFailedEventDetails={"error": "DataSyncTaskNotFoundError", "cause": "no"}),
]


def redriven(stubber, arn: str = EXECUTION, before: dict | None = None) -> None:
    """The command's calls up to the redrive: what the execution is, the newest event before it, the redrive."""
    stubber.add_response("describe_execution", before or described("FAILED", redriveCount=0), {"executionArn": arn})
    stubber.add_response(
        "get_execution_history",
        {"events": [FIRST_ATTEMPT[-1]]},
        {"executionArn": arn, "reverseOrder": True, "maxResults": 1},
    )
    # botocore adds the clientToken (an idempotency token of the API model) after Stubber has seen the request.
    stubber.add_response("redrive_execution", {"redriveDate": STARTED + timedelta(hours=1)}, {"executionArn": arn})


def followed_to(stubber, last: dict, second_attempt: list[dict], arn: str = EXECUTION, seen_at_the_end=None) -> None:
    """The follower's calls once it has ended: its description, the events newer than the redrive (newest first, as
    far as the last one before it), what the events seen make the command ask (`seen_at_the_end`), the whole
    history."""
    stubber.add_response("describe_execution", last, {"executionArn": arn})
    pages = {"executionArn": arn, "reverseOrder": True, "maxResults": 1000}
    stubber.add_response("get_execution_history", {"events": [*reversed(second_attempt), FIRST_ATTEMPT[-1]]}, pages)
    if seen_at_the_end is not None:
        seen_at_the_end()
    whole = [*reversed(second_attempt), *reversed(FIRST_ATTEMPT)]
    stubber.add_response("get_execution_history", {"events": whole}, pages)


def test_a_redriven_execution_is_followed_from_its_redrive_to_its_end(sfn, capsys):
    stubber, regions = sfn
    redriven(stubber)
    output = {"TaskArn": INPUT["task_arn"], "TaskExecutionArn": "te", "ExecutionStarted": True, "Attempts": 1}
    followed_to(
        stubber,
        described("SUCCEEDED", output=json.dumps(output), redriveCount=1),
        [
            event(5, "ExecutionRedriven", 3600, executionRedrivenEventDetails={"redriveCount": 1}),
            event(6, "TaskStateEntered", 3601, stateEnteredEventDetails={"name": "Validate input and find task"}),
            event(7, "ExecutionSucceeded", 3610, executionSucceededEventDetails={"output": json.dumps(output)}),
        ],
    )
    assert main(["redrive", EXECUTION]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == output
    # Only what the redrive did, timed from it, as `run` shows a run.
    assert captured.err.splitlines() == [
        f"Redriven {EXECUTION} (redrive 1)",
        "[copy_finance] -> Validate input and find task [1.0 s]",
        "Execution SUCCEEDED",
    ]
    assert set(regions) == {REGION}


def test_a_redriven_execution_that_fails_again_exits_1_with_its_error_and_cause(sfn, capsys):
    stubber, _ = sfn
    redriven(stubber)
    followed_to(
        stubber,
        described("FAILED", error="DataSyncTaskNotFoundError", cause="DataSync has no task", redriveCount=1),
        [
            event(5, "ExecutionRedriven", 3600, executionRedrivenEventDetails={"redriveCount": 1}),
            event(6, "FailStateEntered", 3601, stateEnteredEventDetails={"name": "Failed"}),
            event(7, "ExecutionFailed", 3601, executionFailedEventDetails={"error": "DataSyncTaskNotFoundError"}),
        ],
    )
    assert main(["redrive", EXECUTION]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-3:] == ["Execution FAILED", "Error: DataSyncTaskNotFoundError", "Cause: DataSync has no task"]


def test_with_no_wait_it_redrives_and_prints_the_arn(sfn, capsys):
    stubber, _ = sfn
    redriven(stubber)
    assert main(["redrive", EXECUTION, "--no-wait"]) == 0
    assert capsys.readouterr().out == f"{EXECUTION}\n"


@pytest.mark.parametrize("status", ["SUCCEEDED", "RUNNING"])
def test_an_execution_step_functions_will_not_redrive_is_one_line_and_exit_2(sfn, capsys, status):
    stubber, _ = sfn
    stubber.add_response("describe_execution", described(status), {"executionArn": EXECUTION})
    stubber.add_response("get_execution_history", {"events": FIRST_ATTEMPT[-1:]})
    reason = f"Execution is {status} and cannot be redriven"
    stubber.add_client_error("redrive_execution", "ExecutionNotRedrivable", reason, expected_params=None)
    with pytest.raises(SystemExit) as exited:
        main(["redrive", EXECUTION])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # After the usage, as for every usage error: one line, AWS's refusal in it.
    assert err.splitlines()[-1] == (
        f"datasync-workflow: error: cannot redrive {EXECUTION}: An error occurred (ExecutionNotRedrivable) when "
        f"calling the RedriveExecution operation: {reason}"
    )


def test_an_execution_that_is_not_there_is_one_line_and_exit_2(sfn, capsys):
    stubber, _ = sfn
    stubber.add_client_error("describe_execution", "ExecutionDoesNotExist", f"Execution Does Not Exist: '{EXECUTION}'")
    with pytest.raises(SystemExit) as exited:
        main(["redrive", EXECUTION])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(f"Execution Does Not Exist: '{EXECUTION}'")


@pytest.mark.parametrize("arn", ["nightly-1", MACHINE, "arn:aws:datasync:eu-west-1:111122223333:task/task-1"])
def test_what_is_no_execution_arn_is_a_usage_error_and_asks_aws_nothing(sfn, capsys, arn):
    with pytest.raises(SystemExit) as exited:
        main(["redrive", arn])
    assert exited.value.code == 2
    assert "is no execution ARN (arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME)" in capsys.readouterr().err


def test_a_redriven_batch_shows_its_item_count_from_its_first_attempt(sfn, capsys):
    stubber, _ = sfn
    batch_input = {"transfers": [INPUT, {**INPUT, "task_id": "copy_sales"}]}
    redriven(stubber, BATCH, described("FAILED", batch_input, BATCH, redriveCount=0))
    prepared = {
        "count": 2,
        "prefix": "tonight-0a1b2c3d",
        "max_concurrency": 4,
        "workflow_state_machine_arn": MACHINE,
    }
    prepare_exited = event(
        3, "TaskStateExited", 1, stateExitedEventDetails={"name": PREPARE_BATCH_STATE, "output": json.dumps(prepared)}
    )
    stubber.add_response(
        "get_execution_history",
        {"events": [FIRST_ATTEMPT[0], FIRST_ATTEMPT[1], prepare_exited], "nextToken": "more"},
        {"executionArn": BATCH, "maxResults": 100},
    )
    summary = {"Totals": {"Succeeded": 2}}
    followed_to(
        stubber,
        described("SUCCEEDED", batch_input, BATCH, output=json.dumps(summary), redriveCount=1),
        [
            event(5, "ExecutionRedriven", 3600, executionRedrivenEventDetails={"redriveCount": 1}),
            event(6, "ExecutionSucceeded", 3610, executionSucceededEventDetails={"output": json.dumps(summary)}),
        ],
        BATCH,
        # At the batch's end the table lists its children (none shown here: the list is empty).
        lambda: stubber.add_response("list_executions", {"executions": []}, {"stateMachineArn": MACHINE}),
    )
    assert main(["redrive", BATCH]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == summary
    assert captured.err.splitlines() == [
        f"Redriven {BATCH} (redrive 1)",
        "   2 items, at most 4 at once",
        "Execution SUCCEEDED",
    ]


def test_help_says_why_there_is_no_local_redrive(capsys):
    with pytest.raises(SystemExit):
        main(["redrive", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "A local execution lives only in the process that ran it" in shown
    assert "so there is no --local" in shown and "datasync_workflow.local.redrive_local" in shown
