"""The batch's summary: a row per item from the Map's results (an array of rows' sources inline, ResultWriter's files
from S3), a child described only when the Map cannot say how it ended. Step Functions' answers by Stubber (it checks
each call against the API model and fails on any call not queued: a DescribeExecution of a child not queued fails)."""

import io
import json
from datetime import UTC, datetime

import pytest

from datasync_steps import summarize_batch
from datasync_steps.batch_children import child_name, child_prefix
from datasync_steps.deployment import WORKFLOW_STATE_MACHINE_VARIABLE
from datasync_steps.errors import DataSyncBatchFailedError, DataSyncInvalidInputError
from datasync_steps.names import MAP_STATES
from datasync_steps.summarize_batch import SummarizeEvent, as_the_batch_ran, summarize
from tests.conftest import stubbed_client

WORKFLOW = "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow"
BATCH = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow-batch:nightly"
BATCH_STARTED = datetime(2026, 12, 1, 2, 0, 0, 123000, tzinfo=UTC)
PREFIX = child_prefix(BATCH, BATCH_STARTED)
TASK = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"
INLINE = {"transfers": [{"task_arn": TASK, "task_id": "copy"}, {"task_arn": TASK}]}
FROM_S3 = {"transfers_from": "s3://batches-bucket/nightly.jsonl"}
EXECUTION = f"{TASK}/execution/exec-0123456789abcdef0"
# A row's source as the inline Map gives it of a child that succeeded, and of one that failed.
SUCCEEDED = {
    "Status": "SUCCEEDED",
    "TaskArn": TASK,
    "TaskExecutionArn": EXECUTION,
    "BytesTransferred": 10,
    "FilesTransferred": 2,
}


def child(index: int) -> str:
    return f"{WORKFLOW.replace(':stateMachine:', ':execution:')}:{child_name(PREFIX, index)}"


def the_batch(stubber, batch_input: dict, status: str = "RUNNING", redrive_count: int = 0) -> None:
    """Step Functions' DescribeExecution of the batch the summary is for."""
    batch = {
        "executionArn": BATCH,
        "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:datasync-workflow-batch",
        "status": status,
        "startDate": BATCH_STARTED,
        "input": json.dumps(batch_input),
        "redriveCount": redrive_count,
    }
    stubber.add_response("describe_execution", batch, {"executionArn": BATCH})


def summary_of(count: int, tolerated: int, results=None) -> SummarizeEvent:
    return SummarizeEvent(
        execution_id=BATCH,
        count=count,
        tolerated_failures=tolerated,
        state_machine_arn=WORKFLOW,
        token="task-token",
        results=[] if results is None else results,
    )


def summarized(tolerated: int):
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE)
        # The Map ended before item 1's turn: it has one result.
        return summarize(sfn, summary_of(count=2, tolerated=tolerated, results=[SUCCEEDED]))


def test_rows_come_from_the_maps_results_and_an_item_never_started_is_a_failure():
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
        summary = summarize(sfn, summary_of(count=1, tolerated=1), Bucket(), rows_bucket="batches-bucket")
    assert summary.model_dump(mode="json") == {
        "Totals": {"Items": 1, "Succeeded": 0, "Failed": 1, "BytesTransferred": 0, "FilesTransferred": 0},
        "RowsUri": f"s3://batches-bucket/batches/{PREFIX}/rows.jsonl",
    }
    assert (written["Bucket"], written["Key"]) == ("batches-bucket", f"batches/{PREFIX}/rows.jsonl")
    assert json.loads(written["Body"])["Status"] == "NOT_STARTED"


class Bucket:
    """The batch bucket: what is put in it, and what ResultWriter wrote (each object read a few bytes at a time, as
    a stream gives them)."""

    def __init__(self, objects: dict[str, bytes] | None = None):
        self.objects = dict(objects or {})

    def put_object(self, Bucket, Key, Body, **_):
        assert Bucket == "batches-bucket"
        self.objects[Key] = Body

    def get_object(self, Bucket, Key):
        assert Bucket == "batches-bucket"
        body = self.objects[Key]
        return {"ContentLength": len(body), "Body": io.BytesIO(body)}


