"""How a run ends other than by its transfer's success: stopped by hand, out of its execution_timeout, failing after
its retries, or returning at once without waiting; and a run whose input only Step Functions holds (the steps read
it with DescribeExecution). What each proves on AWS is in docs/reference/proven.md."""

import json
import time
import uuid
from contextlib import nullcontext
from datetime import UTC

import pytest

from datasync_steps.names import CANCELLED_TAG
from datasync_workflow.local import EmulatedTransfer, emulated_transfers
from tests.e2e.target import OBJECTS, Target, empty_and_delete, started_transfers

WAIT_STATE = "Wait for DataSync's event"
START_STATE = "Start execution"
# On AWS a DataSync execution takes a minute or more to launch and cancelling one takes a while; the emulation's take
# a second or two.
DATASYNC_SECONDS = 300
FINAL = ("SUCCESS", "ERROR")


def datasync_execution_ends(target: Target, execution_arn: str, seconds: float = DATASYNC_SECONDS) -> dict:
    """DataSync's description of the execution once it has ended (SUCCESS or ERROR), within `seconds`."""
    datasync, deadline = target.client("datasync"), time.monotonic() + seconds
    while (described := datasync.describe_task_execution(TaskExecutionArn=execution_arn))["Status"] not in FINAL:
        if time.monotonic() > deadline:
            raise AssertionError(f"{execution_arn} still {described['Status']} after {seconds} s")
        time.sleep(0.3)
    return described


def cancel_unless_ended(target: Target, execution_arn: str) -> None:
    """A cleanup: cancel a DataSync execution the scenario left running, and wait for its end (its task is deleted
    after this)."""
    datasync = target.client("datasync")
    if datasync.describe_task_execution(TaskExecutionArn=execution_arn)["Status"] not in (*FINAL, "CANCELLING"):
        datasync.cancel_task_execution(TaskExecutionArn=execution_arn)
    datasync_execution_ends(target, execution_arn)


@pytest.mark.proves(
    "StopExecution of a waiting run sends Step Functions' status-change event to the stack's clean-up rule, whose "
    "step finds the DataSync execution in the start step's output and cancels it (tagged cancelled-when-stopped)",
    emulation="the emulated StopExecution ends the run ABORTED and runs the clean-up rule's step in-process",
)
def test_stopping_a_waiting_run_cancels_its_datasync_execution(target: Target):
    with target.long_transfers(seconds=120):
        execution_arn = target.start({**target.s3_to_s3(), "wait_interval_seconds": 3600})
        target.wait_for_state(execution_arn, WAIT_STATE)
    (datasync_execution,) = started_transfers(target.history(execution_arn))
    target.remember(lambda: cancel_unless_ended(target, datasync_execution))  # if the clean-up did not
    stopped_at = time.monotonic()
    target.client("stepfunctions").stop_execution(executionArn=execution_arn, error="E2EStop", cause="stopped by hand")

    run = target.finish(execution_arn, seconds=30)
    assert (run.status, run.error, run.cause) == ("ABORTED", "E2EStop", "stopped by hand")
    # The transfer would have run on for a minute or more: it ended in ERROR because the clean-up cancelled it.
    ended = datasync_execution_ends(target, datasync_execution)
    assert ended["Status"] == "ERROR", ended
    assert time.monotonic() - stopped_at < DATASYNC_SECONDS
    assert target.tags(datasync_execution).get(CANCELLED_TAG) == execution_arn[:256]


@pytest.mark.proves(
    "execution_timeout on real timing: a try whose DataSync execution has not ended after that many seconds is "
    "given up, the execution cancelled by the state machine's cancel step, the run failing "
    "DataSyncExecutionTimeoutError (DataSync takes a minute or more to launch an execution)",
    emulation="the emulated transfer is made to last 60 s; the clock, the waits and the cancellation are real",
)
def test_a_run_out_of_its_execution_timeout_fails_and_its_execution_is_cancelled(target: Target):
    timeout = 5
    with target.long_transfers(seconds=60):
        # The default wait_interval_seconds (30) would first check after 60 s: the timeout ends the wait at 5 s.
        run = target.run({**target.s3_to_s3(), "execution_timeout": timeout})
    assert (run.status, run.error) == ("FAILED", "DataSyncExecutionTimeoutError"), run.cause
    (datasync_execution,) = started_transfers(run.history)
    assert run.cause == (
        f"DataSync execution {datasync_execution} did not finish within execution_timeout={timeout} s, "
        "so it was cancelled."
    )
    assert "Cancel timed-out execution" in run.entered()
    took = (run.history[-1]["timestamp"] - run.history[0]["timestamp"]).total_seconds()
    assert took < 45, f"the run took {took:.0f} s"  # not the transfer's minute or more
    assert datasync_execution_ends(target, datasync_execution)["Status"] == "ERROR"


def source_that_is_gone(target: Target) -> tuple[str, str]:
    """A task from a source bucket that was emptied and deleted after its location was made, to a new bucket: its
    executions cannot list the source. The task's ARN and the source's location. Everything is removed at the
    scenario's end."""
    source, destination = target.bucket(OBJECTS), target.bucket()
    made = target.task_between(source, destination, "/copy/", Name=f"e2e-{destination[-16:]}")
    empty_and_delete(target.client("s3"), source)
    return made


