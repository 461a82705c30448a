"""The command line's progress lines: each state of a run as it is entered, DataSync's status while it waits, a failed
try and the next; a batch's items as they start and end."""

import json
import math
import sys
import time
from datetime import datetime, timedelta

from datasync_steps.batch_children import child_index, child_item
from datasync_steps.names import (
    CHECK_STATE,
    ITEM_STATES,
    PLAN_RETRY_STATE,
    PREPARE_BATCH_STATE,
    S3_ITEM_STATES,
    WAIT_STATE,
)

SHORT_CAUSE_CHARACTERS = 200  # of a Cause on a progress line or in a table
# A batch's table reads the newest events of its running items' histories (to show a failed try waiting for the next)
# only while at most this many run: a call per item and refresh.
RETRIES_READ_AT_MOST = 10
NEWEST_EVENTS_READ = 10  # a planned retry is followed by its wait's entry, and at most a few more events


def one_line(text: str, limit: int = SHORT_CAUSE_CHARACTERS) -> str:
    """`text` on one line to print: its white space (new lines too) as single spaces, other control characters
    escaped, cut after `limit` characters with an ellipsis."""
    flat = " ".join(text[: limit * 2 + 1].split())
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in flat)
    return escaped if len(escaped) <= limit and len(text) <= limit * 2 else f"{escaped[: limit - 1].rstrip()}…"


def clock_time(moment: datetime, seconds_later: float = 0) -> str:
    """The local time `seconds_later` than `moment`, as a clock shows it (and the date, unless it is today)."""
    when = (moment + timedelta(seconds=seconds_later)).astimezone()
    shown = f"{when:%H:%M:%S %Z}".strip()
    return shown if when.date() == datetime.now(when.tzinfo).date() else f"{when:%Y-%m-%d} {shown}"


def retry_planned(event: dict) -> list[str]:
    """What a history event that planned another try says of it, in lines to print: the failed try, its Cause, when
    the next try starts; none for any other event."""
    exited = event.get("stateExitedEventDetails") or {}
    if exited.get("name") != PLAN_RETRY_STATE:
        return []
    planned = json.loads(exited["output"]).get("retry", {})
    if not planned.get("Retry"):
        return []
    lines = [f"Try {planned['Attempt'] - 1} failed ({planned['Error']}); trying again in {planned['DelaySeconds']} s"]
    if planned.get("Cause"):
        lines.append(f"Cause: {one_line(planned['Cause'])}")
    return [*lines, f"The next try starts at {clock_time(event['timestamp'], planned['DelaySeconds'])}"]


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
        for line in retry_planned(event):
            print(f"{self.prefix}   {line}", file=sys.stderr)
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


class BatchTable:
    """A batch's items as they go: on stderr, a line for each item when it starts and when it ends (with its task_id,
    bytes and files, or its Error), and the counts when they change. It reads the children from Step Functions every
    `refresh_seconds` while the batch runs, and once more at its end."""

    def __init__(self, sfn, progress: Progress, refresh_seconds: float = 2.0) -> None:
        self.sfn, self.progress, self.refresh_seconds = sfn, progress, refresh_seconds
        self.prepared: dict | None = None  # prepare-batch's output: count, prefix, the workflow's state machine
        # item -> its latest child (a redrive's runs again what did not succeed): (its redrive, name, last status)
        self.latest: dict[int, tuple[int, str, str]] = {}
        self.arns: dict[str, str] = {}  # child name -> its execution ARN
        self.retries_shown: dict[str, int] = {}  # child name -> the history event id of its last retry shown
        self.refreshed = -math.inf

    def __call__(self, event: dict) -> None:
        if (event.get("stateEnteredEventDetails") or {}).get("name") in (*ITEM_STATES, *S3_ITEM_STATES):
            self.progress.shown += 1  # an item's own states: the table shows the item
        else:
            self.progress(event)
        exited = event.get("stateExitedEventDetails") or {}
        prepared = json.loads(exited.get("output") or "{}") if exited.get("name") == PREPARE_BATCH_STATE else {}
        if "prefix" in prepared:  # and not the error of a batch refused
            self.prepared = prepared
            print(
                f"   {self.prepared['count']:,} items, at most {self.prepared['max_concurrency']} at once",
                file=sys.stderr,
            )
        if event["type"] in ("ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"):
            self.refresh(at_the_end=True)

    def refresh(self, at_the_end: bool = False) -> None:
        if self.prepared is None or (not at_the_end and time.monotonic() - self.refreshed < self.refresh_seconds):
            return
        self.refreshed = time.monotonic()
        pages = self.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.prepared["workflow_state_machine_arn"]
        )
        newest: dict[int, tuple[int, dict]] = {}
        for child in (child for p in pages for child in p["executions"]):
            item = child_item(self.prepared["prefix"], child["name"])
            if item is not None and item[1] >= newest.get(item[0], (-1, {}))[0]:
                newest[item[0]] = (item[1], child)
        changed = sorted(
            (index, redrive, child)
            for index, (redrive, child) in newest.items()
            if self.latest.get(index) != (redrive, child["name"], child["status"])
        )
        for index, redrive, child in changed:
            self.latest[index] = (redrive, child["name"], child["status"])
            self.arns[child["name"]] = child["executionArn"]
            print(f"   item {index}: {self.item_line(child)}", file=sys.stderr)
        self.show_retries(self.prepared["prefix"])
        if changed:
            statuses = [status for _, _, status in self.latest.values()]
            counted = {status: statuses.count(status) for status in set(statuses)}
            waiting = self.prepared["count"] - len(self.latest)
            shown = ", ".join(f"{n:,} {status.lower()}" for status, n in sorted(counted.items()))
            print(f"   items: {shown}{f', {waiting:,} waiting' if waiting else ''}", file=sys.stderr)

    def show_retries(self, prefix: str) -> None:
        """An item that failed a try and waits for the next: its failure, Cause and next try, read from the newest
        events of its history; only while few items run, so that a large batch costs no call per item."""
        running = [name for _, name, status in self.latest.values() if status == "RUNNING"]
        if len(running) > RETRIES_READ_AT_MOST:
            return
        for name in running:
            newest = self.sfn.get_execution_history(
                executionArn=self.arns[name],
                reverseOrder=True,
                maxResults=NEWEST_EVENTS_READ,
                includeExecutionData=True,
            )["events"]
            planned = next((event for event in newest if retry_planned(event)), None)
            if planned is None or self.retries_shown.get(name) == planned["id"]:
                continue
            self.retries_shown[name] = planned["id"]
            index = child_index(prefix, name)
            print(f"   item {index}: RUNNING; " + "; ".join(retry_planned(planned)), file=sys.stderr)

    def item_line(self, child: dict) -> str:
        if child["status"] == "RUNNING":
            return "RUNNING"
        described = self.sfn.describe_execution(executionArn=child["executionArn"])
        item_input = json.loads(described.get("input") or "{}")
        label = f"[{item_input['task_id']}] " if isinstance(item_input.get("task_id"), str) else ""
        if described["status"] == "SUCCEEDED":
            counters = json.loads(described.get("output") or "{}").get("TaskExecution") or {}
            moved = counters.get("BytesTransferred", 0) / 2**20
            return f"{label}SUCCEEDED, {counters.get('FilesTransferred', 0):,} files and {moved:,.1f} MiB"
        return f"{label}{described['status']}, {described.get('error')}: {one_line(described.get('cause') or '')}"