RESULTS = f"batches/{PREFIX}/0a1b2c3d-map-run"
MAP_RUN = "arn:aws:states:us-east-1:123456789012:mapRun:datasync-workflow-batch/Transfers:0a1b2c3d-map-run"


def written_results(*entries: dict, failed: tuple[dict, ...] = ()) -> tuple[Bucket, dict]:
    """ResultWriter's files of these iterations (in AWS's layout: a manifest naming a JSON array of each status), and
    the Map's output that names the manifest."""
    objects, files = {}, {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status, written in (("SUCCEEDED", entries), ("FAILED", failed)):
        if written:
            key = f"{RESULTS}/{status}_0.json"
            objects[key] = json.dumps(list(written), indent=1, ensure_ascii=False).encode()
            files[status].append({"Key": key, "Size": len(objects[key])})
    manifest = {"DestinationBucket": "batches-bucket", "MapRunArn": MAP_RUN, "ResultFiles": files}
    objects[f"{RESULTS}/manifest.json"] = json.dumps(manifest).encode()
    output = {
        "MapRunArn": MAP_RUN,
        "ResultWriterDetails": {"Bucket": "batches-bucket", "Key": f"{RESULTS}/manifest.json"},
    }
    return Bucket(objects), output


def entry(index: int, output: dict | None = None, task_id: str | None = None, **failure) -> dict:
    """An iteration as ResultWriter writes it: its input (the ItemSelector's: the item, the child's name), and its
    output (a row's source) or, for an iteration that failed, its Error and Cause."""
    item = {"task_arn": TASK} | ({"task_id": task_id} if task_id else {})
    given = {"input": item, "name": child_name(PREFIX, index), "link": {}}
    written = {
        "ExecutionArn": f"arn:aws:states:us-east-1:123456789012:execution:datasync-workflow-batch/Transfers:{index}",
        "Input": json.dumps(given),
        "InputDetails": {"Included": True},
        "Name": str(index),
        "Status": "FAILED" if failure else "SUCCEEDED",
    }
    return written | (
        {"Output": json.dumps(output, ensure_ascii=False), "OutputDetails": {"Included": True}} if output else failure
    )


def test_the_rows_of_a_batch_read_from_s3_go_where_its_own_children_are_named():
    bucket, output = written_results(entry(0, SUCCEEDED))
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, FROM_S3)
        summarize(sfn, summary_of(count=1, tolerated=1, results=output), bucket, rows_bucket="batches-bucket")
    assert json.loads(bucket.objects[f"batches/{PREFIX}/rows.jsonl"])["Status"] == "SUCCEEDED"


def test_the_rows_of_a_batch_read_from_s3_come_from_resultwriters_files_with_no_child_described(monkeypatch):
    from datasync_steps import summarize_batch

    monkeypatch.setattr(summarize_batch, "READ_BYTES", 7)  # the entries arrive in pieces, characters split
    child_failed = {
        "ExecutionArn": child(1),
        "Status": "FAILED",
        "Input": {"task_arn": TASK},
        "Error": "DataSyncTaskNotFoundError",
        "Cause": "DataSync has no task \u00e9 " + "x" * 300,
    }
    refused = "Execution Already Exists: 'arn:...' (Service: AWSStepFunctions; Error Code: InvalidArn)"
    bucket, output = written_results(
        entry(2, {"Error": "StepFunctions.InvalidArnException", "Cause": refused}),
        entry(0, {k: v for k, v in SUCCEEDED.items() if "Transferred" not in k}, task_id="copy"),
        entry(
            1, {"Error": "States.TaskFailed", "Cause": json.dumps(child_failed, ensure_ascii=False)}, task_id="fails"
        ),
    )
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, FROM_S3)
        summary = summarize(sfn, summary_of(count=4, tolerated=3, results=output), bucket, "batches-bucket")
    rows = [json.loads(line) for line in bucket.objects[f"batches/{PREFIX}/rows.jsonl"].splitlines()]
    assert rows == [
        {"index": 0, "Status": "SUCCEEDED", "task_id": "copy", "TaskArn": TASK, "TaskExecutionArn": EXECUTION},
        {
            "index": 1,
            "Status": "FAILED",
            "task_id": "fails",
            "Error": "DataSyncTaskNotFoundError",
            "Cause": ("DataSync has no task \u00e9 " + "x" * 300)[:200] + "…",
            "ExecutionArn": child(1),
        },
        {
            "index": 2,
            "Status": "NOT_STARTED",
            "Error": "StepFunctions.InvalidArnException",
            "Cause": refused,
            "ExecutionArn": child(2),
        },
        {"index": 3, "Status": "NOT_STARTED", "Error": None, "Cause": "", "ExecutionArn": child(3)},
    ]
    assert summary.Totals == {"Items": 4, "Succeeded": 1, "Failed": 3, "BytesTransferred": 0, "FilesTransferred": 0}


