# The @dag decorator: the DAG's settings on the decorator, its tasks made in the function's body, which is then
# called; one task reads the function's parameter (a DAG param, known when Airflow runs it). Read by the converter's
# tests, never run.
from datetime import datetime, timedelta

from airflow.decorators import dag
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
prefix = "/static"

ARGS = {"retries": 3, "execution_timeout": timedelta(hours=1)}


@dag(schedule="0 6 * * 1-5", start_date=datetime(2026, 1, 1), catchup=False, default_args=ARGS)
def weekday_copy(prefix="/from-params"):
    DataSyncOperator(
        task_id="copy_weekday",
        task_arn=TASK_ARN,
        task_execution_kwargs={"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/weekday/*"}]},
    )
    DataSyncOperator(
        task_id="copy_param",
        task_arn=TASK_ARN,
        task_execution_kwargs={"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": prefix}]},
    )


weekday_copy()
