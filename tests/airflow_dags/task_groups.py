# TaskGroups, as Airflow names the tasks in them: the group's id and a dot before the task's (a nested group's id
# prefixed by its parent's), none for a group with prefix_group_id=False, and a group's default_args over the
# DAG's. Read by the converter's tests, never run.
from airflow import DAG
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator
from airflow.utils.task_group import TaskGroup

TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"

with DAG("grouped", schedule="@hourly", default_args={"retries": 1}) as dag:
    with TaskGroup("ingest") as ingest:
        DataSyncOperator(task_id="raw", task_arn=TASK_ARN)
        with TaskGroup(group_id="finance", default_args={"retries": 5, "owner": "finance"}):
            DataSyncOperator(task_id="ledger", task_arn=TASK_ARN)
    with TaskGroup("flat", prefix_group_id=False):
        DataSyncOperator(task_id="unprefixed", task_arn=TASK_ARN)