def test_a_failed_inline_child_is_described_the_one_call_the_map_leaves_to_make():
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE)
        stubber.add_response(
            "describe_execution",
            {
                "executionArn": child(1),
                "stateMachineArn": WORKFLOW,
                "status": "FAILED",
                "startDate": datetime.now(UTC),
                "input": json.dumps({"task_arn": TASK}),
                "error": "DataSyncTaskNotFoundError",
                "cause": "DataSync has no task",
            },
            {"executionArn": child(1)},
        )
        summary = summarize(sfn, summary_of(2, 1, [SUCCEEDED, {"Error": "States.TaskFailed"}]))
    assert summary.Rows[1] == {
        "index": 1,
        "Status": "FAILED",
        "Error": "DataSyncTaskNotFoundError",
        "Cause": "DataSync has no task",
        "ExecutionArn": child(1),
    }


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("batches/another-batch/run/manifest.json", "is not this batch's"),
        (f"{RESULTS}/manifest.json", "is 2,097,152 bytes; at most 1,048,576"),
    ],
    ids=["another batch's results", "a manifest too large to read"],
)
def test_results_that_are_not_the_batchs_own_or_too_large_are_refused_unread(key, problem):
    bucket, output = written_results(entry(0, SUCCEEDED))
    bucket.objects[f"{RESULTS}/manifest.json"] = b" " * 2 * 1024 * 1024
    output["ResultWriterDetails"]["Key"] = key
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, FROM_S3)
        with pytest.raises(DataSyncInvalidInputError, match=problem):
            summarize(sfn, summary_of(count=1, tolerated=1, results=output), bucket, "batches-bucket")


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


def child_described(stubber, index: int, status: str, **fields) -> None:
    described = {
        "executionArn": child(index),
        "stateMachineArn": WORKFLOW,
        "status": status,
        "startDate": datetime.now(UTC),
        "input": json.dumps({"task_arn": TASK}),
    }
    stubber.add_response("describe_execution", described | fields, {"executionArn": child(index)})


@pytest.mark.parametrize(
    ("error", "status", "fields", "row"),
    [
        # Every start's answer lost, the retries spent: the child may run, and does; not NOT_STARTED.
        ("StepFunctions.SdkClientException", "RUNNING", {}, {"Status": "RUNNING"}),
        # A start tried again after its answer was lost, once the child it started had ended.
        (
            "StepFunctions.ExecutionAlreadyExistsException",
            "SUCCEEDED",
            {"output": json.dumps({"TaskArn": TASK, "TaskExecutionArn": EXECUTION})},
            {"Status": "SUCCEEDED", "TaskArn": TASK, "TaskExecutionArn": EXECUTION},
        ),
    ],
    ids=["answers lost", "name taken by its own child"],
)
def test_a_start_that_failed_other_than_by_a_refusal_is_described(error, status, fields, row):
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE)
        child_described(stubber, 1, status, **fields)
        summary = summarize(sfn, summary_of(2, 1, [SUCCEEDED, {"Error": error, "Cause": "Rate exceeded"}]))
    assert {key: summary.Rows[1].get(key) for key in row} == row


def test_a_refused_start_is_not_started_and_nothing_is_described():
    with stubbed_client("stepfunctions") as (sfn, stubber):  # Stubber fails on a DescribeExecution not queued
        the_batch(stubber, INLINE)
        summary = summarize(sfn, summary_of(2, 1, [SUCCEEDED, {"Error": "StepFunctions.InvalidArnException"}]))
    assert (summary.Rows[1]["Status"], summary.Rows[1]["Error"]) == ("NOT_STARTED", "StepFunctions.InvalidArnException")


