"""`datasync-workflow backfill`: one run per logical date of a schedule, as `airflow dags backfill` starts them, each
named from its date and a hash of its input and data interval, so that the same backfill again starts no date twice
and a backfill of another input or schedule starts its own."""

import hashlib
import json
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from datasync_steps.timetable import fire_times, next_fire
from datasync_workflow.cli.progress import one_line

FINISHED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# More runs than this start only when asked for by name (--yes).
MAX_UNASKED_RUNS = 1_000
TABLE_CAUSE_CHARACTERS = 160  # of a failed date's Cause, on its line of the table


@dataclass
class BackfillRun:
    logical_date: datetime
    data_interval_end: datetime
    name: str
    status: str = "PENDING"
    started_here: bool = False
    error: str | None = None
    cause: str | None = None
    execution_arn: str | None = None

    def execution_input(self, execution_input: dict) -> dict:
        return {
            **execution_input,
            "logical_date": self.logical_date.isoformat(),
            "data_interval_end": self.data_interval_end.isoformat(),
        }


def planned_runs(execution_input: dict, schedule: str, start: datetime, end: datetime) -> Iterator[BackfillRun]:
    """A run for each time `schedule` fires from `start` to `end`, with its data interval (to the next time), made
    as it is asked for."""
    # The same object whatever the order of its keys: one hash for one input.
    digest = hashlib.sha256(json.dumps(execution_input, sort_keys=True).encode()).hexdigest()
    # In UTC, the same instant whatever offset the dates were given with: one name for one date.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    for date in fire_times(schedule, start, end):
        interval_end = next_fire(schedule, date)
        interval = hashlib.sha256(f"{digest} {date.isoformat()} {interval_end.isoformat()}".encode()).hexdigest()
        yield BackfillRun(date, interval_end, f"backfill-{date:%Y%m%dT%H%M%S}-{interval[:16]}")


def backfill(
    sfn, machine_arn: str, execution_input: dict, runs: Iterable[BackfillRun], max_active_runs: int, poll=1.0
) -> list[BackfillRun]:
    """Start the runs not yet started, at most `max_active_runs` at once, and follow each to its end (one of an
    earlier backfill too, if it still runs); print a line as each starts and ends. A run of the same name with
    another input is not this backfill's: its date is NOT_STARTED."""
    prefix = machine_arn.replace(":stateMachine:", ":execution:")
    upcoming, taken, active = iter(runs), list[BackfillRun](), list[BackfillRun]()
    while True:
        while len(active) < max_active_runs and (run := next(upcoming, None)) is not None:
            taken.append(run)
            run.execution_arn = f"{prefix}:{run.name}"
            _start(sfn, machine_arn, run, run.execution_input(execution_input))
            if run.status == "RUNNING":
                active.append(run)
        if not active:
            return taken
        time.sleep(poll)
        for run in list(active):
            described = _described(sfn, run)
            run.status = described["status"] if described else "RUNNING"
            run.error, run.cause = (described or {}).get("error"), (described or {}).get("cause")
            if run.status in FINISHED:
                active.remove(run)
                _say(run, run.status)


def _start(sfn, machine_arn: str, run: BackfillRun, planned: dict) -> None:
    """Start the run, or take the execution of its name if it has the planned input."""
    described = _described(sfn, run)
    if described is None:
        try:
            sfn.start_execution(
                stateMachineArn=machine_arn, name=run.name, input=json.dumps(planned, separators=(",", ":"))
            )
            run.started_here, run.status = True, "RUNNING"
            _say(run, "started")
            return
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
        # Started by someone else since it was described.
        described = _described(sfn, run) or {}
    if json.loads(described.get("input") or "null") != planned:
        run.status = "NOT_STARTED"
        run.error = f"an execution named {run.name} exists with another input"
        _say(run, f"{run.status}: {run.error}")
        return
    run.status, run.error, run.cause = described["status"], described.get("error"), described.get("cause")
    _say(run, f"already started ({run.status})")


def _described(sfn, run: BackfillRun) -> dict | None:
    try:
        return sfn.describe_execution(executionArn=run.execution_arn)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return None
        raise


def _say(run: BackfillRun, what: str) -> None:
    # One write, its new line with it: a Ctrl-C between the two writes of a print would leave the line open.
    sys.stderr.write(f"{run.logical_date.isoformat()}  {what}\n")


def failure(run: BackfillRun) -> str:
    """A date's Error and its Cause, shortened to a line of the table."""
    if run.error and run.cause:
        return f"{run.error}: {one_line(run.cause, TABLE_CAUSE_CHARACTERS)}"
    return one_line(run.error or run.cause or "", TABLE_CAUSE_CHARACTERS)


def table(runs: list[BackfillRun]) -> str:
    """Dates and outcomes, one line each: a failed date's Error and Cause, shortened."""
    rows = [("logical_date", "status", "started", "execution", "error")]
    rows += [
        (
            run.logical_date.isoformat(),
            run.status,
            "now" if run.started_here else "before",
            run.name,
            failure(run),
        )
        for run in runs
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
