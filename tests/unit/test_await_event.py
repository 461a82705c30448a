"""await-event: keep the task token in the waiting table, then check the status once. The table is moto's DynamoDB; Step
Functions' answers to SendTaskSuccess come from Stubber, which fails the test on any call not queued, so a token
sent twice would show."""

import time

from datasync_steps.await_event import AwaitEvent, await_event
from datasync_steps.resume import resume_waiting
from datasync_steps.waiting import EXPIRY_MARGIN_SECONDS, PARTITION_KEY, SORT_KEY, TOKEN
from datasync_workflow.emulated_datasync import EmulatedTransfer, emulated_transfers
from tests.conftest import event_of, items, make_s3_location, make_smb_location, make_task, success_sent

WORKFLOW = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:run-1"


def test_the_waiting_step_keeps_its_token_until_an_hour_after_its_wait(table, sfn, datasync):
    client, _ = sfn
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        execution_arn = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    event = AwaitEvent(execution_id=WORKFLOW, TaskExecutionArn=execution_arn, token="token-1", wait_seconds=600)
    assert await_event(table, client, datasync, event).model_dump(mode="json") == {"Status": "LAUNCHING"}
    (item,) = items(table)
    assert (item[PARTITION_KEY], item[SORT_KEY], item[TOKEN]) == (execution_arn, WORKFLOW, "token-1")
    assert abs(int(item["ExpiresAt"]) - (time.time() + 600 + EXPIRY_MARGIN_SECONDS)) < 5


def test_an_execution_that_ended_before_the_wait_is_resumed_by_the_waiting_step_itself(
    table, sfn, datasync, execution_arn
):
    client, stubber = sfn
    time.sleep(0.3)
    success_sent(stubber, "token-1", "SUCCESS")
    event = AwaitEvent(execution_id=WORKFLOW, TaskExecutionArn=execution_arn, token="token-1", wait_seconds=600)
    assert await_event(table, client, datasync, event).model_dump(mode="json") == {"Status": "SUCCESS"}
    assert items(table) == []


def test_a_token_claimed_by_the_event_is_not_sent_again_by_the_waiting_steps_check(table, sfn, datasync, execution_arn):
    client, stubber = sfn
    time.sleep(0.3)
    original_put = table.put_item

    def event_arrives_right_after_the_token_is_kept(**kwargs):
        original_put(**kwargs)
        success_sent(stubber, "token-1", "SUCCESS")
        assert resume_waiting(table, client, datasync, event_of(execution_arn, "SUCCESS")).model_dump(mode="json") == {
            "Resumed": 1
        }

    table.put_item = event_arrives_right_after_the_token_is_kept
    event = AwaitEvent(execution_id=WORKFLOW, TaskExecutionArn=execution_arn, token="token-1", wait_seconds=600)
    assert await_event(table, client, datasync, event).model_dump(mode="json") == {
        "Status": "SUCCESS"
    }  # and no second send_task_success
