# A DataSyncOperator mapped with expand_kwargs over a list of dicts, one per share, with a partial() kept in a
# variable first. Read by the converter's tests, never run.
from airflow import DAG
from airflow.models import Variable
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

SHARES = [
    {"source_location_uri": "smb://files.example.com/finance", "destination_location_uri": "s3://landing/finance"},
    {
        "source_location_uri": "smb://files.example.com/hr",
        "destination_location_uri": "s3://landing/hr",
        "wait_for_completion": False,
        "owner": "hr-team",
    },
    {"source_location_uri": "smb://files.example.com/legal", "destination_location_uri": Variable.get("legal_dest")},
]

with DAG("shares_to_s3", schedule=None) as dag:
    copy_share = DataSyncOperator.partial(task_id="copy_share", allow_random_task_choice=True)
    copied = copy_share.expand_kwargs(SHARES)
    copied.retries = 4
