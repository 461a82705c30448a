"""A run from its input to its end: found or created from two buckets' URIs, ended by DataSync's own event, its task
deleted when asked; bad input and a plaintext secret refused before anything is made. What each proves on AWS is in
docs/reference/proven.md."""

import json

import pytest

from tests.e2e.target import Target

WAIT_STATE = "Wait for DataSync's event"
CHECK_STATE = "Check execution status"


@pytest.mark.proves(
    "DataSync's task-execution state-change event reaches the workflow through EventBridge and ends its wait; "
    "its State's casing",
    emulation="the emulated DataSync publishes the same event, with the State in capitals, to the local rule",
)
def test_a_transfer_between_two_buckets_is_ended_by_datasyncs_event(target: Target):
    # An hour between checks: the run ends well before that only if DataSync's event reached the workflow.
    run = target.run({**target.s3_to_s3(), "wait_interval_seconds": 3600})
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["TaskCreated"] is True and len(run.output["CreatedLocationArns"]) == 2
    assert run.output["TaskExecution"]["Status"] == "SUCCESS"
    assert WAIT_STATE in run.entered() and CHECK_STATE not in run.entered()
    # DataSync's event woke the wait with its State as the workflow reads it (the casing DataSync sends).
    (woken,) = [
        e for e in run.history if e["type"] == "TaskSucceeded" and "Status" in e["taskSucceededEventDetails"]["output"]
    ]
    assert json.loads(woken["taskSucceededEventDetails"]["output"]) == {"Status": "SUCCESS"}


@pytest.mark.proves(
    "S3 locations and a task created from two buckets' URIs with a bucket-access role; DeleteTask after a run",
    emulation="moto's DataSync keeps the locations and tasks; no object is copied",
)
def test_a_task_made_for_the_run_is_deleted_after_it_when_asked_and_its_locations_stay(target: Target):
    run = target.run({**target.s3_to_s3(), "delete_task_after_execution": True})
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["TaskDeleted"] is True
    datasync = target.client("datasync")
    tasks = [task["TaskArn"] for page in datasync.get_paginator("list_tasks").paginate() for task in page["Tasks"]]
    assert run.output["TaskArn"] not in tasks
    for location in run.output["CreatedLocationArns"]:
        assert datasync.describe_location_s3(LocationArn=location)["LocationArn"] == location


@pytest.mark.proves(
    "ListLocations with a LocationUri filter and ListTasks find what an earlier run made",
    emulation="the emulated DataSync applies the filters as the API reference describes",
)
def test_a_second_run_finds_the_task_the_first_made(target: Target):
    transfer = target.s3_to_s3()
    first, second = target.run(transfer), target.run(transfer)
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED"), (first.cause, second.cause)
    assert second.output["TaskArn"] == first.output["TaskArn"] and second.output["TaskCreated"] is False


@pytest.mark.proves(
    "a failed execution's Error and Cause as Step Functions keeps them (no stack trace)",
    emulation="moto's Step Functions engine runs the same definition",
)
def test_bad_input_fails_naming_the_fields_before_anything_is_made(target: Target):
    run = target.run({"task_arn": "not-an-arn", "max_iterations": 0})
    assert (run.status, run.error) == ("FAILED", "DataSyncInvalidInputError")
    assert "task_arn" in run.cause and "max_iterations" in run.cause and "stackTrace" not in run.cause
    assert "Validate input and find task" in run.entered() and "Start execution" not in run.entered()


@pytest.mark.proves(
    "what Step Functions writes into a history: the input in no event after the first state",
    emulation="moto's engine writes its own history of the same definition",
)
def test_a_password_in_the_input_is_refused_and_in_no_later_event(target: Target):
    password = "e2e-not-a-real-password"
    smb = {"ServerHostname": "h", "Subdirectory": "/s", "User": "u", "Password": password, "AgentArns": []}
    run = target.run(
        {
            "source_location_uri": "smb://h/s",
            "destination_location_uri": "s3://b/p",
            "create_source_location_kwargs": smb,
        }
    )
    assert run.error == "DataSyncInvalidInputError" and "Password" in run.cause and password not in run.cause
    holding = [e["type"] for e in run.history if password in json.dumps(e, default=str)]
    # The execution's own input, and the first state's entry, which is handed it; nothing after.
    assert holding == ["ExecutionStarted", "PassStateEntered"], holding