def map_exited(output: dict) -> dict:
    return {
        "timestamp": BATCH_STARTED,
        "type": "MapStateExited",
        "id": 9,
        "stateExitedEventDetails": {"name": MAP_STATES[0], "output": json.dumps(output)},
    }


def test_the_maps_results_are_read_from_the_batchs_history_not_from_the_invocation(monkeypatch):
    monkeypatch.setenv(WORKFLOW_STATE_MACHINE_VARIABLE, WORKFLOW)
    ran = {"count": 2, "tolerated_failures": 0, "mapped": [SUCCEEDED, SUCCEEDED], "prefix": PREFIX}
    history = [
        {"timestamp": BATCH_STARTED, "type": "TaskStateEntered", "id": 10, "stateEnteredEventDetails": {"name": "x"}},
        map_exited(ran),
    ]
    forged = summary_of(600, 600, [SUCCEEDED | {"BytesTransferred": 10**20}] * 600)
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_response(
            "get_execution_history",
            {"events": history},
            {"executionArn": BATCH, "reverseOrder": True, "includeExecutionData": True, "maxResults": 20},
        )
        trusted = as_the_batch_ran(sfn, forged)
    assert (trusted.count, trusted.tolerated_failures, trusted.results) == (2, 0, [SUCCEEDED, SUCCEEDED])


def test_an_invocation_naming_another_state_machine_is_refused_before_anything_is_read(monkeypatch):
    monkeypatch.setenv(WORKFLOW_STATE_MACHINE_VARIABLE, WORKFLOW)
    forged = summary_of(2, 0).model_copy(update={"state_machine_arn": f"{WORKFLOW}-theirs"})
    with stubbed_client("stepfunctions") as (sfn, _), pytest.raises(DataSyncInvalidInputError, match="not this"):
        as_the_batch_ran(sfn, forged)


def test_a_manifest_naming_a_result_file_outside_the_batchs_place_is_refused_before_it_is_read():
    bucket, output = written_results(entry(0, SUCCEEDED))
    manifest_key = f"{RESULTS}/manifest.json"
    manifest = json.loads(bucket.objects[manifest_key])
    manifest["ResultFiles"]["SUCCEEDED"] = [{"Key": "batches/another-batch/SUCCEEDED_0.json", "Size": 2}]
    bucket.objects[manifest_key] = json.dumps(manifest).encode()
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, FROM_S3)
        with pytest.raises(DataSyncInvalidInputError, match="names a file outside"):
            summarize(sfn, summary_of(count=1, tolerated=1, results=output), bucket, "batches-bucket")


def test_a_result_entry_larger_than_any_iteration_can_write_is_refused_not_held(monkeypatch):
    # Read 1 KiB at a time, as from a stream: no more than the cap (and a read) of an entry is held, then refused.
    monkeypatch.setattr(summarize_batch, "MAX_RESULT_ENTRY_BYTES", 4096)
    monkeypatch.setattr(summarize_batch, "READ_BYTES", 1024)
    bucket, output = written_results(entry(0, SUCCEEDED | {"task_id": "x" * 8192}))
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, FROM_S3)
        with pytest.raises(DataSyncInvalidInputError, match="holds an entry over 4,096 bytes"):
            summarize(sfn, summary_of(count=1, tolerated=1, results=output), bucket, "batches-bucket")


# Issue 28: a redriven batch runs again what did not succeed.


