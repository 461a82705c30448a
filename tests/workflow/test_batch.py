"""Batches: many transfers in one run, each a child execution of the workflow, at most max_concurrency at once."""

import threading
import time

import pytest

from datasync_steps.batch import batch_problems
from datasync_workflow.local import EmulatedTransfer, emulated_transfers, run_local
from tests import fakes
from tests.conftest import make_s3_location, make_smb_location, make_task
from tests.workflow.test_workflow import failed

MISSING = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


@pytest.fixture
def tasks(datasync) -> list[str]:
    return [make_task(datasync, make_smb_location(datasync), make_s3_location(datasync)) for _ in range(5)]


def run_watched(batch: dict):
    """Runs the batch (1-second emulated transfers), counting every 20 ms the emulated DataSync executions that have
    not ended: its LocalExecution, and the most that ran at once."""
    sample: list[int] = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            sample.append(
                sum(e.status_at(time.time()) not in ("SUCCESS", "ERROR") for e in fakes.backend().executions())
            )
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    with emulated_transfers(EmulatedTransfer(seconds=1)):
        execution = run_local(batch, timeout=90)
    stop.set()
    thread.join()
    return execution, max(sample)


def test_a_batch_of_five_with_max_concurrency_two_succeeds_with_five_rows_never_more_than_two_at_once(datasync, tasks):
    batch = {
        "defaults": {"wait_interval_seconds": 0},
        "transfers": [{"task_arn": task, "task_id": f"copy_{index}"} for index, task in enumerate(tasks)],
        "max_concurrency": 2,
    }
    execution, most_at_once = run_watched(batch)
    assert execution.status == "SUCCEEDED", execution.cause
    rows = execution.output["Rows"]
    assert [
        (row["index"], row["task_id"], row["Status"], row["TaskExecutionArn"].split("/execution/")[0]) for row in rows
    ] == [(index, f"copy_{index}", "SUCCEEDED", task) for index, task in enumerate(tasks)]
    assert all(row["BytesTransferred"] == 2 * 1024**3 and row["FilesTransferred"] == 1000 for row in rows)
    assert execution.output["Totals"] == {
        "Items": 5,
        "Succeeded": 5,
        "Failed": 0,
        "BytesTransferred": 5 * 2 * 1024**3,
        "FilesTransferred": 5000,
    }
    assert len(fakes.backend().task_executions) == 5 and most_at_once == 2


@pytest.mark.parametrize("tolerated", [0, 1])
def test_one_failing_transfer_fails_the_batch_unless_tolerated(datasync, tasks, tolerated):
    batch = {
        "defaults": {"wait_interval_seconds": 0},
        "transfers": [
            {"task_arn": tasks[0]},
            {"task_arn": MISSING, "task_id": "the_missing_one"},
            {"task_arn": tasks[1]},
        ],
        "tolerated_failure_count": tolerated,
    }
    execution = run_local(batch, timeout=90)
    if tolerated:
        assert execution.status == "SUCCEEDED", execution.cause
        failed_row = execution.output["Rows"][1]
        assert (failed_row["Status"], failed_row["Error"]) == ("FAILED", "DataSyncTaskNotFoundError")
        assert execution.output["Totals"]["Failed"] == 1
    else:
        cause = failed(execution, "DataSyncBatchFailedError")
        assert cause.startswith("1 of 3 transfers failed, more than the 0 tolerated: item 1 (the_missing_one): FAILED")
        assert "DataSyncTaskNotFoundError" in cause
    assert len(fakes.backend().task_executions) == 2  # the other two ran


def test_every_item_is_checked_before_anything_starts(datasync, tasks):
    batch = {"transfers": [{"task_arn": tasks[0]}, {"task_arn": "nope"}, {"colour": "blue"}]}
    cause = failed(run_local(batch), "DataSyncInvalidInputError")
    assert "transfers[1].task_arn: must be a DataSync task ARN" in cause
    assert "transfers[2].give task_arn" in cause or "transfers[2].unknown key 'colour'" in cause
    assert fakes.backend().task_executions == {}


