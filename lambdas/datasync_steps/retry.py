"""After a try failed: try again after Airflow's retry delay (retries, retry_delay, retry_exponential_backoff,
max_retry_delay), or say how the run fails: its Error, and a Cause that names the last of several tries."""

import json
from contextlib import suppress
from typing import TYPE_CHECKING

from pydantic import BaseModel

from datasync_steps.cancel import cancel_execution
from datasync_steps.datasync import datasync_client_by_arn
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncInvalidInputError, bounded
from datasync_steps.limits import delay_before_retry
from datasync_steps.names import FOLLOW
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler
from datasync_steps.state import CaughtError

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient

    from datasync_steps.input_model import WorkflowInput

# Step Functions keeps at most this much of a failure's Cause.
MAX_CAUSE_CHARACTERS = 32_768


class TryExecution(BaseModel):
    """$.execution of the try that failed: the DataSync execution it followed, if it got that far."""

    TaskExecutionArn: str | None = None
    Action: str | None = None


class RetryEvent(StepEvent):
    attempt: int
    error: CaughtError
    execution: TryExecution


class NextTry(BaseModel):
    """$.retry: whether the run tries again (after DelaySeconds, as try Attempt), and the Error and Cause it fails
    with when it does not."""

    Retry: bool
    Attempt: int
    DelaySeconds: int = 0
    Error: str
    Cause: str


def next_try(config: "WorkflowInput | None", execution_id: str, attempt: int, error: CaughtError) -> NextTry:
    """Try again unless the input was refused (`config` None) or the input's retries are used up. (The handler
    cancels the failed try's execution first.)"""
    cause = explained(error)
    if config is None or attempt >= config.tries:
        if config is not None and config.tries > 1:
            cause = f"{bounded(cause, MAX_CAUSE_CHARACTERS - 200)} This was the last of {config.tries} tries."
        return NextTry(Retry=False, Attempt=attempt, Error=error.Error, Cause=cause)
    delay = delay_before_retry(config, attempt, execution_id)
    logger.info(
        "The try failed; trying again",
        extra={"attempt": attempt, "tries": config.tries, "error": error.Error, "delay_seconds": delay},
    )
    metrics.add_metric(name="TriesRetried", unit=MetricUnit.Count, value=1)
    return NextTry(Retry=True, Attempt=attempt + 1, DelaySeconds=delay, Error=error.Error, Cause=cause)


def explained(error: CaughtError) -> str:
    """The failure's sentence: a Lambda error's message (its Cause is the error's JSON), or the Cause as it is."""
    try:
        payload = json.loads(error.Cause or "")
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("errorMessage"), str):
        return payload["errorMessage"]
    return error.Cause or error.Error


def cancel_before_retrying(client: "DataSyncClient", planned: NextTry, execution: TryExecution) -> None:
    """A try that failed while its execution still runs (its description or cancellation failed) must not leave it
    running into the next try, which would otherwise find it and wait for it, join or skip it. The last try's is
    the clean-up's to cancel, as for a run without retries."""
    if planned.Retry and execution.Action == FOLLOW and execution.TaskExecutionArn:
        cancel_execution(client, execution.TaskExecutionArn)


@step_handler(RetryEvent, NextTry)
def handler(event: RetryEvent) -> NextTry:
    config = None
    if event.error.Error != DataSyncInvalidInputError.__name__:
        # An input refused before anything ran would be refused again: no next try, and no input checks to import.
        from datasync_steps.input_parsing import input_of_execution

        with suppress(DataSyncInvalidInputError):
            config = input_of_execution(event.execution_id, Deployment.from_environment())
    planned = next_try(config, event.execution_id, event.attempt, event.error)
    client = datasync_client_by_arn(Deployment.from_environment().in_region_of(event.execution_id), event.execution_id)
    cancel_before_retrying(client, planned, event.execution)
    return planned
