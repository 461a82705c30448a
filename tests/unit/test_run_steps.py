"""Steps 3 to 8 and the cancel step, each against the emulated DataSync; Stubber for answers it never gives."""

import json
import time
from datetime import datetime

import pytest
from moto.datasync.responses import DataSyncResponse

from datasync_steps import describe as describe_step
from datasync_steps.cancel import cancel_execution
from datasync_steps.check_status import check_status
from datasync_steps.create_task import create_task
from datasync_steps.delete import delete_task
from datasync_steps.describe import describe_execution
from datasync_steps.errors import (
    DataSyncRequestError,
    DataSyncTaskAlreadyRunningError,
    DataSyncTaskCreationError,
    DataSyncTaskExecutionFailedError,
    DataSyncTaskNotFoundError,
)
from datasync_steps.lookup import workflow_tag
from datasync_steps.start import StartEvent, console_urls, start_execution
from datasync_steps.state import Target
from datasync_steps.update import update_task
from datasync_steps.workflow_input import parse_workflow_input
from datasync_workflow.emulated_datasync import CANCELLING_SECONDS, EmulatedTransfer, emulated_transfers
from tests import fakes
from tests.conftest import location_arns, make_s3_location, make_smb_location, make_task, task_arns

RUN = workflow_tag("run-1")
TASK = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
EXECUTION = f"{TASK}/execution/exec-0123456789abcdef0"


@pytest.fixture
def task(datasync):
    return make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))


def started(client, task_arn, retry_count=0, execution_id="e"):
    event = StartEvent(execution_id=execution_id, TaskArn=task_arn, task_execution_kwargs={}, retry_count=retry_count)
    return start_execution(client, client, event).model_dump(mode="json")


def test_create_task_links_the_locations_with_the_kwargs(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    config = parse_workflow_input(
        {
            "source_location_uri": "smb://hostname/directory",
            "destination_location_uri": "s3://mybucket/prefix",
            "create_task_kwargs": {"Name": "Created by the workflow"},
        }
    )
    target = create_task(
        datasync, datasync, config, Target(SourceLocationArn=source, DestinationLocationArn=destination), RUN
    ).model_dump(mode="json")
    described = datasync.describe_task(TaskArn=target["TaskArn"])
    assert (described["SourceLocationArn"], described["DestinationLocationArn"]) == (source, destination)
    assert described["Name"] == "Created by the workflow"
    assert target["TaskCreated"] is True
    # Retried after a lost answer: the same task, not a second one.
    again = create_task(
        datasync, datasync, config, Target(SourceLocationArn=source, DestinationLocationArn=destination), RUN
    ).model_dump(mode="json")
    assert again["TaskArn"] == target["TaskArn"] and len(task_arns(datasync)) == 1
    assert again["TaskCreated"] is True  # it was this run's, made by its earlier try
    # Another run finds the same task, not made by it.
    other = workflow_tag("run-2")
    elsewhere = create_task(
        datasync, datasync, config, Target(SourceLocationArn=source, DestinationLocationArn=destination), other
    ).model_dump(mode="json")
    assert (elsewhere["TaskArn"], elsewhere["TaskCreated"]) == (target["TaskArn"], False)


def test_create_task_refused_by_datasync_is_a_creation_error(stubbed):
    client, stubber = stubbed
    source, destination = (
        "arn:aws:datasync:us-east-1:111122223333:location/loc-0123456789abcdef0",
        "arn:aws:datasync:us-east-1:111122223333:location/loc-0123456789abcdef1",
    )
    config = parse_workflow_input(
        {
            "source_location_uri": "smb://h/d",
            "destination_location_uri": "s3://b/p",
            "create_task_kwargs": {"Name": "n"},
        }
    )
    stubber.add_response("list_tasks", {"Tasks": []})
    stubber.add_client_error("create_task", "InvalidRequestException", "Source location is not available.")
    with pytest.raises(DataSyncTaskCreationError, match="Source location is not available"):
        create_task(
            client, client, config, Target(SourceLocationArn=source, DestinationLocationArn=destination), RUN
        ).model_dump(mode="json")


def test_update_changes_the_task(datasync, task):
    update_task(datasync, task, {"Name": "Updated by the workflow"})
    assert datasync.describe_task(TaskArn=task)["Name"] == "Updated by the workflow"


def test_update_of_a_missing_task_is_not_found(datasync):
    missing = TASK.replace("111122223333", "123456789012")
    with pytest.raises(DataSyncTaskNotFoundError, match=f"Task {missing} not found"):
        update_task(datasync, missing, {"Name": "n"})


def test_start_passes_the_execution_kwargs_and_gives_the_console_links(datasync, task):
    kwargs = {
        "OverrideOptions": {"BytesPerSecond": 1048576},
        "Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/a"}],
    }
    event = StartEvent(execution_id="e", TaskArn=task, task_execution_kwargs=kwargs, retry_count=0)
    execution_arn = start_execution(datasync, datasync, event).model_dump(mode="json")["TaskExecutionArn"]
    described = datasync.describe_task_execution(TaskExecutionArn=execution_arn)
    assert described["Options"]["BytesPerSecond"] == 1048576 and described["Includes"] == kwargs["Includes"]
    task_id, execution_id = execution_arn.split("/")[1::2]
    console = "https://console.aws.amazon.com/datasync/home?region=us-east-1#"
    assert console_urls(execution_arn).model_dump() == {
        "Task": f"{console}/tasks/{task_id}",
        "TaskExecution": f"{console}/history/{task_id}/{execution_id}",
    }


