"""The "DataSync Workflow Batch Finished" event: one per batch, whatever ended it, on the default event bus, where a
rule catches it (here into an SQS queue, as moto's EventBridge delivers it); beside it each child's own "Run Finished"
event, once."""

import json

import pytest

from datasync_workflow.local import EmulatedTransfer, emulated_transfers, run_local
from tests.conftest import events_a_rule_receives, make_s3_location, make_smb_location, make_task
from tests.workflow.test_batch import put_transfers

FAST = {"wait_interval_seconds": 0}
MISSING = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
BATCH_FINISHED, RUN_FINISHED = "DataSync Workflow Batch Finished", "DataSync Workflow Run Finished"


@pytest.fixture
def tasks(datasync) -> list[str]:
    return [make_task(datasync, make_smb_location(datasync), make_s3_location(datasync)) for _ in range(3)]


@pytest.fixture
def finished(datasync):
    """What a rule on the workflow's events receives: every event, as its target (an SQS queue) gets it."""
    return events_a_rule_receives("finished", [BATCH_FINISHED, RUN_FINISHED])


def batch_event(received: list[dict], batch_arn: str) -> dict:
    """The one Batch Finished event, of this batch; no Run Finished event names the batch."""
    (event,) = [event for event in received if event["detail-type"] == BATCH_FINISHED]
    assert (event["source"], event["resources"], event["detail"]["BatchExecutionArn"]) == (
        "datasync-workflow",
        [batch_arn],
        batch_arn,
    )
    assert all(e["detail"].get("WorkflowExecutionArn") != batch_arn for e in received)
    return event["detail"]


def test_a_batch_that_succeeded_puts_one_event_with_its_totals_beside_one_per_child(tasks, finished):
    batch = {
        "defaults": FAST,
        "transfers": [
            {"task_arn": tasks[0]},
            {"task_arn": MISSING, "task_id": "the_missing_one"},
            {"task_arn": tasks[1]},
        ],
        "tolerated_failure_count": 1,
    }
    execution = run_local(batch, timeout=90)
    assert execution.status == "SUCCEEDED", execution.cause
    received = finished()
    detail = batch_event(received, execution.execution_arn)
    assert detail["Status"] == "SUCCEEDED" and detail["Totals"] == execution.output["Totals"]
    assert detail["Totals"]["Failed"] == 1 and not {"Error", "Cause", "RowsUri"} & set(detail)
    (item,) = detail["FailedItems"]
    assert (item["index"], item["task_id"], item["Status"], item["Error"]) == (
        1,
        "the_missing_one",
        "FAILED",
        "DataSyncTaskNotFoundError",
    )
    assert detail["ConsoleUrl"].endswith(f"#/v2/executions/details/{execution.execution_arn}")
    # Each child announced its own end, once.
    runs = [event["detail"] for event in received if event["detail-type"] == RUN_FINISHED]
    assert len(runs) == 3 and len({run["WorkflowExecutionArn"] for run in runs}) == 3
    assert sorted(run["Status"] for run in runs) == ["FAILED", "SUCCEEDED", "SUCCEEDED"]


def test_a_batch_that_failed_puts_one_event_whose_cause_names_the_failed_items(tasks, finished):
    batch = {"defaults": FAST, "transfers": [{"task_arn": tasks[0]}, {"task_arn": MISSING, "task_id": "missing"}]}
    execution = run_local(batch, timeout=90)
    assert execution.status == "FAILED"
    detail = batch_event(finished(), execution.execution_arn)
    assert (detail["Status"], detail["Error"], detail["Cause"]) == (
        "FAILED",
        "DataSyncBatchFailedError",
        execution.cause,
    )
    assert "item 1 (missing): FAILED" in detail["Cause"] and "Totals" not in detail


def test_a_batch_read_from_s3_puts_one_event_with_its_rows_uri_and_failed_items_read_from_it(tasks, finished):
    lines = [{"task_arn": tasks[0]}, {"task_arn": MISSING, "task_id": "the_missing_one"}, {"task_arn": tasks[2]}]
    uri = put_transfers("".join(json.dumps(line) + "\n" for line in lines))
    batch = {"defaults": FAST, "transfers_from": uri, "tolerated_failure_count": 1}
    execution = run_local(batch, timeout=90)
    assert execution.status == "SUCCEEDED", execution.cause
    detail = batch_event(finished(), execution.execution_arn)
    assert (detail["Totals"], detail["RowsUri"]) == (execution.output["Totals"], execution.output["RowsUri"])
    assert [(item["index"], item["task_id"]) for item in detail["FailedItems"]] == [(1, "the_missing_one")]


def test_a_stopped_batch_puts_one_event_aborted(tasks, finished):
    batch = {"defaults": FAST, "transfers": [{"task_arn": task} for task in tasks[:2]]}
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        execution = run_local(batch, timeout=4)
    assert execution.status == "ABORTED"
    detail = batch_event(finished(), execution.execution_arn)
    assert (detail["Status"], detail["Error"]) == ("ABORTED", "LocalStop") and "Totals" not in detail