def test_a_redriven_summary_writes_only_the_items_that_did_not_succeed_merged_and_named_for_the_redrive():
    failed_child = {"status": "FAILED", "error": "DataSyncTaskNotFoundError", "cause": "no task"}
    results = [SUCCEEDED, {"Error": "States.TaskFailed", "Cause": json.dumps(failed_child)}]
    batch_input = {"defaults": {"wait_interval_seconds": 0}, "transfers": INLINE["transfers"]}
    bucket = Bucket()
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, batch_input, redrive_count=1)
        summary = summarize(sfn, summary_of(2, 0, results), bucket, "batches-bucket")
    place = f"batches/{PREFIX}/reruns/1"
    assert summary.Rerun is not None
    assert summary.Rerun.model_dump() == {
        "Bucket": "batches-bucket",
        "Key": f"{place}/items.json",
        "ResultsPrefix": place,
        "Items": 1,
    }
    assert json.loads(bucket.objects[f"{place}/items.json"]) == [
        {"name": f"{PREFIX}-1-r1", "input": {"wait_interval_seconds": 0, "task_arn": TASK}}
    ]
    kept = [json.loads(line) for line in bucket.objects[f"batches/{PREFIX}/rows.jsonl"].decode().splitlines()]
    assert [(row["index"], row["Status"]) for row in kept] == [(0, "SUCCEEDED"), (1, "FAILED")]
    assert summary.Totals["Succeeded"] == 1 and summary.Totals["Failed"] == 1


def test_a_summary_not_redriven_since_its_last_rerun_fails_the_batch_rather_than_running_it_again():
    failed_child = {"status": "FAILED", "error": "DataSyncTaskNotFoundError", "cause": "no task"}
    results = [SUCCEEDED, {"Error": "States.TaskFailed", "Cause": json.dumps(failed_child)}]
    bucket = Bucket()
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE)
        with pytest.raises(DataSyncBatchFailedError, match="1 of 2 transfers failed"):
            summarize(sfn, summary_of(2, 0, results), bucket, "batches-bucket")
    # The rows are kept for a redrive to start from; nothing is written to run again.
    assert list(bucket.objects) == [f"batches/{PREFIX}/rows.jsonl"]


def after_rerun(reran: dict) -> SummarizeEvent:
    """The summary's event for a 2-item batch after the Map that ran items again wrote `reran` (its output)."""
    return summary_of(2, 0).model_copy(update={"reran": summarize_batch.WrittenResults.model_validate(reran)})


def rerun_results(redrive: int, *entries: dict, place: str | None = None) -> tuple[Bucket, dict]:
    bucket, _ = written_results(*entries)
    results = place or f"batches/{PREFIX}/reruns/{redrive}/0a1b2c3d-map-run"
    moved = {
        key.replace(RESULTS, results): body.replace(RESULTS.encode(), results.encode())
        for key, body in bucket.objects.items()
    }
    return Bucket(moved), {
        "MapRunArn": MAP_RUN,
        "ResultWriterDetails": {"Bucket": "batches-bucket", "Key": f"{results}/manifest.json"},
    }


@pytest.mark.parametrize(
    "place",
    [f"batches/{PREFIX}/0a1b2c3d-map-run", "batches/another-batch/reruns/1/run", f"batches/{PREFIX}/reruns/x/run"],
)
def test_results_of_items_run_again_outside_the_place_of_a_redrive_of_this_batch_are_refused(place):
    bucket, reran = rerun_results(1, entry(1, SUCCEEDED), place=place)
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE, redrive_count=1)
        event = after_rerun(reran)
        with pytest.raises(DataSyncInvalidInputError, match="is no place of this batch's items run again"):
            summarize(sfn, event, bucket, "batches-bucket")


def test_after_the_items_run_again_each_row_is_its_items_latest_child():
    kept = [{"index": 0, "Status": "SUCCEEDED", **SUCCEEDED}, {"index": 1, "Status": "FAILED", "Error": "E"}]
    rerun_entry = entry(1, SUCCEEDED) | {"Input": json.dumps({"input": {"task_arn": TASK}, "name": f"{PREFIX}-1-r1"})}
    bucket, reran = rerun_results(1, rerun_entry)
    bucket.objects[f"batches/{PREFIX}/rows.jsonl"] = "".join(json.dumps(row) + "\n" for row in kept).encode()
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE, redrive_count=1)
        event = after_rerun(reran)
        summary = summarize(sfn, event, bucket, "batches-bucket")
    assert summary.Rerun is None
    assert [(row["index"], row["Status"]) for row in summary.Rows] == [(0, "SUCCEEDED"), (1, "SUCCEEDED")]
    assert summary.Totals["Succeeded"] == 2