def test_console_urls_follow_the_partition():
    urls = console_urls(EXECUTION.replace("arn:aws:", "arn:aws-cn:").replace("us-east-1", "cn-north-1")).model_dump()
    assert urls["Task"] == "https://console.amazonaws.cn/datasync/home?region=cn-north-1#/tasks/task-0123456789abcdef0"


def test_each_execution_is_tagged_with_the_workflow_execution_that_started_it(datasync, task):
    workflow_execution = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:nightly-2026-11-24"
    execution_arn = started(datasync, task, execution_id=workflow_execution)["TaskExecutionArn"]
    tags = datasync.list_tags_for_resource(ResourceArn=execution_arn)["Tags"]
    assert tags == [{"Key": "datasync-workflow:execution", "Value": workflow_execution}]


def test_a_retried_start_adopts_the_execution_the_first_try_started_even_once_it_ended(datasync, task):
    with emulated_transfers(EmulatedTransfer(seconds=0.1)):
        first_try = started(datasync, task, execution_id="run-1")["TaskExecutionArn"]  # its answer was lost
    time.sleep(0.2)
    assert datasync.describe_task_execution(TaskExecutionArn=first_try)["Status"] == "SUCCESS"
    assert started(datasync, task, retry_count=1, execution_id="run-1")["TaskExecutionArn"] == first_try
    assert list(fakes.backend().task_executions) == [first_try]


def test_a_retried_start_starts_when_the_first_try_did_not(datasync, task):
    with emulated_transfers(EmulatedTransfer(seconds=0.1)):
        another_run = started(datasync, task, execution_id="run-1")["TaskExecutionArn"]
    time.sleep(0.2)
    # Recent, but not started by this workflow execution.
    record = started(datasync, task, retry_count=1, execution_id="run-2")
    assert record["TaskExecutionArn"] != another_run
    assert (record["ExecutionStarted"], record["Action"]) == (True, "follow")


@pytest.mark.parametrize(("if_task_running", "action"), [("queue", "queue"), ("join", "follow"), ("skip", "skip")])
def test_a_task_that_already_runs_is_waited_for_joined_or_skipped(datasync, task, if_task_running, action):
    running = started(datasync, task, execution_id="run-1")["TaskExecutionArn"]
    event = StartEvent(
        execution_id="run-2",
        TaskArn=task,
        task_execution_kwargs={},
        retry_count=0,
        if_task_running=if_task_running,
        checks_done=3,
    )
    record = start_execution(datasync, datasync, event).model_dump(mode="json")
    assert (record["TaskExecutionArn"], record["ExecutionStarted"], record["Action"]) == (running, False, action)
    assert record["check"] == {"checks_done": 3}  # waiting for another run's execution counts
    assert list(fakes.backend().task_executions) == [running]


def test_a_task_that_already_runs_fails_the_run_when_asked(datasync, task):
    running = started(datasync, task, execution_id="run-1")["TaskExecutionArn"]
    event = StartEvent(
        execution_id="run-2", TaskArn=task, task_execution_kwargs={}, retry_count=0, if_task_running="fail"
    )
    with pytest.raises(DataSyncTaskAlreadyRunningError, match=f"unfinished execution, {running} \\(LAUNCHING\\)"):
        start_execution(datasync, datasync, event)
    assert list(fakes.backend().task_executions) == [running]


def test_a_start_refused_because_another_run_started_meanwhile_follows_if_task_running(datasync, task, monkeypatch):
    other_run = started(datasync, task, execution_id="run-1")["TaskExecutionArn"]
    listed = DataSyncResponse.list_task_executions
    answers = iter([json.dumps({"TaskExecutions": []})])  # the first look misses it: it had not started yet

    def late_view(self):
        return next(answers, None) or listed(self)

    monkeypatch.setattr(DataSyncResponse, "list_task_executions", late_view)
    record = started(datasync, task, execution_id="run-2")
    assert (record["TaskExecutionArn"], record["Action"]) == (other_run, "queue")


