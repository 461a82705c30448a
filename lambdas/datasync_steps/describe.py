"""Step 7: the description of the execution when the wait for it ended: the final one, and the run's output, when it
ended; an execution that ended in ERROR fails the run; any other status sends the run back to its status checks."""

import json
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from datasync_steps.datasync import datasync_client_by_arn, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncTaskExecutionFailedError, shortened
from datasync_steps.names import CANCELLED_TAG, ENHANCED, FAILED_PHASES, FINAL_STATUSES
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient


class DescribeEvent(StepEvent):
    TaskExecutionArn: str


class Description(BaseModel):
    """$.description: DataSync's DescribeTaskExecution of the finished execution, timestamps as ISO-8601."""

    model_config = ConfigDict(extra="allow")

    Status: str


def describe_execution(client: "DataSyncClient", execution_arn: str) -> Description:
    with translate_errors(f"describe execution {execution_arn}"):
        response = client.describe_task_execution(TaskExecutionArn=execution_arn)
    described = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    description = shortened(json.loads(json.dumps(described, default=lambda value: value.isoformat())))
    if description["Status"] not in FINAL_STATUSES:
        # Whatever woke the wait (DataSync's event, a forged one, a stale token), only DataSync's word ends it.
        logger.warning(
            "The execution has not ended: back to the status checks", extra={"status": description["Status"]}
        )
        return Description.model_validate(description)
    logger.info("Final task execution description", extra={"task_execution": description})
    publish_metrics(description)
    if description["Status"] == "ERROR":
        from datasync_steps.resources import made_by  # only an execution that ended in ERROR asks who stopped it

        result = description.get("Result", {})
        stopped = made_by(client, execution_arn, CANCELLED_TAG)
        if stopped:
            raise DataSyncTaskExecutionFailedError(
                f"DataSync execution {execution_arn} was cancelled by the workflow's clean-up when workflow "
                f"execution {stopped} stopped; a redriven run cannot resume it. Start a new run."
            )
        raise DataSyncTaskExecutionFailedError(
            f"DataSync execution {execution_arn} ended in ERROR: "
            f"{result.get('ErrorCode', 'no error code')}: {result.get('ErrorDetail', 'no error detail')}."
            f"{failed_by_phase(description)}"
        )
    if failed_by_phase(description):
        logger.warning(
            "Files failed although the execution succeeded", extra={"files_failed": description["FilesFailed"]}
        )
    return Description.model_validate(description)


def failed_by_phase(description: dict) -> str:
    """An Enhanced mode execution's failed files by phase, as a sentence; empty when none failed."""
    failed = description.get("FilesFailed") or {}
    if not any(failed.get(phase) for phase in FAILED_PHASES):
        return ""
    counts = ", ".join(f"{phase.lower()} {failed.get(phase, 0):,}" for phase in FAILED_PHASES)
    return f" Files that failed, by phase: {counts}."


def publish_metrics(description: dict) -> None:
    succeeded = description["Status"] == "SUCCESS"
    metrics.add_metric(name="ExecutionsSucceeded" if succeeded else "ExecutionsFailed", unit=MetricUnit.Count, value=1)
    for field, unit in (("BytesTransferred", MetricUnit.Bytes), ("FilesTransferred", MetricUnit.Count)):
        if field in description:
            metrics.add_metric(name=field, unit=unit, value=description[field])
    if description.get("TaskMode") == ENHANCED:
        failed = description.get("FilesFailed") or {}
        metrics.add_metric(
            name="FilesFailed", unit=MetricUnit.Count, value=sum(failed.get(phase, 0) for phase in FAILED_PHASES)
        )
        metrics.add_metric(
            name="FilesListed", unit=MetricUnit.Count, value=(description.get("FilesListed") or {}).get("AtSource", 0)
        )
    if "TotalDuration" in description.get("Result", {}):
        metrics.add_metric(name="Duration", unit=MetricUnit.Milliseconds, value=description["Result"]["TotalDuration"])


@step_handler(DescribeEvent, Description)
def handler(event: DescribeEvent) -> Description:
    client = datasync_client_by_arn(Deployment.from_environment().in_region_of(event.execution_id), event.execution_id)
    return describe_execution(client, event.TaskExecutionArn)
