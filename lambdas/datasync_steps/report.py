"""After a successful execution with a task report: wait until DataSync has written the report (its ReportResult
leaves PENDING), and say where it is and how it ended. A report that failed does not fail the transfer; it is said
plainly (a warning, the TaskReportsFailed metric, the output's TaskReport)."""

from typing import TYPE_CHECKING, Any

from datasync_steps.datasync import datasync_client_by_arn, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncTaskReportPendingError
from datasync_steps.observability import MetricUnit, Sparse, StepEvent, logger, metrics, step_handler

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient

# Where DataSync puts a report (user guide, "Viewing your DataSync task reports"): under the destination's
# Subdirectory, a folder for the report's type, then one for the task and one for the execution.
REPORT_FOLDERS = {"SUMMARY_ONLY": "Summary-Reports", "STANDARD": "Detailed-Reports"}


class ReportEvent(StepEvent):
    TaskExecutionArn: str


class TaskReport(Sparse):
    """$.report: the execution's task report: how it ended, and where DataSync put it."""

    Status: str
    Bucket: str | None = None
    Prefix: str | None = None
    Uri: str | None = None
    ErrorCode: str | None = None
    ErrorDetail: str | None = None


def task_report(client: "DataSyncClient", execution_arn: str) -> TaskReport:
    with translate_errors(f"describe execution {execution_arn}"):
        described = client.describe_task_execution(TaskExecutionArn=execution_arn)
    result = described.get("ReportResult") or {}
    if result.get("Status", "PENDING") == "PENDING":
        raise DataSyncTaskReportPendingError(f"DataSync is still writing the task report of {execution_arn}.")
    report = TaskReport(
        Status=result["Status"],
        ErrorCode=result.get("ErrorCode"),
        ErrorDetail=result.get("ErrorDetail"),
        **report_location(execution_arn, described.get("TaskReportConfig") or {}),
    )
    if report.Status != "SUCCESS":
        metrics.add_metric(name="TaskReportsFailed", unit=MetricUnit.Count, value=1)
        logger.warning("DataSync could not write the task report; the transfer itself succeeded", extra=result)
    return report


def report_location(execution_arn: str, config: Any) -> dict[str, str]:
    """The S3 bucket and prefix of the execution's report files, and the prefix as an s3:// URI."""
    destination = config.get("Destination", {}).get("S3", {})
    if "S3BucketArn" not in destination:
        return {}
    bucket = destination["S3BucketArn"].split(":::", 1)[-1]
    task_id, _, execution_id = execution_arn.split(":task/", 1)[1].split("/")
    folder = REPORT_FOLDERS.get(config.get("OutputType", "STANDARD"), REPORT_FOLDERS["STANDARD"])
    parts = [destination.get("Subdirectory", "").strip("/"), folder, task_id, execution_id]
    prefix = "/".join(part for part in parts if part) + "/"
    return {"Bucket": bucket, "Prefix": prefix, "Uri": f"s3://{bucket}/{prefix}"}


@step_handler(ReportEvent, TaskReport)
def handler(event: ReportEvent) -> TaskReport:
    client = datasync_client_by_arn(Deployment.from_environment().in_region_of(event.execution_id), event.execution_id)
    return task_report(client, event.TaskExecutionArn)
