import json
import os
from collections.abc import Callable
from contextlib import contextmanager

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.datasync.models import datasync_backends

from datasync_steps.names import EVENT_SOURCE
from datasync_steps.resume import StateChangeEvent
from datasync_steps.start import StartEvent, start_execution
from datasync_steps.state import Plan
from datasync_steps.waiting import PARTITION_KEY, SORT_KEY
from datasync_workflow.local import EmulatedTransfer, emulated_datasync, emulated_transfers

REGION = "us-east-1"
AGENT_ARN = "arn:aws:datasync:us-east-1:111122223333:agent/agent-0123456789abcdef0"
BUCKET_ROLE_ARN = "arn:aws:iam::111122223333:role/bucket-access"
# Its name, as a partial ARN (without the suffix Secrets Manager adds), as moto's Secrets Manager resolves it.
SECRET_NAME = "datasync/smb-share"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET_NAME}"
SECRET_ROLE_ARN = "arn:aws:iam::111122223333:role/datasync-reads-smb-secret"

# Off-AWS defaults for every test; moto's mock replaces the credentials while it is active.
os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
os.environ["POWERTOOLS_TRACE_DISABLED"] = "true"
# No synth of the tests compiles the steps' bytecode in a container, even where the machine runs Docker: CDK_DOCKER
# names an engine that is not here (the test of that path names its own). Set before aws-cdk-lib starts its Node.
os.environ["CDK_DOCKER"] = "no-container-engine-in-the-tests"
# Every tier sees the DataSync that run_local sees: moto's, extended to behave like the real service.
emulated_datasync.install()


@pytest.fixture
def aws():
    """moto's AWS, with the secret the SMB share's password is kept in (`smb_kwargs`)."""
    with mock_aws():
        make_secret()
        yield


def make_secret() -> None:
    """The secret in Secrets Manager that `smb_kwargs` names."""
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=SECRET_NAME, SecretString="p")


@pytest.fixture
def datasync(aws):
    return boto3.client("datasync", region_name=REGION)


def events_a_rule_receives(name: str, detail_types: list[str]) -> Callable[[], list[dict]]:
    """A rule of the user's on the default bus, for the workflow's events of `detail_types`, whose target is an SQS
    queue in moto: what it has received since the last look, every event whole (the queue drained)."""
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [EVENT_SOURCE], "detail-type": detail_types}))
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])

    def received() -> list[dict]:
        got: list[dict] = []
        while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            got += [json.loads(message["Body"]) for message in messages]
            sqs.delete_message_batch(
                QueueUrl=queue,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        return got

    return received


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


def refused(code: str, call) -> str:
    """The message of the ClientError with this code that `call` raises."""
    with pytest.raises(ClientError) as raised:
        call()
    assert raised.value.response["Error"]["Code"] == code
    return raised.value.response["Error"]["Message"]


def smb_kwargs(host: str = "hostname", subdirectory: str = "directory/") -> dict:
    """A share whose password DataSync reads from Secrets Manager: no secret in the input."""
    return {
        "ServerHostname": host,
        "Subdirectory": subdirectory,
        "User": "u",
        "CustomSecretConfig": {"SecretArn": SECRET_ARN, "SecretAccessRoleArn": SECRET_ROLE_ARN},
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


def make_agent(client, *tags: dict) -> str:
    """An activated agent, ONLINE, with these tags."""
    return client.create_agent(ActivationKey="AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", Tags=list(tags))["AgentArn"]


def make_task(client, source_arn: str, destination_arn: str, name: str = "task", **settings) -> str:
    """A task made beforehand: AVAILABLE already, where one the workflow creates is CREATING for a moment."""
    arn = client.create_task(
        SourceLocationArn=source_arn, DestinationLocationArn=destination_arn, Name=name, **settings
    )["TaskArn"]
    datasync_backends[DEFAULT_ACCOUNT_ID][REGION].tasks[arn].available_at = 0.0
    return arn


def location_arns(client) -> list[str]:
    return [location["LocationArn"] for location in client.list_locations()["Locations"]]


def task_arns(client) -> list[str]:
    return [task["TaskArn"] for task in client.list_tasks()["Tasks"]]


@pytest.fixture
def task(datasync):
    """A task linking an SMB share to an S3 prefix."""
    return make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))


# resolve's plan for a run with the default wait_interval_seconds and no execution_timeout.
PLAN = Plan(route="run", update_task=False, wait_seconds=60)


def started(client, task_arn, retry_count=0, execution_id="e", attempt=1) -> dict:
    """What the start step gives the state machine after starting the task."""
    event = StartEvent(execution_id=execution_id, TaskArn=task_arn, retry_count=retry_count, attempt=attempt, plan=PLAN)
    return start_execution(client, client, event).model_dump(mode="json")


# The table of waiting task tokens, Step Functions by Stubber, and DataSync's events: for await-event and resume.


@pytest.fixture
def table(aws):
    dynamodb = boto3.resource("dynamodb", region_name=REGION)
    return dynamodb.create_table(
        TableName="waiting",
        KeySchema=[
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": SORT_KEY, "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def sfn():
    with stubbed_client("stepfunctions") as client_and_stubber:
        yield client_and_stubber


@pytest.fixture
def execution_arn(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with emulated_transfers(EmulatedTransfer(seconds=0.2)):
        return datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]


def event_of(execution_arn: str, state: str) -> StateChangeEvent:
    return StateChangeEvent.model_validate(
        {
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "DataSync Task Execution State Change",
            "source": "aws.datasync",
            "account": "123456789012",
            "time": "2026-11-24T12:00:00Z",
            "region": REGION,
            "resources": [execution_arn],
            "detail": {"State": state},
        }
    )


def success_sent(stubber, token: str, status: str) -> None:
    stubber.add_response("send_task_success", {}, {"taskToken": token, "output": json.dumps({"Status": status})})


def items(table) -> list[dict]:
    return table.scan()["Items"]
