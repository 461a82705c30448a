"""The real state machine definition, run by moto's Step Functions engine with the steps in-process:
one test per path of the contract and per behaviour Airflow's DataSyncOperator tests assert."""

import json
import time
from datetime import datetime
from itertools import pairwise

import pytest
from moto.core.exceptions import JsonRESTError

from datasync_steps.limits import EVENTS_PER_CHECK
from datasync_steps.names import CHECK_STATE, WAIT_STATE
from datasync_workflow.definition.steps import definition_text
from datasync_workflow.local import (
    EmulatedTransfer,
    emulated_datasync,
    emulated_transfers,
    run_local,
    run_local_together,
)
from datasync_workflow.local import runner as local
from datasync_workflow.local.emulated_datasync_executions import CANCELLING_SECONDS
from tests import fakes
from tests.conftest import (
    location_arns,
    make_agent,
    make_s3_location,
    make_smb_location,
    make_task,
    s3_kwargs,
    smb_kwargs,
    task_arns,
)

URIS = {"source_location_uri": "smb://hostname/directory/", "destination_location_uri": "s3://mybucket/prefix"}
FAST = {"wait_interval_seconds": 0}
CREATE_ALL = {
    **URIS,
    **FAST,
    "create_task_kwargs": {"Name": "Created by the workflow"},
    "create_source_location_kwargs": smb_kwargs(),
    "create_destination_location_kwargs": s3_kwargs(),
}


def run(execution_input: dict, **kwargs):
    return run_local(execution_input, timeout=kwargs.pop("timeout", 60), **kwargs)


def entered_states(execution) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in execution.history if "stateEnteredEventDetails" in e]


def step_failures(execution) -> list[str]:
    """The errors of the step invocations that failed, whether Step Functions then retried or caught them."""
    details = {"LambdaFunctionFailed": "lambdaFunctionFailedEventDetails", "TaskFailed": "taskFailedEventDetails"}
    return [e[details[e["type"]]]["error"] for e in execution.history if e["type"] in details]


def failed(execution, error: str) -> str:
    assert (execution.status, execution.error, execution.output) == ("FAILED", error, None), execution.cause
    assert "Traceback" not in execution.cause and "stackTrace" not in execution.cause
    return execution.cause


