"""resume: DataSync's event wakes every workflow execution waiting for it, once. The table is moto's DynamoDB; Step
Functions' answers to SendTaskSuccess come from Stubber, which fails the test on any call not queued, so a token
sent twice would show."""

from datasync_steps.resume import resume_waiting
from datasync_steps.waiting import wait_for
from tests.conftest import event_of, items, success_sent

WORKFLOW = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:run-1"


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
