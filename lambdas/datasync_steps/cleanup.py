"""Cancel the DataSync execution of a workflow that was stopped, timed out or failed.

Step Functions runs no Catch when an execution is aborted or times out, so this step is started by an
EventBridge rule on "Step Functions Execution Status Change" instead of by the state machine. It cancels nothing of
an execution that Step Functions does not say ended so (it asks, not the event), nor of another state machine's.
The run then no longer uses the tasks it registered on (task_users.py): one whose deletion another run asked for, and
that no other run still uses, is deleted.
"""

import time
from functools import partial
from typing import TYPE_CHECKING

from pydantic import BaseModel

from datasync_steps.cancel import Cancellation, cancel_execution
from datasync_steps.datasync import datasync_client_by_arn, states_client, translate_errors
from datasync_steps.delete import deleted
from datasync_steps.deployment import Deployment
from datasync_steps.executions import StatusChange, started_execution, workflow_execution
from datasync_steps.names import CANCELLED_TAG, FOLLOW, STOPPED_STATUSES
from datasync_steps.observability import logger, step_handler
from datasync_steps.resources import workflow_tag
from datasync_steps.task_users import CLEANUP_SECONDS, TaskUsers, delete_when_unused, task_exists

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_stepfunctions import SFNClient


class StatusChangeEvent(BaseModel):
    detail: StatusChange


def started_execution_arn(sfn: "SFNClient", workflow_execution_arn: str) -> str | None:
    """The DataSync execution the workflow followed as its own (started or joined), from the last time it left
    the start state; None when that start failed, or when it only waited for or skipped another run's execution."""
    started = started_execution(sfn, workflow_execution_arn)
    execution = started["execution"] if started else {}
    return execution.get("TaskExecutionArn") if execution.get("Action") == FOLLOW else None


def clean_up(
    sfn: "SFNClient", client: "DataSyncClient", change: StatusChange, users: TaskUsers | None = None
) -> Cancellation:
    """Cancel the DataSync execution of the stopped run; then, with `users` (the runs that use each task), the run
    no longer uses its tasks, and deletes one whose deletion another run asked for and that no other run uses."""
    described = workflow_execution(sfn, change.executionArn)
    status = described["status"] if described else None
    if status not in STOPPED_STATUSES:
        logger.info("The execution did not stop: nothing to clean up", extra={"event": change.status, "status": status})
        return Cancellation(Cancelled=False)
    cancelled = cancel_own_execution(sfn, client, change, status)
    if users is not None:
        deadline = time.monotonic() + CLEANUP_SECONDS
        for task_arn in users.tasks_used():
            if time.monotonic() > deadline:
                logger.warning("No time left to release the task: kept", extra={"task_arn": task_arn})
                continue
            outcome = delete_when_unused(
                users,
                task_arn,
                partial(deleted, client, task_arn),
                partial(task_exists, client, task_arn),
                asked=False,
                deadline=deadline,
            )
            logger.info(
                "The stopped run no longer uses the task", extra={"task_arn": task_arn, "deleted": outcome.deleted}
            )
    return cancelled


def cancel_own_execution(sfn: "SFNClient", client: "DataSyncClient", change: StatusChange, status: str) -> Cancellation:
    execution_arn = started_execution_arn(sfn, change.executionArn)
    if execution_arn is None:
        return Cancellation(Cancelled=False)
    logger.info("The workflow stopped; cancelling its DataSync execution", extra={"status": status})
    cancelled = cancel_execution(client, execution_arn)
    if cancelled.Cancelled:
        # A redriven workflow execution would find it in ERROR: the tag says why.
        with translate_errors(f"tag the cancelled execution {execution_arn}"):
            client.tag_resource(ResourceArn=execution_arn, Tags=[workflow_tag(change.executionArn, CANCELLED_TAG)])
    return cancelled


@step_handler(StatusChangeEvent, Cancellation, correlation_id_path="detail.executionArn")
def handler(event: StatusChangeEvent) -> Cancellation:
    sfn = states_client()
    run = event.detail.executionArn
    client = datasync_client_by_arn(Deployment.from_environment().in_region_of(run), run)
    return clean_up(sfn, client, event.detail, TaskUsers.of(run, sfn, "cleanup"))
