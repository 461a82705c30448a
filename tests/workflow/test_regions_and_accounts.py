"""region_name and aws_conn_id, run locally: a run in another region the deployment lists, a run in another account
through a connection's role, and what is refused (issue 29)."""

import json

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.datasync.models import datasync_backends

from datasync_workflow.local import run_local
from tests.conftest import BUCKET_ROLE_ARN, make_s3_location, s3_kwargs
from tests.workflow.test_workflow import failed

FAST = {"wait_interval_seconds": 0}
OTHER_REGION = "eu-west-1"
OTHER_ACCOUNT = "222233334444"
PARTNER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/datasync-workflow-partner"


def datasync_in(region: str, account: str | None = None):
    """A DataSync client of `region`, and of `account` through a role there (moto maps an assumed role's keys to its
    account)."""
    if account is None:
        return boto3.client("datasync", region_name=region)
    credentials = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    return boto3.client(
        "datasync",
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def task_in(client, region: str = "us-east-1", account: str = DEFAULT_ACCOUNT_ID) -> str:
    """An AVAILABLE task from one bucket to another, made beforehand in that place."""
    source, destination = make_s3_location(client, "source-bucket"), make_s3_location(client)
    arn = client.create_task(SourceLocationArn=source, DestinationLocationArn=destination, Name="task")["TaskArn"]
    datasync_backends[account][region].tasks[arn].available_at = 0.0
    return arn


@pytest.fixture
def other_region(monkeypatch):
    monkeypatch.setenv("REGIONS", json.dumps([OTHER_REGION]))


@pytest.fixture
def partner(monkeypatch):
    monkeypatch.setenv("CONNECTIONS", json.dumps({"partner": PARTNER_ROLE}))


def test_a_listed_region_runs_the_task_there_and_the_status_checks_notice_its_end(datasync, other_region):
    task = task_in(datasync_in(OTHER_REGION), OTHER_REGION)
    execution = run_local({"task_arn": task, "region_name": OTHER_REGION, **FAST})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["TaskExecutionArn"].startswith(f"arn:aws:datasync:{OTHER_REGION}:{DEFAULT_ACCOUNT_ID}:")
    assert execution.output["TaskExecution"]["Status"] == "SUCCESS"
    # The deployment's rule sees only its own region's events: another region's end is noticed by a status check.
    assert execution.output["EndNoticedBy"] == "status check"
    (started,) = datasync_backends[DEFAULT_ACCOUNT_ID][OTHER_REGION].task_executions
    assert started == execution.output["TaskExecutionArn"]
    assert not datasync_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].task_executions


def test_a_run_in_the_own_region_is_noticed_by_datasyncs_event(datasync):
    task = task_in(datasync)
    execution = run_local({"task_arn": task, "wait_interval_seconds": 5})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["EndNoticedBy"] == "event"


def test_a_listed_region_finds_and_creates_by_uri_there(datasync, other_region):
    run_input = {
        "source_location_uri": "s3://source-bucket/prefix/",
        "destination_location_uri": "s3://mybucket/prefix/",
        "create_source_location_kwargs": s3_kwargs("source-bucket"),
        "create_destination_location_kwargs": s3_kwargs(),
        "create_task_kwargs": {"Name": "made-in-ireland"},
        "region_name": OTHER_REGION,
        "delete_task_after_execution": True,
        **FAST,
    }
    assert s3_kwargs()["S3Config"]["BucketAccessRoleArn"] == BUCKET_ROLE_ARN
    execution = run_local(run_input)
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["TaskArn"].split(":")[3] == OTHER_REGION
    assert all(arn.split(":")[3] == OTHER_REGION for arn in execution.output["CreatedLocationArns"])
    assert execution.output["TaskDeleted"] is True
    assert not datasync_in("us-east-1").list_locations()["Locations"]


def test_a_region_not_listed_is_refused_naming_region_name_and_the_allowed_ones(datasync, task, other_region):
    cause = failed(run_local({"task_arn": task, "region_name": "ap-southeast-2", **FAST}), "DataSyncInvalidInputError")
    assert "region_name: 'ap-southeast-2' is not a region this deployment acts in; it acts in us-east-1, eu-west-1" in (
        cause
    )


def test_a_connection_runs_the_task_of_its_roles_account(datasync, partner):
    task = task_in(datasync_in("us-east-1", OTHER_ACCOUNT), account=OTHER_ACCOUNT)
    assert task.split(":")[4] == OTHER_ACCOUNT
    execution = run_local({"task_arn": task, "aws_conn_id": "partner", **FAST})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["TaskExecutionArn"].split(":")[4] == OTHER_ACCOUNT
    assert execution.output["EndNoticedBy"] == "status check"
    assert list(datasync_backends[OTHER_ACCOUNT]["us-east-1"].task_executions) == [execution.output["TaskExecutionArn"]]
    assert not datasync_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].task_executions


def test_a_connection_and_a_region_together(datasync, partner, other_region):
    task = task_in(datasync_in(OTHER_REGION, OTHER_ACCOUNT), OTHER_REGION, OTHER_ACCOUNT)
    execution = run_local({"task_arn": task, "aws_conn_id": "partner", "region_name": OTHER_REGION, **FAST})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["TaskExecutionArn"].split(":")[3:5] == [OTHER_REGION, OTHER_ACCOUNT]


def test_aws_default_runs_in_the_deployments_account(datasync, task, partner):
    execution = run_local({"task_arn": task, "aws_conn_id": "aws_default", **FAST})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.output["TaskExecutionArn"].split(":")[4] == DEFAULT_ACCOUNT_ID


def test_an_unknown_connection_is_refused_naming_aws_conn_id_and_the_known_ones(datasync, task, partner):
    cause = failed(run_local({"task_arn": task, "aws_conn_id": "aws_prod", **FAST}), "DataSyncInvalidInputError")
    assert "aws_conn_id: 'aws_prod' is no connection of this deployment; it knows aws_default, partner" in cause
    assert not datasync_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].task_executions


def test_a_task_of_another_account_without_its_connection_is_not_found_in_the_own_account(datasync, partner):
    task = task_in(datasync_in("us-east-1", OTHER_ACCOUNT), account=OTHER_ACCOUNT)
    failed(run_local({"task_arn": task, **FAST}), "DataSyncTaskNotFoundError")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REGIONS", '"eu-west-1"', "REGIONS: not a JSON list"),
        ("REGIONS", '["Ireland"]', "'Ireland' is not a region name"),
        ("CONNECTIONS", '["x"]', "CONNECTIONS: not a JSON object"),
        ("CONNECTIONS", '{"p": "arn:aws:iam::222233334444:role/*"}', "is not a whole IAM role ARN (no wildcard)"),
        ("CONNECTIONS", '{"aws_default": "arn:aws:iam::222233334444:role/r"}', "the deployment's own account"),
        (
            "CONNECTIONS",
            '{"a": "arn:aws:iam::222233334444:role/r", "b": "arn:aws:iam::222233334444:role/s"}',
            "give each account one role",
        ),
    ],
)
def test_bad_settings_stop_the_runner_before_it_starts(datasync, task, monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        run_local({"task_arn": task, **FAST})
