"""Step 5: StartTaskExecution, once, even when Step Functions retries this step; or follow, wait for or skip
the execution the task already runs."""

import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from datasync_steps.datasync import translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import (
    DataSyncRequestError,
    DataSyncTaskAlreadyRunningError,
    DataSyncTaskNotFoundError,
    DataSyncTaskNotReadyError,
    DataSyncTaskUnavailableError,
)
from datasync_steps.input_parsing import input_of_execution
from datasync_steps.names import CONSOLE_DOMAINS, FINAL_STATUSES, FOLLOW, QUEUE, SKIP
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler
from datasync_steps.places import client_at_input_place
from datasync_steps.resources import describe_task, made_by, try_label, workflow_tag
from datasync_steps.state import Check, Checked, Plan

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_datasync.type_defs import DescribeTaskResponseTypeDef, TagListEntryTypeDef


class StartEvent(StepEvent):
    """The task and what to do if it runs; the kwargs come from the execution's input."""

    TaskArn: str
    if_task_running: Literal["queue", "join", "skip", "fail"] = "queue"
    checks_done: int = 0
    retry_count: int
    attempt: int = 1
    plan: Plan


class ConsoleUrls(BaseModel):
    Task: str
    TaskExecution: str


class Started(Checked):
    """$.execution after start: the execution the run follows (or waits for, or skips)."""

    TaskExecutionArn: str
    ExecutionStarted: bool  # whether this run started it
    Action: str  # names.FOLLOW, QUEUE or SKIP
    ConsoleUrls: ConsoleUrls


def start_execution(
    client: "DataSyncClient",
    start_client: "DataSyncClient",
    event: StartEvent,
    task_execution_kwargs: dict[str, Any] | None = None,
    deployment: Deployment | None = None,
) -> Started:
    """Start the task with `task_execution_kwargs`, once even when Step Functions retries this step, unless it
    already runs: then do what `if_task_running` says. `start_client` is a `datasync_client(creates=True)`."""
    task_arn, started_by = event.TaskArn, workflow_tag(try_label(event.execution_id, event.attempt))
    if event.retry_count:
        # An earlier invocation may have started the execution and then failed before answering.
        earlier = execution_started_by(client, task_arn, started_by)
        if earlier:
            logger.info("Found the execution an earlier invocation started", extra={"task_execution_arn": earlier})
            return started(earlier, FOLLOW, event, by_this_run=True)
    ready(client, task_arn)
    running = unfinished_execution(client, task_arn)
    if running:
        return already_running(event, *running)
    kwargs = {**(task_execution_kwargs or {})}
    kwargs["Tags"] = [*kwargs.get("Tags", []), *(deployment or Deployment()).tags_for(started_by)]
    try:
        with translate_errors(f"start task {task_arn}", not_found=DataSyncTaskNotFoundError):
            execution_arn = start_client.start_task_execution(TaskArn=task_arn, **kwargs)["TaskExecutionArn"]
    except DataSyncRequestError:
        # Refused: another run may have started the task since it was looked at.
        running = unfinished_execution(client, task_arn)
        if running is None:
            raise
        return already_running(event, *running)
    metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=1)
    logger.info("Started the execution", extra={"task_execution_arn": execution_arn})
    return started(execution_arn, FOLLOW, event, by_this_run=True)


def ready(client: "DataSyncClient", task_arn: str) -> None:
    """Start only a task DataSync says is ready: one still CREATING is tried again a moment later (the state
    machine's Retry), one UNAVAILABLE (an agent offline) fails the run at once, naming its agents."""
    task = describe_task(client, task_arn)
    if task["Status"] == "CREATING":
        raise DataSyncTaskNotReadyError(
            f"Task {task_arn} is still CREATING{datasync_says(task)}; the start is tried again shortly."
        )
    if task["Status"] == "UNAVAILABLE":
        from datasync_steps.lookup import agents_of  # only an UNAVAILABLE task names its agents

        agents = agents_of(client, [task["SourceLocationArn"], task["DestinationLocationArn"]])
        raise DataSyncTaskUnavailableError(
            f"Task {task_arn} is UNAVAILABLE{datasync_says(task)}: an agent it uses is offline "
            f"({', '.join(agents) or 'no agent found'}). Nothing was started; bring the agent back online (DataSync "
            "console, Agents) and run again."
        )


