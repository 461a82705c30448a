# A DAG whose re.sub backtracks for ever: (a|aa)+ tries every split of the a's before the b fails it (the issue's
# "a" * 61 + "b", written out). Read by the converter's tests, never run.
import re

from airflow import DAG
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

FOLDER = re.sub(r"^(a|aa)+$", "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab")

with DAG("backtracking_regex", schedule="@daily") as dag:
    DataSyncOperator(
        task_id="copy",
        task_arn="arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0",
        task_execution_kwargs={"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": f"/{FOLDER}/*"}]},
    )
