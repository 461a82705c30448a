"""Batches on the batch state machine: inline items run as child executions of the workflow and summed up, items read
from the batch bucket by a Distributed Map, and a stopped batch whose children stop and cancel their transfers. What
each proves on AWS is in docs/reference/proven.md."""

import json
import time
import uuid

import pytest

from datasync_steps.names import CANCELLED_TAG, EVENT_SOURCE
from tests.e2e.target import OBJECTS, Target, started_transfers
from tests.e2e.test_events import finished_runs

STARTED_BY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"  # the batch's link in each child's input
WAIT_STATE = "Wait for DataSync's event"
ENDED = ("SUCCESS", "ERROR")
BATCH_FINISHED = "DataSync Workflow Batch Finished"  # datasync_steps/announce_batch.py


def start_batch(target: Target, batch: dict) -> str:
    """A batch started on the batch state machine; what it writes under batches/ is removed at the scenario's end."""
    batch_arn = target.start(batch, machine_arn=target.batch_state_machine_arn)
    target.remember(lambda: remove_batch_files(target, batch_arn))
    return batch_arn


def remove_batch_files(target: Target, batch_arn: str) -> None:
    """The checked items and rows the batch kept in the batch bucket, under batches/<its children's prefix>/."""
    from datasync_steps.batch_children import child_prefix  # the hash the children's names begin with

    started = target.client("stepfunctions").describe_execution(executionArn=batch_arn)["startDate"]
    s3, prefix = target.client("s3"), f"batches/{child_prefix(batch_arn, started)}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=target.batch_bucket, Prefix=prefix):
        if page.get("Contents"):
            objects = [{"Key": o["Key"]} for o in page["Contents"]]
            s3.delete_objects(Bucket=target.batch_bucket, Delete={"Objects": objects})


def children_of(target: Target, batch_arn: str) -> dict[str, str]:
    """The workflow executions the batch started, by name: those whose input links them to it."""
    sfn, children = target.client("stepfunctions"), {}
    batch_start = sfn.describe_execution(executionArn=batch_arn)["startDate"]
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=target.state_machine_arn):
        for execution in page["executions"]:
            if execution["startDate"] < batch_start:
                continue  # started before the batch (another scenario's, on a deployed stack)
            described = sfn.describe_execution(executionArn=execution["executionArn"])
            if json.loads(described["input"]).get(STARTED_BY) == batch_arn:
                children[execution["name"]] = execution["executionArn"]
    return children


def wait_for_children(target: Target, batch_arn: str, count: int) -> dict[str, str]:
    deadline = time.monotonic() + target.run_seconds
    while len(children := children_of(target, batch_arn)) < count:
        assert time.monotonic() < deadline, f"{batch_arn} started {len(children)} of its {count} children in time"
        time.sleep(0.2 if target.emulated else 5)
    return children


def ends_within(seconds: float, ended, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ended():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.1)


def located(target: Target, task_arn: str) -> tuple[str, str]:
    """The URIs of a task's source and destination, as DataSync stores them."""
    datasync = target.client("datasync")
    task = datasync.describe_task(TaskArn=task_arn)
    return tuple(
        datasync.describe_location_s3(LocationArn=task[key])["LocationUri"]
        for key in ("SourceLocationArn", "DestinationLocationArn")
    )


def assert_succeeded_rows(target: Target, rows: list[dict], items: list[dict]) -> None:
    """A row per item, in order, each naming the task between the item's buckets and a DataSync execution that
    succeeded and copied something."""
    datasync = target.client("datasync")
    assert [(row["index"], row["task_id"], row["Status"]) for row in rows] == [
        (index, item["task_id"], "SUCCEEDED") for index, item in enumerate(items)
    ]
    for row, item in zip(rows, items, strict=True):
        assert located(target, row["TaskArn"]) == (item["source_location_uri"], item["destination_location_uri"])
        assert row["TaskExecutionArn"].startswith(f"{row['TaskArn']}/execution/")
        described = datasync.describe_task_execution(TaskExecutionArn=row["TaskExecutionArn"])
        assert described["Status"] == "SUCCESS"
        assert (row["FilesTransferred"], row["BytesTransferred"]) == (
            described["FilesTransferred"],
            described["BytesTransferred"],
        )
        assert row["FilesTransferred"] > 0 and row["BytesTransferred"] > 0


