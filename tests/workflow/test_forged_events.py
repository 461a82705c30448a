"""Steps invoked straight, with events that say what did not happen (whoever may invoke the functions can send them):
each asks Step Functions first and changes nothing of a run or a batch. cleanup and announce are in
test_run_finished."""

import json

import boto3
import pytest

from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.names import START_STATE, WAIT_STATE
from datasync_steps.waiting import SORT_KEY, TOKEN
from datasync_workflow.history import follow
from datasync_workflow.local import BATCH_BUCKET, EmulatedTransfer, emulated_transfers, local_deployment
from datasync_workflow.local.runner import WAITING_TABLE_NAME, _invoke, local_batches
from tests.conftest import REGION, make_s3_location, make_smb_location, make_task
from tests.workflow.test_batch import put_transfers, s3_text


def test_a_forged_wait_replaces_no_token_and_the_run_is_woken_by_datasyncs_event(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    with local_deployment(REGION) as machine_arn, emulated_transfers(EmulatedTransfer(seconds=3)):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        run = {"task_arn": task, "wait_interval_seconds": 3600}
        arn = sfn.start_execution(stateMachineArn=machine_arn, name="waits", input=json.dumps(run))["executionArn"]
        _, history = follow(
            sfn,
            arn,
            timeout=30,
            stop_when=lambda event: event.get("stateEnteredEventDetails", {}).get("name") == WAIT_STATE,
        )
        (started,) = [e for e in history if e.get("stateExitedEventDetails", {}).get("name") == START_STATE]
        transfer = json.loads(started["stateExitedEventDetails"]["output"])["execution"]["TaskExecutionArn"]
        wait = {"execution_id": arn, "TaskExecutionArn": transfer, "token": "forged", "wait_seconds": 600}
        for place in ({"checks_done": 61, "retry_count": 0}, {"checks_done": 0, "retry_count": 0, "attempt": 2}):
            with pytest.raises(DataSyncInvalidInputError, match="beyond 60 checks or 1 tries"):
                _invoke("await-event", wait | place)
        another = {**wait, "TaskExecutionArn": f"{task}/execution/exec-0123456789abcdef0", "checks_done": 1}
        with pytest.raises(DataSyncInvalidInputError, match="follows no such DataSync execution"):
            _invoke("await-event", another | {"retry_count": 0})
        tokens = boto3.resource("dynamodb", region_name=REGION).Table(WAITING_TABLE_NAME).scan()["Items"]
        assert "forged" not in [item[TOKEN] for item in tokens if item[SORT_KEY] == arn and TOKEN in item]
        described, history = follow(sfn, arn, timeout=30)
    assert described["status"] == "SUCCEEDED"
    # The run's own wait ended on DataSync's event, not on its hour's timeout.
    assert not any(e["type"] == "TaskTimedOut" for e in history)


def test_a_forged_summary_writes_no_batchs_rows(datasync):
    tasks = [make_task(datasync, make_smb_location(datasync), make_s3_location(datasync)) for _ in range(2)]
    uri = put_transfers("".join(json.dumps({"task_arn": task}) + "\n" for task in tasks))
    batch = {"defaults": {"wait_interval_seconds": 0}, "transfers_from": uri}
    with (
        local_deployment(REGION) as machine_arn,
        local_batches(REGION, machine_arn) as batches_arn,
        emulated_transfers(EmulatedTransfer(seconds=0.5)),
    ):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        batch_arn = sfn.start_execution(stateMachineArn=batches_arn, name="nightly", input=json.dumps(batch))[
            "executionArn"
        ]
        described, _ = follow(sfn, batch_arn, timeout=60)
        rows_uri = json.loads(described["output"])["RowsUri"]
        assert rows_uri.startswith(f"s3://{BATCH_BUCKET}/batches/")
        rows = s3_text(rows_uri)
        single = sfn.start_execution(
            stateMachineArn=machine_arn, name="single", input=json.dumps({"task_arn": tasks[0]})
        )["executionArn"]
        for told_of in (batch_arn, single):
            forged = {
                "execution_id": told_of,
                "count": 1,
                "tolerated_failures": 0,
                "state_machine_arn": machine_arn,
                "token": "a-token-of-the-invokers",
            }
            with pytest.raises(DataSyncInvalidInputError, match=f"{told_of} is no running batch"):
                _invoke("summarize-batch", forged)
        follow(sfn, single, timeout=30)
    assert s3_text(rows_uri) == rows
