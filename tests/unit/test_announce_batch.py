"""announce-batch: the "DataSync Workflow Batch Finished" event, built from what Step Functions says of the batch
execution (one DescribeExecution, never one per child), never from the event that ran the step. Step Functions'
answers by Stubber (it checks each call against the API model and fails on any call not queued); the rows object of a
batch read from S3 is in moto's S3."""

import json
from datetime import UTC, datetime

import boto3
import pytest

from datasync_steps import announce_batch
from datasync_steps.announce import MAX_CAUSE_CHARACTERS
from datasync_steps.announce_batch import DETAIL_TYPE, SHOWN_FAILED_ITEMS, batch_finished
from datasync_steps.deployment import BATCH_BUCKET_VARIABLE, BATCH_STATE_MACHINE_VARIABLE
from datasync_steps.errors import DataSyncTransientError
from datasync_steps.names import EVENT_SOURCE
from datasync_workflow.definition.steps import step_named
from datasync_workflow.local.runner import _LambdaContext
from tests.conftest import REGION, stubbed_client

BATCHES = "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow-batch"
BATCH = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow-batch:tonight"
WORKFLOW = "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow"
BUCKET = "datasync-workflow-batches"
ROWS_KEY = "batches/0123456789abcdef01234567/rows.jsonl"
TOTALS = {"Items": 3, "Succeeded": 2, "Failed": 1, "BytesTransferred": 20, "FilesTransferred": 2}


@pytest.fixture(autouse=True)
def this_batch_state_machine(monkeypatch):
    monkeypatch.setenv(BATCH_STATE_MACHINE_VARIABLE, BATCHES)


def described(status: str, state_machine: str = BATCHES, **more) -> dict:
    return {
        "executionArn": BATCH,
        "stateMachineArn": state_machine,
        "status": status,
        "startDate": datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
        "input": json.dumps({"transfers": [{"task_arn": "arn:aws:datasync:us-east-1:111122223333:task/task-1"}]}),
        **more,
    }


def row(index: int, status: str = "SUCCEEDED", **more) -> dict:
    if status == "SUCCEEDED":
        return {"index": index, "Status": status, "TaskArn": "t", "BytesTransferred": 10, "FilesTransferred": 1}
    return {"index": index, "Status": status, "Error": "DataSyncTaskNotFoundError", "Cause": "no task", **more}


def finished(answer: dict, s3=None, rows_bucket: str | None = None) -> dict | None:
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response("describe_execution", answer, {"executionArn": BATCH})
        return batch_finished(sfn, BATCH, s3, rows_bucket)


def test_a_batch_that_succeeded_is_announced_with_its_totals_and_its_tolerated_failures_from_its_rows():
    rows = [row(0), row(1, "FAILED", task_id="the_missing_one", ExecutionArn="arn:child-1"), row(2)]
    output = json.dumps({"Totals": TOTALS, "Rows": rows})
    detail = finished(described("SUCCEEDED", output=output))
    assert detail == {
        "Status": "SUCCEEDED",
        "BatchExecutionArn": BATCH,
        "ConsoleUrl": f"https://console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/{BATCH}",
        "Totals": TOTALS,
        "FailedItems": [
            {
                "index": 1,
                "task_id": "the_missing_one",
                "Status": "FAILED",
                "Error": "DataSyncTaskNotFoundError",
                "Cause": "no task",
                "ExecutionArn": "arn:child-1",
            }
        ],
    }


def test_a_batch_with_no_failure_has_no_failed_items():
    output = json.dumps({"Totals": {**TOTALS, "Succeeded": 3, "Failed": 0}, "Rows": [row(0), row(1), row(2)]})
    detail = finished(described("SUCCEEDED", output=output))
    assert detail is not None and "FailedItems" not in detail and "Error" not in detail


def test_at_most_ten_failed_items_are_shown_and_each_text_is_cut():
    rows = [row(index, "FAILED", task_id="x" * 5000) for index in range(25)]
    totals = {**TOTALS, "Items": 25, "Succeeded": 0, "Failed": 25}
    detail = finished(described("SUCCEEDED", output=json.dumps({"Totals": totals, "Rows": rows})))
    assert detail is not None
    assert [item["index"] for item in detail["FailedItems"]] == list(range(SHOWN_FAILED_ITEMS))
    assert all(len(item["task_id"]) < 1100 for item in detail["FailedItems"])


