"""Where a run's DataSync calls go (places.py): from the input, from an ARN, and what is refused."""

import re

import pytest
from moto import mock_aws

from datasync_steps import datasync
from datasync_steps.datasync import datasync_client, datasync_client_by_arn
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.places import Place, input_place, place_of, session_name

RUN = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow-abc:nightly-2026-12-04"
PARTNER_ROLE = "arn:aws:iam::222233334444:role/datasync-workflow-partner"
DEPLOYMENT = Deployment(regions=["eu-west-1"], connections={"partner": PARTNER_ROLE}).in_region_of(RUN)


def execution_in(region: str, account: str) -> str:
    return f"arn:aws:datasync:{region}:{account}:task/task-0123456789abcdef0/execution/exec-0123456789abcdef0"


def test_the_session_name_names_the_workflow_execution_within_stss_rules():
    assert session_name(RUN) == "datasync-workflow-nightly-2026-12-04"
    long_one, other = (RUN.rsplit(":", 1)[0] + ":" + "x" * 79 + end for end in "ab")
    for name in (session_name(long_one), session_name(other), session_name(RUN + "/odd name!")):
        assert 2 <= len(name) <= 64 and re.fullmatch(r"[\w+=,.@-]+", name), name
    assert session_name(long_one) != session_name(other)


def test_the_input_chooses_region_and_role():
    assert input_place(DEPLOYMENT, None, None, RUN) == Place(region="us-east-1")
    assert input_place(DEPLOYMENT, "eu-west-1", "aws_default", RUN) == Place(region="eu-west-1")
    assert input_place(DEPLOYMENT, None, "partner", RUN) == Place(
        region="us-east-1", role_arn=PARTNER_ROLE, session_name=session_name(RUN)
    )
    with pytest.raises(DataSyncInvalidInputError, match=r"region_name: 'ap-southeast-2' .* us-east-1, eu-west-1"):
        input_place(DEPLOYMENT, "ap-southeast-2", None, RUN)
    with pytest.raises(DataSyncInvalidInputError, match=r"aws_conn_id: 'aws_prod' .* knows aws_default, partner"):
        input_place(DEPLOYMENT, None, "aws_prod", RUN)


def test_an_arn_says_its_place_and_one_outside_the_deployment_is_refused():
    assert place_of(DEPLOYMENT, execution_in("us-east-1", "123456789012"), RUN) == Place(region="us-east-1")
    assert place_of(DEPLOYMENT, execution_in("eu-west-1", "222233334444"), RUN) == Place(
        region="eu-west-1", role_arn=PARTNER_ROLE, session_name=session_name(RUN)
    )
    with pytest.raises(DataSyncInvalidInputError, match="is in ap-southeast-2, where this deployment does not act"):
        place_of(DEPLOYMENT, execution_in("ap-southeast-2", "123456789012"), RUN)
    with pytest.raises(DataSyncInvalidInputError, match="is in account 999988887777, where this deployment does not"):
        place_of(DEPLOYMENT, execution_in("us-east-1", "999988887777"), RUN)
    with pytest.raises(DataSyncInvalidInputError, match="is not a DataSync ARN"):
        place_of(DEPLOYMENT, "arn:aws:s3:::bucket", RUN)


def test_a_step_that_sees_only_arns_refuses_one_elsewhere_before_any_call(monkeypatch):
    made = []
    monkeypatch.setattr(datasync, "datasync_client", lambda **kwargs: made.append(kwargs))
    client = datasync_client_by_arn(DEPLOYMENT, RUN)
    with pytest.raises(DataSyncInvalidInputError, match="999988887777"):
        client.describe_task_execution(TaskExecutionArn=execution_in("us-east-1", "999988887777"))
    with pytest.raises(TypeError, match="names no task"):
        client.list_tasks()
    assert made == []


def test_clients_are_kept_per_place_and_the_role_is_assumed_once_then_renewed_by_botocore(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        partner = Place(region="eu-west-1", role_arn=PARTNER_ROLE, session_name=session_name(RUN))
        client = datasync_client(place=partner)
        assert datasync_client(place=partner) is client
        assert datasync_client(place=Place(region="eu-west-1")) is not client
        assert datasync_client(place=Place(region="us-east-1")) is datasync_client()
        assert client.meta.region_name == "eu-west-1"
        credentials = client._request_signer._credentials  # botocore's own refreshing credentials
        assert type(credentials).__name__ == "DeferredRefreshableCredentials"
        client.list_tasks()
        assert credentials.method == "assume-role" and credentials.access_key.startswith("ASIA")


def test_the_converter_carries_both_keys_and_says_what_the_deployment_needs():
    from datasync_workflow.cli.from_airflow import convert

    dag = (
        "from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator\n"
        "DataSyncOperator(task_id='t',"
        " task_arn='arn:aws:datasync:ap-southeast-2:222233334444:task/task-0123456789abcdef0',"
        " aws_conn_id='partner_prod', region_name='ap-southeast-2')\n"
        "DataSyncOperator(task_id='u', task_arn='arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0',"
        " aws_conn_id='aws_default')\n"
    )
    partner, default = convert(dag, {})
    assert partner["input"]["aws_conn_id"] == "partner_prod" and partner["input"]["region_name"] == "ap-southeast-2"
    assert any("'partner_prod' needs an entry in the deployment's connections" in note for note in partner["notes"])
    assert any(
        "region_name 'ap-southeast-2' must be the stack's region or in its regions" in n for n in partner["notes"]
    )
    assert default["input"]["aws_conn_id"] == "aws_default" and default["notes"] == []


def test_a_step_told_no_execution_arn_still_acts_only_in_the_listed_regions(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    deployment = Deployment(regions=["eu-west-1"]).in_region_of("e")
    assert (deployment.region, deployment.account) == ("us-east-1", None)
    assert place_of(deployment, execution_in("eu-west-1", "123456789012"), "e") == Place(region="eu-west-1")
    with pytest.raises(DataSyncInvalidInputError, match="is in ap-southeast-2"):
        place_of(deployment, execution_in("ap-southeast-2", "123456789012"), "e")
