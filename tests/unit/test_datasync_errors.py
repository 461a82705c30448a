"""How DataSync's errors reach the state machine. Stubber answers with the errors the API model declares; the
clients' own retries run against the emulated DataSync with faults injected into moto's answers."""

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from datasync_steps.datasync import datasync_client, translate_errors
from datasync_steps.errors import (
    DataSyncInvalidInputError,
    DataSyncLocationNotFoundError,
    DataSyncRequestError,
    DataSyncTaskCreationError,
    DataSyncTaskNotFoundError,
    DataSyncTransientError,
)
from tests import fakes
from tests.conftest import location_arns, s3_kwargs, smb_kwargs

TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


@pytest.mark.parametrize(
    ("code", "status"),
    [("ThrottlingException", 400), ("InternalException", 500), ("ServiceUnavailable", 503), ("Whatever", 502)],
)
def test_throttling_and_server_errors_are_transient(stubbed, code, status):
    client, stubber = stubbed
    stubber.add_client_error("describe_task", code, "slow down", http_status_code=status)
    with (
        pytest.raises(DataSyncTransientError, match=f"DataSync failed to read the task, will retry: {code}"),
        translate_errors("read the task"),
    ):
        client.describe_task(TaskArn=TASK_ARN)


def test_not_found_becomes_the_not_found_error_with_datasyncs_words(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("update_task", "InvalidRequestException", f"Task {TASK_ARN} not found.")
    with (
        pytest.raises(
            DataSyncTaskNotFoundError,
            match=f"Could not update the task: InvalidRequestException: Task {TASK_ARN} not found",
        ),
        translate_errors("update the task", not_found=DataSyncTaskNotFoundError),
    ):
        client.update_task(TaskArn=TASK_ARN, Name="n")


def test_other_invalid_requests_carry_datasyncs_message_and_code(stubbed):
    client, stubber = stubbed
    stubber.add_client_error(
        "create_task",
        "InvalidRequestException",
        "DataSync location access test failed",
        modeled_fields={"datasyncErrorCode": "LocationAccessDenied"},
    )
    with (
        pytest.raises(DataSyncTaskCreationError) as raised,
        translate_errors("create the task", refused=DataSyncTaskCreationError, not_found=DataSyncTaskNotFoundError),
    ):
        client.create_task(SourceLocationArn=TASK_ARN, DestinationLocationArn=TASK_ARN)
    assert str(raised.value) == (
        "DataSync refused to create the task: InvalidRequestException: DataSync location access test failed "
        "(DataSync error code LocationAccessDenied)"
    )


def test_refusals_default_to_the_request_error(stubbed):
    client, stubber = stubbed
    stubber.add_client_error("start_task_execution", "InvalidRequestException", "Task is already running")
    with (
        pytest.raises(DataSyncRequestError, match=r"DataSync refused to start the task: .*already running"),
        translate_errors("start the task"),
    ):
        client.start_task_execution(TaskArn=TASK_ARN)


def test_network_failures_are_transient():
    with (
        pytest.raises(DataSyncTransientError, match="Could not reach DataSync to list the tasks"),
        translate_errors("list the tasks"),
    ):
        raise EndpointConnectionError(endpoint_url="https://datasync.us-east-1.amazonaws.com")


def test_a_client_that_creates_repeats_a_throttled_call_once_and_nothing_else(datasync, monkeypatch):
    throttled = fakes.fail_calls(monkeypatch, "create_location_smb", fakes.throttled(), times=1)
    datasync_client(creates=True).create_location_smb(**smb_kwargs())
    assert throttled[0] == 2 and len(location_arns(datasync)) == 1
    # An answer lost after DataSync acted is not repeated: that would make a second location.
    lost = fakes.lose_answers(monkeypatch, "create_location_s3")
    with pytest.raises(ClientError, match="InternalException"):
        datasync_client(creates=True).create_location_s3(**s3_kwargs())
    assert lost[0] == 1 and len(location_arns(datasync)) == 2


def test_other_clients_repeat_failed_calls(datasync, monkeypatch):
    calls = fakes.fail_calls(monkeypatch, "list_locations", fakes.throttled(), times=2)
    datasync_client().list_locations()
    assert calls[0] == 3


def test_access_denied_names_the_missing_permission_and_is_never_not_found(stubbed):
    from datasync_steps.resources import describe_task

    client, stubber = stubbed
    denied = (
        "User: arn:aws:sts::111122223333:assumed-role/resolve/fn is not authorized to perform: "
        f"datasync:DescribeTask on resource: {TASK_ARN}"
    )
    stubber.add_client_error("describe_task", "AccessDeniedException", denied, http_status_code=400)
    with pytest.raises(DataSyncRequestError) as raised:
        describe_task(client, TASK_ARN)
    assert "not authorized to perform: datasync:DescribeTask" in str(raised.value)
    assert "The step's role lacks that permission." in str(raised.value)


def test_a_call_botocore_refuses_names_the_parameter_never_its_value():
    client = boto3.client("datasync", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with pytest.raises(DataSyncInvalidInputError) as raised, translate_errors("create the source location"):
        client.create_location_smb(
            ServerHostname="h",
            Subdirectory="/s",
            AgentArns=["a"],
            User="u",
            Password=31337,  # type: ignore[arg-type]
        )
    assert "Invalid type for parameter Password, value: (not shown), type:" in str(raised.value)
    assert "31337" not in str(raised.value)


def test_a_task_datasync_does_not_have_is_said_so_whatever_words_datasync_uses(stubbed):
    from datasync_steps.resources import describe_task

    client, stubber = stubbed
    for words in (f"Task {TASK_ARN} not found.", "Invalid request provided"):
        stubber.add_client_error("describe_task", "InvalidRequestException", words)
        with pytest.raises(DataSyncTaskNotFoundError) as raised:
            describe_task(client, TASK_ARN)
        assert str(raised.value) == (
            f"DataSync has no task {TASK_ARN} in this account and region: InvalidRequestException: {words}"
        )


def test_a_location_or_execution_datasync_does_not_have_is_said_so_with_its_kind(stubbed):
    from datasync_steps.lookup import location_describer
    from datasync_steps.resources import made_by

    client, stubber = stubbed
    location = "arn:aws:datasync:us-east-1:111122223333:location/loc-0123456789abcdef0"
    stubber.add_client_error("describe_location_s3", "InvalidRequestException", "Location not found.")
    with pytest.raises(DataSyncLocationNotFoundError) as raised:
        location_describer(client, "s3://bucket/prefix")(location)
    assert str(raised.value) == f"DataSync has no location {location}: InvalidRequestException: Location not found."
    execution = f"{TASK_ARN}/execution/exec-0123456789abcdef0"
    stubber.add_client_error("list_tags_for_resource", "InvalidRequestException", "Resource does not exist")
    with pytest.raises(DataSyncTaskNotFoundError, match=f"^DataSync has no execution {execution}: InvalidRequest"):
        made_by(client, execution)
    # Any other refusal of the same calls is not "not found".
    stubber.add_client_error("list_tags_for_resource", "InvalidRequestException", "Too many tags asked for")
    with pytest.raises(DataSyncRequestError, match=f"^DataSync refused to list the tags of {execution}: "):
        made_by(client, execution)
