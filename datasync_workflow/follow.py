"""Follow a workflow execution, local or deployed: its history as it grows, and the progress lines of the
command line."""

import json
import math
import sys
import time
from collections.abc import Callable

from botocore.exceptions import ClientError

from datasync_steps.datasync import THROTTLING_ERROR_CODES
from datasync_steps.names import CHECK_STATE, PLAN_RETRY_STATE, WAIT_STATE

MAX_HISTORY_PAGE = 1000  # the most GetExecutionHistory gives at once
MAX_POLL_SECONDS = 30


def follow(
    sfn,
    execution_arn: str,
    on_event: Callable[[dict], None] | None = None,
    *,
    timeout: float = math.inf,
    stop_when: Callable[[dict], bool] | None = None,
    poll_seconds: float = 0.1,
    seen: int = 0,
    page_size: int = 100,
) -> tuple[dict, list[dict]]:
    """Poll until the execution ends, `timeout` passes or `stop_when` is true of an event, passing each history
    event after the `seen`th to `on_event`; return the last description and the whole history.

    While it polls, the history is read only for `on_event` or `stop_when`, and then only what is newer than the
    last event seen, newest first in pages of `page_size` (GetExecutionHistory's quota is shared by the account,
    and a history may hold 25,000 events). Throttled, it polls less often, up to every MAX_POLL_SECONDS.
    """
    deadline = time.monotonic() + timeout
    watching = on_event is not None or stop_when is not None
    while True:
        try:
            # Described before the history is read, so a finished execution's history is complete.
            described = sfn.describe_execution(executionArn=execution_arn)
            stop = False
            for event in events_after(sfn, execution_arn, seen, page_size) if watching else []:
                seen = event["id"]
                if on_event is not None:
                    on_event(event)
                stop = stop or (stop_when is not None and stop_when(event))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in THROTTLING_ERROR_CODES:
                raise
            poll_seconds = min(MAX_POLL_SECONDS, max(1.0, poll_seconds * 2))
            time.sleep(poll_seconds)
            continue
        if described["status"] != "RUNNING" or stop or time.monotonic() > deadline:
            return described, events_after(sfn, execution_arn, 0, MAX_HISTORY_PAGE)
        time.sleep(poll_seconds)


def events_after(sfn, execution_arn: str, last_seen: int, page_size: int) -> list[dict]:
    """The execution's history events after the one whose id is `last_seen` (0: all of them), oldest first."""
    newer: list[dict] = []
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, reverseOrder=True, PaginationConfig={"PageSize": page_size}
    )
    for page in pages:
        for event in page["events"]:
            if event["id"] <= last_seen:
                return newer[::-1]
            newer.append(event)
    return newer[::-1]


class Progress:
    """Prints, on stderr, each state as it is entered with the time since the execution began, and DataSync's
    status (with counters, when a check read them) while the workflow waits for the transfer; each line begins with
    the run's `label` (its task_id), when it has one."""

    def __init__(self, label: str | None = None) -> None:
        self.began = None
        self.shown = 0  # history events seen so far
        self.prefix = f"[{label}] " if label else ""

    def __call__(self, event: dict) -> None:
        self.shown += 1
        self.began = self.began or event["timestamp"]
        entered = event.get("stateEnteredEventDetails")
        if entered:
            elapsed = (event["timestamp"] - self.began).total_seconds()
            print(f"{self.prefix}-> {entered['name']} [{elapsed:.1f} s]", file=sys.stderr)
        exited = event.get("stateExitedEventDetails")
        if exited and exited["name"] == WAIT_STATE:
            woken_by = json.loads(exited["output"])["execution"].get("event")  # absent when the wait timed out
            if woken_by:
                print(f"{self.prefix}   DataSync status: {woken_by['Status']} (DataSync's event)", file=sys.stderr)
        if exited and exited["name"] == PLAN_RETRY_STATE:
            planned = json.loads(exited["output"]).get("retry", {})
            if planned.get("Retry"):
                failure = f"Try {planned['Attempt'] - 1} failed ({planned['Error']})"
                print(f"{self.prefix}   {failure}; trying again in {planned['DelaySeconds']} s", file=sys.stderr)
        if exited and exited["name"] == CHECK_STATE:
            check = json.loads(exited["output"])["execution"]["check"]
            progress = ""
            if "FilesTransferred" in check:
                files, mebibytes = check["FilesTransferred"], check["BytesTransferred"] / 2**20
                progress = f", {files:,} files and {mebibytes:,.1f} MiB transferred"
            if "FilesListed" in check:  # Enhanced mode
                counted = ("FilesListed", "FilesPrepared", "FilesTransferred", "FilesVerified", "FilesFailed")
                listed, prepared, transferred, verified, failed = (check.get(name) or 0 for name in counted)
                progress = (
                    f", files listed {listed:,}, prepared {prepared:,}, transferred {transferred:,}, verified "
                    f"{verified:,}, failed {failed:,}; {check['BytesTransferred'] / 2**20:,.1f} MiB"
                )
            checked = f"{check['Status']}{progress} (check {check['checks_done']})"
            print(f"{self.prefix}   DataSync status: {checked}", file=sys.stderr)
