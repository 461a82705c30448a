"""A scoped deployment and the agents its runs create locations through: an agent sits on its team's network, so a run
may reach shares only through its own team's. The real definition runs through `run_local`, whose steps may do in the
emulated DataSync (which has agents, where moto has none) only what the stack's roles let them."""

import json

import pytest

from datasync_workflow.local import run_local
from tests.conftest import make_agent, s3_kwargs, smb_kwargs, task_arns

FINANCE, PAYROLL = {"Key": "team", "Value": "finance"}, {"Key": "team", "Value": "payroll"}


@pytest.fixture(autouse=True)
def scoped(monkeypatch):
    monkeypatch.setenv("SCOPE_TAG", json.dumps({"key": "team", "value": "finance"}))


def through(agent: str) -> dict:
    """A run that creates an S3 prefix and then an SMB share through `agent`, a task linking them, and runs it."""
    return {
        "source_location_uri": "s3://mybucket/prefix",
        "destination_location_uri": "smb://hostname/directory/",
        "wait_interval_seconds": 0,
        "create_task_kwargs": {"Name": "t"},
        "create_source_location_kwargs": s3_kwargs(),
        "create_destination_location_kwargs": {**smb_kwargs(), "AgentArns": [agent]},
    }


def test_a_scoped_run_through_another_teams_agent_is_refused_before_anything_is_created(datasync):
    payroll = make_agent(datasync, PAYROLL)
    execution = run_local(through(payroll), timeout=60)
    assert (execution.status, execution.error) == ("FAILED", "DataSyncRequestError"), execution.cause
    assert f"names the agent {payroll}, which is not tagged team=finance" in execution.cause
    assert datasync.list_locations()["Locations"] == [] and task_arns(datasync) == []


def test_a_scoped_run_through_its_own_teams_agent_succeeds(datasync):
    finance = make_agent(datasync, FINANCE)
    execution = run_local(through(finance), timeout=60)
    assert execution.status == "SUCCEEDED", execution.cause
    destination = execution.output["CreatedLocationArns"][1]
    assert datasync.describe_location_smb(LocationArn=destination)["AgentArns"] == [finance]
