"""At the end of every run, whatever ended it (its last state, a stop, a timeout): one "DataSync Workflow Run
Finished" event on the account's default EventBridge bus, for a rule to mail a failure or start what comes next.
EventBridge runs this step on Step Functions' status-change event: a stopped or timed-out execution runs no state
of its own. What the event announces is what Step Functions says of the execution, never what the event that ran the
step says."""

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from datasync_steps.counters import enhanced_counters
from datasync_steps.datasync import datasync_client_by_arn, events_client, states_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncRequestError, DataSyncTaskNotFoundError, DataSyncTransientError, bounded
from datasync_steps.executions import started_execution, workflow_execution
from datasync_steps.names import EVENT_SOURCE, workflow_console_url
from datasync_steps.observability import Sparse, logger, step_handler

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_stepfunctions import SFNClient

DETAIL_TYPE = "DataSync Workflow Run Finished"
FINISHED_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
COUNTERS = ("FilesTransferred", "BytesTransferred", "FilesVerified", "FilesSkipped", "FilesDeleted")
# Step Functions keeps at most 256 characters of an Error and 32,768 of a Cause: so does an event, whatever a step is
# told, and its detail stays far within EventBridge's 256 KB.
MAX_ERROR_CHARACTERS, MAX_CAUSE_CHARACTERS = 256, 32_768


class FinishedExecution(BaseModel):
    """What Step Functions' status-change event says of the execution: only which one it is; the rest is asked."""

    executionArn: str


class FinishedEvent(BaseModel):
    detail: FinishedExecution


class Announced(Sparse):
    EventId: str | None = None  # none when the execution is not a finished one of this workflow


def run_finished(sfn: "SFNClient", client: "DataSyncClient", execution_arn: str) -> dict[str, Any] | None:
    """The event's detail, from what Step Functions says of the execution: the run's status, task and execution,
    counters, task report, Error and Cause, and the console page of the workflow execution; None for an execution
    of this workflow that has not finished, or is none of its."""
    finished = workflow_execution(sfn, execution_arn)
    detail = finished_detail(finished, execution_arn, "WorkflowExecutionArn", "run")
    if finished is None or detail is None:
        return None
    status = finished["status"]
    detail["task_id"] = _task_id(finished.get("input"))
    output = json.loads(finished["output"]) if status == "SUCCEEDED" and finished.get("output") else None
    if isinstance(output, dict):
        detail |= {
            key: output[key] for key in ("TaskArn", "TaskExecutionArn", "Attempts", "TaskReport") if key in output
        }
        described = output.get("TaskExecution")
    else:
        started = started_execution(sfn, execution_arn) or {}
        detail["TaskArn"] = started.get("target", {}).get("TaskArn")
        detail["TaskExecutionArn"] = started.get("execution", {}).get("TaskExecutionArn")
        described = _described(client, detail["TaskExecutionArn"])
    if isinstance(described, dict):
        counters = {name: described[name] for name in COUNTERS if name in described}
        detail["Counters"] = counters | {k: v for k, v in enhanced_counters(described).items() if k != "TaskMode"}
    detail |= why_not_succeeded(finished)
    return {key: value for key, value in detail.items() if value is not None}


def finished_detail(
    finished: dict[str, Any] | None, execution_arn: str, arn_key: str, what: str
) -> dict[str, Any] | None:
    """The first keys of an event's detail: Status, the execution's ARN (as `arn_key`) and its console page; None,
    with a warning, for an execution that has not finished or is none of this deployment's `what` (run, batch)."""
    if finished is None or finished["status"] not in FINISHED_STATUSES:
        logger.warning(f"Not a finished {what} of this workflow: nothing announced", extra={"execution": execution_arn})
        return None
    return {"Status": finished["status"], arn_key: execution_arn, "ConsoleUrl": workflow_console_url(execution_arn)}


def why_not_succeeded(finished: dict[str, Any]) -> dict[str, Any]:
    """Error and Cause of an execution that did not succeed, as Step Functions keeps them (and no longer); {} for one
    that succeeded."""
    if finished["status"] == "SUCCEEDED":
        return {}
    error, cause = finished.get("error"), finished.get("cause")
    return {
        "Error": bounded(error, MAX_ERROR_CHARACTERS) if error else error,
        "Cause": bounded(cause, MAX_CAUSE_CHARACTERS) if cause else cause,
    }


def _task_id(execution_input: str | None) -> str | None:
    try:
        task_id = json.loads(execution_input or "{}").get("task_id")
    except (ValueError, AttributeError):
        return None
    return task_id if isinstance(task_id, str) else None


def _described(client: "DataSyncClient", execution_arn: str | None) -> dict | None:
    """The DataSync execution as it ended, for its counters; None when there is none or it cannot be read."""
    if execution_arn is None:
        return None
    try:
        with translate_errors(f"describe execution {execution_arn}"):
            return dict(client.describe_task_execution(TaskExecutionArn=execution_arn))
    except (DataSyncRequestError, DataSyncTaskNotFoundError, DataSyncTransientError) as error:
        logger.warning(
            "The run's DataSync execution could not be read; announced without its counters",
            extra={"error": str(error)},
        )
        return None


def announce(events: Any, detail: dict[str, Any]) -> Announced:
    return put_finished_event(events, DETAIL_TYPE, detail["WorkflowExecutionArn"], detail, "run")


def put_finished_event(
    events: Any, detail_type: str, execution_arn: str, detail: dict[str, Any], what: str
) -> Announced:
    """One event of the workflow's source on the default bus, about `execution_arn` (its `resources`), the `what`
    (run, batch) that ended; DataSyncTransientError when EventBridge does not take it, so that Lambda tries again."""
    with translate_errors(f"put the {what}'s event on the default event bus", service="EventBridge"):
        answer = events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, default=str),
                    "Resources": [execution_arn],
                }
            ]
        )
    (entry,) = answer["Entries"]
    if answer.get("FailedEntryCount"):
        raise DataSyncTransientError(
            f"EventBridge did not take the {what}'s event: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        )
    logger.info(f"Announced the {what}'s end", extra={"status": detail["Status"], "event_id": entry["EventId"]})
    return Announced(EventId=entry["EventId"])


@step_handler(FinishedEvent, Announced, correlation_id_path="detail.executionArn")
def handler(event: FinishedEvent) -> Announced:
    run = event.detail.executionArn
    client = datasync_client_by_arn(Deployment.from_environment().in_region_of(run), run)
    detail = run_finished(states_client(), client, run)
    return announce(events_client(), detail) if detail else Announced()