def assert_totals(totals: dict, rows: list[dict]) -> None:
    assert totals == {
        "Items": len(rows),
        "Succeeded": len(rows),
        "Failed": 0,
        "BytesTransferred": sum(row["BytesTransferred"] for row in rows),
        "FilesTransferred": sum(row["FilesTransferred"] for row in rows),
    }


def assert_copied(target: Target, item: dict) -> None:
    """On AWS the destination holds the source's objects under copy/ (the emulation copies no object)."""
    if target.emulated:
        return
    s3 = target.client("s3")
    destination = item["destination_location_uri"].removeprefix("s3://").split("/")[0]
    keys = {
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=destination)
        for o in page.get("Contents", [])
    }
    assert {"copy/a.txt", "copy/b/c.txt"} <= keys, keys


@pytest.mark.proves(
    "the batch state machine's inline Map starts each item as a child execution of the workflow "
    "(states:startExecution.sync:2) and the summary's rows come from the Map's results (each child's status and "
    "output, as .sync:2 gives them), no child described",
    emulation="moto's engine runs the batch definition's inline Map and its .sync:2 child executions",
)
def test_an_inline_batch_of_two_transfers_runs_both_and_sums_them_up(target: Target):
    items = [{**target.s3_to_s3(), "task_id": "first"}, {**target.s3_to_s3(), "task_id": "second"}]
    batch_arn = start_batch(target, {"transfers": items, "defaults": {"wait_interval_seconds": 3600}})
    run = target.finish(batch_arn)
    assert run.status == "SUCCEEDED", run.cause
    assert "RowsUri" not in run.output
    rows = run.output["Rows"]
    assert_succeeded_rows(target, rows, items)
    assert_totals(run.output["Totals"], rows)
    # Each row's run is a child of the batch, named after it, and itself succeeded.
    children = children_of(target, batch_arn)
    (prefix,) = {name.rsplit("-", 1)[0] for name in children}
    assert sorted(children) == [f"{prefix}-{index}" for index in range(2)]
    sfn = target.client("stepfunctions")
    for name, child in children.items():
        described = sfn.describe_execution(executionArn=child)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"])["TaskArn"] == rows[int(name.rsplit("-", 1)[1])]["TaskArn"]
    for item in items:
        assert_copied(target, item)


@pytest.mark.proves(
    "the Distributed Map's ItemReader reads the checked copy from the batch bucket (s3:GetObject), starts its "
    "children, its ResultWriter puts the iterations' results under the batch's own batches/<prefix>/ "
    "(a manifest.json naming SUCCEEDED_n, FAILED_n and PENDING_n files: the layout the summary reads, and the batch "
    "role's s3:PutObject and multipart grants), and the summary writes the rows back (the batch role's grants on "
    "the bucket)",
    emulation="moto's engine runs the Distributed Map with its ItemReader on moto's S3; its ResultWriter is the "
    "emulation's, writing the manifest and result files in the layout the developer guide documents",
)
def test_a_batch_read_from_the_batch_bucket_runs_each_item_and_counts_them(target: Target):
    items = [{**target.s3_to_s3(), "task_id": f"from_s3_{index}"} for index in range(2)]
    s3, key = target.client("s3"), f"transfers/e2e-{uuid.uuid4().hex[:16]}.jsonl"
    s3.put_object(Bucket=target.batch_bucket, Key=key, Body="".join(json.dumps(item) + "\n" for item in items))
    target.remember(lambda: s3.delete_object(Bucket=target.batch_bucket, Key=key))
    batch = {"transfers_from": f"s3://{target.batch_bucket}/{key}", "defaults": {"wait_interval_seconds": 3600}}
    batch_arn = start_batch(target, batch)
    run = target.finish(batch_arn)
    assert run.status == "SUCCEEDED", run.cause
    assert "Rows" not in run.output and "Run each transfer from S3" in run.entered()
    rows_uri = run.output["RowsUri"]
    bucket, rows_key = rows_uri.removeprefix("s3://").split("/", 1)
    assert bucket == target.batch_bucket and rows_key.startswith("batches/") and rows_key.endswith("/rows.jsonl")
    rows_text = s3.get_object(Bucket=bucket, Key=rows_key)["Body"].read().decode()
    rows = sorted((json.loads(line) for line in rows_text.splitlines()), key=lambda row: row["index"])
    assert_succeeded_rows(target, rows, items)
    assert_totals(run.output["Totals"], rows)
    assert len(children_of(target, batch_arn)) == 2
    # The rows came from the results the Map's ResultWriter put beside them, under the batch's own place.
    place = rows_key.removesuffix("rows.jsonl")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=place)
    manifests = [o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith("/manifest.json")]
    assert len(manifests) == 1, listed.get("Contents")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifests[0])["Body"].read())
    written = [f["Key"] for status in ("SUCCEEDED", "FAILED", "PENDING") for f in manifest["ResultFiles"][status]]
    assert written and all(key.startswith(place) for key in written), manifest
    for item in items:
        assert_copied(target, item)


