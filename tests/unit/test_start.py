"""start: StartTaskExecution once, or follow, wait for or skip the execution the task already runs."""

import json
import time

import pytest
from moto.datasync.responses import DataSyncResponse

from datasync_steps.errors import (
    DataSyncRequestError,
    DataSyncTaskAlreadyRunningError,
    DataSyncTaskNotReadyError,
    DataSyncTaskUnavailableError,
)
from datasync_steps.start import StartEvent, console_urls, ready, start_execution, unfinished_execution
from datasync_workflow.local import EmulatedTransfer, emulated_transfers
from tests import fakes
from tests.conftest import PLAN, make_agent, make_s3_location, make_smb_location, make_task, smb_kwargs, started

TASK = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
EXECUTION = f"{TASK}/execution/exec-0123456789abcdef0"


def test_start_passes_the_execution_kwargs_and_gives_the_console_links(datasync, task):
    kwargs = {
        "OverrideOptions": {"BytesPerSecond": 1048576},
        "Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/a"}],
    }
    event = StartEvent(execution_id="e", TaskArn=task, retry_count=0, plan=PLAN)
    execution_arn = start_execution(datasync, datasync, event, kwargs).model_dump(mode="json")["TaskExecutionArn"]
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
    adopted = started(datasync, task, retry_count=1, execution_id="run-1")
    # This run's own, which it follows, and the clean-up cancels if the run stops.
    assert (adopted["TaskExecutionArn"], adopted["ExecutionStarted"], adopted["Action"]) == (first_try, True, "follow")
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
        retry_count=0,
        if_task_running=if_task_running,
        checks_done=3,
        plan=PLAN,
    )
    record = start_execution(datasync, datasync, event).model_dump(mode="json")
    assert (record["TaskExecutionArn"], record["ExecutionStarted"], record["Action"]) == (running, False, action)
    # Waiting for another run's execution counts.
    assert record["check"] == {"checks_done": 3, "wait_seconds": PLAN.wait_seconds, "TimedOut": False}
    assert list(fakes.backend().task_executions) == [running]


def test_a_task_that_already_runs_fails_the_run_when_asked(datasync, task):
    # A long transfer, so that it is still LAUNCHING when looked at on a loaded machine (the default's lasts 150 ms).
    with emulated_transfers(EmulatedTransfer(seconds=30)):
        running = started(datasync, task, execution_id="run-1")["TaskExecutionArn"]
    event = StartEvent(execution_id="run-2", TaskArn=task, retry_count=0, if_task_running="fail", plan=PLAN)
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


def test_the_unfinished_execution_followed_is_the_newest(datasync, task):
    with emulated_transfers(EmulatedTransfer(seconds=30)):
        running = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
        # Other filters: DataSync queues it behind the running one.
        queued = datasync.start_task_execution(
            TaskArn=task, Includes=[{"FilterType": "SIMPLE_PATTERN", "Value": "/other"}]
        )["TaskExecutionArn"]
    assert unfinished_execution(datasync, task) == (queued, "QUEUED")
    assert datasync.describe_task_execution(TaskExecutionArn=running)["Status"] == "LAUNCHING"


def test_an_execution_being_cancelled_has_not_finished(datasync, task):
    with emulated_transfers(EmulatedTransfer(seconds=30)):
        running = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    datasync.cancel_task_execution(TaskExecutionArn=running)
    assert unfinished_execution(datasync, task) == (running, "CANCELLING")
    event = StartEvent(execution_id="run-2", TaskArn=task, retry_count=0, if_task_running="fail", plan=PLAN)
    with pytest.raises(DataSyncTaskAlreadyRunningError, match="CANCELLING"):
        start_execution(datasync, datasync, event)


def test_a_task_still_creating_is_not_started_yet(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    creating = datasync.create_task(SourceLocationArn=source, DestinationLocationArn=destination)["TaskArn"]
    with pytest.raises(DataSyncTaskNotReadyError, match="still CREATING"):
        started(datasync, creating)
    assert fakes.backend().task_executions == {}


def test_an_unavailable_task_fails_at_once_naming_its_agents_and_datasyncs_error(datasync):
    agent = make_agent(datasync)
    source = datasync.create_location_smb(**{**smb_kwargs(), "AgentArns": [agent]})["LocationArn"]
    task = make_task(datasync, source, make_s3_location(datasync))
    fakes.backend().agents[agent].go_offline()
    with pytest.raises(DataSyncTaskUnavailableError) as raised:
        started(datasync, task)
    described = datasync.describe_task(TaskArn=task)  # the emulation's ErrorCode and ErrorDetail
    assert f"(DataSync: {described['ErrorCode']}: {described['ErrorDetail']})" in str(raised.value)
    assert f"an agent it uses is offline ({agent})" in str(raised.value)
    assert fakes.backend().task_executions == {}


def test_a_task_still_creating_says_what_datasync_says_is_wrong(stubbed):
    # The emulation's tasks are CREATING only a moment, without trouble: DataSync's answer by Stubber.
    client, stubber = stubbed
    task = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
    stubber.add_response(
        "describe_task",
        {
            "TaskArn": task,
            "Status": "CREATING",
            "ErrorCode": "MountFailed",
            "ErrorDetail": "The agent could not mount the share: connection refused.",
        },
        {"TaskArn": task},
    )
    with pytest.raises(DataSyncTaskNotReadyError) as raised:
        ready(client, task)
    assert "still CREATING (DataSync: MountFailed: The agent could not mount the share: connection refused.)" in str(
        raised.value
    )


def test_a_retried_start_in_a_later_try_never_adopts_an_earlier_tries_execution(datasync, task):
    first = started(datasync, task, execution_id="run", attempt=1)["TaskExecutionArn"]
    time.sleep(2)  # the first try's execution ends (1.5 s emulated)
    # The second try's start is itself retried (retry_count 1): it looks for an execution of its own try only.
    second = started(datasync, task, retry_count=1, execution_id="run", attempt=2)["TaskExecutionArn"]
    assert second != first and len(fakes.backend().task_executions) == 2
    # Within one try, a retried start does adopt the execution its earlier invocation started.
    assert started(datasync, task, retry_count=1, execution_id="run", attempt=2)["TaskExecutionArn"] == second
