# A DAG as teams write them: default_args with retries, a cron schedule, a daily folder in a filter, and a task ARN
# that an upstream task pushes to XCom. Read by the converter's tests, never run.
import os
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.models import Variable
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

ACCOUNT = os.environ.get("ACCOUNT_ID", "111122223333")
TASK_ID_SUFFIX = "0123456789abcdef0"

default_args = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=2),
    "start_date": pendulum.datetime(2026, 1, 1, tz="UTC"),
}

with DAG("nightly_share_to_s3", default_args=default_args, schedule="0 2 * * *", catchup=False) as dag:
    nightly = DataSyncOperator(
        task_id="copy_nightly",
        task_arn=f"arn:aws:datasync:us-east-1:{ACCOUNT}:task/task-{TASK_ID_SUFFIX}",
        task_execution_kwargs={"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/{{ ds_nodash }}/*"}]},
        wait_interval_seconds=60,
        trigger_rule="all_success",
    )
    from_upstream = DataSyncOperator(
        task_id="copy_what_upstream_made",
        task_arn="{{ ti.xcom_pull(task_ids='make_task') }}",
        update_task_kwargs={"Name": Variable.get("task_name")},
    )