@pytest.mark.proves(
    "a stopped batch's end reaches the stop-batch rule, which stops the children named after it; each child's "
    "clean-up (its own status-change rule) cancels its DataSync execution and tags it",
    emulation="the local runner runs stop-batch and the children's clean-up on moto's status changes; the emulated "
    "transfers take a minute, so they are still running when the batch is stopped",
)
def test_a_stopped_batch_stops_its_children_and_their_transfers_are_cancelled(target: Target):
    # Long-waiting items: on AWS, DataSync's launch (a minute or so) and then 32 MiB at 1 MiB/s; emulated, a minute.
    throttled = {"task_execution_kwargs": {"OverrideOptions": {"BytesPerSecond": 1024**2}}}
    big = {"big.bin": b"x" * (1024 if target.emulated else 32 * 1024**2)}
    items = [{**target.s3_to_s3(big), **throttled} for _ in range(2)]
    with target.long_transfers(seconds=60):
        batch_arn = start_batch(target, {"transfers": items, "defaults": {"wait_interval_seconds": 3600}})
        children = wait_for_children(target, batch_arn, 2)
        for child in children.values():
            target.wait_for_state(child, WAIT_STATE)
        transfers = {name: started_transfers(target.history(child))[-1] for name, child in children.items()}
    datasync, sfn = target.client("datasync"), target.client("stepfunctions")
    assert {datasync.describe_task_execution(TaskExecutionArn=t)["Status"] for t in transfers.values()}.isdisjoint(
        ENDED
    )
    sfn.stop_execution(executionArn=batch_arn, error="E2EStop", cause="the scenario stops the batch")
    assert target.finish(batch_arn).status == "ABORTED"
    bound = 30 if target.emulated else 300

    def status_of(child: str) -> str:
        return sfn.describe_execution(executionArn=child)["status"]

    ends_within(bound, lambda: all(status_of(c) != "RUNNING" for c in children.values()), "the children's end")
    for name, child in children.items():
        described = sfn.describe_execution(executionArn=child)
        assert (described["status"], described.get("error")) == ("ABORTED", "DataSyncBatchStopped"), name
        assert batch_arn in described.get("cause", "")
    # Their DataSync executions cancelled (CANCELLING, then ERROR) by each child's clean-up, which says so in a tag.
    for name, transfer in transfers.items():

        def tagged(transfer: str = transfer) -> bool:
            return CANCELLED_TAG in target.tags(transfer)

        ends_within(bound, tagged, f"the cancellation of {name}'s transfer")
        assert target.tags(transfer)[CANCELLED_TAG] == children[name][:256]
        ends_within(
            bound,
            lambda transfer=transfer: datasync.describe_task_execution(TaskExecutionArn=transfer)["Status"] == "ERROR",
            f"the end of {name}'s cancelled transfer",
        )


