"""Follow a workflow execution, local or deployed: its history as it grows, and the progress lines of the
command line."""

import json
import math
import sys
import time
from collections.abc import Callable

from datasync_steps.names import CHECK_STATE, WAIT_STATE


def follow(
    sfn,
    execution_arn: str,
    on_event: Callable[[dict], None],
    *,
    timeout: float = math.inf,
    stop_when: Callable[[dict], bool] = lambda event: False,
    poll_seconds: float = 0.05,
    seen: int = 0,
) -> tuple[dict, list[dict]]:
    """Poll until the execution ends, `timeout` passes or `stop_when` is true of an event, passing each new
    history event to `on_event`; return the last description and the whole history."""
    deadline = time.monotonic() + timeout
    while True:
        # Described before the history is read, so a finished execution's history is complete.
        described = sfn.describe_execution(executionArn=execution_arn)
        history = [
            event
            for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
            for event in page["events"]
        ]
        stop = False
        for event in history[seen:]:
            on_event(event)
            stop = stop or stop_when(event)
        seen = len(history)
        if described["status"] != "RUNNING" or stop or time.monotonic() > deadline:
            return described, history
        time.sleep(poll_seconds)


class Progress:
    """Prints, on stderr, each state as it is entered with the time since the execution began, and DataSync's
    status (with counters, when a check read them) while the workflow waits for the transfer."""

    def __init__(self) -> None:
        self.began = None
        self.shown = 0  # history events seen so far

    def __call__(self, event: dict) -> None:
        self.shown += 1
        self.began = self.began or event["timestamp"]
        entered = event.get("stateEnteredEventDetails")
        if entered:
            elapsed = (event["timestamp"] - self.began).total_seconds()
            print(f"-> {entered['name']} [{elapsed:.1f} s]", file=sys.stderr)
        exited = event.get("stateExitedEventDetails")
        if exited and exited["name"] == WAIT_STATE:
            woken_by = json.loads(exited["output"])["execution"].get("event")  # absent when the wait timed out
            if woken_by:
                print(f"   DataSync status: {woken_by['Status']} (DataSync's event)", file=sys.stderr)
        if exited and exited["name"] == CHECK_STATE:
            check = json.loads(exited["output"])["execution"]["check"]
            progress = ""
            if "FilesTransferred" in check:
                files, mebibytes = check["FilesTransferred"], check["BytesTransferred"] / 2**20
                progress = f", {files:,} files and {mebibytes:,.1f} MiB transferred"
            print(f"   DataSync status: {check['Status']}{progress} (check {check['checks_done']})", file=sys.stderr)
