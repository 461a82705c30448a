"""`datasync-workflow backfill`: one run per logical date of a schedule, as `airflow dags backfill` starts them, each
named from its date and the input's hash, so that the same backfill again starts no date twice."""

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from datasync_steps.timetable import fire_times, next_fire

FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass
class BackfillRun:
    logical_date: datetime
    data_interval_end: datetime
    name: str
    status: str = "PENDING"
    started_here: bool = False
    error: str | None = None
    execution_arn: str | None = None

    def execution_input(self, execution_input: dict) -> dict:
        return {
            **execution_input,
            "logical_date": self.logical_date.isoformat(),
            "data_interval_end": self.data_interval_end.isoformat(),
        }


def planned_runs(execution_input: dict, schedule: str, start: datetime, end: datetime) -> list[BackfillRun]:
    """A run for each time `schedule` fires from `start` to `end`, with its data interval (to the next time)."""
    digest = hashlib.sha256(json.dumps(execution_input, sort_keys=True).encode()).hexdigest()[:16]
    # In UTC, the same instant whatever offset the dates were given with: one name for one date.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return [
        BackfillRun(date, next_fire(schedule, date), f"backfill-{date:%Y%m%dT%H%M%S}-{digest}")
        for date in fire_times(schedule, start, end)
    ]


def backfill(sfn, machine_arn: str, execution_input: dict, runs: list[BackfillRun], max_active_runs: int, poll=1.0):
    """Start the runs not yet started, at most `max_active_runs` at once, and follow each to its end (one of an
    earlier backfill too, if it still runs); print a line as each starts and ends."""
    prefix = machine_arn.replace(":stateMachine:", ":execution:")
    pending, active = list(runs), list[BackfillRun]()
    while pending or active:
        while pending and len(active) < max_active_runs:
            run = pending.pop(0)
            run.execution_arn = f"{prefix}:{run.name}"
            status = _status(sfn, run)
            if status is None:
                sfn.start_execution(
                    stateMachineArn=machine_arn,
                    name=run.name,
                    input=json.dumps(run.execution_input(execution_input), separators=(",", ":")),
                )
                run.started_here, status = True, "RUNNING"
            _say(run, "started" if run.started_here else f"already started ({status})")
            run.status = status
            if status == "RUNNING":
                active.append(run)
        time.sleep(poll if active else 0)
        for run in list(active):
            run.status = _status(sfn, run) or "RUNNING"
            if run.status in FINISHED:
                active.remove(run)
                _say(run, run.status)
    return runs


def _status(sfn, run: BackfillRun) -> str | None:
    try:
        described = sfn.describe_execution(executionArn=run.execution_arn)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return None
        raise
    run.error = described.get("error")
    return described["status"]


def _say(run: BackfillRun, what: str) -> None:
    print(f"{run.logical_date.isoformat()}  {what}", file=sys.stderr)


def table(runs: list[BackfillRun]) -> str:
    """Dates and outcomes, one line each."""
    rows = [("logical_date", "status", "started", "execution", "error")]
    rows += [
        (
            run.logical_date.isoformat(),
            run.status,
            "now" if run.started_here else "before",
            run.name,
            run.error or "",
        )
        for run in runs
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
