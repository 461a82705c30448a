# A DAG that runs a single time: schedule "@once". Read by the converter's tests, never run.
from airflow import DAG
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

with DAG("initial_load", schedule="@once") as dag:
    DataSyncOperator(task_id="load", task_arn="arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0")
