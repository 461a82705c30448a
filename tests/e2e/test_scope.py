"""A scoped deployment (its scope_tag): a run acts only on DataSync resources that carry the tag, as IAM's tag
conditions on the steps' roles decide, and tags all it makes. On a deployed stack IAM itself judges, so the stack the
suite targets must be deployed with a scope_tag; on the emulation the same grants are enforced by the emulated IAM
(datasync_workflow/local/emulated_iam.py) with a scope tag the scenario sets."""

import json
import os
import uuid

import pytest

from datasync_steps.deployment import SCOPE_TAG_VARIABLE
from tests.e2e.target import Target

EMULATED_SCOPE = {"key": "datasync-workflow-e2e-team", "value": "e2e"}


def scope_of(target: Target) -> dict[str, str]:
    """The deployment's scope tag: on a stack, what its functions are given (the e2e stack must have one); on the
    emulation, set for this scenario, as the stack sets it on every function."""
    if target.emulated:
        before = os.environ.get(SCOPE_TAG_VARIABLE)
        os.environ[SCOPE_TAG_VARIABLE] = json.dumps(EMULATED_SCOPE)
        target.remember(
            lambda: (
                os.environ.pop(SCOPE_TAG_VARIABLE, None)
                if before is None
                else os.environ.__setitem__(SCOPE_TAG_VARIABLE, before)
            )
        )
        return EMULATED_SCOPE
    configuration = target.client("lambda").get_function_configuration(FunctionName=target.function_name("resolve"))
    scope = configuration.get("Environment", {}).get("Variables", {}).get(SCOPE_TAG_VARIABLE)
    assert scope, (
        f"deploy the stack {target.name} with a scope_tag in cdk.json: this scenario checks IAM's tag conditions"
    )
    return json.loads(scope)


def another_teams_task(target: Target) -> str:
    """A task between two new buckets, made outside the workflow and without the scope's tag (removed at the end)."""
    task, _ = target.task_between(target.bucket({"a.txt": b"theirs\n"}), target.bucket())
    return task


@pytest.mark.proves(
    "IAM's aws:ResourceTag condition on a scoped stack's roles refuses a run on another team's task: no execution "
    "is started and the task is neither updated nor deleted",
    emulation="the emulated IAM enforces the steps' grants and their tag conditions on the emulated DataSync",
)
def test_a_scoped_run_is_refused_another_teams_task(target: Target):
    scope = scope_of(target)
    theirs = another_teams_task(target)
    target.access_denied_expected = True
    run = target.run(
        {"task_arn": theirs, "update_task_kwargs": {"Name": "not-yours"}, "delete_task_after_execution": True}
    )
    assert (run.status, run.error) == ("FAILED", "DataSyncRequestError"), run.cause
    assert "AccessDenied" in run.cause and f"tagged {scope['key']}={scope['value']} (its scope_tag)" in run.cause
    datasync = target.client("datasync")
    assert datasync.describe_task(TaskArn=theirs).get("Name") != "not-yours"
    assert datasync.list_task_executions(TaskArn=theirs)["TaskExecutions"] == []


@pytest.mark.proves(
    "a scoped stack's roles may create, tag and run what carries the scope (aws:RequestTag on the creates, "
    "aws:ResourceTag after), and everything the run makes carries the scope's tag",
    emulation="the emulated IAM checks the request's and the resource's tags as IAM's conditions would",
)
def test_a_scoped_run_makes_runs_and_tags_its_own(target: Target):
    scope = scope_of(target)
    run = target.run(target.s3_to_s3())
    assert run.status == "SUCCEEDED", run.cause
    made = [*run.output["CreatedLocationArns"], run.output["TaskArn"], run.output["TaskExecutionArn"]]
    assert len(made) == 4
    for arn in made:
        tags = target.tags(arn)
        assert tags.get(scope["key"]) == scope["value"], (arn, tags)


@pytest.mark.proves(
    "a scoped stack passes over another team's location for the run's URI (ListTagsForResource on it is allowed, "
    "its tags say it is not in the scope): the run makes its own, tagged, and its task never links theirs",
    emulation="the emulated IAM and DataSync: the location made outside any step has no tags, as another team's",
)
def test_a_scoped_run_passes_over_another_teams_location_and_makes_its_own(target: Target):
    scope = scope_of(target)
    transfer = target.s3_to_s3()
    datasync = target.client("datasync")
    theirs = datasync.create_location_s3(**transfer["create_source_location_kwargs"])["LocationArn"]
    target.remember(lambda: datasync.delete_location(LocationArn=theirs))
    run = target.run(transfer)
    assert run.status == "SUCCEEDED", run.cause
    ours = run.output["CreatedLocationArns"][0]
    assert ours != theirs and target.tags(ours).get(scope["key"]) == scope["value"]
    assert datasync.describe_task(TaskArn=run.output["TaskArn"])["SourceLocationArn"] == ours
    assert scope["key"] not in target.tags(theirs)


def agent_outside_the_scope(target: Target) -> str:
    """An agent the scope does not tag. The emulation activates one without tags, as another team's; on AWS no agent
    can be activated without an appliance, so the suite names one that is not in the account, which the step must
    refuse alike (it cannot tell an agent it may not see from one that is not there)."""
    if target.emulated:
        return target.client("datasync").create_agent(ActivationKey="AAAAA-BBBBB-CCCCC-DDDDD-EEEEE")["AgentArn"]
    account = target.client("sts").get_caller_identity()["Account"]
    return f"arn:aws:datasync:{target.region}:{account}:agent/agent-0e2e0e2e0e2e0e2e0"


@pytest.mark.proves(
    "a scoped stack makes no location through an agent outside its scope (create-locations reads the agent's "
    "tags first: the Service Authorization Reference gives CreateLocation* no agent resource to condition)",
    emulation="the emulated DataSync keeps agents and their tags (moto has none); the step's check is the same code",
)
def test_a_scoped_run_through_an_agent_outside_the_scope_is_refused_before_any_location_is_made(target: Target):
    scope = scope_of(target)
    agent = agent_outside_the_scope(target)
    transfer = target.s3_to_s3()
    host = f"files-{uuid.uuid4().hex[:8]}.example.com"
    run = target.run(
        transfer
        | {
            "destination_location_uri": f"smb://{host}/share/",
            "create_destination_location_kwargs": {
                "ServerHostname": host,
                "Subdirectory": "/share/",
                "User": "e2e",
                "AgentArns": [agent],
            },
        }
    )
    assert (run.status, run.error) == ("FAILED", "DataSyncRequestError"), run.cause
    assert f"names the agent {agent}, which is not tagged {scope['key']}={scope['value']}" in run.cause
    source_uri = transfer["source_location_uri"]
    pages = target.client("datasync").get_paginator("list_locations").paginate()
    uris = {location["LocationUri"] for page in pages for location in page["Locations"]}
    assert not uris & {source_uri, f"smb://{host}/share/"}
