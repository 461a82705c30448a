"""The batch's summary: a row per item from its child execution, read by the name the Map gave it. Step Functions'
answers by Stubber (it checks each call against the API model and fails on any call not queued)."""

import json
from datetime import UTC, datetime

import pytest

from datasync_steps.batch_children import child_name, child_prefix
from datasync_steps.errors import DataSyncBatchFailedError, DataSyncInvalidInputError
from datasync_steps.summarize_batch import SummarizeEvent, summarize
from tests.conftest import stubbed_client

WORKFLOW = "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow"
BATCH = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow-batch:nightly"
BATCH_STARTED = datetime(2026, 12, 1, 2, 0, 0, 123000, tzinfo=UTC)
PREFIX = child_prefix(BATCH, BATCH_STARTED)
TASK = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"
INLINE = {"transfers": [{"task_arn": TASK}, {"task_arn": TASK}]}


def child(index: int) -> str:
    return f"{WORKFLOW.replace(':stateMachine:', ':execution:')}:{child_name(PREFIX, index)}"


def the_batch(stubber, batch_input: dict, status: str = "RUNNING") -> None:
    """Step Functions' DescribeExecution of the batch the summary is for."""
    batch = {
        "executionArn": BATCH,
        "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow-batch",
        "status": status,
        "startDate": BATCH_STARTED,
        "input": json.dumps(batch_input),
    }
    stubber.add_response("describe_execution", batch, {"executionArn": BATCH})


def summary_of(count: int, tolerated: int) -> SummarizeEvent:
    return SummarizeEvent(execution_id=BATCH, count=count, tolerated_failures=tolerated, state_machine_arn=WORKFLOW)


def summarized(tolerated: int):
    output = {"TaskArn": TASK, "TaskExecutionArn": f"{TASK}/execution/exec-0123456789abcdef0"}
    output["TaskExecution"] = {"BytesTransferred": 10, "FilesTransferred": 2, "BytesWritten": 10}
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE)
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
        return summarize(sfn, summary_of(count=2, tolerated=tolerated))


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
        the_batch(stubber, INLINE)
        stubber.add_client_error(
            "describe_execution", "ExecutionDoesNotExist", expected_params={"executionArn": child(0)}
        )
        summary = summarize(sfn, summary_of(count=1, tolerated=1), Bucket(), rows_bucket="batches-bucket")
    assert summary.model_dump(mode="json") == {
        "Totals": {"Items": 1, "Succeeded": 0, "Failed": 1, "BytesTransferred": 0, "FilesTransferred": 0},
        "RowsUri": f"s3://batches-bucket/batches/{PREFIX}/rows.jsonl",
    }
    assert (written["Bucket"], written["Key"]) == ("batches-bucket", f"batches/{PREFIX}/rows.jsonl")
    assert json.loads(written["Body"])["Status"] == "NOT_STARTED"


def test_the_rows_of_a_batch_read_from_s3_go_where_its_own_children_are_named():
    written: dict = {}

    class Bucket:
        def put_object(self, **request):
            written.update(request)

    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, {"transfers_from": "s3://batches-bucket/nightly.jsonl"})
        stubber.add_client_error(
            "describe_execution", "ExecutionDoesNotExist", expected_params={"executionArn": child(0)}
        )
        summarize(sfn, summary_of(count=1, tolerated=1), Bucket(), rows_bucket="batches-bucket")
    assert written["Key"] == f"batches/{PREFIX}/rows.jsonl"


@pytest.mark.parametrize(
    ("batch_input", "status"),
    [(INLINE, "SUCCEEDED"), (INLINE, "FAILED"), ({"task_arn": TASK}, "RUNNING")],
    ids=["a batch that succeeded", "a batch that failed", "a single run"],
)
def test_no_rows_are_written_for_what_is_no_running_batch(batch_input, status):
    class Bucket:
        def put_object(self, **request):
            pytest.fail(f"rows written to {request['Key']}")

    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, batch_input, status)
        with pytest.raises(DataSyncInvalidInputError, match=f"{BATCH} is no running batch"):
            summarize(sfn, summary_of(count=1, tolerated=1), Bucket(), rows_bucket="batches-bucket")
