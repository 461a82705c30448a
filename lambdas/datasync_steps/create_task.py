"""Step 3 (only when no task matched): create the task that links the two locations."""

from functools import partial
from typing import TYPE_CHECKING

from datasync_steps.datasync import states_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncTaskCreationError, DataSyncTransientError
from datasync_steps.input_model import WorkflowInput
from datasync_steps.input_parsing import input_of_execution
from datasync_steps.lookup import tasks_linking
from datasync_steps.observability import MetricUnit, logger, metrics, step_handler
from datasync_steps.places import client_at_input_place
from datasync_steps.resources import made_by, workflow_tag
from datasync_steps.state import Target, TargetEvent
from datasync_steps.task_users import TaskUsers, task_exists, use_seconds, use_task

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_datasync.type_defs import TagListEntryTypeDef

# Looks for (or makes) the task again after another run deleted it under this one.
LOOKUPS = 3


def create_task(
    client: "DataSyncClient",
    create_client: "DataSyncClient",
    config: WorkflowInput,
    target: Target,
    made_by_run: "TagListEntryTypeDef",
    deployment: Deployment | None = None,
    users: TaskUsers | None = None,
) -> Target:
    """CreateTask(SourceLocationArn, DestinationLocationArn, **create_task_kwargs), tagged `made_by_run` (and the
    `deployment`'s scope), at most once. Runs racing to create it all keep the oldest, and each deletes its own if
    it lost. The task kept is one this run is registered on in `users` (the runs that use each task): one deleted by
    another run meanwhile is looked for, or made, again."""
    deployment = deployment or Deployment()
    for _ in range(LOOKUPS):
        made = made_or_found(client, create_client, config, target, made_by_run, deployment)
        task_arn = str(made.TaskArn)
        if users is None or use_task(users, task_arn, use_seconds(config), partial(task_exists, client, task_arn)):
            return made
    raise DataSyncTransientError(f"The task made was deleted by another run {LOOKUPS} times over; will retry.")


def made_or_found(
    client: "DataSyncClient",
    create_client: "DataSyncClient",
    config: WorkflowInput,
    target: Target,
    made_by_run: "TagListEntryTypeDef",
    deployment: Deployment,
) -> Target:
    source, destination = target.locations()
    # No task linked these locations when the run began: one that does now was made by an earlier try of this
    # step whose answer was lost, or by a run racing this one.
    found = tasks_linking(client, [source], [destination], deployment.scope_tag)
    if found:
        first = next(iter(found))
        logger.info("Found the task made since the run began", extra={"task_arn": first})
        return chosen(target, first, created=made_by(client, first) == made_by_run["Value"])
    tags = [*config.create_task_kwargs.get("Tags", []), *deployment.tags_for(made_by_run)]
    with translate_errors(f"create a task from {source} to {destination}", refused=DataSyncTaskCreationError):
        task_arn = create_client.create_task(
            SourceLocationArn=source, DestinationLocationArn=destination, **{**config.create_task_kwargs, "Tags": tags}
        )["TaskArn"]
    metrics.add_metric(name="TasksCreated", unit=MetricUnit.Count, value=1)
    logger.info("Created a task", extra={"task_arn": task_arn})
    first = next(iter(tasks_linking(client, [source], [destination], deployment.scope_tag)), task_arn)
    if first != task_arn:
        with translate_errors(f"delete task {task_arn}"):
            client.delete_task(TaskArn=task_arn)
        logger.info("A racing run made the task first: deleted this run's", extra={"task_arn": first})
        return chosen(target, first, created=False)
    return chosen(target, task_arn, created=True)


def chosen(target: Target, task_arn: str, *, created: bool) -> Target:
    return target.model_copy(update={"TaskArn": task_arn, "TaskCreated": created})


@step_handler(TargetEvent, Target)
def handler(event: TargetEvent) -> Target:
    deployment = Deployment.from_environment().in_region_of(event.execution_id)
    config = input_of_execution(event.execution_id, deployment)
    made_by_run = workflow_tag(event.execution_id)
    users = TaskUsers.of(event.execution_id, states_client(), "create-task")
    client, create_client = (
        client_at_input_place(deployment, event.execution_id, creates=c)(config) for c in (False, True)
    )
    return create_task(client, create_client, config, event.target, made_by_run, deployment, users)
