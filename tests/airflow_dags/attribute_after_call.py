# Attributes set on the operator after the call, as Airflow's own system test does: each is as the keyword would
# be, an Airflow-only one is named, and one whose value only Airflow knows is left out. Read by the converter's
# tests, never run.
from datetime import timedelta

from airflow import DAG
from airflow.models import Variable
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

with DAG("attributes", schedule=None) as dag:
    copy = DataSyncOperator(
        task_id="copy",
        task_arn="arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0",
    )
    copy.wait_for_completion = False
    copy.execution_timeout = timedelta(minutes=30)
    copy.max_iterations = Variable.get("iterations")
    copy.trigger_rule = "all_done"
    copy.doc_md = "Copies the share."
