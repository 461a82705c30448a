"""What DataSync's task features look like through the workflow: a task report written where the output says, an
Enhanced task's counters in the output, and a new task's CREATING outlasted by the start's retries. What each proves
on AWS is in docs/reference/proven.md."""

import json
from contextlib import ExitStack

import pytest

from tests.e2e.target import OBJECTS, Target

START_STATE = "Start execution"
NOT_READY = "DataSyncTaskNotReadyError"


def emulated_transfer(target: Target, stack: ExitStack, **transfer) -> None:
    """On the emulation, what the executions started inside `stack` do (on AWS, DataSync decides)."""
    if target.emulated:
        from datasync_workflow.local import EmulatedTransfer, emulated_transfers

        stack.enter_context(emulated_transfers(EmulatedTransfer(**transfer)))


def ids_of(task_execution_arn: str) -> tuple[str, str]:
    """task-… and exec-… of a task execution's ARN."""
    task, execution = task_execution_arn.split(":task/", 1)[1].split("/execution/")
    return task, execution


def the_only_execution_of(target: Target, task_arn: str) -> str:
    datasync = target.client("datasync")
    pages = datasync.get_paginator("list_task_executions").paginate(TaskArn=task_arn)
    (execution,) = [e["TaskExecutionArn"] for page in pages for e in page["TaskExecutions"]]
    return execution


@pytest.mark.proves(
    "StartTaskExecution with a TaskReportConfig: DataSync writes a summary report with the bucket-access role to "
    "<Subdirectory>/Summary-Reports/<task id>/<execution id>/ of the report bucket, and the workflow reads its "
    "ReportResult until it is written",
    emulation="the emulated execution's ReportResult is PENDING a moment after its end, then SUCCESS; it writes no "
    "report object, so only the output's place is checked there",
)
def test_a_task_report_is_written_where_the_output_says(target: Target):
    reports = target.bucket()
    report = {
        "Destination": {
            "S3": {
                "S3BucketArn": f"arn:aws:s3:::{reports}",
                "Subdirectory": "reports",
                "BucketAccessRoleArn": target.bucket_role_arn,
            }
        },
        "OutputType": "SUMMARY_ONLY",
    }
    run = target.run(
        {**target.s3_to_s3(), "wait_interval_seconds": 3600, "task_execution_kwargs": {"TaskReportConfig": report}}
    )
    assert run.status == "SUCCEEDED", run.cause
    task_id, execution_id = ids_of(run.output["TaskExecutionArn"])
    prefix = f"reports/Summary-Reports/{task_id}/{execution_id}/"
    assert run.output["TaskReport"] == {
        "Status": "SUCCESS",
        "Bucket": reports,
        "Prefix": prefix,
        "Uri": f"s3://{reports}/{prefix}",
    }
    assert "Read the task report" in run.entered()
    # The execution DataSync ran had the report asked for.
    assert (
        run.output["TaskExecution"]["TaskReportConfig"]["Destination"]["S3"]["S3BucketArn"] == f"arn:aws:s3:::{reports}"
    )
    if not target.emulated:  # the emulation writes no report object
        s3 = target.client("s3")
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=reports, Prefix=prefix)
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        assert keys, f"no task report under s3://{reports}/{prefix}"
        # A summary report names the execution it is of.
        summary = s3.get_object(Bucket=reports, Key=sorted(keys)[0])["Body"].read().decode()
        assert execution_id in summary, summary[:500]


@pytest.mark.proves(
    "CreateTask with TaskMode ENHANCED between two buckets, and DescribeTaskExecution's Enhanced counters "
    "(FilesListed, FilesPrepared, FilesFailed; files only, folders apart) in the output",
    emulation="the emulated execution of an ENHANCED task gives the same counters, of a transfer told to hold as "
    "many files as the source bucket",
)
def test_an_enhanced_tasks_counters_are_in_the_output(target: Target):
    transfer = target.s3_to_s3()
    transfer["create_task_kwargs"] = {**transfer["create_task_kwargs"], "TaskMode": "ENHANCED"}
    files, size = len(OBJECTS), sum(map(len, OBJECTS.values()))
    with ExitStack() as stack:
        emulated_transfer(target, stack, seconds=1, files=files, bytes=size)
        run = target.run({**transfer, "wait_interval_seconds": 3600})
    assert run.status == "SUCCEEDED", run.cause
    assert target.client("datasync").describe_task(TaskArn=run.output["TaskArn"])["TaskMode"] == "ENHANCED"
    described = run.output["TaskExecution"]
    assert (described["Status"], described["TaskMode"]) == ("SUCCESS", "ENHANCED")
    counted = (
        described["FilesListed"]["AtSource"],
        described["FilesPrepared"],
        described["FilesTransferred"],
        described["FilesVerified"],
    )
    assert counted == (files, files, files, files), described
    assert set(described["FilesFailed"]) >= {"Prepare", "Transfer", "Verify"} and set(
        described["FilesFailed"].values()
    ) == {0}
    assert described["BytesTransferred"] > 0
    assert run.output["TaskDrift"] == {}  # the task it made is the one asked for


@pytest.mark.proves(
    "a task CreateTask has just made is CREATING for a while; the start step's Retry on DataSyncTaskNotReadyError "
    "(within the same state) outlasts it, and StartTaskExecution is called once the task is AVAILABLE",
    emulation="the emulated task is CREATING for 2 s after CreateTask (CREATING_SECONDS, set longer than the "
    "emulation's default 0.3 s so that the first start always finds it so)",
)
def test_a_new_tasks_creating_is_outlasted_by_the_starts_retries(target: Target, monkeypatch):
    if target.emulated:
        from datasync_workflow.local import emulated_datasync

        monkeypatch.setattr(emulated_datasync, "CREATING_SECONDS", 2.0)
    run = target.run({**target.s3_to_s3(), "wait_interval_seconds": 3600})
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["TaskCreated"] is True and run.output["ExecutionStarted"] is True
    assert run.entered().count(START_STATE) == 1  # the retries are the state's own, not a new try
    # The start step's invocations: refused while the task was CREATING, then the one that started it.
    entered = next(
        i for i, e in enumerate(run.history) if (e.get("stateEnteredEventDetails") or {}).get("name") == START_STATE
    )
    exited = next(i for i, e in enumerate(run.history) if i > entered and e["type"] == "TaskStateExited")
    invocations = [
        e for e in run.history[entered:exited] if e["type"] in ("LambdaFunctionFailed", "LambdaFunctionSucceeded")
    ]
    failures, success = invocations[:-1], invocations[-1]
    assert success["type"] == "LambdaFunctionSucceeded"
    for failure in failures:
        details = failure["lambdaFunctionFailedEventDetails"]
        assert details["error"] == NOT_READY, details
        message = json.loads(details["cause"])["errorMessage"]
        assert f"Task {run.output['TaskArn']} is still CREATING" in message
    if target.emulated:  # on AWS the task may already be AVAILABLE when first asked
        assert len(failures) >= 1
    scheduled = [e for e in run.history[entered:exited] if e["type"] == "LambdaFunctionScheduled"]
    assert len(scheduled) == len(invocations)  # each refusal was followed by another try, none left unanswered
    # One DataSync execution, started once the task was ready.
    assert the_only_execution_of(target, run.output["TaskArn"]) == run.output["TaskExecutionArn"]
    assert run.output["TaskExecution"]["Status"] == "SUCCESS"
    assert target.client("datasync").describe_task(TaskArn=run.output["TaskArn"])["Status"] == "AVAILABLE"
