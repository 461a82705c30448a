"""Step 5: StartTaskExecution, once, even when Step Functions retries this step."""

from datetime import datetime
from typing import Any

from datasync_steps.datasync import datasync_client, translate_errors
from datasync_steps.errors import DataSyncTaskNotFoundError
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler

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
    entered_time: datetime


def start_execution(client, start_client, event: StartEvent) -> dict:
    """Start the task; `start_client` is a `datasync_client(creates=True)`."""
    task_arn = event.TaskArn
    if event.retry_count:
        # An earlier try may have started the execution and then failed before answering.
        earlier = execution_started_since(client, task_arn, event.entered_time)
        if earlier:
            logger.info("Found the execution an earlier try started", extra={"task_execution_arn": earlier})
            return started(earlier)
    with translate_errors(f"start task {task_arn}", not_found=DataSyncTaskNotFoundError):
        execution_arn = start_client.start_task_execution(TaskArn=task_arn, **event.task_execution_kwargs)[
            "TaskExecutionArn"
        ]
    metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=1)
    logger.info("Started the execution", extra={"task_execution_arn": execution_arn})
    return started(execution_arn)


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


def execution_started_since(client, task_arn: str, since: datetime) -> str | None:
    with translate_errors(f"list the executions of task {task_arn}"):
        pages = client.get_paginator("list_task_executions").paginate(TaskArn=task_arn)
        unfinished = [
            e["TaskExecutionArn"] for page in pages for e in page["TaskExecutions"] if e["Status"] not in FINAL_STATUSES
        ]
        for execution_arn in unfinished:
            start_time = client.describe_task_execution(TaskExecutionArn=execution_arn).get("StartTime")
            if start_time is not None and start_time >= since:
                return execution_arn
    return None


@step_handler(StartEvent)
def handler(event: StartEvent) -> dict:
    return start_execution(datasync_client(), datasync_client(creates=True), event)
