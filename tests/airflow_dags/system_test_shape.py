# The shape of apache/airflow's system test for DataSync (providers/amazon/tests/system/amazon/aws/example_datasync.py),
# written anew: buckets named from the test context (a task's output), a task ARN that an upstream @task returns,
# location kwargs built by a function, `op.wait_for_completion = False` set after each call, and schedule "@once".
# Read by the converter's tests, never run.
from __future__ import annotations

from datetime import datetime

import boto3
from airflow.decorators import task
from airflow.models.baseoperator import chain
from airflow.models.dag import DAG
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator
from system.amazon.aws.utils import ENV_ID_KEY, SystemTestContextBuilder

DAG_ID = "datasync_system_shape"
ROLE_ARN_KEY = "ROLE_ARN"

sys_test_context_task = SystemTestContextBuilder().add_variable(ROLE_ARN_KEY).build()


def bucket_arn(bucket_name):
    return f"arn:aws:s3:::{bucket_name}"


@task
def make_task_between(source, destination):
    client = boto3.client("datasync")
    return client.create_task(SourceLocationArn=source, DestinationLocationArn=destination)["TaskArn"]


with DAG(DAG_ID, schedule="@once", start_date=datetime(2024, 1, 1), catchup=False, tags=["example"]) as dag:
    test_context = sys_test_context_task()

    source_bucket: str = f"{test_context[ENV_ID_KEY]}-source"
    destination_bucket: str = f"{test_context[ENV_ID_KEY]}-destination"

    made_task_arn = make_task_between("arn:source", "arn:destination")

    run_by_arn = DataSyncOperator(task_id="run_by_arn", task_arn=made_task_arn)
    run_by_arn.wait_for_completion = False

    run_by_uris = DataSyncOperator(
        task_id="run_by_uris",
        source_location_uri=f"s3://{source_bucket}/in",
        destination_location_uri=f"s3://{destination_bucket}/in",
        task_execution_kwargs={"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/in/part"}]},
    )
    run_by_uris.wait_for_completion = False

    create_and_run = DataSyncOperator(
        task_id="create_and_run",
        source_location_uri=f"s3://{source_bucket}/new",
        destination_location_uri=f"s3://{destination_bucket}/new",
        create_task_kwargs={"Name": "Made by the DAG"},
        create_source_location_kwargs={
            "Subdirectory": "new",
            "S3BucketArn": bucket_arn(source_bucket),
            "S3Config": {"BucketAccessRoleArn": test_context[ROLE_ARN_KEY]},
        },
        delete_task_after_execution=False,
    )
    create_and_run.wait_for_completion = False

    chain(test_context, made_task_arn, run_by_arn, run_by_uris, create_and_run)
