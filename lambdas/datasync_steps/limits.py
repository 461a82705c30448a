"""The limits a run must keep within (Step Functions' and DataSync's), and the waits and retry delays measured
against them."""

import hashlib
import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datasync_steps.input_model import WorkflowInput

# Step Functions' limit on an execution's input: 256 KiB as UTF-8 JSON.
MAX_INPUT_BYTES = 262_144
MAX_WAIT_INTERVAL_SECONDS = 86_400
MAX_TAGS = 50  # DataSync's limit per resource
# A Standard execution fails when its history reaches 25,000 events. A status check is one round of the wait
# loop: the wait for DataSync's event timing out (6 events), the check (5) and the route onwards (2).
HISTORY_LIMIT, EVENTS_PER_CHECK = 25_000, 13
# Everything of a try outside the loop: its longest path takes about 80 events, every retry its steps allow about 200,
# and planning the next try about 10.
RESERVED_EVENTS = 1_000
MAX_ITERATIONS = (HISTORY_LIMIT - RESERVED_EVENTS) // EVENTS_PER_CHECK
# A batch's start of a child (its Map's Task state) is tried again, at most CHILD_START_RETRIES times, when Step
# Functions throttles it or fails it on its side. An inline Map keeps its items' events in the batch's own history: an
# item whose child starts at once takes about 14 (12 locally: the iteration's start and end, the Task state's entry,
# schedule, start, submission, success and exit, the Choice of its row's entry and exit, the row's Pass state's entry
# and exit), and each retried start 3 more (the failure, then the schedule and start again; the state is not entered
# again). With BATCH_RESERVED_EVENTS for the rest of the batch (its two steps with their retries and the Map's own
# events: about 20, at most a few hundred), a batch of MAX_INLINE_TRANSFERS items, every start retried the most, keeps
# within HISTORY_LIMIT. A Distributed Map's iterations are child executions of their own, with their own histories:
# there the retries cost the batch nothing.
CHILD_START_RETRIES = 10
EVENTS_PER_BATCH_ITEM, EVENTS_PER_START_RETRY, BATCH_RESERVED_EVENTS = 14, 3, 1_000
MAX_INLINE_TRANSFERS = (HISTORY_LIMIT - BATCH_RESERVED_EVENTS) // (
    EVENTS_PER_BATCH_ITEM + CHILD_START_RETRIES * EVENTS_PER_START_RETRY
)
# Step Functions also ends a Standard execution after a year; finding, creating and starting take at most an hour.
EXECUTION_TIMEOUT_SECONDS, SETUP_SECONDS = 365 * 86_400, 3600
# The operator's defaults of what bounds a run's length: its status checks and its retries.
DEFAULT_MAX_ITERATIONS, DEFAULT_RETRIES = 60, 0


def input_bytes(raw: Any) -> int:
    """The size Step Functions counts of an input: its UTF-8 JSON, without spaces."""
    return len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode())


def seconds_between_checks(wait_interval_seconds: int) -> int:
    """The longest wait between two status checks: twice the interval, as Airflow's DataSyncHook waits (provider
    9.39.0, hooks/datasync.py, wait_for_task_execution, lines 318-322: it sleeps wait_interval_seconds while the
    status is not final, then again before the next check), so that the same max_iterations give up as late as the
    operator does. At least 1 s: a Task state's timeout can be no shorter."""
    return max(1, 2 * wait_interval_seconds)


def delay_before_retry(config: "WorkflowInput", failed_try: int, run: str = "") -> int:
    """Seconds to wait after try `failed_try` (1 is the first) failed, as Airflow's TaskInstance.next_retry_datetime
    computes it: retry_delay; with retry_exponential_backoff, retry_delay * 2 ** (failed_try - 1) plus a part of that
    again that a hash of the run and the try decides (the same every time), capped by max_retry_delay. Whole seconds,
    as a Wait state takes them."""
    delay = config.retry_delay
    if config.retry_exponential_backoff:
        min_backoff = max(1, math.ceil(delay * 2 ** (failed_try - 1)))
        run_hash = int(hashlib.sha1(f"{run}#{config.task_id}#{failed_try}".encode()).hexdigest(), 16)
        delay = min_backoff + run_hash % min_backoff
        if config.max_retry_delay:
            delay = min(config.max_retry_delay, delay)
    return math.ceil(delay)


def longest_retry_delay(config: "WorkflowInput", failed_try: int) -> int:
    """The most `delay_before_retry` can give after `failed_try`, whatever the hash."""
    if not config.retry_exponential_backoff:
        return math.ceil(config.retry_delay)
    min_backoff = max(1, math.ceil(config.retry_delay * 2 ** (failed_try - 1)))
    longest = 2 * min_backoff - 1
    return math.ceil(min(config.max_retry_delay, longest) if config.max_retry_delay else longest)
