"""The workflow as an attacker, or a careless caller, would try it in a shared account: secrets in the input, other
teams' tasks, forged wake-ups, inputs at Step Functions' limits. The real definition runs through `run_local`, whose
steps may do in the emulated DataSync only what the stack's roles let them (datasync_workflow/local/emulated_iam.py)."""

import io
import json
import logging

import boto3
import pytest

from datasync_steps.limits import MAX_INPUT_BYTES
from datasync_steps.names import CHECK_STATE, DESCRIBE_STATE, WAIT_STATE
from datasync_steps.observability import logger
from datasync_steps.waiting import SORT_KEY, TOKEN
from datasync_workflow.local import EmulatedTransfer, emulated_transfers, run_local
from datasync_workflow.local import runner as local
from tests import fakes
from tests.conftest import (
    REGION,
    make_agent,
    make_s3_location,
    make_smb_location,
    make_task,
    s3_kwargs,
    smb_kwargs,
    task_arns,
)

URIS = {"source_location_uri": "smb://hostname/directory/", "destination_location_uri": "s3://mybucket/prefix"}
PASSWORD = "correct-horse-battery-staple"
TEAM = {"Key": "team", "Value": "finance"}


def entered_states(execution) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in execution.history if "stateEnteredEventDetails" in e]


def smb_with_password() -> dict:
    kwargs = {key: value for key, value in smb_kwargs().items() if key != "CustomSecretConfig"}
    return {**kwargs, "Password": PASSWORD}


def create_all(source_kwargs: dict) -> dict:
    return {
        **URIS,
        "wait_interval_seconds": 0,
        "create_task_kwargs": {"Name": "t"},
        "create_source_location_kwargs": source_kwargs,
        "create_destination_location_kwargs": s3_kwargs(),
    }


# Secrets.


def test_a_password_in_the_input_is_refused_before_anything_is_created(datasync):
    execution = run_local(create_all(smb_with_password()), timeout=60)
    assert execution.error == "DataSyncInvalidInputError"
    assert "create_source_location_kwargs.Password: a plaintext secret" in execution.cause
    assert PASSWORD not in execution.cause
    assert datasync.list_locations()["Locations"] == [] and task_arns(datasync) == []


def test_a_location_whose_password_secrets_manager_keeps_is_created_and_run(datasync):
    execution = run_local(create_all(smb_kwargs()), timeout=60)
    assert execution.status == "SUCCEEDED", execution.cause
    source = execution.output["CreatedLocationArns"][0]
    assert (
        datasync.describe_location_smb(LocationArn=source)["CustomSecretConfig"] == smb_kwargs()["CustomSecretConfig"]
    )


def test_an_opted_in_password_stays_in_the_executions_input_and_nowhere_else(datasync, monkeypatch):
    monkeypatch.setenv("ALLOW_SECRETS_IN_INPUT", "true")
    logs = io.StringIO()  # what the steps' Logger writes, as Lambda would send it to CloudWatch
    monkeypatch.setattr(logger.registered_handler, "stream", logs)
    level = logger.log_level
    logger.setLevel(logging.DEBUG)
    monkeypatch.setattr(logger, "setLevel", lambda _: None)  # as set, whatever a step's decorator would
    execution = run_local({**create_all(smb_with_password()), "update_task_kwargs": {"Name": "u"}}, timeout=60)
    assert execution.status == "SUCCEEDED", execution.cause
    holding = [event for event in execution.history if PASSWORD in json.dumps(event, default=str)]
    # The execution's input, as it started and as its first state took it; no state after, and no step's event.
    assert [event["type"] for event in holding] == ["ExecutionStarted", "PassStateEntered"]
    assert holding[1]["stateEnteredEventDetails"]["name"] == "First try"
    logger.__class__.setLevel(logger, level)
    assert '"message":"Created a location"' in logs.getvalue()  # the steps did log
    assert PASSWORD not in logs.getvalue()


# A deployment's scope: another team's tasks and executions, in the same account, are out of reach.


