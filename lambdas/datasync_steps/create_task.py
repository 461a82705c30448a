"""Step 3 (only when no task matched): create the task that links the two locations."""

from datasync_steps.datasync import datasync_client, translate_errors
from datasync_steps.errors import DataSyncTaskCreationError
from datasync_steps.lookup import tasks_linking
from datasync_steps.observability import MetricUnit, logger, metrics, step_handler
from datasync_steps.state import Target, TargetEvent
from datasync_steps.workflow_input import WorkflowInput


def create_task(client, create_client, config: WorkflowInput, target: Target) -> dict:
    """CreateTask(SourceLocationArn, DestinationLocationArn, **create_task_kwargs), at most once."""
    source, destination = target.SourceLocationArn, target.DestinationLocationArn
    # No task linked these locations when the run began: one that does now was made by an earlier try of
    # this step whose answer was lost.
    existing = tasks_linking(client, [source], [destination])
    if existing:
        logger.info("Found the task an earlier try created", extra={"task_arn": existing[0]})
        return target.model_copy(update={"TaskArn": existing[0], "TaskCreated": True}).model_dump()
    with translate_errors(f"create a task from {source} to {destination}", refused=DataSyncTaskCreationError):
        task_arn = create_client.create_task(
            SourceLocationArn=source, DestinationLocationArn=destination, **config.create_task_kwargs
        )["TaskArn"]
    metrics.add_metric(name="TasksCreated", unit=MetricUnit.Count, value=1)
    logger.info("Created a task", extra={"task_arn": task_arn})
    return target.model_copy(update={"TaskArn": task_arn, "TaskCreated": True}).model_dump()


@step_handler(TargetEvent)
def handler(event: TargetEvent) -> dict:
    return create_task(datasync_client(), datasync_client(creates=True), event.config, event.target)
