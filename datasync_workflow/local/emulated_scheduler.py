"""EventBridge Scheduler's one-time schedules, fired in the emulation: moto keeps a schedule but never starts its
target. While a local deployment runs, an at() schedule whose time has come, ENABLED, whose target is a Step Functions
state machine, starts one execution of it with the target's Input, `<aws.scheduler.scheduled-time>` replaced by the
time it fired, as 2022-03-22T18:59:43Z (Scheduler user guide, "Adding context attributes"); one whose
ActionAfterCompletion is DELETE is deleted after it fired. rate() and cron() schedules do not fire here."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.scheduler.models import scheduler_backends

from datasync_steps.timetable import parse_schedule

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
TICK_SECONDS = 0.2


@contextmanager
def one_time_schedules_fire(region: str) -> Iterator[None]:
    stopped, fired = threading.Event(), set()

    def watch() -> None:
        while not stopped.wait(TICK_SECONDS):
            for group in list(scheduler_backends[DEFAULT_ACCOUNT_ID][region].schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    if schedule.arn not in fired and _due(schedule):
                        fired.add(schedule.arn)
                        _fire(region, group, schedule)

    watcher = threading.Thread(target=watch, daemon=True, name="emulated-scheduler")
    watcher.start()
    try:
        yield
    finally:
        stopped.set()
        watcher.join(timeout=5)


def _due(schedule) -> bool:
    if schedule.state != "ENABLED" or not schedule.schedule_expression.startswith("at("):
        return False
    if ":states:" not in schedule.target.get("Arn", "") or schedule.schedule_expression_timezone not in (None, "UTC"):
        return False
    return _time_of(schedule) <= datetime.now(UTC)


def _time_of(schedule) -> datetime:
    at = parse_schedule(schedule.schedule_expression)
    assert isinstance(at, datetime), schedule.schedule_expression
    return at


def _fire(region: str, group, schedule) -> None:
    at = _time_of(schedule)
    execution_input = (schedule.target.get("Input") or "{}").replace(SCHEDULED_TIME, f"{at:%Y-%m-%dT%H:%M:%SZ}")
    boto3.client("stepfunctions", region_name=region).start_execution(
        stateMachineArn=schedule.target["Arn"], input=execution_input
    )
    if schedule.action_after_completion == "DELETE":
        group.schedules.pop(schedule.name, None)
