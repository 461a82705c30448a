"""While waiting: leave the state's task token for DataSync's state-change event, then check once.

The state that runs this step waits for its token (lambda:invoke.waitForTaskToken) up to wait_interval_seconds;
the resume step sends it back when DataSync's event says the execution ended. The check after storing the
token catches an execution that ended before anybody waited for its event.

It keeps a token only for a running execution of this workflow that follows (or waits for) the DataSync execution
named, at a place in the run that its input allows: what the event says is checked with Step Functions, so that a
direct invocation cannot replace a run's token.
"""

import json
from typing import TYPE_CHECKING

from pydantic import BaseModel

from datasync_steps.datasync import datasync_client_by_arn, states_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncInvalidInputError, DataSyncTaskNotFoundError
from datasync_steps.executions import started_execution, workflow_execution
from datasync_steps.limits import DEFAULT_MAX_ITERATIONS, DEFAULT_RETRIES
from datasync_steps.names import FINAL_STATUSES
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler
from datasync_steps.resources import made_by, try_label, workflow_tag
from datasync_steps.waiting import resume, wait_for, wait_sequence, waiting_table

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_stepfunctions import SFNClient


class AwaitEvent(StepEvent):
    TaskExecutionArn: str
    token: str
    wait_seconds: int
    checks_done: int  # with retry_count and attempt, the wait's place in the run
    retry_count: int
    attempt: int = 1


class EventStatus(BaseModel):
    """$.execution.event: the status of the execution when the wait for its event ended."""

    Status: str


def await_event(table: "Table", sfn: "SFNClient", client: "DataSyncClient", event: AwaitEvent) -> EventStatus:
    refused = refusal(sfn, client, event)
    if refused:
        raise DataSyncInvalidInputError(f"No wait of {event.execution_id} for {event.TaskExecutionArn}: {refused}.")
    sequence = wait_sequence(event.checks_done, event.retry_count, event.attempt)
    item = wait_for(table, event.TaskExecutionArn, event.execution_id, event.token, event.wait_seconds, sequence)
    metrics.add_metric(name="EventWaits", unit=MetricUnit.Count, value=1)
    with translate_errors(f"read the status of execution {event.TaskExecutionArn}"):
        status = client.describe_task_execution(TaskExecutionArn=event.TaskExecutionArn)["Status"]
    if item is not None and status in FINAL_STATUSES:
        logger.info("The execution had already ended", extra={"status": status})
        resume(table, sfn, item, status)
    return EventStatus(Status=status)


def refusal(sfn: "SFNClient", client: "DataSyncClient", event: AwaitEvent) -> str | None:
    """Why Step Functions says the event is no wait of the run it names; None when it is one."""
    run = workflow_execution(sfn, event.execution_id)
    if run is None or run["status"] != "RUNNING":
        return "it is no running execution of this workflow"
    if not follows(sfn, client, event):
        return "the run follows no such DataSync execution"
    run_input = json.loads(run["input"])
    max_iterations = run_input.get("max_iterations", DEFAULT_MAX_ITERATIONS)
    tries = run_input.get("retries", DEFAULT_RETRIES) + 1
    if not (0 <= event.checks_done <= max_iterations and 1 <= event.attempt <= tries):
        return f"check {event.checks_done} of try {event.attempt} is beyond {max_iterations} checks or {tries} tries"
    return None


def follows(sfn: "SFNClient", client: "DataSyncClient", event: AwaitEvent) -> bool:
    """Whether the run follows (or waits for) the DataSync execution. One its start started carries the run's tag: one
    DataSync call, where the run's history, read back to its start state, may take 25 pages of an account-wide quota
    on every wait. One it joined or queues behind is another run's: its start state's output names it."""
    try:
        if (
            made_by(client, event.TaskExecutionArn)
            == workflow_tag(try_label(event.execution_id, event.attempt))["Value"]
        ):
            return True
    except DataSyncTaskNotFoundError:
        return False
    started = started_execution(sfn, event.execution_id)
    return started is not None and started["execution"].get("TaskExecutionArn") == event.TaskExecutionArn


@step_handler(AwaitEvent, EventStatus)
def handler(event: AwaitEvent) -> EventStatus:
    client = datasync_client_by_arn(Deployment.from_environment().in_region_of(event.execution_id), event.execution_id)
    return await_event(waiting_table(), states_client(), client, event)
