"""create-task: link the two locations, once, against the emulated DataSync (and Stubber for what it lacks)."""

import pytest

from datasync_steps.create_task import create_task
from datasync_steps.errors import (
    DataSyncTaskCreationError,
)
from datasync_steps.input_parsing import parse_workflow_input
from datasync_steps.resources import workflow_tag
from datasync_steps.state import Target
from tests.conftest import make_s3_location, make_smb_location, task_arns

RUN = workflow_tag("run-1")


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