@pytest.fixture
def linked(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    return source, destination, make_task(datasync, source, destination)


def test_a_task_arn_runs_to_success_and_returns_the_final_description(datasync, linked):
    task = linked[2]
    execution = run({"task_arn": task, **FAST})
    assert execution.status == "SUCCEEDED"
    output = execution.output
    assert output["TaskArn"] == task
    assert output["TaskExecutionArn"].startswith(f"{task}/execution/")
    assert output["TaskExecution"]["Status"] == "SUCCESS"
    assert output["TaskExecution"]["TaskExecutionArn"] == output["TaskExecutionArn"]
    assert (output["TaskCreated"], output["CreatedLocationArns"], output["TaskDeleted"]) == (False, [], False)
    task_id, execution_id = output["TaskExecutionArn"].split("/")[1::2]
    assert output["ConsoleUrls"]["TaskExecution"].endswith(f"#/history/{task_id}/{execution_id}")
    assert "Create task" not in entered_states(execution) and "Update task" not in entered_states(execution)
    described = output["TaskExecution"]
    assert described["FilesTransferred"] == described["EstimatedFilesToTransfer"] == EmulatedTransfer.files
    assert described["BytesTransferred"] == described["BytesWritten"] == EmulatedTransfer.bytes
    assert {described["Result"][f"{phase}Status"] for phase in ("Prepare", "Transfer", "Verify")} == {"SUCCESS"}
    start, launch, end = (datetime.fromisoformat(described[key]) for key in ("StartTime", "LaunchTime", "EndTime"))
    assert start <= launch < end


def test_the_wait_loop_sees_only_real_datasync_statuses_in_order(datasync, linked):
    execution = run({"task_arn": linked[2], **FAST})
    exits = [e["stateExitedEventDetails"] for e in execution.history if "stateExitedEventDetails" in e]
    checked = [json.loads(e["output"])["execution"] for e in exits if e["name"] == "Check execution status"]
    woken = [json.loads(e["output"])["execution"] for e in exits if e["name"] == "Wait for DataSync's event"]
    statuses = [c["check"]["Status"] for c in checked] + [w["event"]["Status"] for w in woken if "event" in w]
    order = ["LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "SUCCESS"]
    assert statuses[-1] == "SUCCESS" and set(statuses) <= set(order)
    assert [order.index(status) for status in statuses] == sorted(order.index(status) for status in statuses)
    # The default max_iterations is enough even with no wait between checks.
    assert len(checked) < 60


def test_the_one_task_linking_the_uris_is_run(datasync, linked):
    execution = run({**URIS, **FAST})
    assert execution.output["TaskArn"] == linked[2]


def test_several_matching_tasks_fail_without_random_choice(datasync, linked):
    source, destination, first = linked
    second = make_task(datasync, source, destination)
    cause = failed(run({**URIS, **FAST}), "DataSyncMultipleTasksError")
    assert first in cause and second in cause


def test_several_matching_tasks_run_one_with_random_choice(datasync, linked):
    source, destination, first = linked
    second = make_task(datasync, source, destination)
    execution = run({**URIS, **FAST, "allow_random_task_choice": True})
    assert execution.output["TaskArn"] in {first, second}


def test_a_task_is_created_reusing_the_locations(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    execution = run(CREATE_ALL)
    assert execution.status == "SUCCEEDED", execution.cause
    assert (execution.output["TaskCreated"], execution.output["CreatedLocationArns"]) == (True, [])
    assert sorted(location_arns(datasync)) == sorted([source, destination])
    task = datasync.describe_task(TaskArn=execution.output["TaskArn"])
    assert (task["SourceLocationArn"], task["DestinationLocationArn"]) == (source, destination)
    assert task["Name"] == "Created by the workflow"
    assert "Create missing locations" not in entered_states(execution)


def test_locations_and_task_are_created_from_an_empty_account(datasync):
    execution = run(CREATE_ALL)
    assert execution.status == "SUCCEEDED", execution.cause
    assert sorted(execution.output["CreatedLocationArns"]) == sorted(location_arns(datasync))
    assert len(location_arns(datasync)) == 2 and task_arns(datasync) == [execution.output["TaskArn"]]
    # The next run finds what the first one created instead of creating more.
    again = run(CREATE_ALL)
    assert again.output["TaskArn"] == execution.output["TaskArn"] and again.output["TaskCreated"] is False
    assert len(location_arns(datasync)) == 2 and len(task_arns(datasync)) == 1


def test_a_missing_location_without_kwargs_fails_and_creates_nothing(datasync):
    make_smb_location(datasync)
    cause = failed(run({**CREATE_ALL, "create_destination_location_kwargs": {}}), "DataSyncLocationNotFoundError")
    assert "destination_location_uri s3://mybucket/prefix" in cause
    assert len(location_arns(datasync)) == 1 and task_arns(datasync) == []


def test_several_matching_locations_fail_while_creating_a_task(datasync):
    make_smb_location(datasync), make_smb_location(datasync)
    cause = failed(run(CREATE_ALL), "DataSyncMultipleLocationsError")
    assert "2 DataSync locations match smb://hostname/directory/" in cause
    assert task_arns(datasync) == []
    execution = run({**CREATE_ALL, "allow_random_location_choice": True})
    assert execution.status == "SUCCEEDED" and len(location_arns(datasync)) == 3


def test_no_task_and_no_create_kwargs_is_not_found(datasync):
    make_smb_location(datasync), make_s3_location(datasync)
    cause = failed(run({**URIS, **FAST}), "DataSyncTaskNotFoundError")
    assert cause == (
        "No DataSync task links smb://hostname/directory/ to s3://mybucket/prefix, and create_task_kwargs is empty, "
        "so none was created."
    )


def test_a_task_arn_that_does_not_exist_is_not_found(datasync):
    missing = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
    cause = failed(run({"task_arn": missing}), "DataSyncTaskNotFoundError")
    assert missing in cause


def test_the_task_is_updated_before_the_run(datasync, linked):
    execution = run({"task_arn": linked[2], **FAST, "update_task_kwargs": {"Name": "Updated by the workflow"}})
    assert execution.status == "SUCCEEDED"
    assert datasync.describe_task(TaskArn=linked[2])["Name"] == "Updated by the workflow"
    states = entered_states(execution)
    assert states.index("Update task") < states.index("Start execution")


def test_the_task_is_deleted_after_success_and_the_locations_kept(datasync, linked):
    execution = run({"task_arn": linked[2], **FAST, "delete_task_after_execution": True})
    assert execution.output["TaskDeleted"] is True
    assert task_arns(datasync) == [] and sorted(location_arns(datasync)) == sorted(linked[:2])


def test_a_failed_execution_fails_with_datasyncs_error_and_keeps_the_task(datasync, linked):
    with emulated_transfers(EmulatedTransfer(error_code="SockTimeout", error_detail="The SMB server did not answer")):
        execution = run({"task_arn": linked[2], **FAST, "delete_task_after_execution": True})
    cause = failed(execution, "DataSyncTaskExecutionFailedError")
    assert cause.endswith("ended in ERROR: SockTimeout: The SMB server did not answer.")
    assert task_arns(datasync) == [linked[2]]  # never deleted after a failed run


@pytest.mark.parametrize(("max_iterations", "status"), [(2, "SUCCEEDED"), (1, "FAILED")])
def test_the_checks_give_up_as_late_as_airflows_operator(datasync, linked, max_iterations, status):
    # The operator waits twice wait_interval_seconds between checks: 2 checks at 2 s wait about 8 s, 1 about 4 s.
    with emulated_transfers(EmulatedTransfer(seconds=6)):
        execution = run({"task_arn": linked[2], "wait_interval_seconds": 2, "max_iterations": max_iterations})
    assert (execution.status, execution.error) == (
        status,
        None if status == "SUCCEEDED" else "DataSyncExecutionTimeoutError",
    ), execution.cause


def test_a_run_over_max_iterations_is_cancelled_and_times_out(datasync, linked):
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        execution = run({"task_arn": linked[2], **FAST, "max_iterations": 2})
    cause = failed(execution, "DataSyncExecutionTimeoutError")
    execution_arn = next(iter(fakes.backend().task_executions))
    assert cause == (
        f"DataSync execution {execution_arn} did not finish within max_iterations=2 status checks up to 1 s apart "
        "(twice wait_interval_seconds), so it was cancelled."
    )
    assert entered_states(execution).count("Check execution status") == 2
    assert "Cancel timed-out execution" in entered_states(execution)  # the state machine's, not the clean-up's
    time.sleep(CANCELLING_SECONDS)
    assert fakes.backend().task_executions[execution_arn].status == "ERROR"
    assert datasync.describe_task(TaskArn=linked[2])["Status"] == "AVAILABLE"


def test_without_waiting_the_run_succeeds_at_the_start(datasync, linked):
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        execution = run({"task_arn": linked[2], "wait_for_completion": False})
    assert execution.status == "SUCCEEDED"
    assert set(execution.output) == {
        "TaskArn",
        "TaskExecutionArn",
        "ExecutionStarted",
        "TaskCreated",
        "CreatedLocationArns",
        "ConsoleUrls",
        "Attempts",
        "task_id",
        "Rendered",
        "TaskDrift",
    }
    assert execution.output["ExecutionStarted"] is True
    assert fakes.backend().task_executions[execution.output["TaskExecutionArn"]].status in ("LAUNCHING", "PREPARING")
    assert "Check execution status" not in entered_states(execution)


def test_invalid_input_fails_listing_every_bad_field_and_touches_nothing(datasync):
    execution = run({**CREATE_ALL, "wait_interval_seconds": 1000, "max_iterations": 0, "colour": "blue"})
    cause = failed(execution, "DataSyncInvalidInputError")
    assert "wait_interval_seconds" in cause and "max_iterations" in cause and "unknown key 'colour'" in cause
    assert location_arns(datasync) == [] and task_arns(datasync) == []
    # Never tried again: the same input would be refused again.
    assert entered_states(execution) == [
        "First try",
        "Validate input and find task",
        "Plan the next try",
        "Try again?",
        "Failed",
    ]


@pytest.mark.parametrize(
    ("execution_input", "kind"),
    [(None, "null"), ([CREATE_ALL], "an array"), ("task_arn", "a string"), (5, "a number"), (True, "a boolean")],
)
def test_an_input_that_is_not_an_object_is_invalid_and_touches_nothing(datasync, execution_input, kind):
    cause = failed(run(execution_input), "DataSyncInvalidInputError")
    assert cause == f"The execution input must be a JSON object, not {kind}."
    assert location_arns(datasync) == [] and task_arns(datasync) == []


def test_a_refused_task_creation_is_a_creation_error(datasync, monkeypatch):
    fakes.fail_calls(monkeypatch, "create_task", fakes.refused("The location is not available."))
    cause = failed(run(CREATE_ALL), "DataSyncTaskCreationError")
    assert "DataSync refused to create a task from" in cause and "The location is not available." in cause


def test_throttling_is_retried_by_the_state_machine(datasync, linked, monkeypatch):
    # The waiting step's status look, throttled (not the resume step's, which DataSync's event may run first).
    calls = fakes.fail_calls(monkeypatch, "describe_task_execution", fakes.throttled(), times=3, step="await-event")
    # A wait long enough for botocore's own retries to end first.
    execution = run({"task_arn": linked[2], "wait_interval_seconds": 30})
    assert execution.status == "SUCCEEDED", execution.cause
    # botocore retries twice in the step, then Step Functions retries the step itself.
    assert step_failures(execution) == ["DataSyncTransientError"]
    assert calls[0] > 3


@pytest.mark.parametrize(
    "create_call", ["create_location_smb", "create_location_s3", "create_task", "start_task_execution"]
)
def test_a_retried_create_or_start_whose_answer_was_lost_makes_nothing_twice(datasync, monkeypatch, create_call):
    calls = fakes.lose_answers(monkeypatch, create_call)
    execution = run(CREATE_ALL)
    assert execution.status == "SUCCEEDED", execution.cause
    assert calls[0] == 1  # the retry found what the lost call had made, and did not call again
    assert len(location_arns(datasync)) == 2 and task_arns(datasync) == [execution.output["TaskArn"]]
    assert list(fakes.backend().task_executions) == [execution.output["TaskExecutionArn"]]
    assert sorted(execution.output["CreatedLocationArns"]) == sorted(location_arns(datasync))
    # Besides the lost answer: the task it created is CREATING a moment, and the start waits for it.
    assert [failure for failure in step_failures(execution) if failure != "DataSyncTaskNotReadyError"] == [
        "DataSyncTransientError"
    ]


def test_a_task_the_run_creates_is_started_once_it_is_available(datasync, monkeypatch):
    # CREATING for 2 s rather than the emulation's moment, so that the start finds it so however slow the steps run.
    monkeypatch.setattr(emulated_datasync, "CREATING_SECONDS", 2.0)
    execution = run(CREATE_ALL)
    assert execution.status == "SUCCEEDED", execution.cause
    assert "DataSyncTaskNotReadyError" in step_failures(execution)  # it was CREATING when first asked
    assert len(fakes.backend().task_executions) == 1


def test_an_unavailable_task_fails_the_run_at_once_naming_its_agents(datasync):
    agent = make_agent(datasync)
    source = datasync.create_location_smb(**{**smb_kwargs(), "AgentArns": [agent]})["LocationArn"]
    task = make_task(datasync, source, make_s3_location(datasync))
    fakes.backend().agents[agent].go_offline()
    execution = run({"task_arn": task, **FAST, "max_iterations": 1000})
    cause = failed(execution, "DataSyncTaskUnavailableError")
    assert f"offline ({agent})" in cause and "Nothing was started" in cause
    assert datasync.describe_task(TaskArn=task)["ErrorDetail"] in cause  # DataSync's own words
    assert fakes.backend().task_executions == {}
    assert (execution.history[-1]["timestamp"] - execution.history[0]["timestamp"]).total_seconds() < 10


def test_with_every_second_datasync_call_throttled_each_thing_is_made_and_started_once(datasync, monkeypatch):
    throttled = fakes.throttle_every_other_call(monkeypatch)
    execution = run(CREATE_ALL, timeout=120)
    monkeypatch.undo()
    assert execution.status == "SUCCEEDED", execution.cause
    assert len(location_arns(datasync)) == 2 and task_arns(datasync) == [execution.output["TaskArn"]]
    assert list(fakes.backend().task_executions) == [execution.output["TaskExecutionArn"]]
    assert throttled[0] >= 10  # every create and the start among them: botocore repeats a throttled call


def test_a_failure_while_waiting_cancels_the_execution(datasync, linked, monkeypatch):
    fakes.fail_calls(monkeypatch, "describe_task_execution", fakes.refused("Access denied to the execution."))
    execution = run({"task_arn": linked[2], **FAST})
    assert "Access denied to the execution." in failed(execution, "DataSyncRequestError")
    (datasync_execution,) = fakes.backend().task_executions.values()
    assert datasync_execution.cancel_time is not None
    assert "Cancel execution after failure" in entered_states(execution)


def test_a_stopped_workflow_cancels_its_datasync_execution(datasync, linked):
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        execution = run(
            {"task_arn": linked[2], "wait_interval_seconds": 30},
            stop_when=lambda event: event["type"] == "TaskSubmitted",  # stopped once it waits for the event
        )
    assert execution.status == "ABORTED"
    assert WAIT_STATE in entered_states(execution)
    (datasync_execution,) = fakes.backend().task_executions.values()
    time.sleep(CANCELLING_SECONDS)
    assert datasync_execution.status == "ERROR"  # cancelled by the clean-up step
    assert datasync.describe_task(TaskArn=linked[2])["Status"] == "AVAILABLE"


def test_datasyncs_event_ends_an_hour_long_wait_within_seconds_of_the_transfers_end(datasync, linked):
    started = time.monotonic()
    execution = run({"task_arn": linked[2], "wait_interval_seconds": 3600})
    assert execution.status == "SUCCEEDED", execution.cause
    assert time.monotonic() - started < 10  # the emulated transfer takes 1.5 s
    assert CHECK_STATE not in entered_states(execution) and len(execution.history) < 120
    (woken,) = [e for e in execution.history if e["type"] == "TaskSucceeded"]
    assert json.loads(woken["taskSucceededEventDetails"]["output"]) == {"Status": "SUCCESS"}
    assert fakes.backend().task_executions[execution.output["TaskExecutionArn"]].status == "SUCCESS"


def test_without_the_event_the_status_checks_find_the_end(datasync, linked, monkeypatch):
    fakes.drop_datasync_events(monkeypatch)
    # Checks 2 s apart (twice wait_interval_seconds): a transfer of 3.5 s outlasts at least one of them.
    with emulated_transfers(EmulatedTransfer(seconds=3.5)):
        execution = run({"task_arn": linked[2], "wait_interval_seconds": 1})
    assert execution.status == "SUCCEEDED", execution.cause
    states = entered_states(execution)
    # Each wait times out into a status check, but the last: its own look at the status (await-event checks once
    # after keeping the token) may find the end first, depending on how the emulated transfer's 3.5 s fall.
    assert states.count(CHECK_STATE) >= 1
    assert states.count(WAIT_STATE) - states.count(CHECK_STATE) in (0, 1)
    # Each fallback round costs what the input bound on max_iterations assumes.
    entered_at = [
        i for i, e in enumerate(execution.history) if e.get("stateEnteredEventDetails", {}).get("name") == WAIT_STATE
    ]
    rounds = {b - a for a, b in pairwise(entered_at)}
    assert rounds <= {EVENTS_PER_CHECK} and len(entered_at) >= 2


def test_an_execution_that_ends_before_the_wait_begins_is_not_missed(datasync, linked, monkeypatch):
    fakes.drop_datasync_events(monkeypatch)
    started = time.monotonic()
    with emulated_transfers(EmulatedTransfer(seconds=0)):
        execution = run({"task_arn": linked[2], "wait_interval_seconds": 3600})
    assert execution.status == "SUCCEEDED", execution.cause
    assert time.monotonic() - started < 10 and CHECK_STATE not in entered_states(execution)


def test_history_is_oldest_first_and_the_output_is_json(datasync, linked):
    execution = run({"task_arn": linked[2], **FAST})
    assert execution.history[0]["type"] == "ExecutionStarted"
    assert execution.history[-1]["type"] == "ExecutionSucceeded"
    assert json.loads(execution.history[-1]["executionSucceededEventDetails"]["output"]) == execution.output


@pytest.fixture
def another_runs_execution(datasync, linked):
    """The task already runs an execution that another run started, for 6 s: long enough that a loaded machine's run
    still finds it running."""
    with emulated_transfers(EmulatedTransfer(seconds=6)):
        return datasync.start_task_execution(TaskArn=linked[2])["TaskExecutionArn"]


def test_a_run_queues_behind_the_tasks_unfinished_execution_then_runs_its_own(datasync, linked, another_runs_execution):
    execution = run({"task_arn": linked[2], "wait_interval_seconds": 3600})
    assert execution.status == "SUCCEEDED", execution.cause
    output = execution.output
    assert output["ExecutionStarted"] is True and output["TaskExecutionArn"] != another_runs_execution
    ended = datasync.describe_task_execution(TaskExecutionArn=another_runs_execution)["EndTime"]
    assert datasync.describe_task_execution(TaskExecutionArn=output["TaskExecutionArn"])["StartTime"] >= ended
    states = entered_states(execution)
    assert states.index("Wait for the running execution") < states.index("Wait for DataSync's event")
    assert states.count("Start execution") == 2


def test_a_run_joins_the_tasks_unfinished_execution(datasync, linked, another_runs_execution):
    execution = run({"task_arn": linked[2], "wait_interval_seconds": 3600, "if_task_running": "join"})
    assert execution.status == "SUCCEEDED", execution.cause
    output = execution.output
    assert (output["TaskExecutionArn"], output["ExecutionStarted"]) == (another_runs_execution, False)
    assert output["TaskExecution"]["Status"] == "SUCCESS"
    assert list(fakes.backend().task_executions) == [another_runs_execution]


def test_a_run_skips_when_the_task_runs(datasync, linked, another_runs_execution):
    execution = run({"task_arn": linked[2], "if_task_running": "skip"})
    assert execution.status == "SUCCEEDED", execution.cause
    output = execution.output
    assert (output["TaskExecutionArn"], output["ExecutionStarted"]) == (another_runs_execution, False)
    assert "TaskExecution" not in output
    assert fakes.backend().task_executions[another_runs_execution].status not in ("SUCCESS", "ERROR")


def test_a_run_fails_when_the_task_runs_and_it_was_told_to(datasync, linked, another_runs_execution):
    cause = failed(run({"task_arn": linked[2], "if_task_running": "fail"}), "DataSyncTaskAlreadyRunningError")
    assert another_runs_execution in cause and 'if_task_running is "fail"' in cause
    assert list(fakes.backend().task_executions) == [another_runs_execution]
    assert fakes.backend().task_executions[another_runs_execution].cancel_time is None


def test_an_unknown_if_task_running_is_invalid(datasync, linked):
    cause = failed(run({"task_arn": linked[2], "if_task_running": "wait"}), "DataSyncInvalidInputError")
    assert "if_task_running: Input should be 'queue', 'join', 'skip' or 'fail' (got 'wait')" in cause


def test_a_run_that_queues_gives_up_without_cancelling_the_other_runs_execution(datasync, linked):
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        other = datasync.start_task_execution(TaskArn=linked[2])["TaskExecutionArn"]
    cause = failed(
        run({"task_arn": linked[2], "wait_interval_seconds": 1, "max_iterations": 1}), "DataSyncExecutionTimeoutError"
    )
    assert other in cause and "so this try started nothing" in cause
    assert list(fakes.backend().task_executions) == [other]
    assert fakes.backend().task_executions[other].cancel_time is None  # the clean-up left it alone


@pytest.mark.parametrize("racing_calls", [["create_location_smb", "create_location_s3"], ["create_task"]])
def test_runs_started_together_converge_on_one_task_and_one_location_per_uri(datasync, monkeypatch, racing_calls):
    for method in racing_calls:  # slow enough that every run looks, finds nothing and creates
        fakes.slow_answers(monkeypatch, method, 0.5)
    if racing_calls == ["create_task"]:
        make_smb_location(datasync), make_s3_location(datasync)
    runs = run_local_together([CREATE_ALL] * 3, timeout=90)
    assert [run.status for run in runs] == ["SUCCEEDED"] * 3, [run.cause for run in runs]
    assert len(location_arns(datasync)) == 2 and len(task_arns(datasync)) == 1
    assert {run.output["TaskArn"] for run in runs} == set(task_arns(datasync))
    created = [arn for run in runs for arn in run.output["CreatedLocationArns"]]
    assert sorted(created) == (sorted(location_arns(datasync)) if len(racing_calls) == 2 else [])
    assert [run.output["TaskCreated"] for run in runs].count(True) == 1
    # A later run finds them.
    later = run(CREATE_ALL)
    assert later.output["TaskArn"] == runs[0].output["TaskArn"] and later.output["TaskCreated"] is False


def test_a_failing_cancel_still_reports_the_original_error(datasync, linked, monkeypatch):
    # The waiting step's and the check's reads are refused; the cancel is refused while the execution runs.
    fakes.fail_calls(monkeypatch, "describe_task_execution", fakes.refused("Access denied to the execution."), 2)
    fakes.fail_calls(monkeypatch, "cancel_task_execution", fakes.refused("Access denied to cancel."))
    execution = run({"task_arn": linked[2], **FAST})
    cause = failed(execution, "DataSyncRequestError")
    assert "Access denied to the execution." in cause and "cancel" not in cause
    assert "Cancel execution after failure" in entered_states(execution)


def test_an_execution_that_ends_just_before_the_cancel_is_described(datasync, linked, monkeypatch):
    # A 4 s transfer outlasts the one check even on a loaded machine, then ends while the cancel is answered.
    fakes.slow_answers(monkeypatch, "cancel_task_execution", 5)
    with emulated_transfers(EmulatedTransfer(seconds=4)):
        execution = run({"task_arn": linked[2], **FAST, "max_iterations": 1})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["TaskExecution"]["Status"] == "SUCCESS"
    states = entered_states(execution)
    assert states.index("Cancel timed-out execution") < states.index("Describe finished execution")


def test_a_refused_location_creation_is_a_creation_error(datasync, monkeypatch):
    fakes.fail_calls(monkeypatch, "create_location_smb", fakes.refused("The agent is offline."))
    cause = failed(run(CREATE_ALL), "DataSyncTaskCreationError")
    assert "create the source location smb://hostname/directory/" in cause and "The agent is offline." in cause
    assert task_arns(datasync) == []


def test_a_role_the_deployment_may_not_pass_is_refused_before_anything_is_created(datasync, monkeypatch):
    monkeypatch.setenv("PASSABLE_ROLE_ARNS", '["arn:aws:iam::111122223333:role/some-other-role"]')
    cause = failed(run(CREATE_ALL), "DataSyncInvalidInputError")
    assert "create_destination_location_kwargs.S3Config.BucketAccessRoleArn" in cause
    assert "passable_role_arns" in cause
    assert location_arns(datasync) == [] and task_arns(datasync) == []


def quickly_retrying_definition() -> str:
    """The real definition, retrying at 1 s intervals so that a test does not wait a minute of backoff."""
    definition = json.loads(definition_text())
    for state in definition["States"].values():
        for retrier in state.get("Retry", []):
            retrier.update(IntervalSeconds=1, BackoffRate=1, MaxDelaySeconds=1)
    return json.dumps(definition)


def step_fails(monkeypatch, failing_step: str, error: Exception) -> None:
    """Every invocation of `failing_step`'s function raises `error`, as a function that cannot run would."""
    invoke = local._invoke

    def failing(step_name, event):
        if step_name == failing_step:
            raise error
        return invoke(step_name, event)

    monkeypatch.setattr(local, "_invoke", failing)


def test_a_timeouts_sentence_is_its_cause_when_no_next_try_can_be_planned(datasync, linked, monkeypatch):
    step_fails(monkeypatch, "retry", RuntimeError("the retry step could not run"))
    with emulated_transfers(EmulatedTransfer(seconds=20)):
        execution = run_local({"task_arn": linked[2], "execution_timeout": 2}, timeout=30)
    cause = failed(execution, "DataSyncExecutionTimeoutError")
    assert cause.endswith("did not finish within execution_timeout=2 s, so it was cancelled.")
    assert entered_states(execution)[-2:] == ["Classify failure", "Failed with its own sentence"]


@pytest.mark.parametrize("error_name", ["Lambda.ServiceException", "Sandbox.Timedout"])  # Lambda: a function timed out
def test_errors_from_outside_the_steps_fail_the_run_unchanged(datasync, linked, monkeypatch, error_name):
    step_fails(monkeypatch, "describe", type(error_name, (Exception,), {})("the function could not run"))
    execution = run_local({"task_arn": linked[2], **FAST}, timeout=60, definition=quickly_retrying_definition())
    assert (execution.status, execution.error) == ("FAILED", error_name)
    assert "the function could not run" in execution.cause
    assert entered_states(execution)[-3:] == ["Plan the next try", "Try again?", "Failed"]


def test_a_failure_is_still_explained_when_no_next_try_can_be_planned(datasync, linked, monkeypatch):
    step_fails(monkeypatch, "retry", RuntimeError("the retry step could not run"))
    missing = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
    execution = run_local({"task_arn": missing, **FAST}, timeout=60)
    assert failed(execution, "DataSyncTaskNotFoundError").startswith(f"DataSync has no task {missing}")
    assert entered_states(execution)[-4:] == [
        "Plan the next try",
        "Classify failure",
        "Explain failure",
        "Failed with the step's message",
    ]


def test_datasync_failing_past_the_last_retry_ends_the_run_with_the_transient_error(datasync, linked, monkeypatch):
    down = JsonRESTError("InternalException", "An internal error occurred.")
    down.code = 500
    fakes.fail_calls(monkeypatch, "start_task_execution", down)
    execution = run_local({"task_arn": linked[2], **FAST}, timeout=60, definition=quickly_retrying_definition())
    cause = failed(execution, "DataSyncTransientError")
    assert cause.startswith(f"DataSync failed to start task {linked[2]}, will retry: InternalException")
    assert step_failures(execution) == ["DataSyncTransientError"] * 6  # the first try and its 5 retries
    assert fakes.backend().task_executions == {}
