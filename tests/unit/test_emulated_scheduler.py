"""EventBridge Scheduler's one-time schedules in the emulation (datasync_workflow/local/emulated_scheduler.py): moto
keeps schedules but never fires them; a local deployment fires an at() schedule once its time has come."""

import json
import time
from datetime import UTC, datetime, timedelta

import boto3

from datasync_workflow.local import emulated_scheduler
from datasync_workflow.local.runner import local_deployment

ROLE = "arn:aws:iam::123456789012:role/scheduler"


def schedule(scheduler, name: str, expression: str, machine_arn: str, **settings) -> None:
    scheduler.create_schedule(
        Name=name,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": machine_arn, "RoleArn": ROLE, "Input": json.dumps({"fired": "<aws.scheduler.scheduled-time>"})},
        **settings,
    )


def test_an_at_schedule_fires_once_at_its_time_with_the_time_put_in_and_is_deleted_after():
    with local_deployment() as machine_arn:
        sfn, scheduler = boto3.client("stepfunctions"), boto3.client("scheduler")
        at = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
        schedule(scheduler, "once", f"at({at:%Y-%m-%dT%H:%M:%S})", machine_arn, ActionAfterCompletion="DELETE")
        schedule(scheduler, "kept", f"at({at:%Y-%m-%dT%H:%M:%S})", machine_arn, State="DISABLED")
        schedule(scheduler, "hourly", "rate(1 hour)", machine_arn)
        assert sfn.list_executions(stateMachineArn=machine_arn)["executions"] == []  # not before its time
        time.sleep(1.5 + 2 * emulated_scheduler.TICK_SECONDS)
        (started,) = sfn.list_executions(stateMachineArn=machine_arn)["executions"]
        described = sfn.describe_execution(executionArn=started["executionArn"])
        assert json.loads(described["input"]) == {"fired": f"{at:%Y-%m-%dT%H:%M:%SZ}"}
        assert described["name"] and described["name"] != "None"  # made up, as Step Functions does
        names = {s["Name"] for s in scheduler.list_schedules()["Schedules"]}
        assert names == {"kept", "hourly"}
        time.sleep(2 * emulated_scheduler.TICK_SECONDS)
        assert len(sfn.list_executions(stateMachineArn=machine_arn)["executions"]) == 1  # once
