"""Step 8 (only after SUCCESS, only when asked): delete the task. Its locations stay."""

from typing import TYPE_CHECKING

from datasync_steps.datasync import datasync_client, translate_errors
from datasync_steps.errors import DataSyncRequestError, DataSyncTaskNotFoundError
from datasync_steps.lookup import describe_task
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler
from datasync_steps.state import Deletion

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient


class DeleteEvent(StepEvent):
    TaskArn: str


def delete_task(client: "DataSyncClient", task_arn: str) -> Deletion:
    try:
        with translate_errors(f"delete task {task_arn}"):
            client.delete_task(TaskArn=task_arn)
    except DataSyncRequestError:
        try:
            describe_task(client, task_arn)
        except DataSyncTaskNotFoundError:
            # An earlier try of this step deleted it and then failed before answering.
            logger.info("The task was already deleted", extra={"task_arn": task_arn})
            return Deletion(TaskDeleted=True)
        raise
    metrics.add_metric(name="TasksDeleted", unit=MetricUnit.Count, value=1)
    logger.info("Deleted the task", extra={"task_arn": task_arn})
    return Deletion(TaskDeleted=True)


@step_handler(DeleteEvent, Deletion)
def handler(event: DeleteEvent) -> Deletion:
    return delete_task(datasync_client(), event.TaskArn)