@pytest.mark.proves(
    "retries on real timing: a transfer DataSync fails (its source bucket deleted after its location was made, so "
    "DataSync cannot list it) is tried again after retry_delay with a new DataSync execution, and the run fails "
    "after the last try with DataSync's ErrorCode and 'This was the last of 2 tries.'",
    emulation="the emulated executions end in ERROR with EmulatedTransfer(error_code=...): the emulation does not "
    "look at the buckets",
)
def test_a_failing_transfer_is_retried_as_asked_then_fails_naming_the_last_try(target: Target):
    # On AWS the failure is real: the task's source bucket no longer exists. The brief proposes it and the DataSync
    # user guide ("Configuring AWS DataSync transfers with Amazon S3", Required permissions) has the source role
    # list the bucket (s3:ListBucket) for every execution; whether DataSync refuses StartTaskExecution instead of
    # failing the execution (then the Error is DataSyncRequestError and no execution is listed) needs an account.
    task, _ = source_that_is_gone(target)
    failing = (
        emulated_transfers(
            EmulatedTransfer(seconds=0.4, error_code="EmulatedSourceGone", error_detail="The source bucket is gone.")
        )
        if target.emulated  # what the emulation must be told: it does not look at the buckets
        else nullcontext()
    )
    retry_delay = 2
    with failing:
        run = target.run({"task_arn": task, "wait_interval_seconds": 5, "retries": 1, "retry_delay": retry_delay})
    assert (run.status, run.error) == ("FAILED", "DataSyncTaskExecutionFailedError"), run.cause
    first, second = started_transfers(run.history)  # a new DataSync execution for each try
    assert first != second
    listed = target.client("datasync").list_task_executions(TaskArn=task)["TaskExecutions"]
    assert {e["TaskExecutionArn"]: e["Status"] for e in listed} == {first: "ERROR", second: "ERROR"}
    error_code = target.client("datasync").describe_task_execution(TaskExecutionArn=second)["Result"]["ErrorCode"]
    assert run.cause.startswith(f"DataSync execution {second} ended in ERROR: {error_code}: ")
    assert run.cause.endswith("This was the last of 2 tries.")
    assert run.entered().count("Validate input and find task") == 2
    assert run.entered().count("Wait before the next try") == 1
    (waited,) = [e for e in run.history if (e.get("stateEnteredEventDetails") or {}).get("name") == "Next try"]
    (began,) = [
        e for e in run.history if (e.get("stateEnteredEventDetails") or {}).get("name") == "Wait before the next try"
    ]
    assert (waited["timestamp"] - began["timestamp"]).total_seconds() >= retry_delay - 0.1


@pytest.mark.proves(
    "states:DescribeExecution from the steps: the start step reads task_execution_kwargs (a filter of about 60,000 "
    "characters, and a template rendered from the execution's startDate) from the execution's input, which no state "
    "after the first carries; StartTaskExecution takes the filter whole",
    emulation="moto's Step Functions answers DescribeExecution with the input and startDate it keeps",
)
def test_a_long_filter_that_only_the_executions_input_holds_reaches_datasync_whole(target: Target):
    marker = uuid.uuid4().hex[:8]
    patterns = ["/a.txt", *(f"/absent-{marker}/{n:05d}.txt" for n in range(3_000))]
    includes = "|".join(patterns)
    assert 50_000 < len(includes) < 102_400  # DataSync's longest filter
    execution_arn = target.start(
        {
            **target.s3_to_s3(),
            "task_execution_kwargs": {
                "Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": includes}],
                "Excludes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/b/{{ ds_nodash }}-" + marker}],
            },
        }
    )
    run = target.finish(execution_arn)
    assert run.status == "SUCCEEDED", run.cause
    started = target.client("stepfunctions").describe_execution(executionArn=execution_arn)["startDate"]
    rendered = f"/b/{started.astimezone(UTC):%Y%m%d}-{marker}"
    described = target.client("datasync").describe_task_execution(TaskExecutionArn=run.output["TaskExecutionArn"])
    assert described["Includes"] == [{"FilterType": "SIMPLE_PATTERN", "Value": includes}]
    assert described["Excludes"] == [{"FilterType": "SIMPLE_PATTERN", "Value": rendered}]
    assert run.output["Rendered"] == {"task_execution_kwargs.Excludes[0].Value": rendered}
    # The output cuts the filter; DataSync got it whole, from the start step that read the input itself.
    assert run.output["TaskExecution"]["Includes"][0]["Value"].endswith(f"({len(includes):,} characters in all)")
    # Its end, past what the output keeps, is in no event after the first state: no state carried the input.
    holding = [e["type"] for e in run.history if patterns[-1] in json.dumps(e, default=str)]
    assert holding == ["ExecutionStarted", "PassStateEntered"], holding


@pytest.mark.proves(
    "wait_for_completion: false succeeds as soon as StartTaskExecution answers, with the execution's ARN, while "
    "DataSync still runs it",
    emulation="the emulated transfer is made to last 60 s",
)
def test_a_run_not_waiting_for_completion_returns_while_its_execution_runs(target: Target):
    with target.long_transfers(seconds=60):
        run = target.run({**target.s3_to_s3(), "wait_for_completion": False, "wait_interval_seconds": 3600})
    assert run.status == "SUCCEEDED", run.cause
    arn = run.output["TaskExecutionArn"]
    target.remember(lambda: cancel_unless_ended(target, arn))
    assert run.output["ExecutionStarted"] is True and "TaskExecution" not in run.output
    assert WAIT_STATE not in run.entered() and "Report started execution" in run.entered()
    status = target.client("datasync").describe_task_execution(TaskExecutionArn=arn)["Status"]
    assert status not in FINAL, status
