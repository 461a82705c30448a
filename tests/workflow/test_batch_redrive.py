"""Issue 28: Step Functions' redrive of a failed batch runs again only the items that did not succeed, in children
named with the redrive count, and its summary counts each item once, from its latest child. Step Functions reruns a
failed Task when an execution is redriven (developer guide, "Restarting state machine executions with redrive"): a
failed batch fails in its summary's Task, which the redrive reruns. moto has no RedriveExecution: redrive_local is the
emulation's (datasync_workflow/local/emulated_stepfunctions.py)."""

import boto3

from datasync_steps.batch_children import child_prefix
from datasync_workflow.local import redrive_local, run_local
from tests import fakes
from tests.conftest import REGION, make_s3_location, make_smb_location, make_task
from tests.workflow.test_workflow import failed

SOURCE, DESTINATION = "smb://later/share/", "s3://later-bucket/in/"


def the_later_task(datasync) -> str:
    """The task between SOURCE and DESTINATION, made after the batch failed for the lack of it."""
    return make_task(
        datasync,
        make_smb_location(datasync, host="later", subdirectory="share/"),
        make_s3_location(datasync, bucket="later-bucket", subdirectory="in/"),
        name="later",
    )


def tasks_that_ran() -> list[str]:
    """The task of each DataSync execution the emulated DataSync ran, one entry an execution."""
    return sorted(execution.split("/execution/")[0] for execution in fakes.backend().task_executions)


