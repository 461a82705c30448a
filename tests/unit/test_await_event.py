"""await-event: keep the task token in the waiting table, then check the status once. The table is moto's DynamoDB; Step
Functions' answers to SendTaskSuccess come from Stubber, which fails the test on any call not queued, so a token
sent twice would show. Each interleaving of the wait with DataSync's event has its test here or in test_resume."""

import json
import time
from datetime import UTC, datetime

import pytest

from datasync_steps.await_event import AwaitEvent, await_event
from datasync_steps.deployment import WORKFLOW_STATE_MACHINE_VARIABLE
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.names import START_STATE
from datasync_steps.resources import workflow_tag
from datasync_steps.resume import resume_waiting
from datasync_steps.waiting import EXPIRY_MARGIN_SECONDS, PARTITION_KEY, SEQUENCE, SORT_KEY, TOKEN
from datasync_workflow.local import EmulatedTransfer, emulated_transfers
from tests.conftest import event_of, items, make_s3_location, make_smb_location, make_task, success_sent

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow"
WORKFLOW = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:run-1"


@pytest.fixture(autouse=True)
def this_workflow(monkeypatch):
    monkeypatch.setenv(WORKFLOW_STATE_MACHINE_VARIABLE, STATE_MACHINE)


def the_run(stubber, follows: str, status: str = "RUNNING", run_input: dict | None = None, **more) -> None:
    """Step Functions says the workflow execution is `status`, of `run_input`, and its start state followed `follows`
    (its history is read only of a running execution)."""
    execution = {
        "executionArn": WORKFLOW,
        "stateMachineArn": STATE_MACHINE,
        "status": status,
        "startDate": datetime.now(UTC),
        "input": json.dumps(run_input or {"task_arn": "arn:aws:datasync:us-east-1:111122223333:task/task-1"}),
        **more,
    }
    stubber.add_response("describe_execution", execution, {"executionArn": WORKFLOW})
    if status == "RUNNING" and execution["stateMachineArn"] == STATE_MACHINE:
        started = {"execution": {"TaskExecutionArn": follows, "Action": "follow", "ExecutionStarted": True}}
        exited = {"name": START_STATE, "output": json.dumps(started)}
        stubber.add_response(
            "get_execution_history",
            {"events": [{"timestamp": 0, "type": "TaskStateExited", "id": 9, "stateExitedEventDetails": exited}]},
        )


def awaited(table, sfn, datasync, event: AwaitEvent, **run):
    """await-event for a running run that follows the event's execution (unless `run` says otherwise)."""
    client, stubber = sfn
    the_run(stubber, run.pop("follows", event.TaskExecutionArn), **run)
    return await_event(table, client, datasync, event)


def waiting(execution_arn: str, token: str = "token-1", checks_done: int = 0, retry_count: int = 0) -> AwaitEvent:
    return AwaitEvent(
        execution_id=WORKFLOW,
        TaskExecutionArn=execution_arn,
        token=token,
        wait_seconds=600,
        checks_done=checks_done,
        retry_count=retry_count,
    )


@pytest.fixture
def running(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        return datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]


def test_a_wait_for_the_execution_the_runs_own_try_started_reads_its_tag_and_not_the_runs_history(table, sfn, datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        started = datasync.start_task_execution(TaskArn=task, Tags=[workflow_tag(f"{WORKFLOW}/try/2")])
    client, stubber = sfn
    run = {"executionArn": WORKFLOW, "stateMachineArn": STATE_MACHINE, "status": "RUNNING"}
    stubber.add_response(
        "describe_execution", {**run, "startDate": datetime.now(UTC), "input": json.dumps({"retries": 1})}
    )
    # No GetExecutionHistory answer is queued: Stubber fails the call if it is made.
    event = waiting(started["TaskExecutionArn"]).model_copy(update={"attempt": 2})
    assert await_event(table, client, datasync, event).Status == "LAUNCHING"
    (item,) = items(table)
    assert item[TOKEN] == "token-1"
    stubber.assert_no_pending_responses()


def test_the_waiting_step_keeps_its_token_until_an_hour_after_its_wait(table, sfn, datasync, running):
    assert awaited(table, sfn, datasync, waiting(running, checks_done=3)).model_dump() == {"Status": "LAUNCHING"}
    (item,) = items(table)
    assert (item[PARTITION_KEY], item[SORT_KEY], item[TOKEN], item[SEQUENCE]) == (running, WORKFLOW, "token-1", 300)
    assert abs(int(item["ExpiresAt"]) - (time.time() + 600 + EXPIRY_MARGIN_SECONDS)) < 5


def test_an_execution_that_ended_before_the_wait_is_resumed_by_the_waiting_step_itself(
    table, sfn, datasync, execution_arn
):
    client, stubber = sfn
    time.sleep(0.3)
    # DataSync's event came before anybody waited: nobody was woken by it.
    assert resume_waiting(table, client, datasync, event_of(execution_arn, "SUCCESS")).model_dump() == {"Resumed": 0}
    the_run(stubber, execution_arn)
    success_sent(stubber, "token-1", "SUCCESS")
    assert await_event(table, client, datasync, waiting(execution_arn)).model_dump() == {"Status": "SUCCESS"}
    assert items(table) == []


def test_an_execution_already_in_error_when_the_wait_begins_is_resumed_at_once(table, sfn, datasync):
    client, stubber = sfn
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=0.1, error_code="SockTimeout")):
        failed = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    time.sleep(0.3)
    the_run(stubber, failed)
    success_sent(stubber, "token-1", "ERROR")
    assert await_event(table, client, datasync, waiting(failed)).model_dump() == {"Status": "ERROR"}


