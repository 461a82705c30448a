# Annotated assignments, as typed DAG files write their settings. Read by the converter's tests, never run.
from typing import Final

from airflow import DAG
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

bucket: str = "analytics-landing"
SOURCE: Final = "nfs://filer.example.com/exports/analytics"
declared_only: str
interval: int = 45

with DAG("annotated", schedule=None) as dag:
    DataSyncOperator(
        task_id="copy",
        source_location_uri=SOURCE,
        destination_location_uri=f"s3://{bucket}/analytics",
        wait_interval_seconds=interval,
    )
