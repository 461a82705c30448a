"""Step 4 (only with update_task_kwargs): UpdateTask before the run."""

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from datasync_steps.datasync import translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncTaskNotFoundError
from datasync_steps.input_parsing import input_of_execution
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler
from datasync_steps.places import client_at_input_place

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient


class UpdateEvent(StepEvent):
    """The task; the kwargs come from the execution's input."""

    TaskArn: str


class Updated(BaseModel):
    TaskUpdated: bool = True


def update_task(client: "DataSyncClient", task_arn: str, update_task_kwargs: dict[str, Any]) -> Updated:
    with translate_errors(f"update task {task_arn}", not_found=DataSyncTaskNotFoundError):
        client.update_task(TaskArn=task_arn, **update_task_kwargs)
    metrics.add_metric(name="TasksUpdated", unit=MetricUnit.Count, value=1)
    logger.info("Updated the task", extra={"task_arn": task_arn, "updated": sorted(update_task_kwargs)})
    return Updated(TaskUpdated=True)


@step_handler(UpdateEvent, Updated)
def handler(event: UpdateEvent) -> Updated:
    deployment = Deployment.from_environment().in_region_of(event.execution_id)
    config = input_of_execution(event.execution_id, deployment)
    client = client_at_input_place(deployment, event.execution_id)(config)
    return update_task(client, event.TaskArn, config.update_task_kwargs)