def test_kept_rows_that_name_no_item_of_the_batch_are_refused():
    bucket, reran = rerun_results(1, entry(1, SUCCEEDED))
    bucket.objects[f"batches/{PREFIX}/rows.jsonl"] = json.dumps({"index": 7, "Status": "SUCCEEDED"}).encode()
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE, redrive_count=1)
        event = after_rerun(reran)
        with pytest.raises(DataSyncInvalidInputError, match="holds no row of this batch"):
            summarize(sfn, event, bucket, "batches-bucket")


def test_a_token_no_task_waits_on_is_told_the_failure_rather_than_swallowed():
    failure = DataSyncBatchFailedError("1 of 2 transfers failed")
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_client_error("send_task_failure", "InvalidToken", "Invalid token")
        with pytest.raises(DataSyncBatchFailedError, match="1 of 2 transfers failed"):
            summarize_batch.answer(sfn, "a-forged-token", failure)
        stubber.add_client_error("send_task_success", "TaskDoesNotExist", "no task")
        with pytest.raises(DataSyncInvalidInputError, match="no waiting batch summary"):
            summarize_batch.answer(sfn, "a-forged-token", summarize_batch.BatchSummary(Totals={}))


# Review of issue 28 item 2: what the tests above left open.


def test_a_redriven_summary_whose_items_all_succeeded_summarizes_at_once_and_runs_nothing_again():
    bucket = Bucket()
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE, redrive_count=1)
        summary = summarize(sfn, summary_of(2, 0, [SUCCEEDED, SUCCEEDED]), bucket, "batches-bucket")
    assert summary.Rerun is None
    assert [row["Status"] for row in summary.Rows] == ["SUCCEEDED", "SUCCEEDED"]
    assert not [key for key in bucket.objects if "/reruns/" in key]


def rerun_child(index: int, redrive: int) -> str:
    return f"{WORKFLOW.replace(':stateMachine:', ':execution:')}:{child_name(PREFIX, index, redrive)}"


def test_an_item_run_again_that_the_map_cannot_say_how_it_ended_is_described_by_its_rerun_child():
    kept = [{"index": 0, "Status": "SUCCEEDED", **SUCCEEDED}, {"index": 1, "Status": "FAILED", "Error": "E"}]
    lost = entry(1, Error="States.Runtime", Cause="the iteration ended outside its Catch")
    lost["Input"] = json.dumps({"input": {"task_arn": TASK}, "name": f"{PREFIX}-1-r1"})
    bucket, reran = rerun_results(1, lost)
    bucket.objects[f"batches/{PREFIX}/rows.jsonl"] = "".join(json.dumps(row) + "\n" for row in kept).encode()
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE, redrive_count=1)
        # Stubber checks the ARN: the child of the redrive (-r1), not the item's first child that failed.
        described = {
            "executionArn": rerun_child(1, 1),
            "stateMachineArn": WORKFLOW,
            "status": "SUCCEEDED",
            "startDate": datetime.now(UTC),
            "input": json.dumps({"task_arn": TASK}),
            "output": json.dumps({"TaskArn": TASK, "TaskExecutionArn": EXECUTION}),
        }
        stubber.add_response("describe_execution", described, {"executionArn": rerun_child(1, 1)})
        event = after_rerun(reran)
        summary = summarize(sfn, event, bucket, "batches-bucket")
    assert summary.Rows[1] == {"index": 1, "Status": "SUCCEEDED", "TaskArn": TASK, "TaskExecutionArn": EXECUTION}


def test_the_rerun_results_are_read_from_the_batchs_history_not_from_the_invocation(monkeypatch):
    monkeypatch.setenv(WORKFLOW_STATE_MACHINE_VARIABLE, WORKFLOW)
    forged_place = f"batches/{PREFIX}/reruns/1/forged"
    forged = summary_of(2, 0).model_copy(
        update={
            "reran": summarize_batch.WrittenResults.model_validate(
                {"MapRunArn": MAP_RUN, "ResultWriterDetails": {"Bucket": "batches-bucket", "Key": forged_place}}
            )
        }
    )
    real = {"MapRunArn": MAP_RUN, "ResultWriterDetails": {"Bucket": "batches-bucket", "Key": "real/manifest.json"}}
    ran = {"count": 2, "tolerated_failures": 0, "mapped": [SUCCEEDED, SUCCEEDED], "prefix": PREFIX}
    for history_reran, trusted_reran in ((None, None), (real, real)):
        output = ran | ({"reran": history_reran} if history_reran else {})
        with stubbed_client("stepfunctions") as (sfn, stubber):
            stubber.add_response(
                "get_execution_history",
                {"events": [map_exited(output)]},
                {"executionArn": BATCH, "reverseOrder": True, "includeExecutionData": True, "maxResults": 20},
            )
            trusted = as_the_batch_ran(sfn, forged)
        assert (trusted.reran.model_dump() if trusted.reran else None) == trusted_reran


