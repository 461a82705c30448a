"""A scoped deployment (its scope_tag): a run acts only on DataSync resources that carry the tag, as IAM's tag
conditions on the steps' roles decide, and tags all it makes. On a deployed stack IAM itself judges, so the stack the
suite targets must be deployed with a scope_tag; on the emulation the same grants are enforced by the emulated IAM
(datasync_workflow/local/emulated_iam.py) with a scope tag the scenario sets."""

import json
import os

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
