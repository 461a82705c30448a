"""The workflow's error classes.

A Lambda error's type is the exception's class name, and Step Functions matches Retry and Catch on it,
so these names are the contract with statemachine/datasync_workflow.asl.json and with callers.
"""

import json
import re
from collections.abc import Iterable
from typing import Any

# Step Functions keeps at most 32,768 characters of a failure's Cause, which for a Lambda error is the error's
# JSON (message, type and stack trace): a message is kept to half of that, so the Cause stays whole JSON that
# "Explain failure" can read.
MAX_MESSAGE_CHARACTERS = 16_384


def bounded(text: str, limit: int = MAX_MESSAGE_CHARACTERS) -> str:
    """`text`, cut so that it takes at most `limit` characters as JSON (escapes counted), with a note of the cut."""
    if len(json.dumps(text)) <= limit:
        return text
    note = f"… (cut: {len(text):,} characters in all)"
    room, kept = limit - len(json.dumps(note)), 0
    for character in text:
        room -= len(json.dumps(character)) - 2
        if room < 0:
            break
        kept += 1
    return text[:kept] + note


def shown(value: object, limit: int = 100) -> str:
    """`value` as a message quotes it: its repr (control characters escaped), shortened to about `limit`."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


# A text of an output longer than this (a filter's value may be 102,400 characters) is cut, so that the output stays
# far within Step Functions' 256 KiB whatever the input held.
MAX_TEXT_CHARACTERS = 1_024


def shortened(value: Any) -> Any:
    """`value` with each text over MAX_TEXT_CHARACTERS cut, saying how long it was."""
    if isinstance(value, dict):
        return {key: shortened(member) for key, member in value.items()}
    if isinstance(value, list):
        return [shortened(member) for member in value]
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARACTERS:
        return f"{value[:MAX_TEXT_CHARACTERS]}… ({len(value):,} characters in all)"
    return value


MAX_GUESSED_CHARACTERS = 100  # a longer unknown name is not matched against the known ones


def closest(name: str, known: Iterable[str]) -> str | None:
    """The one of `known` that `name` is most likely a misspelling of (difflib's closest match, ignoring case, `_` and
    `-`: taskArn is task_arn), or None when none is close."""
    if len(name) > MAX_GUESSED_CHARACTERS:  # no name is this long, and difflib's time grows with it
        return None
    import difflib  # only for a misspelling

    by_form = {_form(candidate): candidate for candidate in known}
    matches = difflib.get_close_matches(_form(name), list(by_form), n=1)
    return by_form[matches[0]] if matches else None


def _form(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).lower()


class _BoundedMessage(Exception):
    def __init__(self, message: str = "") -> None:
        super().__init__(bounded(str(message)))


class DataSyncWorkflowError(_BoundedMessage):
    """A failure the caller must fix or know about; never retried."""


class DataSyncInvalidInputError(DataSyncWorkflowError):
    """The input breaks the input reference. The Cause lists every bad field. Nothing in DataSync was created, changed
    or started.
    """


class DataSyncTaskNotFoundError(DataSyncWorkflowError):
    """`task_arn` names no task, or no task matches the URIs and `create_task_kwargs` is empty."""


class DataSyncLocationNotFoundError(DataSyncWorkflowError):
    """A task must be created but a URI matches no location and no kwargs were given to create it."""


class DataSyncMultipleTasksError(DataSyncWorkflowError):
    """Several tasks match and `allow_random_task_choice` is false."""


class DataSyncMultipleLocationsError(DataSyncWorkflowError):
    """Several locations match a URI and `allow_random_location_choice` is false."""


class DataSyncTaskCreationError(DataSyncWorkflowError):
    """DataSync refused to create a location or the task, or a created location did not get the requested URI."""


class DataSyncTaskExecutionFailedError(DataSyncWorkflowError):
    """The DataSync execution ended in `ERROR`. The Cause carries DataSync's `ErrorCode` and `ErrorDetail` (and, in
    Enhanced mode, the failed files by phase).
    """


class DataSyncExecutionTimeoutError(DataSyncWorkflowError):
    """`max_iterations` checks passed, or `execution_timeout` seconds, without a final status; the execution was
    cancelled. With `if_task_running: "queue"`, also when they ran out while waiting for the task's unfinished
    execution (not this run's, so not cancelled; nothing was started). The state machine's timeout states set it, not
    a step."""


class DataSyncTaskAlreadyRunningError(DataSyncWorkflowError):
    """`if_task_running` is `"fail"` and the task has an unfinished execution (named in the Cause). Nothing was
    started."""


class DataSyncBatchFailedError(DataSyncWorkflowError):
    """More items of a batch failed than it tolerates; the Cause names them (index, `task_id`, status, Error and
    Cause)."""


class DataSyncTaskUnavailableError(DataSyncWorkflowError):
    """The task is `UNAVAILABLE` (an agent it uses is offline): the run fails at once, the agents of its locations
    named in the Cause, rather than waiting out `max_iterations`. Nothing was started."""


class DataSyncRequestError(DataSyncWorkflowError):
    """DataSync refused an update, start, cancel or delete request, or denied a step's role access (the Cause names
    the missing permission and, with a `scope_tag`, the tag the resource may lack: a task or execution outside the
    scope is this, never "not found"); the Cause carries its error code and message."""


class DataSyncTaskNotReadyError(_BoundedMessage):
    """The task stayed `CREATING` through the start's own retries (a dozen, backing off to a minute apart: a few
    minutes in all)."""


class DataSyncTaskReportPendingError(_BoundedMessage):
    """DataSync is still writing the task report. The report step is retried for about 10 minutes, then the output's
    `TaskReport` says `PENDING`: a run never fails with it."""


class DataSyncTransientError(_BoundedMessage):
    """DataSync (or Step Functions, or S3) kept throttling or failing on its side after every retry of the step."""