def test_the_batchs_own_keys_are_checked():
    assert batch_problems({"transfers": []})[0].startswith("transfers: List should have at least 1 item")
    both = {"transfers": [{"task_arn": MISSING}], "tolerated_failure_count": 1, "tolerated_failure_percentage": 5}
    assert batch_problems(both) == ["the batch: give tolerated_failure_count or tolerated_failure_percentage, not both"]
    assert batch_problems({"transfers": [{"task_arn": MISSING}], "max_concurrency": 0})[0].startswith("max_concurrency")
    # An item's plaintext secret would travel in the batch's state: refused whatever the deployment allows.
    from datasync_steps.deployment import Deployment

    secret = {
        "create_source_location_kwargs": {"Password": "p"},
        "source_location_uri": "smb://h/s",
        "destination_location_uri": "s3://b/",
    }
    assert any(
        "Password" in p for p in batch_problems({"transfers": [secret]}, Deployment(allow_secrets_in_input=True))
    )


def test_the_command_validates_and_runs_a_batch_locally(datasync, tmp_path, capsys, monkeypatch):
    import json

    from datasync_workflow.cli.commands import main

    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    batch = {"transfers": [{"task_arn": MISSING}, {"task_arn": "nope"}]}
    (tmp_path / "batch.json").write_text(json.dumps(batch))
    assert main(["validate", str(tmp_path / "batch.json")]) == 1
    assert capsys.readouterr().out.startswith("transfers[1].task_arn: must be a DataSync task ARN")
    (tmp_path / "batch.json").write_text(json.dumps({**batch, "transfers": batch["transfers"][:1]}))
    assert main(["validate", str(tmp_path / "batch.json")]) == 0
    # Locally the task does not exist: the batch fails naming the item, which the table of items shows.
    assert main(["run", "--local", str(tmp_path / "batch.json")]) == 1
    err = capsys.readouterr().err
    assert "Error: DataSyncBatchFailedError" in err
    assert "   1 items, at most 4 at once\n" in err and "   items: 1 failed\n" in err
    assert "   item 0: FAILED, DataSyncTaskNotFoundError: DataSync has no task" in err
    assert "-> Run the transfer" not in err  # an item's states are its line
    # From S3 the items are read when the batch starts.
    (tmp_path / "batch.json").write_text(json.dumps({"transfers_from": "s3://bucket/transfers.jsonl"}))
    assert main(["validate", str(tmp_path / "batch.json")]) == 0
    assert capsys.readouterr().out.endswith("s3://bucket/transfers.jsonl are checked when the batch starts\n")


def test_the_command_shows_each_item_as_it_starts_and_ends(datasync, tasks, tmp_path, capsys, monkeypatch):
    import json

    from datasync_workflow.cli.commands import main

    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    transfers = [{"task_arn": task, "task_id": f"copy_{index}"} for index, task in enumerate(tasks[:3])]
    (tmp_path / "batch.json").write_text(json.dumps({"transfers": transfers, "defaults": {"wait_interval_seconds": 0}}))
    assert main(["run", "--local", str(tmp_path / "batch.json"), "--transfer-seconds", "3"]) == 0
    err = capsys.readouterr().err
    for index in range(3):
        assert f"   item {index}: RUNNING\n" in err
        assert f"   item {index}: [copy_{index}] SUCCEEDED, 1,000 files and 2,048.0 MiB\n" in err
    counts = [line for line in err.splitlines() if line.startswith("   items: ")]
    assert "   items: 3 running" in counts and counts[-1] == "   items: 3 succeeded"


def test_a_batch_whose_history_could_not_hold_its_items_is_refused():
    from datasync_steps.batch import MAX_TRANSFERS

    (problem,) = batch_problems({"transfers": [{"task_arn": MISSING}] * (MAX_TRANSFERS + 1)})
    assert problem.startswith(f"transfers: List should have at most {MAX_TRANSFERS:,}".replace(",", ""))


def put_transfers(body: str, key: str = "transfers/nightly.jsonl") -> str:
    """A transfers_from object in the local deployment's batch bucket (moto's S3)."""
    import boto3

    from datasync_workflow.local import BATCH_BUCKET, create_batch_bucket

    create_batch_bucket()
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BATCH_BUCKET, Key=key, Body=body.encode())
    return f"s3://{BATCH_BUCKET}/{key}"


