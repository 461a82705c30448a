"""The clean-up step, started by EventBridge when a workflow execution stops: it cancels the DataSync execution
the run followed as its own, whatever the history holds. Histories are written as Step Functions' API gives
them (Stubber checks the calls); DataSync is the emulated one."""

import json
import time
from datetime import UTC, datetime

import pytest

from datasync_steps.cancel import cancel_execution
from datasync_steps.cleanup import clean_up
from datasync_steps.deployment import WORKFLOW_STATE_MACHINE_VARIABLE
from datasync_steps.describe import describe_execution
from datasync_steps.errors import DataSyncRequestError, DataSyncTaskExecutionFailedError
from datasync_steps.executions import StatusChange
from datasync_steps.names import START_STATE
from datasync_workflow.local import EmulatedTransfer, emulated_datasync_executions, emulated_transfers
from datasync_workflow.local.emulated_datasync_executions import CANCELLING_SECONDS
from tests import fakes
from tests.conftest import make_s3_location, make_smb_location, make_task, stubbed_client

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow"
WORKFLOW = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:run-1"


@pytest.fixture(autouse=True)
def this_workflow(monkeypatch):
    monkeypatch.setenv(WORKFLOW_STATE_MACHINE_VARIABLE, STATE_MACHINE)


def described(status: str, state_machine: str = STATE_MACHINE) -> dict:
    """Step Functions' DescribeExecution of the workflow execution."""
    started = datetime.now(UTC)
    return {"executionArn": WORKFLOW, "stateMachineArn": state_machine, "status": status, "startDate": started}


@pytest.fixture
def running(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        return datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]


def start_exited(output: dict, event_id: int = 9) -> dict:
    return {
        "timestamp": 0,
        "type": "TaskStateExited",
        "id": event_id,
        "stateExitedEventDetails": {"name": START_STATE, "output": json.dumps(output)},
    }


def cleaned(datasync, status: str, events: list[dict], event_status: str | None = None) -> dict:
    """What the clean-up does for an event saying `event_status` (by default the execution's own `status`)."""
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response("describe_execution", described(status), {"executionArn": WORKFLOW})
        if status in ("ABORTED", "TIMED_OUT", "FAILED"):
            expected = {
                "executionArn": WORKFLOW,
                "reverseOrder": True,
                "includeExecutionData": True,
                "maxResults": 1000,  # the most a page holds: a full history takes 25 calls
            }
            stubber.add_response("get_execution_history", {"events": events}, expected)
        change = StatusChange(executionArn=WORKFLOW, status=event_status or status)
        return clean_up(sfn, datasync, change).model_dump(mode="json")


@pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT", "FAILED"])
def test_every_way_a_run_stops_cancels_the_execution_it_followed(datasync, running, status):
    followed = {"execution": {"TaskExecutionArn": running, "Action": "follow", "ExecutionStarted": True}}
    assert cleaned(datasync, status, [start_exited(followed)]) == {"Cancelled": True}
    # Cancelled: CANCELLING for a moment, then ERROR (a loaded machine may look only after the moment).
    assert fakes.backend().task_executions[running].cancel_time is not None
    assert datasync.describe_task_execution(TaskExecutionArn=running)["Status"] in ("CANCELLING", "ERROR")
    tags = datasync.list_tags_for_resource(ResourceArn=running)["Tags"]
    assert {"Key": "datasync-workflow:cancelled-when-stopped", "Value": WORKFLOW} in tags


def test_a_redriven_run_that_finds_its_execution_cancelled_by_the_clean_up_says_so(datasync, running):
    followed = {"execution": {"TaskExecutionArn": running, "Action": "follow", "ExecutionStarted": True}}
    cleaned(datasync, "ABORTED", [start_exited(followed)])
    time.sleep(CANCELLING_SECONDS)
    with pytest.raises(DataSyncTaskExecutionFailedError, match="was cancelled by the workflow's clean-up when"):
        describe_execution(datasync, running)


def test_a_run_that_succeeded_is_left_alone(datasync, running):
    assert cleaned(datasync, "SUCCEEDED", []) == {"Cancelled": False}


@pytest.mark.parametrize(
    "output",
    [
        {"execution": {"check": {"checks_done": 0}}, "error": {"Error": "DataSyncRequestError", "Cause": "{}"}},
        {"execution": {"TaskExecutionArn": "x", "Action": "queue", "ExecutionStarted": False}},
        {"execution": {"TaskExecutionArn": "x", "Action": "skip", "ExecutionStarted": False}},
        {"unexpected": True},
        ["not", "an", "object"],
    ],
    ids=["failed at the start", "queued behind another run", "skipped", "no execution", "not an object"],
)
def test_nothing_is_cancelled_when_the_run_started_nothing_of_its_own(datasync, running, output):
    assert cleaned(datasync, "FAILED", [start_exited(output)]) == {"Cancelled": False}
    assert datasync.describe_task_execution(TaskExecutionArn=running)["Status"] != "CANCELLING"


def test_a_run_that_failed_before_the_start_has_nothing_to_cancel(datasync):
    assert cleaned(datasync, "FAILED", []) == {"Cancelled": False}


def test_an_execution_already_being_cancelled_is_not_an_error(datasync, running, monkeypatch):
    # Cancelling lasts long enough that a slow machine still finds the execution CANCELLING.
    monkeypatch.setattr(emulated_datasync_executions, "CANCELLING_SECONDS", 10)
    datasync.cancel_task_execution(TaskExecutionArn=running)
    followed = {"execution": {"TaskExecutionArn": running, "Action": "follow", "ExecutionStarted": True}}
    assert cleaned(datasync, "ABORTED", [start_exited(followed)]) == {"Cancelled": True, "Status": "CANCELLING"}


def test_a_refused_cancel_of_a_running_execution_is_an_error(datasync, running, monkeypatch):
    fakes.fail_calls(monkeypatch, "cancel_task_execution", fakes.refused("Access denied."))
    with pytest.raises(DataSyncRequestError, match="Access denied"):
        cancel_execution(datasync, running)


def test_the_start_is_found_in_a_full_history_page_by_page(datasync, running):
    followed = {"execution": {"TaskExecutionArn": running, "Action": "follow", "ExecutionStarted": True}}
    filler = [{"timestamp": 0, "type": "TaskStateEntered", "id": i} for i in range(1000)]
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response("describe_execution", described("TIMED_OUT"))
        stubber.add_response("get_execution_history", {"events": filler, "nextToken": "page-2"})
        stubber.add_response("get_execution_history", {"events": [start_exited(followed)]})
        assert clean_up(sfn, datasync, StatusChange(executionArn=WORKFLOW, status="TIMED_OUT")).model_dump(
            mode="json"
        ) == {"Cancelled": True}


@pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT", "FAILED"])
def test_a_forged_stop_of_a_running_run_cancels_nothing(datasync, running, status):
    # Step Functions says it runs: its history is not even read (Stubber has none queued).
    assert cleaned(datasync, "RUNNING", [], event_status=status) == {"Cancelled": False}
    assert fakes.backend().task_executions[running].cancel_time is None


def test_a_stop_of_another_state_machines_execution_or_of_none_cancels_nothing(datasync, running):
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response("describe_execution", described("ABORTED", f"{STATE_MACHINE}-of-another-team"))
        stubber.add_client_error("describe_execution", "ExecutionDoesNotExist")
        for _ in range(2):
            assert clean_up(sfn, datasync, StatusChange(executionArn=WORKFLOW, status="ABORTED")).Cancelled is False
    assert fakes.backend().task_executions[running].cancel_time is None
