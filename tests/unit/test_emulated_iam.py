"""The stack's grants, enforced on the emulated DataSync while a step acts (datasync_workflow/local/emulated_iam.py):
what a local run's step may do is what its role may do in AWS, scope and conditions included."""

from unittest import mock

import pytest
from moto.datasync.responses import DataSyncResponse

from datasync_steps.create_locations import create_locations
from datasync_steps.create_task import create_task
from datasync_steps.deployment import Deployment, ScopeTag
from datasync_steps.errors import DataSyncRequestError
from datasync_steps.input_parsing import parse_workflow_input
from datasync_steps.lookup import in_scope
from datasync_steps.resources import workflow_tag
from datasync_steps.state import Target
from datasync_workflow.definition.steps import Grant, Step, step_named
from datasync_workflow.local.emulated_iam import acting_as, outside_any_step
from tests.conftest import (
    make_agent,
    make_s3_location,
    make_smb_location,
    make_task,
    refused,
    s3_kwargs,
    smb_kwargs,
    task_arns,
)

SCOPED = Deployment(scope_tag=ScopeTag(key="team", value="finance"))
TEAM = {"Key": "team", "Value": "finance"}
LOCAL_RUN = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow-0123abcd:run-1"
OTHER_WORKFLOW = "arn:aws:states:us-east-1:123456789012:execution:payroll-transfers:run-1"


def denied(call) -> str:
    return refused("AccessDeniedException", call)


def test_a_step_may_call_only_what_its_role_is_granted(datasync, task):
    with acting_as(step_named("check-status"), Deployment()):
        message = denied(lambda: datasync.delete_task(TaskArn=task))
    assert "datasync-workflow-check-status is not authorized to perform: datasync:DeleteTask" in message
    assert task_arns(datasync) == [task]
    datasync.delete_task(TaskArn=task)  # outside a step: a test's or a user's own call, not checked


def test_create_task_deletes_only_a_task_a_run_of_this_workflow_made(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    theirs = datasync.create_task(
        SourceLocationArn=source, DestinationLocationArn=destination, Tags=[workflow_tag(OTHER_WORKFLOW)]
    )["TaskArn"]
    ours = datasync.create_task(
        SourceLocationArn=source, DestinationLocationArn=destination, Tags=[workflow_tag(LOCAL_RUN)]
    )["TaskArn"]
    untagged = make_task(datasync, source, destination)
    with acting_as(step_named("create-task"), Deployment()):
        for task in (theirs, untagged):
            assert "datasync:DeleteTask on resource: " + task in denied(lambda t=task: datasync.delete_task(TaskArn=t))
        datasync.delete_task(TaskArn=ours)
    assert sorted(task_arns(datasync)) == sorted([theirs, untagged])


def test_a_scoped_step_acts_only_on_what_carries_the_tag_and_creates_only_with_it(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    datasync.tag_resource(ResourceArn=source, Tags=[TEAM])
    with acting_as(step_named("create-task"), SCOPED):
        # Linking another team's location, or creating without the tag, is refused.
        denied(lambda: datasync.create_task(SourceLocationArn=source, DestinationLocationArn=destination, Tags=[TEAM]))
    datasync.tag_resource(ResourceArn=destination, Tags=[TEAM])
    with acting_as(step_named("create-task"), SCOPED):
        denied(lambda: datasync.create_task(SourceLocationArn=source, DestinationLocationArn=destination))
        task = datasync.create_task(SourceLocationArn=source, DestinationLocationArn=destination, Tags=[TEAM])
    assert task_arns(datasync) == [task["TaskArn"]]


def scoped_locations(datasync) -> tuple:
    """An input that creates a task, and two locations in the scope for it to link."""
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    for arn in (source, destination):
        datasync.tag_resource(ResourceArn=arn, Tags=[TEAM])
    config = parse_workflow_input(
        {"source_location_uri": "smb://h/d", "destination_location_uri": "s3://b/p", "create_task_kwargs": {}}
    )
    return config, Target(SourceLocationArn=source, DestinationLocationArn=destination)


def test_the_create_task_step_tags_what_it_makes_with_the_scope(datasync):
    config, target = scoped_locations(datasync)
    with acting_as(step_named("create-task"), SCOPED):
        made = create_task(datasync, datasync, config, target, workflow_tag(LOCAL_RUN), SCOPED)
    assert TEAM in datasync.list_tags_for_resource(ResourceArn=made.TaskArn)["Tags"]


def test_a_scoped_refusal_names_the_tag(datasync, task, monkeypatch):
    from datasync_steps.update import update_task

    monkeypatch.setenv("SCOPE_TAG", SCOPED.scope_tag.model_dump_json())
    with acting_as(step_named("update"), SCOPED), pytest.raises(DataSyncRequestError) as raised:
        update_task(datasync, task, {"Name": "pwned"})
    assert f"Access denied to update task {task}" in str(raised.value)
    assert "tagged team=finance (its scope_tag)" in str(raised.value)
    assert datasync.describe_task(TaskArn=task)["Name"] == "task"


def test_a_create_that_sets_tags_also_needs_tag_resource(datasync):
    creates_only = Step("creates-only", (Grant(("datasync:CreateLocationS3",), ("*",)),))
    with acting_as(creates_only, Deployment()):
        datasync.create_location_s3(**s3_kwargs())
        message = denied(lambda: datasync.create_location_s3(**s3_kwargs(), Tags=[TEAM]))
    assert "is not authorized to perform: datasync:TagResource" in message


def test_a_scoped_create_task_keeps_its_own_task_beside_an_older_one_out_of_the_scope(datasync):
    config, target = scoped_locations(datasync)
    source, destination = target.locations()
    create_task_tasks = DataSyncResponse.create_task
    foreign = []

    def another_team_links_them_first(self):
        if not foreign:  # older than this run's, and not in its scope
            foreign.append(None)
            with outside_any_step():
                foreign[0] = make_task(datasync, source, destination)
        return create_task_tasks(self)

    with (
        mock.patch.object(DataSyncResponse, "create_task", another_team_links_them_first),
        acting_as(step_named("create-task"), SCOPED),
    ):
        made = create_task(datasync, datasync, config, target, workflow_tag(LOCAL_RUN), SCOPED)
    assert made.TaskCreated is True and made.TaskArn != foreign[0]
    assert sorted(task_arns(datasync)) == sorted([foreign[0], made.TaskArn])


def test_a_resource_deleted_since_it_was_listed_is_not_in_the_scope(stubbed):
    client, stubber = stubbed
    arn = "arn:aws:datasync:us-east-1:111122223333:location/loc-0123456789abcdef0"
    stubber.add_client_error("list_tags_for_resource", "InvalidRequestException", f"Resource {arn} not found.")
    assert in_scope(client, arn, SCOPED.scope_tag) is False


def test_the_create_locations_step_may_read_an_agents_tags_to_create_through_its_own(datasync):
    agent = make_agent(datasync, TEAM)
    config = parse_workflow_input(
        {
            "source_location_uri": "smb://hostname/directory/",
            "destination_location_uri": "s3://mybucket/prefix",
            "create_task_kwargs": {},
            "create_source_location_kwargs": {**smb_kwargs(), "AgentArns": [agent]},
            "create_destination_location_kwargs": s3_kwargs(),
        }
    )
    with acting_as(step_named("create-locations"), SCOPED):
        made = create_locations(datasync, datasync, config, Target(), workflow_tag(LOCAL_RUN), SCOPED)
    assert len(made.CreatedLocationArns) == 2