@pytest.fixture
def rows_object(aws):
    """The batch bucket in moto's S3, and a function that writes the rows object of a batch read from S3."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)

    def write(rows: list[dict], key: str = ROWS_KEY) -> str:
        s3.put_object(Bucket=BUCKET, Key=key, Body="".join(json.dumps(r) + "\n" for r in rows).encode())
        return f"s3://{BUCKET}/{key}"

    return s3, write


def test_the_failed_items_of_a_batch_read_from_s3_are_read_from_the_beginning_of_its_rows_object(rows_object):
    s3, write = rows_object
    rows_uri = write([row(0), row(1, "TIMED_OUT"), row(2), row(3, "NOT_STARTED")])
    totals = {**TOTALS, "Items": 4, "Failed": 2}
    detail = finished(described("SUCCEEDED", output=json.dumps({"Totals": totals, "RowsUri": rows_uri})), s3, BUCKET)
    assert detail is not None
    assert (detail["Totals"], detail["RowsUri"]) == (totals, rows_uri)
    assert [(item["index"], item["Status"]) for item in detail["FailedItems"]] == [(1, "TIMED_OUT"), (3, "NOT_STARTED")]


def test_only_the_first_bytes_of_a_large_rows_object_are_read(rows_object, monkeypatch):
    s3, write = rows_object
    rows = [row(index, "FAILED" if index % 2 else "SUCCEEDED") for index in range(1000)]
    rows_uri = write(rows)
    read = []
    real_get_object = s3.get_object

    def get_object(**params):
        read.append(params["Range"])
        return real_get_object(**params)

    monkeypatch.setattr(announce_batch, "ROWS_READ_BYTES", 1000)  # a few rows, the last one cut
    monkeypatch.setattr(s3, "get_object", get_object)
    totals = {**TOTALS, "Items": 1000, "Failed": 500}
    detail = finished(described("SUCCEEDED", output=json.dumps({"Totals": totals, "RowsUri": rows_uri})), s3, BUCKET)
    assert read == ["bytes=0-999"]
    assert detail is not None and 0 < len(detail["FailedItems"]) < SHOWN_FAILED_ITEMS
    assert all(item["Status"] == "FAILED" for item in detail["FailedItems"])


@pytest.mark.parametrize(
    "rows_uri",
    [f"s3://another-bucket/{ROWS_KEY}", f"s3://{BUCKET}/transfers/tonight.jsonl", "not-a-uri"],
)
def test_rows_outside_the_workflows_own_files_in_the_batch_bucket_are_not_read(rows_uri):
    class S3:
        def get_object(self, **_):
            pytest.fail("read an object the step has no business reading")

    output = json.dumps({"Totals": TOTALS, "RowsUri": rows_uri})
    detail = finished(described("SUCCEEDED", output=output), S3(), BUCKET)
    assert detail is not None and detail["Totals"] == TOTALS and "FailedItems" not in detail


def test_rows_that_cannot_be_read_leave_the_failed_items_out_and_announce_the_rest(rows_object):
    s3, _ = rows_object  # the rows object was never written (or has expired)
    output = json.dumps({"Totals": TOTALS, "RowsUri": f"s3://{BUCKET}/{ROWS_KEY}"})
    detail = finished(described("SUCCEEDED", output=output), s3, BUCKET)
    assert detail is not None and detail["Totals"] == TOTALS and "FailedItems" not in detail


def test_a_failed_batch_is_announced_with_its_error_and_the_cause_that_names_its_failed_items():
    cause = "2 of 3 transfers failed, more than the 0 tolerated: item 1 (a): FAILED, ...; item 2: TIMED_OUT, ...."
    detail = finished(described("FAILED", error="DataSyncBatchFailedError", cause=cause))
    assert detail == {
        "Status": "FAILED",
        "BatchExecutionArn": BATCH,
        "ConsoleUrl": f"https://console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/{BATCH}",
        "Error": "DataSyncBatchFailedError",
        "Cause": cause,
    }


@pytest.mark.parametrize("status", ["ABORTED", "TIMED_OUT"])
def test_a_stopped_or_timed_out_batch_is_announced_with_what_step_functions_keeps_of_why(status):
    detail = finished(described(status, error="Stopped", cause="x" * 40_000))
    assert detail is not None
    assert (detail["Status"], detail["Error"]) == (status, "Stopped") and "Totals" not in detail
    assert len(json.dumps(detail["Cause"])) <= MAX_CAUSE_CHARACTERS and "cut: 40,000 characters" in detail["Cause"]


def test_an_aborted_batch_without_error_or_cause_has_neither():
    detail = finished(described("ABORTED"))
    assert detail is not None and detail["Status"] == "ABORTED" and not {"Error", "Cause"} & set(detail)


def test_nothing_is_announced_of_a_batch_still_running_another_state_machines_execution_or_none():
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response("describe_execution", described("RUNNING"))
        # The workflow's own executions (each child of the batch), another team's batches, a Distributed Map's child.
        for state_machine in (WORKFLOW, f"{BATCHES}-of-another-team", f"{BATCHES}/map-run-label"):
            stubber.add_response("describe_execution", described("SUCCEEDED", state_machine, output="{}"))
        stubber.add_client_error("describe_execution", "ExecutionDoesNotExist")
        assert [batch_finished(sfn, BATCH) for _ in range(5)] == [None] * 5


class Events:
    """EventBridge's PutEvents, keeping what it was given."""

    def __init__(self) -> None:
        self.entries: list[dict] = []

    def put_events(self, Entries):
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": f"event-{len(self.entries)}"}]}