def test_a_redriven_batch_with_no_batch_bucket_fails_saying_so_and_writes_nothing():
    failed_child = {"status": "FAILED", "error": "DataSyncTaskNotFoundError", "cause": "no task"}
    results = [SUCCEEDED, {"Error": "States.TaskFailed", "Cause": json.dumps(failed_child)}]
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE, redrive_count=1)
        with pytest.raises(DataSyncBatchFailedError, match="no batch bucket for a redrive"):
            summarize(sfn, summary_of(2, 0, results), None, None)


def test_kept_rows_without_a_status_are_refused():
    bucket, reran = rerun_results(1, entry(1, SUCCEEDED))
    bucket.objects[f"batches/{PREFIX}/rows.jsonl"] = json.dumps({"index": 0}).encode()
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE, redrive_count=1)
        event = after_rerun(reran)
        with pytest.raises(DataSyncInvalidInputError, match="holds no row of this batch"):
            summarize(sfn, event, bucket, "batches-bucket")


def test_a_rerun_manifest_naming_a_file_outside_its_redrives_place_is_refused():
    bucket, reran = rerun_results(1, entry(1, SUCCEEDED))
    # The batch's own Map's results, beside (not under) the place of redrive 1.
    own, _ = written_results(entry(1, SUCCEEDED))
    bucket.objects.update(own.objects)
    manifest_key = reran["ResultWriterDetails"]["Key"]
    manifest = json.loads(bucket.objects[manifest_key])
    manifest["ResultFiles"]["SUCCEEDED"] = [{"Key": f"{RESULTS}/SUCCEEDED_0.json", "Size": 1}]
    bucket.objects[manifest_key] = json.dumps(manifest).encode()
    bucket.objects[f"batches/{PREFIX}/rows.jsonl"] = json.dumps({"index": 0, "Status": "SUCCEEDED"}).encode()
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE, redrive_count=1)
        event = after_rerun(reran)
        with pytest.raises(DataSyncInvalidInputError, match="names a file outside"):
            summarize(sfn, event, bucket, "batches-bucket")


def test_a_token_whose_task_timed_out_is_told_the_failure_too():
    failure = DataSyncBatchFailedError("1 of 2 transfers failed")
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_client_error("send_task_failure", "TaskTimedOut", "timed out")
        with pytest.raises(DataSyncBatchFailedError, match="1 of 2 transfers failed"):
            summarize_batch.answer(sfn, "a-timed-out-token", failure)


@pytest.mark.parametrize(
    ("suffix", "item"),
    [("1", (1, 0)), ("1-r2", (1, 2)), ("1-r", None), ("1-rx", None), ("x-r1", None), ("1-r1-r2", None)],
)
def test_a_childs_name_gives_its_item_and_redrive_and_no_other_name_does(suffix, item):
    from datasync_steps.batch_children import child_item

    assert child_item(PREFIX, f"{PREFIX}-{suffix}") == item


def test_a_redriven_batch_within_its_tolerance_and_without_a_batch_bucket_succeeds():
    # Redriven after a stop, say: nowhere to write the items to run again, and no need, as the failures are tolerated.
    failed_child = {"status": "FAILED", "error": "DataSyncTaskNotFoundError", "cause": "no task"}
    results = [SUCCEEDED, {"Error": "States.TaskFailed", "Cause": json.dumps(failed_child)}]
    with stubbed_client("stepfunctions") as (sfn, stubber):
        the_batch(stubber, INLINE, redrive_count=1)
        summary = summarize(sfn, summary_of(2, 1, results), None, None)
    assert summary.Rerun is None and summary.Totals["Failed"] == 1
