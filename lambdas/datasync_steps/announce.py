"""At the end of every run, whatever ended it (its last state, a stop, a timeout): one "DataSync Workflow Run
Finished" event on the account's default EventBridge bus, for a rule to mail a failure or start what comes next.
EventBridge runs this step on Step Functions' status-change event: a stopped or timed-out execution runs no state
of its own. What the event announces is what Step Functions says of the execution, never what the event that ran the
step says."""

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from datasync_steps.check_status import enhanced_counters
from datasync_steps.datasync import datasync_client, events_client, states_client, translate_errors
from datasync_steps.errors import DataSyncRequestError, DataSyncTaskNotFoundError, DataSyncTransientError
from datasync_steps.executions import started_execution, workflow_execution
from datasync_steps.names import EVENT_SOURCE, workflow_console_url
from datasync_steps.observability import logger, step_handler
from datasync_steps.state import Sparse

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_stepfunctions import SFNClient

DETAIL_TYPE = "DataSync Workflow Run Finished"
FINISHED_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
COUNTERS = ("FilesTransferred", "BytesTransferred", "FilesVerified", "FilesSkipped", "FilesDeleted")


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
    if finished is None or finished["status"] not in FINISHED_STATUSES:
        logger.warning("Not a finished run of this workflow: nothing announced", extra={"execution": execution_arn})
        return None
    status = finished["status"]
    detail: dict[str, Any] = {
        "Status": status,
        "WorkflowExecutionArn": execution_arn,
        "ConsoleUrl": workflow_console_url(execution_arn),
        "task_id": _task_id(finished.get("input")),
    }
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
    if status != "SUCCEEDED":
        detail |= {"Error": finished.get("error"), "Cause": finished.get("cause")}
    return {key: value for key, value in detail.items() if value is not None}


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
    with translate_errors("put the run's event on the default event bus", service="EventBridge"):
        answer = events.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(detail, default=str),
                    "Resources": [detail["WorkflowExecutionArn"]],
                }
            ]
        )
    (entry,) = answer["Entries"]
    if answer.get("FailedEntryCount"):
        raise DataSyncTransientError(
            f"EventBridge did not take the run's event: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        )
    logger.info("Announced the run's end", extra={"status": detail["Status"], "event_id": entry["EventId"]})
    return Announced(EventId=entry["EventId"])


@step_handler(FinishedEvent, Announced, correlation_id_path="detail.executionArn")
def handler(event: FinishedEvent) -> Announced:
    detail = run_finished(states_client(), datasync_client(), event.detail.executionArn)
    return announce(events_client(), detail) if detail else Announced()