@pytest.fixture
def scoped(monkeypatch):
    monkeypatch.setenv("SCOPE_TAG", json.dumps({"key": "team", "value": "finance"}))


@pytest.fixture
def theirs(datasync):
    """Another team's task, without this deployment's tag."""
    return make_task(datasync, make_smb_location(datasync, host="payroll"), make_s3_location(datasync, "payroll"))


def refused_for_scope(execution) -> None:
    assert (execution.status, execution.error) == ("FAILED", "DataSyncRequestError"), execution.cause
    assert "AccessDeniedException" in execution.cause and "tagged team=finance (its scope_tag)" in execution.cause


def test_a_scoped_run_cannot_run_and_delete_another_teams_task(datasync, scoped, theirs):
    execution = run_local({"task_arn": theirs, "wait_interval_seconds": 0, "delete_task_after_execution": True})
    refused_for_scope(execution)
    assert f"find task {theirs}" in execution.cause
    assert task_arns(datasync) == [theirs] and datasync.list_task_executions()["TaskExecutions"] == []


def test_a_scoped_run_cannot_update_another_teams_task(datasync, scoped, theirs):
    execution = run_local({"task_arn": theirs, "update_task_kwargs": {"Name": "pwned"}})
    refused_for_scope(execution)
    assert datasync.describe_task(TaskArn=theirs)["Name"] == "task"


def test_a_scoped_run_cannot_join_and_cancel_another_teams_execution(datasync, scoped, monkeypatch):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    datasync.tag_resource(ResourceArn=task, Tags=[TEAM])  # the task is shared; its execution is not ours
    with emulated_transfers(EmulatedTransfer(seconds=30)):
        running = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    execution = run_local(
        {"task_arn": task, "if_task_running": "join", "max_iterations": 1, "wait_interval_seconds": 0}
    )
    refused_for_scope(execution)
    assert datasync.describe_task_execution(TaskExecutionArn=running)["Status"] not in ("CANCELLING", "ERROR")


def test_a_scoped_run_finds_only_its_own_and_tags_all_it_makes(datasync, scoped, theirs):
    # Another team's locations and task on the very same URIs are not there for it.
    other_source, other_destination = make_smb_location(datasync), make_s3_location(datasync)
    make_task(datasync, other_source, other_destination)
    execution = run_local(create_all({**smb_kwargs(), "AgentArns": [make_agent(datasync, TEAM)]}), timeout=60)
    assert execution.status == "SUCCEEDED", execution.cause
    output = execution.output
    made = [*output["CreatedLocationArns"], output["TaskArn"], output["TaskExecutionArn"]]
    assert len(made) == 4 and other_source not in made
    for arn in made:
        assert TEAM in datasync.list_tags_for_resource(ResourceArn=arn)["Tags"], arn
    # The next scoped run finds what this one made, and only that.
    again = run_local({**URIS, "wait_interval_seconds": 0}, timeout=60)
    assert again.output["TaskArn"] == output["TaskArn"]


# Only DataSync's word ends a wait.


