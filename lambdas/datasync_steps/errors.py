"""The workflow's error classes.

A Lambda error's type is the exception's class name, and Step Functions matches Retry and Catch on it,
so these names are the contract with statemachine/datasync_workflow.asl.json and with callers.
"""

import json
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


class _BoundedMessage(Exception):
    def __init__(self, message: str = "") -> None:
        super().__init__(bounded(str(message)))


class DataSyncWorkflowError(_BoundedMessage):
    """A failure the caller must fix or know about; never retried."""


class DataSyncInvalidInputError(DataSyncWorkflowError):
    pass


class DataSyncTaskNotFoundError(DataSyncWorkflowError):
    pass


class DataSyncLocationNotFoundError(DataSyncWorkflowError):
    pass


class DataSyncMultipleTasksError(DataSyncWorkflowError):
    pass


class DataSyncMultipleLocationsError(DataSyncWorkflowError):
    pass


class DataSyncTaskCreationError(DataSyncWorkflowError):
    pass


class DataSyncTaskExecutionFailedError(DataSyncWorkflowError):
    pass


class DataSyncTaskAlreadyRunningError(DataSyncWorkflowError):
    """if_task_running is "fail" and the task has an unfinished execution."""


class DataSyncBatchFailedError(DataSyncWorkflowError):
    """More items of a batch failed than it tolerates."""


class DataSyncTaskUnavailableError(DataSyncWorkflowError):
    """The task is UNAVAILABLE: an agent it uses is offline."""


class DataSyncRequestError(DataSyncWorkflowError):
    """DataSync refused an update, start, cancel or delete request, or the deployment's roles may not make it."""


class DataSyncTaskNotReadyError(_BoundedMessage):
    """The task is still CREATING; the state machine tries the start again a while."""


class DataSyncTaskReportPendingError(_BoundedMessage):
    """DataSync is still writing the task report; the state machine reads it again a while."""


class DataSyncTransientError(_BoundedMessage):
    """DataSync was throttled or failed on its side; the state machine retries the step."""
