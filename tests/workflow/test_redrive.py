"""RedriveExecution in the local emulation (moto has none), and redrive_local: an execution that did not succeed goes
on from the state it did not finish, as the developer guide's "Restarting state machine executions with redrive"
describes it."""

import json
import time
from collections import Counter

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from datasync_workflow.local import redrive_local, run_local
from datasync_workflow.local.runner import ENGINE_CONFIG
from tests.conftest import REGION, events_a_rule_receives, make_s3_location, make_smb_location, make_task, refused

MISSING_TASK = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
ROLE = "arn:aws:iam::123456789012:role/redrive-test"
BUCKET = "redrive-test"
# A Pass, then a Task that reads an object (failing while it is missing), then a Pass: each shows the redrive count it
# was evaluated with.
READS_AN_OBJECT = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Pass", "Parameters": {"first.$": "$$.Execution.RedriveCount", "key": "k"}, "Next": "Read"},
        "Read": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": BUCKET, "Key.$": "$.key"},
            "ResultSelector": {"length.$": "$.ContentLength"},
            "ResultPath": "$.read",
            "Next": "Last",
        },
        "Last": {
            "Type": "Pass",
            "Parameters": {"first.$": "$.first", "last.$": "$$.Execution.RedriveCount", "read.$": "$.read"},
            "End": True,
        },
    },
}


@pytest.fixture
def sfn():
    with mock_aws(config=ENGINE_CONFIG):
        yield boto3.client("stepfunctions", region_name=REGION)


def state_machine(sfn, definition: dict, name: str = "redriven") -> str:
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


def ended(sfn, execution_arn: str, seconds: float = 10) -> dict:
    deadline = time.monotonic() + seconds
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "still running"
        time.sleep(0.02)
    return described


def history(sfn, execution_arn: str) -> list[dict]:
    return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]


def entered(events: list[dict]) -> list[str]:
    return [event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event]


def test_a_failed_task_is_run_again_with_its_input_and_the_states_before_it_are_not(sfn):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    arn = sfn.start_execution(stateMachineArn=state_machine(sfn, READS_AN_OBJECT), name="one")["executionArn"]
    failed = ended(sfn, arn)
    assert (failed["status"], failed["error"]) == ("FAILED", "s3.NoSuchKeyException")
    assert (failed["redriveCount"], failed["redriveStatus"]) == (0, "REDRIVABLE") and "redriveDate" not in failed
    before = history(sfn, arn)

    s3.put_object(Bucket=BUCKET, Key="k", Body=b"four")
    redriven = sfn.redrive_execution(executionArn=arn)
    succeeded = ended(sfn, arn)

    assert succeeded["status"] == "SUCCEEDED" and "error" not in succeeded and "cause" not in succeeded
    # The states after the redrive see its count; the first state's output, from before it, is kept.
    assert json.loads(succeeded["output"]) == {"first": 0, "last": 1, "read": {"length": 4}}
    assert (succeeded["redriveCount"], succeeded["redriveDate"]) == (1, redriven["redriveDate"])
    assert succeeded["stopDate"] >= redriven["redriveDate"] >= failed["stopDate"]
    assert (succeeded["redriveStatus"], succeeded["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution is SUCCEEDED and cannot be redriven",
    )
    events = history(sfn, arn)
    # The same history, going on: the first attempt's events kept, the ids continuing from the redrive's event.
    assert events[: len(before)] == before and [event["id"] for event in events] == list(range(1, len(events) + 1))
    redrive, *after = events[len(before) :]
    assert (redrive["type"], redrive["executionRedrivenEventDetails"]) == ("ExecutionRedriven", {"redriveCount": 1})
    assert after[0]["previousEventId"] == redrive["id"]
    assert entered(events) == ["First", "Read", "Read", "Last"]
    reads = [event for event in events if event.get("stateEnteredEventDetails", {}).get("name") == "Read"]
    assert reads[0]["stateEnteredEventDetails"]["input"] == reads[1]["stateEnteredEventDetails"]["input"]
    assert json.loads(reads[1]["stateEnteredEventDetails"]["input"]) == {"first": 0, "key": "k"}
    assert [event["type"] for event in events].count("ExecutionFailed") == 1 and events[-1]["type"] == (
        "ExecutionSucceeded"
    )


def test_a_succeeded_or_running_execution_is_not_redrivable(sfn):
    succeeds = state_machine(sfn, {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}, "succeeds")
    arn = sfn.start_execution(stateMachineArn=succeeds, name="done")["executionArn"]
    ended(sfn, arn)
    message = refused("ExecutionNotRedrivable", lambda: sfn.redrive_execution(executionArn=arn))
    assert message == "Execution is SUCCEEDED and cannot be redriven"
    waits = state_machine(sfn, {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 1, "End": True}}})
    running = sfn.start_execution(stateMachineArn=waits, name="waiting")["executionArn"]
    message = refused("ExecutionNotRedrivable", lambda: sfn.redrive_execution(executionArn=running))
    assert message == "Execution is RUNNING and cannot be redriven"
    described = sfn.describe_execution(executionArn=running)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == ("NOT_REDRIVABLE", message)
    assert ended(sfn, running)["redriveCount"] == 0
    missing = arn.replace(":done", ":never")
    assert refused("ExecutionDoesNotExist", lambda: sfn.redrive_execution(executionArn=missing))


