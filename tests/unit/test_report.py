"""report: wait for DataSync's task report and say where it is."""

import pytest

from datasync_steps.errors import DataSyncTaskReportPendingError
from datasync_steps.report import report_location, task_report

EXECUTION = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0/execution/exec-0abcdef0123456789"
DESTINATION = {"S3": {"S3BucketArn": "arn:aws:s3:::reports", "BucketAccessRoleArn": "arn:aws:iam::1:role/r"}}


def test_the_report_is_where_the_user_guide_says_datasync_puts_it():
    standard = report_location(EXECUTION, {"Destination": DESTINATION, "OutputType": "STANDARD"})
    assert standard == {
        "Bucket": "reports",
        "Prefix": "Detailed-Reports/task-0123456789abcdef0/exec-0abcdef0123456789/",
        "Uri": "s3://reports/Detailed-Reports/task-0123456789abcdef0/exec-0abcdef0123456789/",
    }
    summary = {"S3": {**DESTINATION["S3"], "Subdirectory": "/audit/datasync/"}}
    assert report_location(EXECUTION, {"Destination": summary, "OutputType": "SUMMARY_ONLY"})["Prefix"] == (
        "audit/datasync/Summary-Reports/task-0123456789abcdef0/exec-0abcdef0123456789/"
    )
    assert report_location(EXECUTION, {}) == {}


class Described:
    """A DataSync client that describes the execution with this ReportResult (Stubber would do as well; this keeps
    the test to the one call the step makes)."""

    def __init__(self, result):
        self.result = result

    def describe_task_execution(self, TaskExecutionArn):
        config = {"Destination": DESTINATION, "OutputType": "STANDARD"}
        return {"TaskExecutionArn": TaskExecutionArn, "Status": "SUCCESS", "TaskReportConfig": config, **self.result}


def test_a_pending_report_is_read_again_and_a_failed_one_is_said_without_failing(caplog):
    with pytest.raises(DataSyncTaskReportPendingError):
        task_report(Described({"ReportResult": {"Status": "PENDING"}}), EXECUTION)
    failed = task_report(
        Described({"ReportResult": {"Status": "ERROR", "ErrorCode": "AccessDenied", "ErrorDetail": "no"}}), EXECUTION
    )
    assert (failed.Status, failed.ErrorCode, failed.Bucket) == ("ERROR", "AccessDenied", "reports")
    assert "could not write the task report" in caplog.text
    assert task_report(Described({"ReportResult": {"Status": "SUCCESS"}}), EXECUTION).Status == "SUCCESS"


def test_a_description_without_report_result_is_a_report_still_pending():
    # DataSync leaves ReportResult out until it has begun the report.
    with pytest.raises(DataSyncTaskReportPendingError):
        task_report(Described({}), EXECUTION)


def test_a_report_config_without_output_type_is_a_standard_report():
    # STANDARD is DataSync's default OutputType.
    assert report_location(EXECUTION, {"Destination": DESTINATION})["Prefix"] == (
        "Detailed-Reports/task-0123456789abcdef0/exec-0abcdef0123456789/"
    )