def s3_text(uri: str) -> str:
    import boto3

    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def test_a_batch_read_from_s3_runs_on_a_distributed_map_and_writes_its_rows_back(datasync, tasks):
    import json

    lines = [{"task_arn": task, "task_id": f"copy_{index}"} for index, task in enumerate(tasks[:4])]
    lines.insert(2, {"task_arn": MISSING, "task_id": "the_missing_one"})
    uri = put_transfers("".join(json.dumps(line) + "\n" for line in lines))
    batch = {
        "defaults": {"wait_interval_seconds": 0},
        "transfers_from": uri,
        "max_concurrency": 2,
        "tolerated_failure_count": 1,
    }
    execution, most_at_once = run_watched(batch)
    assert execution.status == "SUCCEEDED", execution.cause
    assert "Rows" not in execution.output
    assert execution.output["Totals"] == {
        "Items": 5,
        "Succeeded": 4,
        "Failed": 1,
        "BytesTransferred": 4 * 2 * 1024**3,
        "FilesTransferred": 4000,
    }
    rows = [json.loads(line) for line in s3_text(execution.output["RowsUri"]).splitlines()]
    assert [(row["index"], row["task_id"], row["Status"]) for row in rows] == [
        (0, "copy_0", "SUCCEEDED"),
        (1, "copy_1", "SUCCEEDED"),
        (2, "the_missing_one", "FAILED"),
        (3, "copy_2", "SUCCEEDED"),
        (4, "copy_3", "SUCCEEDED"),
    ]
    assert rows[0]["TaskArn"] == tasks[0] and rows[2]["Error"] == "DataSyncTaskNotFoundError"
    # What ran is the checked copy under batches/, each item merged over the defaults, each child named after the
    # batch and linked to it.
    import boto3

    from datasync_steps.batch_children import child_prefix
    from datasync_steps.names import STARTED_BY_KEY

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    prefix = child_prefix(
        execution.execution_arn, sfn.describe_execution(executionArn=execution.execution_arn)["startDate"]
    )
    assert json.loads(s3_text(f"s3://datasync-workflow-batches/batches/{prefix}/items.json")) == [
        {"wait_interval_seconds": 0, **line} for line in lines
    ]
    assert execution.output["RowsUri"] == f"s3://datasync-workflow-batches/batches/{prefix}/rows.jsonl"
    # The rows came from the Map's results, which its ResultWriter put beside them: a manifest naming result files of
    # every iteration (each caught its child's failure, so each succeeded), as Step Functions lays them out.
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(
        Bucket="datasync-workflow-batches", Prefix=f"batches/{prefix}/"
    )
    (manifest_key,) = [o["Key"] for o in listed["Contents"] if o["Key"].endswith("/manifest.json")]
    manifest = json.loads(s3_text(f"s3://datasync-workflow-batches/{manifest_key}"))
    assert set(manifest["ResultFiles"]) == {"SUCCEEDED", "FAILED", "PENDING"}
    (succeeded,) = manifest["ResultFiles"]["SUCCEEDED"]
    entries = json.loads(s3_text(f"s3://datasync-workflow-batches/{succeeded['Key']}"))
    assert sorted(json.loads(e["Input"])["name"] for e in entries) == sorted(f"{prefix}-{i}" for i in range(5))
    assert {e["Status"] for e in entries} == {"SUCCEEDED"} and not manifest["ResultFiles"]["FAILED"]
    (workflow,) = [
        m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if "-batch-" not in m["name"]
    ]
    children = {c["name"]: c["executionArn"] for c in sfn.list_executions(stateMachineArn=workflow)["executions"]}
    assert sorted(children) == sorted(f"{prefix}-{index}" for index in range(5))
    child_input = json.loads(sfn.describe_execution(executionArn=children[f"{prefix}-0"])["input"])
    assert child_input == {"wait_interval_seconds": 0, **lines[0], STARTED_BY_KEY: execution.execution_arn}
    # The Distributed Map's own history is a few events: each item's is its child's.
    assert len(execution.history) < 40
    assert len(fakes.backend().task_executions) == 4 and most_at_once == 2


