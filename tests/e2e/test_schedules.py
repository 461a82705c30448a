"""A one-time EventBridge Scheduler schedule that starts the workflow, as the stack's `schedules` do: the run's
templates render the time it fired, which Scheduler puts in for `<aws.scheduler.scheduled-time>`."""

import json
import time
import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.target import Target


def run_started_by(target: Target, at: datetime, seconds: float) -> str:
    """The execution of the workflow that started at or after `at`, once there is one."""
    sfn, deadline = target.client("stepfunctions"), time.monotonic() + seconds
    while time.monotonic() < deadline:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=target.state_machine_arn):
            started = [e for e in page["executions"] if e["startDate"] >= at - timedelta(seconds=1)]
            if started:
                return started[0]["executionArn"]
        time.sleep(0.2 if target.emulated else 5)
    raise AssertionError(f"no run of the workflow started within {seconds} s of the schedule's time")


@pytest.mark.proves(
    "an EventBridge Scheduler one-time schedule (at()) with a Step Functions StartExecution target starts the "
    "workflow, putting the time it fired in for <aws.scheduler.scheduled-time> in its input, and the run renders "
    "its logical date from it",
    emulation="a local deployment fires moto's at() schedules (datasync_workflow/local/emulated_scheduler.py), "
    "replacing the context attribute as Scheduler's user guide describes",
)
def test_a_one_time_schedule_starts_a_run_whose_logical_date_is_the_time_it_fired(target: Target):
    at = (datetime.now(UTC) + timedelta(seconds=3 if target.emulated else 90)).replace(microsecond=0)
    expression = f"at({at:%Y-%m-%dT%H:%M:%S})"
    transfer = target.s3_to_s3()
    execution_input = {
        **transfer,
        "create_task_kwargs": {"Name": "e2e-{{ ts_nodash }}"},
        "data_interval_end": "<aws.scheduler.scheduled-time>",
        "schedule": expression,
    }
    scheduler, name = target.client("scheduler"), f"datasync-workflow-e2e-{uuid.uuid4().hex[:12]}"
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression=expression,
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": target.state_machine_arn,
            "RoleArn": target.scheduler_role_arn,
            "Input": json.dumps(execution_input),
        },
    )
    target.remember(lambda: delete_schedule_if_there(scheduler, name))
    run = target.finish(run_started_by(target, at, 60 if target.emulated else 600))
    assert run.status == "SUCCEEDED", run.cause
    # The run's dates came from the time Scheduler fired: an at() schedule's logical date is that time.
    assert run.output["Rendered"]["create_task_kwargs.Name"] == f"e2e-{at:%Y%m%dT%H%M%S}"
    started = json.loads(run.history[0]["executionStartedEventDetails"]["input"])
    assert started["data_interval_end"] == f"{at:%Y-%m-%dT%H:%M:%SZ}"


def delete_schedule_if_there(scheduler, name: str) -> None:
    with suppress(scheduler.exceptions.ResourceNotFoundException):  # ActionAfterCompletion deleted it
        scheduler.delete_schedule(Name=name)