def test_a_start_refused_for_another_reason_is_a_request_error(datasync, task, monkeypatch):
    fakes.fail_calls(monkeypatch, "start_task_execution", fakes.refused("The agent is offline."))
    with pytest.raises(DataSyncRequestError, match="The agent is offline"):
        started(datasync, task)


def test_check_status_counts_the_checks(datasync, task):
    execution = started(datasync, task)["TaskExecutionArn"]
    first = check_status(datasync, execution, 0).model_dump(mode="json")
    second = check_status(datasync, execution, first["checks_done"]).model_dump(mode="json")
    assert second["checks_done"] == 2


class StatusSays:
    """A DataSync client that reports one status: Stubber refuses statuses outside the API model's enum."""

    def __init__(self, status):
        self.status = status

    def describe_task_execution(self, TaskExecutionArn):
        return {"TaskExecutionArn": TaskExecutionArn, "Status": self.status}


def unknown_status_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "does not know" in r.getMessage()]


def test_an_unknown_status_is_logged_and_passed_on(caplog):
    assert check_status(StatusSays("QUEUED"), EXECUTION, 0).model_dump(mode="json")["Status"] == "QUEUED"
    assert unknown_status_warnings(caplog) == []
    assert check_status(StatusSays("PAUSED"), EXECUTION, 1).model_dump(mode="json") == {
        "Status": "PAUSED",
        "checks_done": 2,
    }
    assert unknown_status_warnings(caplog) == ["DataSync reported a status this workflow does not know; waiting on"]


def test_describe_returns_the_final_description_as_json_with_iso_timestamps(datasync, task):
    with emulated_transfers(EmulatedTransfer(seconds=0.1, files=3, bytes=2048)):
        execution = started(datasync, task)["TaskExecutionArn"]
    time.sleep(0.2)
    description = describe_execution(datasync, execution).model_dump(mode="json")
    assert datetime.fromisoformat(description["StartTime"]).tzinfo is not None
    assert (description["Status"], description["FilesTransferred"], description["BytesTransferred"]) == (
        "SUCCESS",
        3,
        2048,
    )
    assert "ResponseMetadata" not in description
    json.dumps(description)


def test_an_execution_that_ended_in_error_fails_with_datasyncs_code_and_detail(datasync, task):
    failing = EmulatedTransfer(0.1, error_code="SockTimeout", error_detail="Connection to the SMB server timed out")
    with emulated_transfers(failing):
        execution = started(datasync, task)["TaskExecutionArn"]
    time.sleep(0.2)
    with pytest.raises(DataSyncTaskExecutionFailedError) as raised:
        describe_execution(datasync, execution)
    assert str(raised.value) == (
        f"DataSync execution {execution} ended in ERROR: SockTimeout: Connection to the SMB server timed out."
    )


def test_describe_publishes_transfer_metrics(datasync, task, monkeypatch, capsys):
    with emulated_transfers(EmulatedTransfer(seconds=0.1, files=3, bytes=2048)):
        execution = started(datasync, task)["TaskExecutionArn"]
    time.sleep(0.2)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    describe_step.metrics.clear_metrics()
    description = describe_execution(datasync, execution).model_dump(mode="json")
    describe_step.metrics.flush_metrics()
    emf = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    published = {
        name: emf[name] for name in ("ExecutionsSucceeded", "BytesTransferred", "FilesTransferred", "Duration")
    }
    assert published == {
        "ExecutionsSucceeded": [1.0],
        "BytesTransferred": [2048.0],
        "FilesTransferred": [3.0],
        "Duration": [float(description["Result"]["TotalDuration"])],
    }
    units = {m["Name"]: m["Unit"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["BytesTransferred"] == "Bytes" and units["Duration"] == "Milliseconds"


def test_delete_removes_the_task_and_keeps_the_locations(datasync, task):
    delete_task(datasync, task)
    assert task_arns(datasync) == [] and len(location_arns(datasync)) == 2
    # Retried after a lost answer: the task is already gone, which is what was asked.
    assert delete_task(datasync, task).model_dump(mode="json") == {"TaskDeleted": True}


def test_cancel_stops_a_running_execution(datasync, task):
    execution = started(datasync, task)["TaskExecutionArn"]
    assert cancel_execution(datasync, execution).model_dump(mode="json") == {"Cancelled": True}
    assert datasync.describe_task_execution(TaskExecutionArn=execution)["Status"] == "CANCELLING"
    # Asked again while DataSync is still cancelling it: already done, not an error.
    assert cancel_execution(datasync, execution).model_dump(mode="json") == {"Cancelled": True, "Status": "CANCELLING"}
    time.sleep(CANCELLING_SECONDS)
    assert datasync.describe_task_execution(TaskExecutionArn=execution)["Status"] == "ERROR"
    assert datasync.describe_task(TaskArn=task)["Status"] == "AVAILABLE"
    assert cancel_execution(datasync, execution).model_dump(mode="json") == {"Cancelled": False, "Status": "ERROR"}
