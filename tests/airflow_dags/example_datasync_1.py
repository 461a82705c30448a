# The operator guide's example_datasync_1 (../shared/reference/airflow-datasync-operator-guide.txt), as its
# fragments show it, in a DAG file: run a task by its ARN, or find it by its locations' URIs. Read by the
# converter's tests, never run (Airflow is not installed here).
from os import getenv

from airflow import DAG
from airflow.providers.amazon.aws.operators.datasync import AWSDataSyncOperator
from airflow.utils.dates import days_ago

TASK_ARN = getenv("TASK_ARN", "my_aws_datasync_task_arn")

SOURCE_LOCATION_URI = getenv("SOURCE_LOCATION_URI", "smb://hostname/directory/")

DESTINATION_LOCATION_URI = getenv("DESTINATION_LOCATION_URI", "s3://mybucket/prefix")

default_args = {"start_date": days_ago(1)}

with DAG("example_datasync_1_1", default_args=default_args, schedule_interval=None) as dag:
    datasync_task_1 = AWSDataSyncOperator(aws_conn_id="aws_default", task_id="datasync_task_1", task_arn=TASK_ARN)

with DAG("example_datasync_1_2", default_args=default_args, schedule_interval=None) as dag:
    datasync_task_2 = AWSDataSyncOperator(
        aws_conn_id="aws_default",
        task_id="datasync_task_2",
        source_location_uri=SOURCE_LOCATION_URI,
        destination_location_uri=DESTINATION_LOCATION_URI,
    )