def datasync_says(task: "DescribeTaskResponseTypeDef") -> str:
    """What DataSync says is wrong with a task that is not ready (the agent's trouble mounting a share, while it stays
    CREATING), in the words of its ErrorCode and ErrorDetail; nothing when it says nothing."""
    if not (task.get("ErrorCode") or task.get("ErrorDetail")):
        return ""
    return f" (DataSync: {task.get('ErrorCode', 'no error code')}: {task.get('ErrorDetail', 'no error detail')})"


def already_running(event: StartEvent, execution_arn: str, status: str) -> Started:
    logger.info(
        "The task already runs",
        extra={"task_execution_arn": execution_arn, "status": status, "if_task_running": event.if_task_running},
    )
    if event.if_task_running == "fail":
        raise DataSyncTaskAlreadyRunningError(
            f"Task {event.TaskArn} already has an unfinished execution, {execution_arn} ({status}), and "
            'if_task_running is "fail", so nothing was started.'
        )
    action = {"join": FOLLOW, "skip": SKIP, "queue": QUEUE}[event.if_task_running]
    return started(execution_arn, action, event, by_this_run=False)


def started(execution_arn: str, action: str, event: StartEvent, *, by_this_run: bool) -> Started:
    """The state machine's record of the execution it follows (or waits for, or skips); check-status keeps its
    `check` part up to date."""
    return Started(
        TaskExecutionArn=execution_arn,
        ExecutionStarted=by_this_run,
        Action=action,
        ConsoleUrls=console_urls(execution_arn),
        check=Check(checks_done=event.checks_done, wait_seconds=event.plan.next_wait(time.time())),
    )


def unfinished_execution(client: "DataSyncClient", task_arn: str) -> tuple[str, str] | None:
    """The task's newest execution that has not ended, and its status."""
    with translate_errors(f"list the executions of task {task_arn}"):
        pages = client.get_paginator("list_task_executions").paginate(TaskArn=task_arn)
        unfinished = [
            (e["TaskExecutionArn"], e["Status"])
            for page in pages
            for e in page["TaskExecutions"]
            if e["Status"] not in FINAL_STATUSES
        ]
    return unfinished[-1] if unfinished else None


def console_urls(execution_arn: str) -> ConsoleUrls:
    """The DataSync console pages of the task and of the execution."""
    _, partition, _, region, _, resource = execution_arn.split(":", 5)
    task_id, _, execution_id = resource.removeprefix("task/").split("/")
    domain = CONSOLE_DOMAINS.get(partition, CONSOLE_DOMAINS["aws"])
    home = f"https://{domain}/datasync/home?region={region}#"
    return ConsoleUrls(Task=f"{home}/tasks/{task_id}", TaskExecution=f"{home}/history/{task_id}/{execution_id}")


def execution_started_by(client: "DataSyncClient", task_arn: str, started_by: "TagListEntryTypeDef") -> str | None:
    """The execution of the task whose tag says this workflow execution started it."""
    with translate_errors(f"list the executions of task {task_arn}"):
        pages = client.get_paginator("list_task_executions").paginate(TaskArn=task_arn)
        execution_arns = [e["TaskExecutionArn"] for page in pages for e in page["TaskExecutions"]]
    # The newest first, where DataSync lists them oldest first.
    return next((arn for arn in reversed(execution_arns) if made_by(client, arn) == started_by["Value"]), None)


@step_handler(StartEvent, Started)
def handler(event: StartEvent) -> Started:
    deployment = Deployment.from_environment().in_region_of(event.execution_id)
    config = input_of_execution(event.execution_id, deployment)
    client, start_client = (
        client_at_input_place(deployment, event.execution_id, creates=c)(config) for c in (False, True)
    )
    return start_execution(client, start_client, event, config.task_execution_kwargs, deployment)