def test_the_same_client_token_gets_the_same_answer_and_redrives_once(sfn):
    fails = state_machine(sfn, {"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", "Error": "Nope"}}}, "fails")
    arn = sfn.start_execution(stateMachineArn=fails, name="once")["executionArn"]
    ended(sfn, arn)
    first = sfn.redrive_execution(executionArn=arn, clientToken="token-1")
    ended(sfn, arn)
    again = sfn.redrive_execution(executionArn=arn, clientToken="token-1")
    assert again["redriveDate"] == first["redriveDate"]
    assert ended(sfn, arn)["redriveCount"] == 1
    sfn.redrive_execution(executionArn=arn, clientToken="token-2")
    failed = ended(sfn, arn)
    assert (failed["status"], failed["error"], failed["redriveCount"]) == ("FAILED", "Nope", 2)
    events = history(sfn, arn)
    redrives = [event["executionRedrivenEventDetails"] for event in events if event["type"] == "ExecutionRedriven"]
    assert redrives == [{"redriveCount": 1}, {"redriveCount": 2}] and entered(events) == ["Fail"] * 3


def test_a_stopped_execution_goes_on_waiting_for_a_new_task_token_which_the_stop_does_not_answer(sfn):
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="tokens")["QueueUrl"]
    definition = {
        "StartAt": "Before",
        "States": {
            "Before": {"Type": "Pass", "Next": "Wait for the token"},
            "Wait for the token": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
                "End": True,
            },
        },
    }
    arn = sfn.start_execution(stateMachineArn=state_machine(sfn, definition), name="stopped")["executionArn"]

    def token() -> str:
        deadline = time.monotonic() + 10
        while not (messages := sqs.receive_message(QueueUrl=queue).get("Messages")):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])
        return json.loads(messages[0]["Body"])["token"]

    first_token = token()
    sfn.stop_execution(executionArn=arn, error="Stopped", cause="by the test")
    stopped = ended(sfn, arn)
    assert (stopped["status"], stopped["error"], stopped["cause"]) == ("ABORTED", "Stopped", "by the test")
    sfn.redrive_execution(executionArn=arn)
    second_token = token()
    time.sleep(0.5)  # the stop answers the stopped attempt's tokens for a while; not this one
    described = sfn.describe_execution(executionArn=arn)
    assert described["status"] == "RUNNING" and "error" not in described and "cause" not in described
    assert second_token != first_token
    sfn.send_task_success(taskToken=second_token, output=json.dumps({"done": True}))
    succeeded = ended(sfn, arn)
    assert (succeeded["status"], json.loads(succeeded["output"])) == ("SUCCEEDED", {"done": True})
    events = history(sfn, arn)
    assert entered(events) == ["Before", "Wait for the token", "Wait for the token"]
    assert [event["type"] for event in events].index("ExecutionAborted") < len(events) - 1


def test_a_timed_out_execution_gets_its_whole_timeout_again(sfn):
    definition = {
        "TimeoutSeconds": 1,
        "StartAt": "Wait",
        "States": {"Wait": {"Type": "Wait", "Seconds": 3, "End": True}},
    }
    arn = sfn.start_execution(stateMachineArn=state_machine(sfn, definition), name="late")["executionArn"]
    first = ended(sfn, arn)
    assert first["status"] == "TIMED_OUT" and "stopDate" in first
    redriven = sfn.redrive_execution(executionArn=arn)["redriveDate"]
    again = ended(sfn, arn)
    assert again["status"] == "TIMED_OUT" and again["redriveCount"] == 1
    # The state machine's timeout counts from the redrive ("reset to 0"), not from the start.
    assert (again["stopDate"] - redriven).total_seconds() >= 0.9
    types = [event["type"] for event in history(sfn, arn)]
    assert types == [
        "ExecutionStarted",
        "WaitStateEntered",
        "ExecutionTimedOut",
        "ExecutionRedriven",
        "WaitStateEntered",
        "ExecutionTimedOut",
    ]


