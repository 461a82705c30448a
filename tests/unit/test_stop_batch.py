"""The stop-batch step, run by EventBridge when a batch ends without success: it stops the batch's children that
still run, and nothing else. Step Functions' answers by Stubber (it checks each call against the API model and fails
on any call not queued)."""

from datetime import UTC, datetime

from datasync_steps.batch_children import child_name, child_prefix
from datasync_steps.executions import StatusChange
from datasync_steps.stop_batch import STOP_ERROR, BatchStatusChangeEvent, stop_children
from tests.conftest import stubbed_client

BATCH = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow-batch:nightly"
STARTED = datetime(2026, 11, 30, 2, 0, 0, 123000, tzinfo=UTC)
WORKFLOW = "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow"


def event(status: str = "ABORTED") -> BatchStatusChangeEvent:
    return BatchStatusChangeEvent(
        detail=StatusChange(executionArn=BATCH, status=status), workflow_state_machine_arn=WORKFLOW
    )


def described(status: str) -> dict:
    return {
        "executionArn": BATCH,
        "stateMachineArn": WORKFLOW.replace("datasync-workflow", "datasync-workflow-batch"),
        "status": status,
        "startDate": STARTED,
    }


def listed(name: str) -> dict:
    arn = f"{WORKFLOW.replace(':stateMachine:', ':execution:')}:{name}"
    return {"executionArn": arn, "stateMachineArn": WORKFLOW, "name": name, "status": "RUNNING", "startDate": 0}


def test_a_batch_still_running_has_none_of_its_children_stopped_whatever_the_event_says():
    # As a caller who may invoke the function could send it: the event says ABORTED, Step Functions says RUNNING.
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response("describe_execution", described("RUNNING"), {"executionArn": BATCH})
        assert stop_children(sfn, event()).Stopped == []


def test_only_the_batchs_own_running_children_are_stopped():
    prefix = child_prefix(BATCH, STARTED)
    mine = [listed(child_name(prefix, index)) for index in (0, 7)]
    # Another batch's, one of the same name started at another time (an earlier run of a reused name), and others.
    others = [
        listed(child_name(child_prefix(BATCH + "-other", STARTED), 0)),
        listed(child_name(child_prefix(BATCH, datetime(2026, 11, 29, 2, 0, tzinfo=UTC)), 1)),
        listed("cli-1234"),
        listed(f"x{prefix}-1"),
    ]
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response("describe_execution", described("TIMED_OUT"), {"executionArn": BATCH})
        stubber.add_response(
            "list_executions",
            {"executions": [mine[0], *others, mine[1]]},
            {"stateMachineArn": WORKFLOW, "statusFilter": "RUNNING"},
        )
        for child in mine:
            stubber.add_response(
                "stop_execution",
                {"stopDate": datetime.now(UTC)},
                {
                    "executionArn": child["executionArn"],
                    "error": STOP_ERROR,
                    "cause": f"The batch {BATCH} ended TIMED_OUT.",
                },
            )
        stopped = stop_children(sfn, event("TIMED_OUT")).Stopped
    assert stopped == [child["executionArn"] for child in mine]
