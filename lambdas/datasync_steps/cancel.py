"""Cancel an execution the workflow gives up on: after max_iterations checks or a failure in the wait loop."""

from typing import TYPE_CHECKING

from datasync_steps.datasync import datasync_client_by_arn, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncRequestError
from datasync_steps.names import FINAL_STATUSES
from datasync_steps.observability import MetricUnit, Sparse, StepEvent, logger, metrics, step_handler

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient


class CancelEvent(StepEvent):
    TaskExecutionArn: str


class Cancellation(Sparse):
    """$.cancellation: whether the execution was cancelled, and its status when it could not be."""

    Cancelled: bool
    Status: str | None = None


def cancel_execution(client: "DataSyncClient", execution_arn: str) -> Cancellation:
    try:
        with translate_errors(f"cancel execution {execution_arn}"):
            client.cancel_task_execution(TaskExecutionArn=execution_arn)
    except DataSyncRequestError:
        # DataSync refuses to cancel an execution that has already ended or is being cancelled.
        with translate_errors(f"read the status of execution {execution_arn}"):
            status = client.describe_task_execution(TaskExecutionArn=execution_arn)["Status"]
        if status == "CANCELLING":
            logger.info("The execution was already being cancelled", extra={"task_execution_arn": execution_arn})
            return Cancellation(Cancelled=True, Status=status)
        if status not in FINAL_STATUSES:
            raise
        logger.info("The execution had already ended", extra={"task_execution_arn": execution_arn, "status": status})
        return Cancellation(Cancelled=False, Status=status)
    metrics.add_metric(name="ExecutionsCancelled", unit=MetricUnit.Count, value=1)
    logger.warning("Cancelled the execution", extra={"task_execution_arn": execution_arn})
    return Cancellation(Cancelled=True)


@step_handler(CancelEvent, Cancellation)
def handler(event: CancelEvent) -> Cancellation:
    client = datasync_client_by_arn(Deployment.from_environment().in_region_of(event.execution_id), event.execution_id)
    return cancel_execution(client, event.TaskExecutionArn)
