"""Runs that share a DataSync task never break each other: several runs of one find-or-create input with
delete_task_after_execution (started together, the items of a batch, the dates of a backfill) converge on one task,
every one of them succeeds, and the last of them deletes it."""

import json
from pathlib import Path

import boto3
import pytest

from datasync_workflow.cli.backfill import backfill, planned_runs
from datasync_workflow.local import (
    EmulatedTransfer,
    emulated_transfers,
    local_deployment,
    run_local,
    run_local_together,
)
from datasync_workflow.local.runner import WAITING_TABLE_NAME
from tests.conftest import REGION, location_arns, task_arns
from tests.workflow.test_backfill import NOV_1, NOV_3

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "find_or_create_update_run_delete.json"
DEMO_SECRET = "datasync-workflow/smb-password"  # as make demo makes it (--secret)
# Transfers of a second: the runs overlap, and each waits for the one before it (if_task_running "queue").
TRANSFER = EmulatedTransfer(seconds=1)


@pytest.fixture
def demo(datasync) -> dict:
    """The demo's input (a find-or-create of an SMB share to an S3 prefix, deleting the task after the run), with
    the secret it names."""
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=DEMO_SECRET, SecretString="p")
    return json.loads(EXAMPLE.read_text())


def left_in_the_table() -> list[dict]:
    return boto3.resource("dynamodb", region_name=REGION).Table(WAITING_TABLE_NAME).scan()["Items"]


def all_succeeded_and_left_no_task(datasync, outputs: list[dict]) -> None:
    assert len({output["TaskArn"] for output in outputs}) == 1, outputs  # one task for them all
    assert [output["TaskDeleted"] for output in outputs].count(True) == 1, outputs
    assert task_arns(datasync) == [] and len(location_arns(datasync)) == 2
    assert left_in_the_table() == []
    # The runs that came to delete it while another still used it kept it, and said so.
    kept = [output for output in outputs if not output["TaskDeleted"]]
    assert all(output["TaskInUseByOtherRuns"] >= 1 for output in kept), kept
    assert all(output["TaskInUseByOtherRuns"] == 0 for output in outputs if output["TaskDeleted"])


def test_runs_started_together_all_succeed_and_the_last_deletes_the_task(datasync, demo):
    with emulated_transfers(TRANSFER):
        runs = run_local_together([demo] * 3, timeout=90)
    assert [run.status for run in runs] == ["SUCCEEDED"] * 3, [run.cause for run in runs]
    all_succeeded_and_left_no_task(datasync, [run.output for run in runs])


def test_the_items_of_a_batch_on_one_task_all_succeed_and_the_last_deletes_it(datasync, demo):
    with emulated_transfers(TRANSFER):
        execution = run_local({"defaults": demo, "transfers": [{}, {}, {}], "max_concurrency": 3}, timeout=90)
    assert execution.status == "SUCCEEDED", execution.cause
    rows = execution.output["Rows"]
    assert [row["Status"] for row in rows] == ["SUCCEEDED"] * 3, rows
    all_succeeded_and_left_no_task(datasync, children_outputs(execution.execution_arn))


def children_outputs(batch_arn: str) -> list[dict]:
    """The outputs of the batch's child executions (of the workflow's state machine, named after the batch)."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machines = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if "-batch-" not in m["name"]]
    children = [e for m in machines for e in sfn.list_executions(stateMachineArn=m)["executions"]]
    assert len(children) == 3, (batch_arn, children)
    return [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["output"]) for e in children]


def test_the_dates_of_a_backfill_on_one_task_all_succeed_and_the_last_deletes_it(datasync, demo):
    with emulated_transfers(TRANSFER), local_deployment(REGION) as machine_arn:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        runs = backfill(sfn, machine_arn, demo, planned_runs(demo, "cron(0 0 * * ? *)", NOV_1, NOV_3), 3, poll=0.2)
        assert [run.status for run in runs] == ["SUCCEEDED"] * 3, [run.error for run in runs]
        outputs = [json.loads(sfn.describe_execution(executionArn=run.execution_arn)["output"]) for run in runs]
    all_succeeded_and_left_no_task(datasync, outputs)
