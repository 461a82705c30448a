# A mapped DataSyncOperator: partial() gives what every task shares, expand() maps over two lists (Airflow runs their
# cross product), and a second mapping over another task's output. Read by the converter's tests, never run.
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.decorators import task
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

ACCOUNT = "111122223333"
TASK_ARNS = [
    f"arn:aws:datasync:us-east-1:{ACCOUNT}:task/task-0a0000000000000a1",
    f"arn:aws:datasync:us-east-1:{ACCOUNT}:task/task-0a0000000000000a2",
]


@task
def task_arns_of_today():
    return []


with DAG(
    "regional_exports",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    default_args={"retries": 1, "retry_delay": timedelta(minutes=2)},
) as dag:
    copy_exports = DataSyncOperator.partial(
        task_id="copy_exports",
        wait_interval_seconds=20,
        max_active_tis_per_dagrun=3,
        pool="datasync",
    ).expand(
        task_arn=TASK_ARNS,
        task_execution_kwargs=[
            {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/eu/{{ ds_nodash }}/*"}]},
            {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/us/{{ ds_nodash }}/*"}]},
        ],
    )

    copy_from_upstream = DataSyncOperator.partial(task_id="copy_from_upstream").expand(task_arn=task_arns_of_today())