def test_a_forged_wake_up_while_the_transfer_runs_does_not_end_the_run_or_delete_the_task(datasync, monkeypatch):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    sfn = boto3.client("stepfunctions", region_name=REGION)
    forged = []

    def forge(event):
        if event["type"] == "TaskSubmitted" and not forged:
            table = boto3.resource("dynamodb", region_name=REGION).Table(local.WAITING_TABLE_NAME)
            # The run's one token (the table also holds which runs use which task).
            (item,) = [stored for stored in table.scan()["Items"] if TOKEN in stored]
            # Whoever holds the token (a resume that did not look, a stale one) says it ended.
            sfn.send_task_success(taskToken=item[TOKEN], output=json.dumps({"Status": "SUCCESS"}))
            # And the resume function, invoked by hand with a forged event, wakes nobody.
            event_of_theirs = {
                "version": "0",
                "id": "forged",
                "detail-type": "DataSync Task Execution State Change",
                "source": "aws.datasync",
                "account": "123456789012",
                "time": "2026-11-29T00:00:00Z",
                "region": REGION,
                "resources": [item["TaskExecutionArn"]],
                "detail": {"State": "SUCCESS"},
            }
            forged.append((item[SORT_KEY], local._invoke("resume", event_of_theirs)))

    with emulated_transfers(EmulatedTransfer(seconds=3)):
        execution = run_local(
            {"task_arn": task, "wait_interval_seconds": 1, "delete_task_after_execution": True}, on_event=forge
        )
    assert execution.status == "SUCCEEDED", execution.cause
    assert forged[0][1] == {"Resumed": 0}
    assert execution.output["TaskExecution"]["Status"] == "SUCCESS" and execution.output["TaskDeleted"] is True
    states = entered_states(execution)
    # Woken early, the run described the execution, found it running, and went back to its checks.
    first_describe = states.index(DESCRIBE_STATE)
    assert states[first_describe + 1 : first_describe + 3] == ["Did it end?", CHECK_STATE]
    assert states.count(DESCRIBE_STATE) >= 2 and WAIT_STATE in states[first_describe:]
    deleted_after = states.index("Delete task")
    described = [
        json.loads(e["stateExitedEventDetails"]["output"])["description"]["Status"]
        for e in execution.history
        if e["type"] == "TaskStateExited" and e["stateExitedEventDetails"]["name"] == DESCRIBE_STATE
    ]
    assert described[0] != "SUCCESS" and described[-1] == "SUCCESS"
    assert deleted_after > states.index(DESCRIBE_STATE, first_describe + 1)


# Sizes at Step Functions' limits.


def test_an_input_of_200_kib_with_a_long_filter_runs_and_every_state_stays_small(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    # Filters as long as DataSync takes (102,400 characters each).
    filters = {
        key: [{"FilterType": "SIMPLE_PATTERN", "Value": "|".join(f"/{key[:2]}/{n:06}" for n in range(9_309))}]
        for key in ("Includes", "Excludes")
    }
    execution_input = {"task_arn": task, "wait_interval_seconds": 0, "task_execution_kwargs": filters}
    assert {len(rules[0]["Value"]) for rules in filters.values()} == {102_398}
    assert 200 * 1024 < len(json.dumps(execution_input, separators=(",", ":"))) < MAX_INPUT_BYTES
    execution = run_local(execution_input, timeout=60)
    assert execution.status == "SUCCEEDED", execution.cause
    # DataSync ran with the whole filters; the output cut them, saying how long they were.
    described = fakes.backend().task_executions[execution.output["TaskExecutionArn"]]
    assert (described.includes, described.excludes) == (filters["Includes"], filters["Excludes"])
    for key in filters:
        assert execution.output["TaskExecution"][key][0]["Value"].endswith("(102,398 characters in all)")
    assert len(json.dumps(execution.output)) < 16 * 1024
    # Only the execution's own input holds them: as it started, and as its first state took it.
    holding = [event["type"] for event in execution.history if "/In/009308" in json.dumps(event, default=str)]
    assert holding == ["ExecutionStarted", "PassStateEntered"]
    largest = max(len(json.dumps(event, default=str)) for event in execution.history[2:])
    assert largest < 16 * 1024, largest


def test_an_input_over_256_kib_is_refused_naming_the_limit():
    from datasync_steps.errors import DataSyncInvalidInputError
    from datasync_steps.input_parsing import parse_workflow_input

    with pytest.raises(DataSyncInvalidInputError, match="Step Functions takes at most 262,144"):
        parse_workflow_input({"task_arn": "x", "task_execution_kwargs": {"Name": "n" * MAX_INPUT_BYTES}})


def test_five_hundred_unknown_keys_fail_with_a_cause_step_functions_keeps_whole(datasync):
    execution = run_local({"task_arn": "x", **{f"key_{n:03}_{'x' * 60}": n for n in range(500)}}, timeout=60)
    assert execution.error == "DataSyncInvalidInputError"
    assert len(execution.cause) < 32_768 and execution.cause.count("the keys are") == 1
    assert f"'key_019_{'x' * 51}… (70 characters) and 480 more (the keys are task_arn," in execution.cause
