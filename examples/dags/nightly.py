"""Nightly copies with AWS DataSync, as an Airflow DAG: the finance share to a dated S3 prefix, then each region's
exports (one mapped task per region). The guide converts it with `datasync-workflow from-airflow
examples/dags/nightly.py`; this project never runs it (Airflow is not one of its dependencies)."""

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

ACCOUNT = "111122223333"
REGION = "us-east-1"
LANDING_BUCKET = "finance-landing"
# The DataSync tasks that copy each region's exports, made once in the console.
EXPORT_TASK_ARNS = [
    f"arn:aws:datasync:{REGION}:{ACCOUNT}:task/task-0e0000000000000e1",
    f"arn:aws:datasync:{REGION}:{ACCOUNT}:task/task-0e0000000000000e2",
    f"arn:aws:datasync:{REGION}:{ACCOUNT}:task/task-0e0000000000000e3",
]

default_args = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "execution_timeout": timedelta(hours=3),
    "email_on_failure": True,
    "email": ["data-platform@example.com"],
}

with DAG(
    dag_id="finance_nightly",
    schedule="30 1 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args=default_args,
    tags=["datasync", "finance"],
) as dag:
    # The ledger share, into a prefix of its day: DataSync finds (or makes) the location of that prefix and a task
    # for it, runs it and deletes the task afterwards.
    copy_ledger = DataSyncOperator(
        task_id="copy_ledger",
        source_location_uri="smb://files.corp.example.com/finance/ledger",
        destination_location_uri=f"s3://{LANDING_BUCKET}/ledger/" + "{{ ds_nodash }}",
        # The share's password is a Secrets Manager secret that DataSync reads with its own role.
        create_source_location_kwargs={
            "ServerHostname": "files.corp.example.com",
            "Subdirectory": "/finance/ledger",
            "User": "datasync",
            "AgentArns": [f"arn:aws:datasync:{REGION}:{ACCOUNT}:agent/agent-0123456789abcdef0"],
            "CustomSecretConfig": {
                "SecretArn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:finance-smb-password",
                "SecretAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/datasync-reads-finance-smb-password",
            },
        },
        create_destination_location_kwargs={
            "S3BucketArn": f"arn:aws:s3:::{LANDING_BUCKET}",
            "Subdirectory": "/ledger/{{ ds_nodash }}",
            "S3Config": {"BucketAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/datasync-finance-landing"},
        },
        create_task_kwargs={
            "Name": "finance-ledger-{{ ds_nodash }}",
            "Options": {"VerifyMode": "ONLY_FILES_TRANSFERRED"},
        },
        delete_task_after_execution=True,
        wait_interval_seconds=60,
    )

    # Each region's exports of the day, two regions at a time.
    copy_exports = DataSyncOperator.partial(
        task_id="copy_regional_exports",
        task_execution_kwargs={"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/exports/{{ ds }}/*"}]},
        wait_interval_seconds=60,
        max_active_tis_per_dagrun=2,
    ).expand(task_arn=EXPORT_TASK_ARNS)

    copy_ledger >> copy_exports