@pytest.mark.proves(
    "a batch's end reaches the announce-batch rule (Step Functions' status change of the batch state machine), whose "
    "step puts one DataSync Workflow Batch Finished event with the batch's totals on the default bus, where a rule of "
    "the user's receives it in an SQS queue; its child's Run Finished event comes once, from the child's own end",
    emulation="the local runner runs announce-batch on moto's status change of the batch; its PutEvents reaches "
    "moto's default bus, whose rule sends it to moto's SQS",
)
def test_a_rule_on_the_default_bus_receives_one_batch_finished_event_with_the_totals(target: Target):
    batches = finished_runs(target, BATCH_FINISHED, "BatchExecutionArn", target.batch_state_machine_arn)
    runs = finished_runs(target)
    items = [{**target.s3_to_s3(), "task_id": "announced"}]
    batch_arn = start_batch(target, {"transfers": items, "defaults": {"wait_interval_seconds": 3600}})
    run = target.finish(batch_arn)
    assert run.status == "SUCCEEDED", run.cause
    event = batches.event_of(batch_arn)
    assert (event["source"], event["detail-type"], event["resources"]) == (EVENT_SOURCE, BATCH_FINISHED, [batch_arn])
    detail = event["detail"]
    assert (detail["Status"], detail["Totals"]) == ("SUCCEEDED", run.output["Totals"])
    assert detail["Totals"]["Succeeded"] == 1 and not {"Error", "Cause", "FailedItems", "RowsUri"} & set(detail)
    assert detail["ConsoleUrl"].endswith(batch_arn)
    (child,) = children_of(target, batch_arn).values()
    assert runs.event_of(child)["detail"]["Status"] == "SUCCEEDED"


@pytest.mark.proves(
    "Step Functions' RedriveExecution of a batch that failed in its summary reruns that Task (a "
    "lambda:invoke.waitForTaskToken Task that summarize-batch failed with SendTaskFailure: its grant on the batch "
    "state machine), DescribeExecution's redriveCount is 1, and the redriven summary's Distributed Map runs again "
    "only the item that had not succeeded, as the child <prefix>-<index>-r1, its items and results under the batch's "
    "batches/<prefix>/reruns/1/",
    emulation="the emulation's RedriveExecution (moto has none) runs the definition again from the unsuccessful "
    "top-level state, with the input it was entered with and $$.Execution.RedriveCount set",
)
def test_a_redriven_batch_runs_again_only_the_item_that_failed_and_succeeds(target: Target):
    ready = {**target.s3_to_s3(), "task_id": "ready"}
    source, destination = target.bucket(OBJECTS), target.bucket()
    # No task links these buckets, and none may be made: the item fails with DataSyncTaskNotFoundError.
    later = {
        "source_location_uri": f"s3://{source}/",
        "destination_location_uri": f"s3://{destination}/copy/",
        "task_id": "later",
    }
    batch_arn = start_batch(target, {"transfers": [ready, later], "defaults": {"wait_interval_seconds": 3600}})
    run = target.finish(batch_arn)
    assert (run.status, run.error) == ("FAILED", "DataSyncBatchFailedError"), run.cause
    assert "item 1 (later): FAILED, DataSyncTaskNotFoundError" in run.cause
    later_task, _ = target.task_between(source, destination, "/copy/")

    sfn = target.client("stepfunctions")
    sfn.redrive_execution(executionArn=batch_arn)
    run = target.finish(batch_arn)
    assert run.status == "SUCCEEDED", run.cause
    assert sfn.describe_execution(executionArn=batch_arn)["redriveCount"] == 1
    rows = run.output["Rows"]
    assert [(row["index"], row["task_id"], row["Status"]) for row in rows] == [
        (0, "ready", "SUCCEEDED"),
        (1, "later", "SUCCEEDED"),
    ]
    assert rows[1]["TaskArn"] == later_task
    assert run.output["Totals"]["Succeeded"] == 2
    # The item that had succeeded ran once; the one that failed ran again, in a child named for the redrive.
    datasync = target.client("datasync")
    for row in rows:
        assert len(datasync.list_task_executions(TaskArn=row["TaskArn"])["TaskExecutions"]) == 1
    children = children_of(target, batch_arn)
    (prefix,) = {name.split("-")[0] for name in children}
    assert sorted(children) == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-1-r1"]
    assert_copied(target, later)