def test_a_batch_read_from_a_csv_object_runs_its_rows(datasync, tasks):
    import json

    # A header of input keys; an empty cell is not given (the defaults apply), a key that takes no string is JSON.
    body = (
        "task_arn,task_id,wait_interval_seconds,task_execution_kwargs\r\n"
        f'{tasks[0]},copy_0,,"{{""Tags"": [{{""Key"": ""row"", ""Value"": ""0""}}]}}"\r\n'
        f"{tasks[1]},,0,\r\n"
        f"{tasks[2]},copy_2,,\r\n"
    )
    uri = put_transfers(body, key="transfers/nightly.csv")
    with emulated_transfers(EmulatedTransfer(seconds=1)):
        execution = run_local({"defaults": {"wait_interval_seconds": 0, "task_id": "shared"}, "transfers_from": uri})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["Totals"]["Items"] == 3 and execution.output["Totals"]["Succeeded"] == 3
    rows = [json.loads(line) for line in s3_text(execution.output["RowsUri"]).splitlines()]
    assert [(row["index"], row["task_id"], row["Status"], row["TaskArn"]) for row in rows] == [
        (0, "copy_0", "SUCCEEDED", tasks[0]),
        (1, "shared", "SUCCEEDED", tasks[1]),
        (2, "copy_2", "SUCCEEDED", tasks[2]),
    ]
    # What ran: each row's cells, typed, merged over the defaults.
    items_uri = execution.output["RowsUri"].removesuffix("rows.jsonl") + "items.json"
    assert json.loads(s3_text(items_uri)) == [
        {
            "wait_interval_seconds": 0,
            "task_id": "copy_0",
            "task_arn": tasks[0],
            "task_execution_kwargs": {"Tags": [{"Key": "row", "Value": "0"}]},
        },
        {"wait_interval_seconds": 0, "task_id": "shared", "task_arn": tasks[1]},
        {"wait_interval_seconds": 0, "task_id": "copy_2", "task_arn": tasks[2]},
    ]
    assert len(fakes.backend().task_executions) == 3


def test_every_item_of_an_s3_batch_is_checked_before_anything_starts(datasync, tasks):
    import json

    uri = put_transfers(json.dumps([{"task_arn": tasks[0]}, {"task_arn": "nope"}]), key="transfers/array.json")
    cause = failed(run_local({"transfers_from": uri}), "DataSyncInvalidInputError")
    assert "transfers_from[1].task_arn: must be a DataSync task ARN" in cause
    assert fakes.backend().task_executions == {}


@pytest.mark.parametrize(
    ("transfers_from", "problem"),
    [
        ("s3://someone-elses-bucket/transfers.json", "is not in this deployment's datasync-workflow-batches"),
        ("s3://datasync-workflow-batches/absent.json", "s3://datasync-workflow-batches/absent.json does not exist"),
        ("s3://datasync-workflow-batches/transfers/bad.jsonl", "is neither a JSON array nor JSON Lines"),
        ("s3://datasync-workflow-batches/transfers/empty.jsonl", "holds 0 transfers; give 1 to 5,000"),
        (
            "s3://datasync-workflow-batches/transfers/bad.csv",
            "has an unknown column 'taskarn' (did you mean task_arn?)",
        ),
    ],
)
def test_a_transfers_from_that_cannot_be_run_is_refused_naming_it(datasync, transfers_from, problem):
    put_transfers('{"task_arn": ', key="transfers/bad.jsonl")
    put_transfers("\n", key="transfers/empty.jsonl")
    put_transfers(f"taskarn\n{MISSING}\n", key="transfers/bad.csv")
    cause = failed(run_local({"transfers_from": transfers_from}), "DataSyncInvalidInputError")
    assert cause.startswith("Invalid batch input: transfers_from: ") and problem in cause
    assert fakes.backend().task_executions == {}


def test_stopping_a_batch_stops_its_children_and_so_cancels_their_transfers(datasync, tasks):
    import boto3

    from datasync_steps.stop_batch import STOP_ERROR

    batch = {"defaults": {"wait_interval_seconds": 0}, "transfers": [{"task_arn": task} for task in tasks[:3]]}
    # Stopped (the local runner's timeout) while its children wait for their 60-second transfers.
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        execution = run_local(batch, timeout=4)
        assert execution.status == "ABORTED" and len(fakes.backend().task_executions) == 3
    # The local runner, like the deployed rules, has stopped the children and cancelled their transfers by now.
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    children = [
        child
        for machine in sfn.list_state_machines()["stateMachines"]
        if "batch" not in machine["name"]
        for child in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    ]
    transfers = list(fakes.backend().task_executions.values())
    assert children and {c["status"] for c in children} == {"ABORTED"}
    assert {sfn.describe_execution(executionArn=c["executionArn"])["error"] for c in children} == {STOP_ERROR}
    # Cancelled by the clean-up (CANCELLING for a moment, then ERROR).
    assert transfers and {t.status_at(time.time()) for t in transfers} <= {"CANCELLING", "ERROR"}


# Issue 28: child starts that survive throttling. StartExecution's quota (800 calls and 150 more a second in most
# regions) is the account's, so a batch's child starts may be throttled by what else the account runs.