def children_of(batch_arn: str) -> list[str]:
    """The names of the batch's children, as Step Functions lists the workflow's executions."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    described = sfn.describe_execution(executionArn=batch_arn)
    prefix = child_prefix(batch_arn, described["startDate"])
    machines = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    others = [machine for machine in machines if machine != described["stateMachineArn"]]
    names = [e["name"] for machine in others for e in sfn.list_executions(stateMachineArn=machine)["executions"]]
    return sorted(name.removeprefix(f"{prefix}-") for name in names if name.startswith(f"{prefix}-"))


def test_a_redriven_batch_runs_again_only_the_item_that_failed_and_succeeds(datasync):
    made_first = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    batch = {
        "defaults": {"wait_interval_seconds": 0},
        "transfers": [
            {"task_arn": made_first, "task_id": "ready"},
            # No task links these yet, and none may be created: the item fails, DataSyncTaskNotFoundError.
            {"source_location_uri": SOURCE, "destination_location_uri": DESTINATION, "task_id": "later"},
        ],
    }
    first = run_local(batch, timeout=90)
    cause = failed(first, "DataSyncBatchFailedError")
    assert cause.startswith("1 of 2 transfers failed, more than the 0 tolerated: item 1 (later): FAILED")
    assert len(fakes.backend().task_executions) == 1

    made_later = the_later_task(datasync)
    redriven = redrive_local(first.execution_arn, timeout=90)

    assert redriven.status == "SUCCEEDED", redriven.cause
    rows = redriven.output["Rows"]
    assert [(row["index"], row["task_id"], row["Status"], row["TaskArn"]) for row in rows] == [
        (0, "ready", "SUCCEEDED", made_first),
        (1, "later", "SUCCEEDED", made_later),
    ]
    assert redriven.output["Totals"]["Succeeded"] == 2 and redriven.output["Totals"]["Failed"] == 0
    # Exactly one DataSync execution per task: the item that had succeeded did not run again.
    assert tasks_that_ran() == sorted([made_first, made_later])
    assert children_of(first.execution_arn) == ["0", "1", "1-r1"]


def test_a_batch_read_from_s3_redriven_twice_names_each_rerun_and_counts_each_item_from_its_latest_child(datasync):
    import json

    from tests.workflow.test_batch import put_transfers, s3_text

    made_first = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    lines = [
        {"task_arn": made_first, "task_id": "ready"},
        {"source_location_uri": SOURCE, "destination_location_uri": DESTINATION, "task_id": "later"},
    ]
    uri = put_transfers("".join(json.dumps(line) + "\n" for line in lines))
    first = run_local({"defaults": {"wait_interval_seconds": 0}, "transfers_from": uri}, timeout=90)
    failed(first, "DataSyncBatchFailedError")

    # Redriven before the task is made: the item fails again, in its child of the first redrive.
    again = redrive_local(first.execution_arn, timeout=90)
    assert "1 of 2 transfers failed" in failed(again, "DataSyncBatchFailedError")

    made_later = the_later_task(datasync)
    last = redrive_local(first.execution_arn, timeout=90)
    assert last.status == "SUCCEEDED", last.cause
    assert last.output["Totals"]["Items"] == 2 and last.output["Totals"]["Succeeded"] == 2
    rows = [json.loads(line) for line in s3_text(last.output["RowsUri"]).splitlines()]
    assert [(row["index"], row["Status"], row.get("TaskArn")) for row in rows] == [
        (0, "SUCCEEDED", made_first),
        (1, "SUCCEEDED", made_later),
    ]
    assert tasks_that_ran() == sorted([made_first, made_later])
    assert children_of(first.execution_arn) == ["0", "1", "1-r1", "1-r2"]
    described = boto3.client("stepfunctions", region_name=REGION).describe_execution(executionArn=first.execution_arn)
    assert described["redriveCount"] == 2


def test_the_table_of_items_shows_each_item_by_its_latest_child(datasync, capsys):
    from datasync_workflow.cli.progress import BatchTable, Progress

    batch = {
        "defaults": {"wait_interval_seconds": 0},
        "transfers": [{"source_location_uri": SOURCE, "destination_location_uri": DESTINATION, "task_id": "later"}],
    }
    first = run_local(batch, timeout=90)
    failed(first, "DataSyncBatchFailedError")
    the_later_task(datasync)
    redriven = redrive_local(first.execution_arn, timeout=90)
    assert redriven.status == "SUCCEEDED", redriven.cause
    capsys.readouterr()
    table = BatchTable(boto3.client("stepfunctions", region_name=REGION), Progress())
    for event in redriven.history:
        table(event)
    err = capsys.readouterr().err
    # One item, counted once: its child of the redrive, not beside the first one that failed.
    assert "   item 0: [later] SUCCEEDED" in err and "FAILED" not in err
    assert [line for line in err.splitlines() if line.startswith("   items: ")][-1] == "   items: 1 succeeded"


class ListedChildren:
    """Step Functions' ListExecutions and DescribeExecution of a batch's children, listed in the order given (the
    table must not rely on ListExecutions' order), each child FAILED but those of the last redrive."""

    def __init__(self, names: list[str]):
        self.names = names

    def get_paginator(self, operation):
        assert operation == "list_executions"
        listed = self

        class Pages:
            def paginate(self, **_):
                yield {
                    "executions": [
                        {"name": name, "executionArn": f"arn:child:{name}", "status": listed.status(name)}
                        for name in listed.names
                    ]
                }

        return Pages()

    def status(self, name: str) -> str:
        return "SUCCEEDED" if name.endswith("-r2") else "FAILED"

    def describe_execution(self, executionArn):
        name = executionArn.removeprefix("arn:child:")
        return {"status": self.status(name), "input": "{}", "output": "{}", "error": "E", "cause": name}


def test_the_table_takes_each_items_latest_child_whatever_order_they_are_listed_in(capsys):
    from datasync_workflow.cli.progress import BatchTable, Progress

    prefix = "0123456789abcdef01234567"
    names = [f"{prefix}-0", f"{prefix}-0-r1", f"{prefix}-0-r2", f"{prefix}-1"]
    for listed in (names, names[::-1], [names[1], names[2], names[0], names[3]]):
        table = BatchTable(ListedChildren(listed), Progress())
        table.prepared = {"count": 2, "prefix": prefix, "workflow_state_machine_arn": "arn:workflow"}
        capsys.readouterr()
        table.refresh(at_the_end=True)
        assert table.latest[0] == (2, f"{prefix}-0-r2", "SUCCEEDED"), listed
        assert table.latest[1] == (0, f"{prefix}-1", "FAILED"), listed
        assert "   items: 1 failed, 1 succeeded" in capsys.readouterr().err
