import os
from contextlib import contextmanager

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from datasync_workflow import emulated_datasync

REGION = "us-east-1"
AGENT_ARN = "arn:aws:datasync:us-east-1:111122223333:agent/agent-0123456789abcdef0"
BUCKET_ROLE_ARN = "arn:aws:iam::111122223333:role/bucket-access"

# Off-AWS defaults for every test; moto's mock replaces the credentials while it is active.
os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
# Every tier sees the DataSync that run_local sees: moto's, extended to behave like the real service.
emulated_datasync.install()


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def datasync(aws):
    return boto3.client("datasync", region_name=REGION)


@contextmanager
def stubbed_client(service: str):
    """A client whose answers a test queues with Stubber, which checks requests against the API model and fails
    on any call not queued."""
    client = boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def stubbed():
    with stubbed_client("datasync") as client_and_stubber:
        yield client_and_stubber


def smb_kwargs(host: str = "hostname", subdirectory: str = "directory/") -> dict:
    return {
        "ServerHostname": host,
        "Subdirectory": subdirectory,
        "User": "u",
        "Password": "p",
        "AgentArns": [AGENT_ARN],
    }


def s3_kwargs(bucket: str = "mybucket", subdirectory: str = "prefix") -> dict:
    return {
        "S3BucketArn": f"arn:aws:s3:::{bucket}",
        "Subdirectory": subdirectory,
        "S3Config": {"BucketAccessRoleArn": BUCKET_ROLE_ARN},
    }


def make_smb_location(client, host: str = "hostname", subdirectory: str = "directory/") -> str:
    return client.create_location_smb(**smb_kwargs(host, subdirectory))["LocationArn"]


def make_s3_location(client, bucket: str = "mybucket", subdirectory: str = "prefix") -> str:
    return client.create_location_s3(**s3_kwargs(bucket, subdirectory))["LocationArn"]


def make_task(client, source_arn: str, destination_arn: str, name: str = "task") -> str:
    return client.create_task(SourceLocationArn=source_arn, DestinationLocationArn=destination_arn, Name=name)[
        "TaskArn"
    ]


def location_arns(client) -> list[str]:
    return [location["LocationArn"] for location in client.list_locations()["Locations"]]


def task_arns(client) -> list[str]:
    return [task["TaskArn"] for task in client.list_tasks()["Tasks"]]
