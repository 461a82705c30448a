"""While waiting: leave the state's task token for DataSync's state-change event, then check once.

The state that runs this step waits for its token (lambda:invoke.waitForTaskToken) up to wait_interval_seconds;
the resume step sends it back when DataSync's event says the execution ended. The check after storing the
token catches an execution that ended before anybody waited for its event.
"""

from typing import TYPE_CHECKING

from datasync_steps.datasync import datasync_client, states_client, translate_errors
from datasync_steps.names import FINAL_STATUSES
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler
from datasync_steps.state import EventStatus
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


def await_event(table: "Table", sfn: "SFNClient", client: "DataSyncClient", event: AwaitEvent) -> EventStatus:
    sequence = wait_sequence(event.checks_done, event.retry_count, event.attempt)
    item = wait_for(table, event.TaskExecutionArn, event.execution_id, event.token, event.wait_seconds, sequence)
    metrics.add_metric(name="EventWaits", unit=MetricUnit.Count, value=1)
    with translate_errors(f"read the status of execution {event.TaskExecutionArn}"):
        status = client.describe_task_execution(TaskExecutionArn=event.TaskExecutionArn)["Status"]
    if item is not None and status in FINAL_STATUSES:
        logger.info("The execution had already ended", extra={"status": status})
        resume(table, sfn, item, status)
    return EventStatus(Status=status)


@step_handler(AwaitEvent, EventStatus)
def handler(event: AwaitEvent) -> EventStatus:
    return await_event(waiting_table(), states_client(), datasync_client(), event)
