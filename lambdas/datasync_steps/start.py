"""Step 5: StartTaskExecution, once, even when Step Functions retries this step."""

import re
from typing import Any

from datasync_steps.datasync import datasync_client, translate_errors
from datasync_steps.errors import DataSyncTaskNotFoundError
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler
from datasync_steps.workflow_input import STARTED_BY_TAG

FINAL_STATUSES = {"SUCCESS", "ERROR"}
CONSOLE_DOMAINS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


class StartEvent(StepEvent):
    TaskArn: str
    task_execution_kwargs: dict[str, Any]
    retry_count: int


def start_execution(client, start_client, event: StartEvent) -> dict:
    """Start the task; `start_client` is a `datasync_client(creates=True)`."""
    task_arn, started_by = event.TaskArn, started_by_tag(event.execution_id)
    if event.retry_count:
        # An earlier try may have started the execution and then failed before answering.
        earlier = execution_started_by(client, task_arn, started_by)
        if earlier:
            logger.info("Found the execution an earlier try started", extra={"task_execution_arn": earlier})
            return started(earlier)
    kwargs = {**event.task_execution_kwargs}
    kwargs["Tags"] = [*kwargs.get("Tags", []), started_by]
    with translate_errors(f"start task {task_arn}", not_found=DataSyncTaskNotFoundError):
        execution_arn = start_client.start_task_execution(TaskArn=task_arn, **kwargs)["TaskExecutionArn"]
    metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=1)
    logger.info("Started the execution", extra={"task_execution_arn": execution_arn})
    return started(execution_arn)


def started_by_tag(workflow_execution: str) -> dict:
    """The tag on each DataSync execution that names the workflow execution that started it."""
    return {"Key": STARTED_BY_TAG, "Value": re.sub(r"[^a-zA-Z0-9\s+=._:@/-]", "_", workflow_execution)[:256]}


def started(execution_arn: str) -> dict:
    """The state machine's record of the execution; check-status keeps its `check` part up to date."""
    return {"TaskExecutionArn": execution_arn, "ConsoleUrls": console_urls(execution_arn), "check": {"checks_done": 0}}


def console_urls(execution_arn: str) -> dict:
    """The DataSync console pages of the task and of the execution."""
    _, partition, _, region, _, resource = execution_arn.split(":", 5)
    task_id, _, execution_id = resource.removeprefix("task/").split("/")
    domain = CONSOLE_DOMAINS.get(partition, CONSOLE_DOMAINS["aws"])
    home = f"https://{domain}/datasync/home?region={region}#"
    return {"Task": f"{home}/tasks/{task_id}", "TaskExecution": f"{home}/history/{task_id}/{execution_id}"}


def execution_started_by(client, task_arn: str, started_by: dict) -> str | None:
    """The execution of the task whose tags say this workflow execution started it."""
    with translate_errors(f"list the executions of task {task_arn}"):
        pages = client.get_paginator("list_task_executions").paginate(TaskArn=task_arn)
        execution_arns = [e["TaskExecutionArn"] for page in pages for e in page["TaskExecutions"]]
        for execution_arn in reversed(execution_arns):  # the newest first, where DataSync lists them oldest first
            tags = client.get_paginator("list_tags_for_resource").paginate(ResourceArn=execution_arn)
            if started_by in (tag for page in tags for tag in page["Tags"]):
                return execution_arn
    return None


@step_handler(StartEvent)
def handler(event: StartEvent) -> dict:
    return start_execution(datasync_client(), datasync_client(creates=True), event)
