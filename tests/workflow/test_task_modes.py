"""Enhanced mode and what DataSync reports of it, a found task that differs from create_task_kwargs, run locally."""

import re

import botocore.session
import pytest

from datasync_steps.input_checks import ENHANCED_UNSUPPORTED, input_problems
from datasync_workflow.local import EmulatedTransfer, emulated_transfers, run_local
from tests import fakes
from tests.conftest import make_s3_location, make_smb_location, make_task, s3_kwargs, smb_kwargs
from tests.workflow.test_workflow import failed

FAST = {"wait_interval_seconds": 0}
URIS = {"source_location_uri": "smb://hostname/directory/", "destination_location_uri": "s3://mybucket/prefix"}


@pytest.fixture
def linked_task(datasync) -> str:
    return make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))


def enhanced_task(datasync) -> str:
    return make_task(datasync, make_smb_location(datasync), make_s3_location(datasync), TaskMode="ENHANCED")


def test_an_enhanced_tasks_output_carries_its_listed_prepared_and_failed_counters(datasync):
    with emulated_transfers(EmulatedTransfer(seconds=0.5, files=40, files_failed=0)):
        execution = run_local({"task_arn": enhanced_task(datasync), **FAST})
    assert execution.status == "SUCCEEDED", execution.cause
    described = execution.output["TaskExecution"]
    assert described["TaskMode"] == "ENHANCED"
    assert (described["FilesListed"]["AtSource"], described["FilesPrepared"], described["FilesTransferred"]) == (
        40,
        40,
        40,
    )
    assert described["FilesFailed"] == {"Prepare": 0, "Transfer": 0, "Verify": 0, "Delete": 0}
    assert described["FoldersTransferred"] == 10


def test_a_failed_enhanced_runs_cause_gives_the_failed_files_by_phase(datasync):
    transfer = EmulatedTransfer(seconds=0.5, files=40, files_failed=3, error_code="TransferFailed")
    with emulated_transfers(transfer):
        cause = failed(run_local({"task_arn": enhanced_task(datasync), **FAST}), "DataSyncTaskExecutionFailedError")
    assert cause.endswith("Files that failed, by phase: prepare 0, transfer 3, verify 0, delete 0.")


def test_options_enhanced_mode_does_not_support_are_refused_before_anything_runs(datasync):
    task = enhanced_task(datasync)
    point_in_time = {"VerifyMode": "POINT_IN_TIME_CONSISTENT"}
    # Offline, for a task to create: create_task_kwargs say ENHANCED.
    creating = {**URIS, "create_task_kwargs": {"TaskMode": "ENHANCED", "Options": point_in_time}}
    assert input_problems(creating)[0].startswith("create_task_kwargs.Options.VerifyMode: POINT_IN_TIME_CONSISTENT")
    # A found task: resolve knows its mode from DataSync.
    execution = run_local({"task_arn": task, **FAST, "task_execution_kwargs": {"OverrideOptions": {"Mtime": "NONE"}}})
    cause = failed(execution, "DataSyncInvalidInputError")
    assert "task_execution_kwargs.OverrideOptions.Mtime: NONE is not supported by Enhanced mode tasks" in cause
    assert fakes.backend().task_executions == {}
    # The same options on a Basic task are DataSync's default, and run.
    basic = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    assert (
        run_local({"task_arn": basic, **FAST, "update_task_kwargs": {"Options": point_in_time}}).status == "SUCCEEDED"
    )


def test_the_refused_options_are_those_the_api_model_says_enhanced_mode_does_not_support():
    options = botocore.session.get_session().get_service_model("datasync").shape_for("Options")
    for option, value in ENHANCED_UNSUPPORTED.items():
        documentation = re.sub(r"<[^>]+>", "", options.members[option].documentation)
        sentence = next(s for s in re.split(r"(?<=\.)\s+", documentation) if "Enhanced mode" in s and "support" in s)
        assert value in documentation and ("isn't" in sentence or "don't" in sentence), (option, sentence)


def test_a_found_task_that_differs_from_create_task_kwargs_runs_unchanged_and_says_how(datasync):
    source = datasync.create_location_smb(**smb_kwargs())["LocationArn"]
    destination = datasync.create_location_s3(**s3_kwargs())["LocationArn"]
    task = make_task(datasync, source, destination)  # BASIC, DataSync's default options
    asked = {"TaskMode": "ENHANCED", "Options": {"VerifyMode": "ONLY_FILES_TRANSFERRED", "LogLevel": "OFF"}}
    execution = run_local({**URIS, **FAST, "create_task_kwargs": asked})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["TaskArn"] == task
    assert execution.output["TaskDrift"] == {
        "TaskMode": {"asked": "ENHANCED", "task": "BASIC"},
        "Options.VerifyMode": {"asked": "ONLY_FILES_TRANSFERRED", "task": "POINT_IN_TIME_CONSISTENT"},
    }
    assert datasync.describe_task(TaskArn=task)["TaskMode"] == "BASIC"  # unchanged
    # No create_task_kwargs, nothing to differ from.
    assert run_local({**URIS, **FAST}).output["TaskDrift"] == {}


REPORT = {
    "Destination": {
        "S3": {
            "S3BucketArn": "arn:aws:s3:::reports",
            "Subdirectory": "datasync",
            "BucketAccessRoleArn": "arn:aws:iam::111122223333:role/reports",
        }
    },
    "OutputType": "STANDARD",
}


def test_a_run_with_a_task_report_waits_for_it_and_says_where_it_is(datasync, linked_task):
    execution = run_local({"task_arn": linked_task, **FAST, "task_execution_kwargs": {"TaskReportConfig": REPORT}})
    assert execution.status == "SUCCEEDED", execution.cause
    report = execution.output["TaskReport"]
    task_id, execution_id = execution.output["TaskExecutionArn"].split("/")[1::2]
    assert report == {
        "Status": "SUCCESS",
        "Bucket": "reports",
        "Prefix": f"datasync/Detailed-Reports/{task_id}/{execution_id}/",
        "Uri": f"s3://reports/datasync/Detailed-Reports/{task_id}/{execution_id}/",
    }


def test_a_report_that_failed_does_not_fail_the_transfer(datasync, linked_task):
    with emulated_transfers(EmulatedTransfer(seconds=0.3, report_error="AccessDenied")):
        execution = run_local({"task_arn": linked_task, **FAST, "task_execution_kwargs": {"TaskReportConfig": REPORT}})
    assert execution.status == "SUCCEEDED", execution.cause
    assert (execution.output["TaskReport"]["Status"], execution.output["TaskReport"]["ErrorCode"]) == (
        "ERROR",
        "AccessDenied",
    )


def test_without_a_task_report_the_output_has_none(datasync, linked_task):
    execution = run_local({"task_arn": linked_task, **FAST})
    assert execution.status == "SUCCEEDED" and "TaskReport" not in execution.output
