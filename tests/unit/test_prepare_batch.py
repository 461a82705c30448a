"""prepare-batch: what it hands the Map, each item checked as its child run will check it."""

import json
from datetime import UTC, datetime

import boto3
import pytest

from datasync_steps.batch_children import child_name, child_prefix
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.input_model import StartedInput
from datasync_steps.prepare_batch import PrepareEvent, prepare_batch
from tests.conftest import REGION

BUCKET = "datasync-workflow-batches"
BATCH = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow-batch:nightly"
EVENT = PrepareEvent(
    execution_id=BATCH, workflow_state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:wf"
)
STARTED_AT = datetime(2026, 11, 30, 2, 0, 0, 123000, tzinfo=UTC)
TASK = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"


def started(raw: dict) -> StartedInput:
    return StartedInput(raw=raw, started_at=STARTED_AT, run_id="nightly")


def test_each_item_is_checked_with_its_childs_own_name_as_run_id():
    batch = {"transfers": [{"task_arn": TASK}, {"task_arn": "{{ run_id }}"}]}
    with pytest.raises(DataSyncInvalidInputError) as refused:
        prepare_batch(started(batch), EVENT)
    child = child_name(child_prefix(BATCH, STARTED_AT), 1)
    assert "transfers[1].task_arn: must be a DataSync task ARN" in str(refused.value)
    assert f"(got '{child}')" in str(refused.value)


def test_a_tolerated_percentage_of_a_batch_from_s3_counts_its_items(aws):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="t.jsonl", Body="\n".join([json.dumps({"task_arn": TASK})] * 4).encode())
    batch = {"transfers_from": f"s3://{BUCKET}/t.jsonl", "tolerated_failure_percentage": 50}
    prepared = prepare_batch(started(batch), EVENT, Deployment(batch_bucket=BUCKET), s3)
    assert (prepared.count, prepared.tolerated_failures) == (4, 2)
