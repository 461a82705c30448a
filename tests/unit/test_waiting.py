"""Waiting for DataSync's event: the await-event step keeps the token, the resume step sends it back. The table is
moto's DynamoDB; Step Functions' answers to SendTaskSuccess come from Stubber, which checks each call against the
API model and fails the test on any call not queued, so a token sent twice would show."""

import json
import time

import boto3
import pytest

from datasync_steps.await_event import AwaitEvent, await_event
from datasync_steps.resume import StateChangeEvent, resume_waiting
from datasync_steps.waiting import EXPIRY_MARGIN_SECONDS, PARTITION_KEY, SORT_KEY, TOKEN, wait_for
from datasync_workflow.emulated_datasync import EmulatedTransfer, emulated_transfers
from tests.conftest import REGION, make_s3_location, make_smb_location, make_task, stubbed_client

WORKFLOW = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:run-1"


@pytest.fixture
def table(aws):
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    return dynamodb.create_table(
        TableName="waiting",
        KeySchema=[
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def sfn():
    with stubbed_client("stepfunctions") as client_and_stubber:
        yield client_and_stubber


@pytest.fixture
def execution_arn(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=0.2)):
        return datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]


def event_of(execution_arn: str, state: str) -> StateChangeEvent:
    return StateChangeEvent.model_validate(
        {
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "DataSync Task Execution State Change",
            "source": "aws.datasync",
            "account": "123456789012",
            "time": "2026-11-24T12:00:00Z",
            "region": REGION,
            "resources": [execution_arn],
            "detail": {"State": state},
        }
    )


def success_sent(stubber, token: str, status: str) -> None:
    stubber.add_response("send_task_success", {}, {"taskToken": token, "output": json.dumps({"Status": status})})


def items(table) -> list[dict]:
    return table.scan()["Items"]


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


def test_the_event_resumes_every_execution_waiting_for_it_once(table, sfn, execution_arn):
    client, stubber = sfn
    wait_for(table, execution_arn, WORKFLOW, "token-1", 600)
    wait_for(table, execution_arn, WORKFLOW.replace("run-1", "run-2"), "token-2", 600)
    success_sent(stubber, "token-1", "ERROR")
    success_sent(stubber, "token-2", "ERROR")
    assert resume_waiting(table, client, event_of(execution_arn, "ERROR")).model_dump(mode="json") == {"Resumed": 2}
    # Delivered again: nobody waits any more, and no token is sent twice.
    assert resume_waiting(table, client, event_of(execution_arn, "ERROR")).model_dump(mode="json") == {"Resumed": 0}


def test_an_event_nobody_waits_for_changes_nothing(table, sfn, execution_arn):
    client, _ = sfn
    wait_for(table, "arn:aws:datasync:us-east-1:123456789012:task/task-1/execution/exec-2", WORKFLOW, "other", 600)
    assert resume_waiting(table, client, event_of(execution_arn, "SUCCESS")).model_dump(mode="json") == {"Resumed": 0}
    assert len(items(table)) == 1


def test_an_event_that_is_not_final_wakes_nobody(table, sfn, execution_arn):
    client, _ = sfn
    wait_for(table, execution_arn, WORKFLOW, "token-1", 600)
    assert resume_waiting(table, client, event_of(execution_arn, "TRANSFERRING")).model_dump(mode="json") == {
        "Resumed": 0
    }
    assert len(items(table)) == 1


def test_a_token_whose_wait_is_over_is_dropped_quietly(table, sfn, execution_arn):
    client, stubber = sfn
    wait_for(table, execution_arn, WORKFLOW, "token-1", 600)
    stubber.add_client_error("send_task_success", "TaskTimedOut", "Task Timed Out")
    assert resume_waiting(table, client, event_of(execution_arn, "SUCCESS")).model_dump(mode="json") == {"Resumed": 0}
    assert items(table) == []


def test_a_token_claimed_by_the_event_is_not_sent_again_by_the_waiting_steps_check(table, sfn, datasync, execution_arn):
    client, stubber = sfn
    time.sleep(0.3)
    original_put = table.put_item

    def event_arrives_right_after_the_token_is_kept(**kwargs):
        original_put(**kwargs)
        success_sent(stubber, "token-1", "SUCCESS")
        assert resume_waiting(table, client, event_of(execution_arn, "SUCCESS")).model_dump(mode="json") == {
            "Resumed": 1
        }

    table.put_item = event_arrives_right_after_the_token_is_kept
    event = AwaitEvent(execution_id=WORKFLOW, TaskExecutionArn=execution_arn, token="token-1", wait_seconds=600)
    assert await_event(table, client, datasync, event).model_dump(mode="json") == {
        "Status": "SUCCESS"
    }  # and no second send_task_success
