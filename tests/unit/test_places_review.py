"""Review of issue 29's places (places.py, datasync.py, deployment.py): guards of what holds on the current code."""

import re

import pytest
from moto import mock_aws

from datasync_steps import datasync
from datasync_steps.datasync import datasync_client, datasync_client_by_arn
from datasync_steps.deployment import Deployment, connection_problems, region_problems
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.places import Place, place_of, session_name

RUN = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow-abc:nightly"
PARTNER_ROLE = "arn:aws:iam::222233334444:role/datasync-workflow-partner"
SETTINGS = Deployment(regions=["eu-west-1"], connections={"partner": PARTNER_ROLE})


def execution_in(region: str, account: str) -> str:
    return f"arn:aws:datasync:{region}:{account}:task/task-0123456789abcdef0/execution/exec-0123456789abcdef0"


def test_an_own_account_call_never_gets_a_runs_assumed_client(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        assumed = datasync_client(
            place=Place(region="eu-west-1", role_arn=PARTNER_ROLE, session_name="datasync-workflow-a")
        )
        other_run = datasync_client(
            place=Place(region="eu-west-1", role_arn=PARTNER_ROLE, session_name="datasync-workflow-b")
        )
        own = datasync_client(place=Place(region="eu-west-1"))
        assert len({id(assumed), id(other_run), id(own)}) == 3
        assert own is datasync._datasync_client(False, "eu-west-1")
        assert type(own._request_signer._credentials).__name__ != "DeferredRefreshableCredentials"
        # The creating client of a place is its own, too.
        assert datasync_client(place=Place(region="eu-west-1"), creates=True) is not own


def test_the_router_checks_paginated_and_tagging_calls_before_any_client_is_made(monkeypatch):
    made = []
    monkeypatch.setattr(datasync, "datasync_client", lambda **kwargs: made.append(kwargs))
    client = datasync_client_by_arn(SETTINGS.in_region_of(RUN), RUN)
    with pytest.raises(DataSyncInvalidInputError, match="is in ap-southeast-2"):
        client.get_paginator("list_task_executions").paginate(
            TaskArn="arn:aws:datasync:ap-southeast-2:123456789012:task/task-0123456789abcdef0"
        )
    with pytest.raises(DataSyncInvalidInputError, match="account 999988887777"):
        client.tag_resource(ResourceArn=execution_in("us-east-1", "999988887777"), Tags=[])
    with pytest.raises(DataSyncInvalidInputError, match="not a DataSync ARN"):
        client.delete_task(TaskArn="arn:aws:states:us-east-1:123456789012:execution:x:y")
    with pytest.raises(TypeError, match="names no task"):
        client.create_task(SourceLocationArn=execution_in("ap-southeast-2", "1"), DestinationLocationArn="x")
    assert made == []


@pytest.mark.parametrize("no_arn", ["", "e", "arn:aws:states"])
def test_a_direct_invocation_without_an_execution_arn_keeps_regions_and_roles_listed(monkeypatch, no_arn):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    deployment = SETTINGS.in_region_of(no_arn)
    assert deployment.allowed_regions == ["us-east-1", "eu-west-1"]
    with pytest.raises(DataSyncInvalidInputError, match="is in ap-south-1"):
        place_of(deployment, execution_in("ap-south-1", "222233334444"), no_arn)
    assert place_of(deployment, execution_in("eu-west-1", "222233334444"), no_arn).role_arn == PARTNER_ROLE
    # The account unknown: another account's ARN gets the step's own role, never an assumed one.
    assert place_of(deployment, execution_in("eu-west-1", "999988887777"), no_arn) == Place(region="eu-west-1")


@pytest.mark.parametrize(
    "execution",
    [
        RUN + "\nforged",
        RUN.rsplit(":", 1)[0] + ":" + "a" * 80,
        "arn:aws:states:us-east-1:1:execution:sm:" + '"}{$(id)`;|&<>' * 5,
        "",
    ],
)
def test_session_names_of_hostile_ascii_execution_arns_stay_within_stss_rules(execution):
    name = session_name(execution)
    assert name.startswith("datasync-workflow-") and re.fullmatch(r"[A-Za-z0-9_+=,.@-]{2,64}", name), name


def test_connections_and_regions_settings_refuse_wildcards_the_default_and_bad_names():
    assert connection_problems({"p": "arn:aws:iam::222233334444:role/*"})
    assert connection_problems({"p": "arn:aws:iam::*:role/x"})
    assert connection_problems({"aws_default": PARTNER_ROLE})
    assert connection_problems({"a": PARTNER_ROLE, "b": "arn:aws:iam::222233334444:role/other"})
    assert not connection_problems({"a": PARTNER_ROLE, "b": PARTNER_ROLE})
    assert region_problems(["eu-west-1", "EU-WEST-1", "*", "eu-west-1"])
    assert not region_problems(["eu-west-1", "us-gov-west-1"])


# From the review's findings, fixed.


@pytest.mark.parametrize(
    "told_of",
    [
        "arn:aws:states:ap-south-1:123456789012:execution:datasync-workflow-abc:nightly",  # a region the invoker chose
        "x:x:x::123456789012:x",  # no region at all
    ],
)
def test_the_region_a_step_acts_in_is_its_functions_own_whatever_execution_it_is_told_of(monkeypatch, told_of):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with pytest.raises(DataSyncInvalidInputError, match="is in ap-south-1, where this deployment does not act"):
        place_of(SETTINGS.in_region_of(told_of), execution_in("ap-south-1", "222233334444"), told_of)


def test_a_session_name_holds_only_the_ascii_characters_sts_allows():
    name = session_name("arn:aws:states:us-east-1:123456789012:execution:wf:überweisung-1")
    assert re.fullmatch(r"[A-Za-z0-9_+=,.@-]{2,64}", name), name


def test_a_refused_arn_is_quoted_not_echoed():
    forged = "arn:aws:datasync:xx-evil-1:1:task/t\nFORGED LOG LINE"
    with pytest.raises(DataSyncInvalidInputError) as refused:
        place_of(SETTINGS.model_copy(update={"region": "us-east-1"}), forged, RUN)
    assert "\n" not in str(refused.value)


def test_every_assumed_roles_client_shares_the_service_models_loaded_once(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        clients = [
            datasync_client(
                place=Place(region="eu-west-1", role_arn=PARTNER_ROLE, session_name=f"datasync-workflow-{i}")
            )
            for i in range(2)
        ]
    loaders = {id(client._loader) for client in clients}  # botocore keeps the session's loader on each client
    assert loaders == {id(datasync._own_botocore_session().get_component("data_loader"))}
