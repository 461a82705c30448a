"""announce: the "DataSync Workflow Run Finished" event, built from what Step Functions says of the execution, never
from the event that ran the step. Step Functions' answers by Stubber (it checks each call against the API model and
fails on any call not queued); DataSync is the emulated one."""

import json
from datetime import UTC, datetime

import pytest

from datasync_steps import announce
from datasync_steps.announce import announce as put_event
from datasync_steps.announce import run_finished
from datasync_steps.deployment import WORKFLOW_STATE_MACHINE_VARIABLE
from datasync_steps.errors import DataSyncTransientError
from datasync_workflow.definition.steps import step_named
from datasync_workflow.local.runner import _LambdaContext
from tests.conftest import stubbed_client

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow"
WORKFLOW = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:run-1"


@pytest.fixture(autouse=True)
def this_workflow(monkeypatch):
    monkeypatch.setenv(WORKFLOW_STATE_MACHINE_VARIABLE, STATE_MACHINE)


def described(status: str, state_machine: str = STATE_MACHINE, **more) -> dict:
    return {
        "executionArn": WORKFLOW,
        "stateMachineArn": state_machine,
        "status": status,
        "startDate": datetime.now(UTC),
        "input": json.dumps({"task_arn": "arn:aws:datasync:us-east-1:111122223333:task/task-1", "task_id": "nightly"}),
        **more,
    }


@pytest.mark.parametrize("status", ["TIMED_OUT", "ABORTED", "FAILED"])
def test_a_run_that_did_not_succeed_is_announced_with_its_error_and_cause(datasync, status):
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response("describe_execution", described(status, error="States.Timeout", cause="took too long"))
        stubber.add_response("get_execution_history", {"events": []})  # it failed before starting anything
        detail = run_finished(sfn, datasync, WORKFLOW)
    assert detail is not None
    assert (detail["Status"], detail["task_id"], detail["Error"], detail["Cause"]) == (
        status,
        "nightly",
        "States.Timeout",
        "took too long",
    )


def test_nothing_is_announced_of_a_run_still_running_another_state_machines_or_none(datasync):
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response("describe_execution", described("RUNNING"))
        stubber.add_response("describe_execution", described("SUCCEEDED", f"{STATE_MACHINE}-of-another-team"))
        stubber.add_client_error("describe_execution", "ExecutionDoesNotExist")
        assert [run_finished(sfn, datasync, WORKFLOW) for _ in range(3)] == [None, None, None]


def test_a_forged_finish_sent_to_the_handler_puts_no_event(aws, monkeypatch):
    class Events:
        def put_events(self, **_):
            pytest.fail("an event was put for an execution that never was")

    monkeypatch.setattr(announce, "events_client", Events)
    never_ran = f"{STATE_MACHINE.replace(':stateMachine:', ':execution:')}:never-ran"
    forged = {"detail": {"executionArn": never_ran, "stateMachineArn": STATE_MACHINE, "status": "SUCCEEDED"}}
    assert announce.handler(forged, _LambdaContext(step_named("announce"))) == {}


def test_an_entry_eventbridge_refuses_is_a_transient_error_naming_why():
    class Events:
        def put_events(self, Entries):
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}]}

    with pytest.raises(DataSyncTransientError, match="ThrottlingException: slow"):
        put_event(Events(), {"Status": "SUCCEEDED", "WorkflowExecutionArn": WORKFLOW})
