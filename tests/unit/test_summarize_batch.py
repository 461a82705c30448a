"""The batch's summary: a row per item from its child execution, read by the name the Map gave it. Step Functions'
answers by Stubber (it checks each call against the API model and fails on any call not queued)."""

import json
from datetime import UTC, datetime

import pytest

from datasync_steps.batch import child_name
from datasync_steps.errors import DataSyncBatchFailedError
from datasync_steps.summarize_batch import SummarizeEvent, summarize
from tests.conftest import stubbed_client

WORKFLOW = "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow"
TASK = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"


def child(index: int) -> str:
    return f"{WORKFLOW.replace(':stateMachine:', ':execution:')}:{child_name('abc', index)}"


def summarized(tolerated: int):
    output = {"TaskArn": TASK, "TaskExecutionArn": f"{TASK}/execution/exec-0123456789abcdef0"}
    output["TaskExecution"] = {"BytesTransferred": 10, "FilesTransferred": 2, "BytesWritten": 10}
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response(
            "describe_execution",
            {
                "executionArn": child(0),
                "stateMachineArn": WORKFLOW,
                "status": "SUCCEEDED",
                "startDate": datetime.now(UTC),
                "input": json.dumps({"task_arn": TASK, "task_id": "copy"}),
                "output": json.dumps(output),
            },
            {"executionArn": child(0)},
        )
        stubber.add_client_error(
            "describe_execution", "ExecutionDoesNotExist", expected_params={"executionArn": child(1)}
        )
        event = SummarizeEvent(
            execution_id="batch",
            count=2,
            prefix="abc",
            items=None,
            tolerated_failures=tolerated,
            state_machine_arn=WORKFLOW,
        )
        return summarize(sfn, event)


def test_rows_come_from_the_children_and_an_item_never_started_is_a_failure():
    summary = summarized(tolerated=1)
    assert summary.model_dump(mode="json") == {
        "Totals": {"Items": 2, "Succeeded": 1, "Failed": 1, "BytesTransferred": 10, "FilesTransferred": 2},
        "Rows": [
            {
                "index": 0,
                "Status": "SUCCEEDED",
                "task_id": "copy",
                "TaskArn": TASK,
                "TaskExecutionArn": f"{TASK}/execution/exec-0123456789abcdef0",
                "BytesTransferred": 10,
                "FilesTransferred": 2,
            },
            {"index": 1, "Status": "NOT_STARTED", "Error": None, "Cause": "", "ExecutionArn": child(1)},
        ],
    }


def test_more_failures_than_tolerated_fail_the_batch_naming_them():
    with pytest.raises(
        DataSyncBatchFailedError, match=r"^1 of 2 transfers failed, more than the 0 tolerated: item 1: NOT_STARTED"
    ):
        summarized(tolerated=0)


def test_rows_too_many_for_the_output_go_to_the_batch_bucket(monkeypatch):
    from datasync_steps import summarize_batch

    monkeypatch.setattr(summarize_batch, "MAX_ROWS_IN_OUTPUT_BYTES", 100)
    written: dict = {}

    class Bucket:
        def put_object(self, **request):
            written.update(request)

    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_client_error(
            "describe_execution", "ExecutionDoesNotExist", expected_params={"executionArn": child(0)}
        )
        event = SummarizeEvent(
            execution_id="batch", count=1, prefix="abc", items=None, tolerated_failures=1, state_machine_arn=WORKFLOW
        )
        summary = summarize(sfn, event, Bucket(), rows_bucket="batches-bucket")
    assert summary.model_dump(mode="json") == {
        "Totals": {"Items": 1, "Succeeded": 0, "Failed": 1, "BytesTransferred": 0, "FilesTransferred": 0},
        "RowsUri": "s3://batches-bucket/batches/abc/rows.jsonl",
    }
    assert (written["Bucket"], written["Key"]) == ("batches-bucket", "batches/abc/rows.jsonl")
    assert json.loads(written["Body"])["Status"] == "NOT_STARTED"