def batch_children(execution) -> dict[str, list[str]]:
    """The workflow's executions that the batch started, by name: each name's execution ARNs."""
    import json

    import boto3

    from datasync_steps.names import STARTED_BY_KEY

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    (workflow,) = [
        m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if "-batch-" not in m["name"]
    ]
    children: dict[str, list[str]] = {}
    for child in sfn.list_executions(stateMachineArn=workflow)["executions"]:
        child_input = json.loads(sfn.describe_execution(executionArn=child["executionArn"])["input"])
        if child_input.get(STARTED_BY_KEY) == execution.execution_arn:
            children.setdefault(child["name"], []).append(child["executionArn"])
    return children


def test_a_batch_whose_first_six_child_starts_are_throttled_succeeds_with_one_child_and_transfer_each(datasync, tasks):
    from collections import Counter

    from datasync_steps.limits import EVENTS_PER_START_RETRY
    from datasync_steps.names import ITEM_STATES
    from datasync_workflow.local.emulated_stepfunctions import child_starts_failing

    batch = {"defaults": {"wait_interval_seconds": 0}, "transfers": [{"task_arn": task} for task in tasks[:3]]}
    with child_starts_failing(6, "ThrottlingException") as starts:
        execution = run_local(batch, timeout=120)
    assert execution.status == "SUCCEEDED", execution.cause
    assert [(row["index"], row["Status"]) for row in execution.output["Rows"]] == [
        (0, "SUCCEEDED"),
        (1, "SUCCEEDED"),
        (2, "SUCCEEDED"),
    ]
    # Six calls throttled, then each item's child started once: one child and one DataSync execution an item.
    outcomes = Counter(outcome for _, outcome in starts.calls)
    assert outcomes == {"StepFunctions.AWSStepFunctionsException": 6, "started": 3}
    assert sorted(name for name, outcome in starts.calls if outcome == "started") == sorted(batch_children(execution))
    assert all(len(arns) == 1 for arns in batch_children(execution).values())
    assert len(fakes.backend().task_executions) == 3
    # As the integration names a throttled start; each retry costs the batch's history its failure, schedule and start.
    failures = [e["taskFailedEventDetails"] for e in execution.history if e["type"] == "TaskFailed"]
    assert len(failures) == 6 and {f["error"] for f in failures} == {"StepFunctions.AWSStepFunctionsException"}
    assert all("Error Code: ThrottlingException" in f["cause"] for f in failures)
    counts = Counter(e["type"] for e in execution.history)
    again = counts["TaskScheduled"] + counts["TaskStarted"] - 2 * counts["TaskSucceeded"]  # beyond each child's own
    assert counts["TaskFailed"] + again == 6 * EVENTS_PER_START_RETRY
    entered = [e for e in execution.history if e.get("stateEnteredEventDetails", {}).get("name") == ITEM_STATES[0]]
    assert len(entered) == 3  # the retried state is not entered again


def test_a_child_start_whose_answer_was_lost_is_tried_again_without_starting_a_second_child(datasync, tasks):
    from datasync_workflow.local.emulated_stepfunctions import child_starts_failing

    batch = {"defaults": {"wait_interval_seconds": 0}, "transfers": [{"task_arn": task} for task in tasks[:3]]}
    # Each child started, its start's answer lost (a timeout): the retry, same name and input, gets it back.
    with emulated_transfers(EmulatedTransfer(seconds=3)), child_starts_failing(3, after_start=True) as starts:
        execution = run_local(batch, timeout=120)
    assert execution.status == "SUCCEEDED", execution.cause
    assert [row["Status"] for row in execution.output["Rows"]] == ["SUCCEEDED"] * 3
    assert sorted(outcome for _, outcome in starts.calls) == ["StepFunctions.SdkClientException"] * 3 + ["started"] * 3
    children = batch_children(execution)
    assert len(children) == 3 and all(len(arns) == 1 for arns in children.values())
    assert len(fakes.backend().task_executions) == 3


