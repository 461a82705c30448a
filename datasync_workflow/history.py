"""Follow a workflow execution, local or deployed, through its history as it grows: what the local runner and the
command line both read."""

import math
import time
from collections.abc import Callable

from botocore.exceptions import ClientError

from datasync_steps.datasync import THROTTLING_ERROR_CODES

MAX_HISTORY_PAGE = 1000  # the most GetExecutionHistory gives at once
MAX_POLL_SECONDS = 30
# Events a poll that may find nothing new reads first (idle_poll_seconds): Step Functions' answer costs by the event.
PROBE_PAGE = 1


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
    on_poll: Callable[[], None] | None = None,
    idle_poll_seconds: float | None = None,
) -> tuple[dict, list[dict]]:
    """Poll until the execution ends, `timeout` passes or `stop_when` is true of an event, passing each history
    event after the `seen`th to `on_event`; return the last description and the whole history.

    While it polls, the history is read only for `on_event` or `stop_when`, and then only what is newer than the
    last event seen, newest first in pages of `page_size` (GetExecutionHistory's quota is shared by the account,
    and a history may hold 25,000 events). Throttled, it polls less often, up to every MAX_POLL_SECONDS. `on_poll` is
    called at each poll while the execution runs (its throttling slows the polls too).

    With `idle_poll_seconds`, a poll that finds nothing new costs one event of history, and polls slow down while
    nothing happens (a Wait state, a transfer): after t seconds without an event, every t / 8 seconds, from
    `poll_seconds` up to `idle_poll_seconds`, so an end is noticed within an eighth of the quiet before it.
    """
    deadline = time.monotonic() + timeout
    watching = on_event is not None or stop_when is not None
    probe = PROBE_PAGE if idle_poll_seconds is not None else None
    quiet_since = time.monotonic()
    while True:
        try:
            # Described before the history is read, so a finished execution's history is complete.
            described = sfn.describe_execution(executionArn=execution_arn)
            stop = False
            for event in events_after(sfn, execution_arn, seen, page_size, probe) if watching else []:
                seen = event["id"]
                quiet_since = time.monotonic()
                if on_event is not None:
                    on_event(event)
                stop = stop or (stop_when is not None and stop_when(event))
            if on_poll is not None and described["status"] == "RUNNING":
                on_poll()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in THROTTLING_ERROR_CODES:
                raise
            poll_seconds = min(MAX_POLL_SECONDS, max(1.0, poll_seconds * 2))
            time.sleep(poll_seconds)
            continue
        now = time.monotonic()
        if described["status"] != "RUNNING" or stop or now > deadline:
            return described, events_after(sfn, execution_arn, 0, MAX_HISTORY_PAGE)
        pause = poll_seconds
        if idle_poll_seconds is not None:
            pause = min(max(poll_seconds, (now - quiet_since) / 8), max(poll_seconds, idle_poll_seconds))
        time.sleep(max(0.0, min(pause, deadline - now)))


def events_after(sfn, execution_arn: str, last_seen: int, page_size: int, probe: int | None = None) -> list[dict]:
    """The execution's history events after the one whose id is `last_seen` (0: all of them), oldest first. With
    `probe`, the newest `probe` events are read first, and the pages only when they hold a new one."""
    if probe and last_seen:
        newest = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=probe)["events"]
        if not newest or newest[0]["id"] <= last_seen:
            return []
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