def test_a_token_claimed_by_the_event_is_not_sent_again_by_the_waiting_steps_check(table, sfn, datasync, execution_arn):
    client, stubber = sfn
    time.sleep(0.3)
    original_put = table.put_item

    def event_arrives_right_after_the_token_is_kept(**kwargs):
        original_put(**kwargs)
        success_sent(stubber, "token-1", "SUCCESS")
        assert resume_waiting(table, client, datasync, event_of(execution_arn, "SUCCESS")).model_dump() == {
            "Resumed": 1
        }

    table.put_item = event_arrives_right_after_the_token_is_kept
    # ... and no second send_task_success: Stubber has none queued.
    assert awaited(table, sfn, datasync, waiting(execution_arn)).model_dump() == {"Status": "SUCCESS"}


def test_a_waiting_step_that_runs_late_never_replaces_the_next_waits_token(table, sfn, datasync, running):
    awaited(table, sfn, datasync, waiting(running, "token-of-the-second-wait", checks_done=1))
    # The first wait timed out while its step was still starting; the step stores its token only now.
    awaited(table, sfn, datasync, waiting(running, "token-of-the-first-wait", checks_done=0))
    assert [item[TOKEN] for item in items(table)] == ["token-of-the-second-wait"]
    # A retry of the same wait (Step Functions' Retry: a new token) does replace it.
    awaited(table, sfn, datasync, waiting(running, "token-of-its-retry", checks_done=1, retry_count=1))
    assert [item[TOKEN] for item in items(table)] == ["token-of-its-retry"]


def test_a_late_waiting_step_sends_nothing_even_when_the_execution_has_ended(table, sfn, datasync, execution_arn):
    time.sleep(0.3)
    table.put_item(
        Item={PARTITION_KEY: execution_arn, SORT_KEY: WORKFLOW, TOKEN: "live", SEQUENCE: 500, "ExpiresAt": 0}
    )
    # Its wait is over: its token goes nowhere (Stubber has no send queued), the live one stays for its claimant.
    awaited(table, sfn, datasync, waiting(execution_arn, "stale", checks_done=4))
    assert [item[TOKEN] for item in items(table)] == ["live"]


def test_a_later_tries_first_wait_comes_after_every_wait_of_the_try_before():
    from datasync_steps.waiting import wait_sequence

    assert wait_sequence(0, 0, attempt=2) > wait_sequence(1_846, 99, attempt=1)
    assert wait_sequence(3, 0, attempt=2) > wait_sequence(2, 5, attempt=2)


@pytest.mark.parametrize(
    ("run", "checks_done", "attempt"),
    [
        ({"status": "SUCCEEDED"}, 0, 1),
        ({"stateMachineArn": f"{STATE_MACHINE}-of-another-team"}, 0, 1),
        ({"follows": "arn:aws:datasync:us-east-1:111122223333:task/task-1/execution/exec-another"}, 0, 1),
        ({}, 61, 1),
        ({"run_input": {"task_arn": "t", "max_iterations": 5, "retries": 2}}, 6, 1),
        ({}, 0, 2),
        ({"run_input": {"task_arn": "t", "retries": 2}}, 0, 4),
    ],
    ids=[
        "run over",
        "another state machine's",
        "another DataSync execution",
        "checks past the default",
        "checks past max_iterations",
        "a try past the default",
        "a try past retries",
    ],
)
def test_a_forged_wait_keeps_no_token(table, sfn, datasync, running, run, checks_done, attempt):
    forged = waiting(running, "forged-token", checks_done=checks_done).model_copy(update={"attempt": attempt})
    with pytest.raises(DataSyncInvalidInputError, match=f"No wait of {WORKFLOW} for {running}"):
        awaited(table, sfn, datasync, forged, **run)
    assert items(table) == []


def test_a_wait_within_the_runs_bounds_keeps_its_token(table, sfn, datasync, running):
    last = waiting(running, checks_done=5).model_copy(update={"attempt": 3})
    awaited(table, sfn, datasync, last, run_input={"task_arn": "t", "max_iterations": 5, "retries": 2})
    assert [item[TOKEN] for item in items(table)] == ["token-1"]
