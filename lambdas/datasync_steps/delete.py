"""Step 8 (only after SUCCESS, only when asked): delete the task, unless other runs of this workflow still use it or
wait for it (task_users.py): then it is kept, and the last of them deletes it. Its locations stay."""

from functools import partial
from typing import TYPE_CHECKING

from datasync_steps.datasync import datasync_client_by_arn, states_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncRequestError, DataSyncTaskNotFoundError
from datasync_steps.observability import MetricUnit, Sparse, StepEvent, logger, metrics, step_handler
from datasync_steps.resources import describe_task
from datasync_steps.task_users import TaskUsers, delete_when_unused, task_exists

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient


class DeleteEvent(StepEvent):
    TaskArn: str


class Deletion(Sparse):
    """$.deletion: whether the task is gone, and how many other runs of this workflow it was kept for (they use it, at
    least one still running; the last of them deletes it): 0 when it was deleted, None where the runs that use each
    task are not kept."""

    TaskDeleted: bool = True
    TaskInUseByOtherRuns: int | None = None


def delete_task(client: "DataSyncClient", task_arn: str, users: TaskUsers | None = None) -> Deletion:
    """Delete the task; with `users` (the runs that use each task), only when no other run uses it, which is then
    kept (TaskDeleted false, TaskInUseByOtherRuns naming how many)."""
    if users is None:
        return deleted(client, task_arn)
    outcome = delete_when_unused(
        users, task_arn, partial(deleted, client, task_arn), partial(task_exists, client, task_arn)
    )
    return Deletion(TaskDeleted=outcome.deleted, TaskInUseByOtherRuns=outcome.in_use_by)


def deleted(client: "DataSyncClient", task_arn: str) -> Deletion:
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
    users = TaskUsers.of(event.execution_id, states_client(), "delete")
    client = datasync_client_by_arn(Deployment.from_environment().in_region_of(event.execution_id), event.execution_id)
    deletion = delete_task(client, event.TaskArn, users)
    # The run's output names the count whatever the environment.
    return deletion if users else deletion.model_copy(update={"TaskInUseByOtherRuns": 0})