def handled(event: dict, answer: dict | None, monkeypatch) -> tuple[dict, list[dict]]:
    """The handler's answer to `event`, Step Functions answering `answer` (an ExecutionDoesNotExist when None), and
    the entries it put."""
    events = Events()
    monkeypatch.setattr(announce_batch, "events_client", lambda: events)
    monkeypatch.setenv(BATCH_BUCKET_VARIABLE, BUCKET)
    with stubbed_client("stepfunctions") as (sfn, stubber):
        if answer is None:
            stubber.add_client_error("describe_execution", "ExecutionDoesNotExist")
        else:
            stubber.add_response("describe_execution", answer, {"executionArn": BATCH})
        monkeypatch.setattr(announce_batch, "states_client", lambda: sfn)
        result = announce_batch.handler(event, _LambdaContext(step_named("announce-batch")))
    return result, events.entries


def forged(status: str) -> dict:
    return {"detail": {"executionArn": BATCH, "stateMachineArn": BATCHES, "status": status}}


def test_a_forged_event_whose_status_lies_announces_what_step_functions_says(aws, monkeypatch):
    result, entries = handled(forged("SUCCEEDED"), described("ABORTED", error="E", cause="stopped"), monkeypatch)
    assert result == {"EventId": "event-1"}
    (entry,) = entries
    assert (entry["Source"], entry["DetailType"], entry["Resources"]) == (EVENT_SOURCE, DETAIL_TYPE, [BATCH])
    detail = json.loads(entry["Detail"])
    assert (detail["Status"], detail["Error"], detail["Cause"]) == ("ABORTED", "E", "stopped")
    assert "Totals" not in detail


def test_a_forged_event_of_a_batch_that_never_ran_or_still_runs_puts_no_event(aws, monkeypatch):
    assert handled(forged("SUCCEEDED"), None, monkeypatch) == ({}, [])
    assert handled(forged("FAILED"), described("RUNNING"), monkeypatch) == ({}, [])


def test_an_entry_eventbridge_refuses_is_a_transient_error_naming_the_batch():
    class Refusing:
        def put_events(self, Entries):
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow"}]}

    with pytest.raises(DataSyncTransientError, match="the batch's event: ThrottlingException: slow"):
        announce_batch.announce_batch(Refusing(), {"Status": "SUCCEEDED", "BatchExecutionArn": BATCH})
