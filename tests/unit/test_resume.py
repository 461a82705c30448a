"""resume: DataSync's event wakes every workflow execution waiting for it, once, and only when DataSync itself says
the execution ended. The table is moto's DynamoDB; Step Functions' answers to SendTaskSuccess come from Stubber, which
fails the test on any call not queued, so a token sent twice, or sent at all when it must not be, would show."""

import time

import pytest
from botocore.exceptions import ClientError

from datasync_steps.resume import resume_waiting
from datasync_steps.waiting import SEQUENCE, TOKEN, resume, wait_for
from datasync_workflow.local import EmulatedTransfer, emulated_transfers
from tests.conftest import event_of, items, make_s3_location, make_smb_location, make_task, success_sent

WORKFLOW = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:run-1"


@pytest.fixture
def ended(execution_arn):
    """An execution that ended in SUCCESS."""
    time.sleep(0.3)
    return execution_arn


def test_the_event_resumes_every_execution_waiting_for_it_once(table, sfn, datasync, ended):
    client, stubber = sfn
    wait_for(table, ended, WORKFLOW, "token-1", 600)
    wait_for(table, ended, WORKFLOW.replace("run-1", "run-2"), "token-2", 600)
    success_sent(stubber, "token-1", "SUCCESS")
    success_sent(stubber, "token-2", "SUCCESS")
    assert resume_waiting(table, client, datasync, event_of(ended, "SUCCESS")).model_dump(mode="json") == {"Resumed": 2}
    # Delivered again: nobody waits any more, and no token is sent twice.
    assert resume_waiting(table, client, datasync, event_of(ended, "SUCCESS")).model_dump(mode="json") == {"Resumed": 0}


def test_the_token_carries_the_status_datasync_gives_not_the_one_the_event_claims(table, sfn, datasync, ended):
    client, stubber = sfn
    wait_for(table, ended, WORKFLOW, "token-1", 600)
    success_sent(stubber, "token-1", "SUCCESS")
    assert resume_waiting(table, client, datasync, event_of(ended, "ERROR")).model_dump(mode="json") == {"Resumed": 1}


def test_a_forged_end_of_a_running_execution_wakes_nobody(table, sfn, datasync):
    client, _ = sfn
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        running = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    wait_for(table, running, WORKFLOW, "token-1", 600)
    for claimed in ("SUCCESS", "ERROR"):
        assert resume_waiting(table, client, datasync, event_of(running, claimed)).model_dump(mode="json") == {
            "Resumed": 0
        }
    assert len(items(table)) == 1  # still waiting, for DataSync's real end


def test_an_event_nobody_waits_for_changes_nothing_and_asks_datasync_nothing(table, sfn, stubbed, ended):
    client, _ = sfn
    datasync, _ = stubbed  # Stubber fails the test on any DataSync call
    wait_for(table, "arn:aws:datasync:us-east-1:123456789012:task/task-1/execution/exec-2", WORKFLOW, "other", 600)
    assert resume_waiting(table, client, datasync, event_of(ended, "SUCCESS")).model_dump(mode="json") == {"Resumed": 0}
    assert len(items(table)) == 1


def test_an_event_that_is_not_final_wakes_nobody(table, sfn, datasync, ended):
    client, _ = sfn
    wait_for(table, ended, WORKFLOW, "token-1", 600)
    assert resume_waiting(table, client, datasync, event_of(ended, "TRANSFERRING")).model_dump(mode="json") == {
        "Resumed": 0
    }
    assert len(items(table)) == 1


@pytest.mark.parametrize("answer", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
def test_a_token_whose_wait_is_over_is_dropped_quietly(table, sfn, datasync, ended, answer):
    client, stubber = sfn
    wait_for(table, ended, WORKFLOW, "token-1", 600)
    stubber.add_client_error("send_task_success", answer, "The task is no more")
    assert resume_waiting(table, client, datasync, event_of(ended, "SUCCESS")).model_dump() == {"Resumed": 0}
    assert items(table) == []


def test_a_send_that_fails_keeps_the_token_for_the_next_try(table, sfn, datasync, ended):
    client, stubber = sfn
    wait_for(table, ended, WORKFLOW, "token-1", 600, sequence=7)
    stubber.add_client_error("send_task_success", "ThrottlingException", "Rate exceeded")
    with pytest.raises(ClientError, match="ThrottlingException"):  # Lambda retries the event
        resume_waiting(table, client, datasync, event_of(ended, "SUCCESS"))
    assert [(item[TOKEN], item[SEQUENCE]) for item in items(table)] == [("token-1", 7)]
    success_sent(stubber, "token-1", "SUCCESS")
    assert resume_waiting(table, client, datasync, event_of(ended, "SUCCESS")).model_dump() == {"Resumed": 1}
    assert items(table) == []


def test_a_claim_of_an_old_token_leaves_a_later_waits_token_alone(table, sfn, ended):
    client, _ = sfn
    old = wait_for(table, ended, WORKFLOW, "old", 600, sequence=1)
    wait_for(table, ended, WORKFLOW, "new", 600, sequence=2)
    assert resume(table, client, old, "SUCCESS") is False  # nothing sent: Stubber has nothing queued
    assert [item[TOKEN] for item in items(table)] == ["new"]


def test_who_waits_is_read_strongly_consistent(table, sfn, datasync, ended):
    # moto answers the same either way; what DynamoDB is asked is what counts.
    client, stubber = sfn
    asked = []
    events = table.meta.client.meta.events
    events.register("provide-client-params.dynamodb.Query", lambda params, **_: asked.append(params))
    wait_for(table, ended, WORKFLOW, "token-1", 600)
    success_sent(stubber, "token-1", "SUCCESS")
    resume_waiting(table, client, datasync, event_of(ended, "SUCCESS"))
    assert asked and all(params["ConsistentRead"] is True for params in asked)
