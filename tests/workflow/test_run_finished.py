"""The "DataSync Workflow Run Finished" event: one per run, whatever ended it, on the default event bus, where a rule
catches it (here into an SQS queue, as moto's EventBridge delivers it)."""

import json

import boto3
import pytest

from datasync_steps.names import START_STATE
from datasync_workflow.history import follow
from datasync_workflow.local import EmulatedTransfer, emulated_transfers, local_deployment, run_local
from datasync_workflow.local.runner import _invoke
from tests import fakes
from tests.conftest import REGION, events_a_rule_receives, make_s3_location, make_smb_location, make_task

FAST = {"wait_interval_seconds": 0}
MISSING = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


@pytest.fixture
def finished_runs(datasync):
    """What a rule on the event receives: the details of the events, by workflow execution."""
    received = events_a_rule_receives("finished-runs", ["DataSync Workflow Run Finished"])
    return lambda: [event["detail"] for event in received()]


def test_a_rule_receives_one_event_per_run_with_what_it_did(datasync, finished_runs):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    succeeded = run_local({"task_arn": task, **FAST, "task_id": "nightly"})
    with emulated_transfers(EmulatedTransfer(seconds=0.3, error_code="SockTimeout")):
        transfer_failed = run_local({"task_arn": task, **FAST})
    not_found = run_local({"task_arn": MISSING})
    details = {detail["WorkflowExecutionArn"]: detail for detail in finished_runs()}
    assert len(details) == 3

    ok = details[succeeded.execution_arn]
    assert (ok["Status"], ok["TaskArn"], ok["TaskExecutionArn"], ok["task_id"], ok["Attempts"]) == (
        "SUCCEEDED",
        task,
        succeeded.output["TaskExecutionArn"],
        "nightly",
        1,
    )
    assert ok["Counters"]["FilesTransferred"] == 1000 and "Error" not in ok
    assert ok["ConsoleUrl"].endswith(f"#/v2/executions/details/{succeeded.execution_arn}")

    failed = details[transfer_failed.execution_arn]
    assert (failed["Status"], failed["Error"]) == ("FAILED", "DataSyncTaskExecutionFailedError")
    assert "SockTimeout" in failed["Cause"] and failed["TaskArn"] == task
    assert failed["TaskExecutionArn"].startswith(task) and "FilesTransferred" in failed["Counters"]

    nothing = details[not_found.execution_arn]
    assert (nothing["Status"], nothing["Error"]) == ("FAILED", "DataSyncTaskNotFoundError")
    assert "TaskExecutionArn" not in nothing and "Counters" not in nothing


def test_a_stopped_run_is_announced_too(datasync, finished_runs):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=30)):
        stopped = run_local({"task_arn": task}, timeout=3)
    assert stopped.status == "ABORTED"
    (detail,) = finished_runs()
    assert (detail["Status"], detail["WorkflowExecutionArn"], detail["TaskArn"]) == (
        "ABORTED",
        stopped.execution_arn,
        task,
    )


def test_forged_status_changes_cancel_nothing_and_announce_nothing(datasync, finished_runs):
    """A status change that did not happen, sent straight to the steps EventBridge runs (whoever may invoke them):
    Step Functions says the run goes on, so cleanup cancels nothing and the run succeeds; announce puts no event for
    a run that has not finished or an execution that never was."""
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with local_deployment(REGION) as machine_arn, emulated_transfers(EmulatedTransfer(seconds=3)):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.start_execution(stateMachineArn=machine_arn, name="transfers", input=json.dumps({"task_arn": task}))[
            "executionArn"
        ]
        _, history = follow(sfn, arn, timeout=30, stop_when=lambda event: event["type"] == "TaskSubmitted")
        (started,) = [e for e in history if e.get("stateExitedEventDetails", {}).get("name") == START_STATE]
        transfer = json.loads(started["stateExitedEventDetails"]["output"])["execution"]["TaskExecutionArn"]
        never_ran = f"{machine_arn.replace(':stateMachine:', ':execution:')}:never-ran"

        def forged(status: str, execution_arn: str = arn) -> dict:
            return {"detail": {"executionArn": execution_arn, "stateMachineArn": machine_arn, "status": status}}

        assert _invoke("cleanup", forged("ABORTED")) == {"Cancelled": False}
        assert _invoke("announce", forged("SUCCEEDED")) == {}
        assert _invoke("announce", forged("SUCCEEDED", never_ran)) == {}
        described, _ = follow(sfn, arn, timeout=30)
    assert described["status"] == "SUCCEEDED"
    assert fakes.backend().task_executions[transfer].cancel_time is None
    assert datasync.describe_task_execution(TaskExecutionArn=transfer)["Status"] == "SUCCESS"
    (detail,) = finished_runs()
    assert (detail["WorkflowExecutionArn"], detail["Status"]) == (arn, "SUCCEEDED")
