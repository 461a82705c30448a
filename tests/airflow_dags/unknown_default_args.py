# default_args and operator arguments that Airflow has and this workflow does not: each is named with its line.
# Read by the converter's tests, never run.
from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator


def alert(context):
    pass


BASE_ARGS = {
    "owner": "data-platform",
    "depends_on_past": True,
    "email": ["oncall@example.com"],
    "email_on_failure": True,
}
default_args = {
    **BASE_ARGS,
    "retries": 2,
    "retry_delay": timedelta(minutes=10),
    "start_date": datetime(2026, 1, 1),
    "on_failure_callback": alert,
}
default_args["sla"] = timedelta(hours=2)

with DAG("with_airflow_only_args", default_args=default_args, schedule="@daily", catchup=True) as dag:
    DataSyncOperator(
        task_id="copy",
        task_arn="arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0",
        pool="datasync",
        queue="io",
        on_failure_callback=alert,
    )
    DataSyncOperator(
        task_id="copy_again",
        task_arn="arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0",
    )