def test_an_execution_left_in_a_map_is_refused_rather_than_run_again_whole(sfn):
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Check",
                    "States": {
                        "Check": {
                            "Type": "Choice",
                            "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}],
                            "Default": "Good",
                        },
                        "Bad": {"Type": "Fail", "Error": "Two"},
                        "Good": {"Type": "Pass", "End": True},
                    },
                },
                "End": True,
            }
        },
    }
    arn = sfn.start_execution(
        stateMachineArn=state_machine(sfn, definition), name="mapped", input=json.dumps({"items": [1, 2, 3]})
    )["executionArn"]
    assert ended(sfn, arn)["status"] == "FAILED"
    with pytest.raises(NotImplementedError, match=r"did not finish its Map state 'Each'.*does not run again those"):
        sfn.redrive_execution(executionArn=arn)
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["redriveCount"]) == ("FAILED", 0)


# redrive_local: the workflow's own definition, and the deployed stack's rules, in the mock where it ran.


def test_a_failed_run_redriven_enters_its_fail_state_again_and_fails_as_before(aws):
    finished = events_a_rule_receives("runs-finished", ["DataSync Workflow Run Finished"])
    first = run_local({"task_arn": MISSING_TASK})
    assert first.error == "DataSyncTaskNotFoundError"
    (announced,) = finished()
    seen: list[dict] = []
    again = redrive_local(first.execution_arn, timeout=60, on_event=seen.append)

    assert (again.execution_arn, again.status, again.error, again.cause) == (
        first.execution_arn,
        "FAILED",
        first.error,
        first.cause,
    )
    assert again.history[: len(first.history)] == first.history
    fail_state = entered(first.history)[-1]
    assert [event["type"] for event in seen] == ["ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]
    assert seen == again.history[len(first.history) :] and entered(seen) == [fail_state]
    # No state before the Fail state ran again.
    assert {name: n for name, n in Counter(entered(again.history)).items() if n > 1} == {fail_state: 2}
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(executionArn=first.execution_arn)
    assert (described["redriveCount"], described["redriveStatus"]) == (1, "REDRIVABLE") and "redriveDate" in described
    # The announce step ran again at the redriven execution's end, as the stack's rule would run it.
    (announced_again,) = finished()
    assert announced_again["detail"]["Status"] == announced["detail"]["Status"] == "FAILED"


def test_redrive_local_refuses_a_run_that_succeeded(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    succeeded = run_local({"task_arn": task, "wait_interval_seconds": 0})
    assert succeeded.status == "SUCCEEDED"
    with pytest.raises(ClientError, match="Execution is SUCCEEDED and cannot be redriven") as raised:
        redrive_local(succeeded.execution_arn)
    assert raised.value.response["Error"]["Code"] == "ExecutionNotRedrivable"


def test_redrive_local_needs_the_mock_where_the_execution_ran(sfn):
    arn = f"arn:aws:states:{REGION}:123456789012:execution:datasync-workflow-0123abcd:gone"
    with pytest.raises(ValueError, match=f"No execution {arn} in this mock"):
        redrive_local(arn)
    fails = state_machine(sfn, {"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", "Error": "Nope"}}}, "other")
    other = sfn.start_execution(stateMachineArn=fails, name="other")["executionArn"]
    ended(sfn, other)
    with pytest.raises(ValueError, match="not of a local deployment's workflow or batch state machine"):
        redrive_local(other)


def test_redrive_local_outside_a_mock_says_where_it_must_be_called():
    with pytest.raises(RuntimeError, match=r"inside the active moto mock_aws\(\) where it ran"):
        redrive_local(f"arn:aws:states:{REGION}:123456789012:execution:datasync-workflow-0123abcd:run")


def test_without_moto_engine_an_execution_is_described_and_its_redrive_said_to_need_the_engine():
    with mock_aws():  # moto's Step Functions that runs nothing, as the unit tests' steps see it
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = state_machine(sfn, {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
        arn = sfn.start_execution(stateMachineArn=machine, name="stopped")["executionArn"]
        sfn.stop_execution(executionArn=arn)
        described = sfn.describe_execution(executionArn=arn)
        assert (described["status"], described["redriveCount"], described["redriveStatus"]) == (
            "ABORTED",
            0,
            "REDRIVABLE",
        )
        with pytest.raises(NotImplementedError, match="emulated for executions that moto's engine runs"):
            sfn.redrive_execution(executionArn=arn)