@pytest.mark.parametrize("code", ["ExecutionAlreadyExists", "InvalidArn"])
def test_a_refused_child_start_is_not_tried_again_and_leaves_its_item_not_started(datasync, tasks, code):
    from datasync_workflow.local.emulated_stepfunctions import child_starts_failing

    batch = {
        "defaults": {"wait_interval_seconds": 0},
        "transfers": [{"task_arn": task} for task in tasks[:3]],
        "tolerated_failure_count": 1,
    }
    with child_starts_failing(1, code) as starts:
        execution = run_local(batch, timeout=120)
    assert execution.status == "SUCCEEDED", execution.cause
    (refused_name, refusal), *others = starts.calls
    assert refusal == f"StepFunctions.{code}Exception"
    # Asked once: no other call for that item, which no child stands for.
    assert sorted(outcome for _, outcome in others) == ["started"] * 2
    assert refused_name not in {name for name, _ in others} and refused_name not in batch_children(execution)
    refused_index = int(refused_name.rsplit("-", 1)[1])
    statuses = {row["index"]: row["Status"] for row in execution.output["Rows"]}
    assert statuses.pop(refused_index) == "NOT_STARTED" and set(statuses.values()) == {"SUCCEEDED"}
    assert execution.output["Totals"]["Failed"] == 1
    assert len(fakes.backend().task_executions) == 2


def test_a_batch_read_from_s3_retries_throttled_child_starts_outside_its_own_history(datasync, tasks):
    import json

    from datasync_workflow.local.emulated_stepfunctions import child_starts_failing

    uri = put_transfers("".join(json.dumps({"task_arn": task}) + "\n" for task in tasks[:3]))
    with child_starts_failing(6) as starts:
        execution = run_local({"defaults": {"wait_interval_seconds": 0}, "transfers_from": uri}, timeout=120)
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["Totals"]["Succeeded"] == 3 and len(fakes.backend().task_executions) == 3
    assert [outcome for _, outcome in starts.calls].count("started") == 3
    # Each Distributed Map iteration is a child execution of its own: the retries are in its history, not the batch's.
    assert not [e for e in execution.history if e["type"] == "TaskFailed"] and len(execution.history) < 40


# Issue 28: the summary from the Map's own results. A batch's summary once described every child (5,000 calls for the
# largest, minutes of its Lambda at the DescribeExecution quota); the Map already holds each child's end.


@pytest.mark.parametrize("from_s3", [False, True], ids=["inline", "from S3"])
def test_the_summary_of_a_20_item_batch_describes_no_child(datasync, from_s3, monkeypatch):
    import json

    from datasync_steps.datasync import patient_states_client

    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    # Each its own task (a task runs one execution at a time); from S3, one of them missing: a child that fails.
    transfers = [
        {
            "task_arn": task
            if index == 0
            else make_task(datasync, make_smb_location(datasync), make_s3_location(datasync)),
            "task_id": f"copy_{index}",
        }
        for index in range(20)
    ]
    if from_s3:
        transfers[7] = {"task_arn": MISSING, "task_id": "the_missing_one"}
        batch = {"transfers_from": put_transfers("".join(json.dumps(t) + "\n" for t in transfers))}
    else:
        batch = {"transfers": transfers}
    batch |= {"defaults": {"wait_interval_seconds": 0}, "max_concurrency": 10, "tolerated_failure_count": 1}
    # The steps' own Step Functions client (made once per region and kept; moto's engine, which follows each .sync
    # child with DescribeExecution, has its own): every DescribeExecution the summary makes, counted.
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    described: list[str] = []
    events, hook = patient_states_client().meta.events, "before-call.stepfunctions.DescribeExecution"
    events.register(hook, lambda params, **_: described.append(json.loads(params["body"])["executionArn"]), "count")
    try:
        with emulated_transfers(EmulatedTransfer(seconds=1)):
            execution = run_local(batch, timeout=120)
    finally:
        events.unregister(hook, unique_id="count")
    assert execution.status == "SUCCEEDED", execution.cause
    assert described == [execution.execution_arn]  # the batch's own, which says what its children are named
    if from_s3:
        rows = [json.loads(line) for line in s3_text(execution.output["RowsUri"]).splitlines()]
    else:
        rows = execution.output["Rows"]
    expected = [(index, f"copy_{index}", "SUCCEEDED") for index in range(20)]
    if from_s3:
        expected[7] = (7, "the_missing_one", "FAILED")
        assert rows[7]["Error"] == "DataSyncTaskNotFoundError" and "DataSync has no task" in rows[7]["Cause"]
    assert [(row["index"], row["task_id"], row["Status"]) for row in rows] == expected
    assert execution.output["Totals"]["Succeeded"] == 20 - from_s3
    assert execution.output["Totals"]["BytesTransferred"] == (20 - from_s3) * 2 * 1024**3
