"""await-event: keep the task token in the waiting table, then check the status once. The table is moto's DynamoDB; Step
Functions' answers to SendTaskSuccess come from Stubber, which fails the test on any call not queued, so a token
sent twice would show. Each interleaving of the wait with DataSync's event has its test here or in test_resume."""

import time

import pytest

from datasync_steps.await_event import AwaitEvent, await_event
from datasync_steps.resume import resume_waiting
from datasync_steps.waiting import EXPIRY_MARGIN_SECONDS, PARTITION_KEY, SEQUENCE, SORT_KEY, TOKEN
from datasync_workflow.emulated_datasync import EmulatedTransfer, emulated_transfers
from tests.conftest import event_of, items, make_s3_location, make_smb_location, make_task, success_sent

WORKFLOW = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:run-1"


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


def test_the_waiting_step_keeps_its_token_until_an_hour_after_its_wait(table, sfn, datasync, running):
    client, _ = sfn
    assert await_event(table, client, datasync, waiting(running, checks_done=3)).model_dump() == {"Status": "LAUNCHING"}
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
    success_sent(stubber, "token-1", "SUCCESS")
    assert await_event(table, client, datasync, waiting(execution_arn)).model_dump() == {"Status": "SUCCESS"}
    assert items(table) == []


def test_an_execution_already_in_error_when_the_wait_begins_is_resumed_at_once(table, sfn, datasync):
    client, stubber = sfn
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=0.1, error_code="SockTimeout")):
        failed = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    time.sleep(0.3)
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
    assert await_event(table, client, datasync, waiting(execution_arn)).model_dump() == {"Status": "SUCCESS"}


def test_a_waiting_step_that_runs_late_never_replaces_the_next_waits_token(table, sfn, datasync, running):
    client, _ = sfn
    await_event(table, client, datasync, waiting(running, "token-of-the-second-wait", checks_done=1))
    # The first wait timed out while its step was still starting; the step stores its token only now.
    await_event(table, client, datasync, waiting(running, "token-of-the-first-wait", checks_done=0))
    assert [item[TOKEN] for item in items(table)] == ["token-of-the-second-wait"]
    # A retry of the same wait (Step Functions' Retry: a new token) does replace it.
    await_event(table, client, datasync, waiting(running, "token-of-its-retry", checks_done=1, retry_count=1))
    assert [item[TOKEN] for item in items(table)] == ["token-of-its-retry"]


def test_a_late_waiting_step_sends_nothing_even_when_the_execution_has_ended(table, sfn, datasync, execution_arn):
    client, _ = sfn
    time.sleep(0.3)
    table.put_item(
        Item={PARTITION_KEY: execution_arn, SORT_KEY: WORKFLOW, TOKEN: "live", SEQUENCE: 500, "ExpiresAt": 0}
    )
    # Its wait is over: its token goes nowhere (Stubber has no send queued), the live one stays for its claimant.
    await_event(table, client, datasync, waiting(execution_arn, "stale", checks_done=4))
    assert [item[TOKEN] for item in items(table)] == ["live"]


def test_a_later_tries_first_wait_comes_after_every_wait_of_the_try_before():
    from datasync_steps.waiting import wait_sequence

    assert wait_sequence(0, 0, attempt=2) > wait_sequence(1_846, 99, attempt=1)
    assert wait_sequence(3, 0, attempt=2) > wait_sequence(2, 5, attempt=2)
