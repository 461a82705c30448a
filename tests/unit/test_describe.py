"""describe: the final description as JSON, its metrics, and the error of an execution that failed."""

import io
import json
import time
from datetime import datetime

import pytest

from datasync_steps import describe as describe_step
from datasync_steps.describe import describe_execution
from datasync_steps.errors import (
    DataSyncTaskExecutionFailedError,
)
from datasync_workflow.local import EmulatedTransfer, emulated_transfers
from tests.conftest import started


def test_describe_returns_the_final_description_as_json_with_iso_timestamps(datasync, task):
    with emulated_transfers(EmulatedTransfer(seconds=0.1, files=3, bytes=2048)):
        execution = started(datasync, task)["TaskExecutionArn"]
    time.sleep(0.2)
    description = describe_execution(datasync, execution).model_dump(mode="json")
    assert datetime.fromisoformat(description["StartTime"]).tzinfo is not None
    assert (description["Status"], description["FilesTransferred"], description["BytesTransferred"]) == (
        "SUCCESS",
        3,
        2048,
    )
    assert "ResponseMetadata" not in description
    json.dumps(description)


def test_an_execution_that_ended_in_error_fails_with_datasyncs_code_and_detail(datasync, task):
    failing = EmulatedTransfer(0.1, error_code="SockTimeout", error_detail="Connection to the SMB server timed out")
    with emulated_transfers(failing):
        execution = started(datasync, task)["TaskExecutionArn"]
    time.sleep(0.2)
    with pytest.raises(DataSyncTaskExecutionFailedError) as raised:
        describe_execution(datasync, execution)
    assert str(raised.value) == (
        f"DataSync execution {execution} ended in ERROR: SockTimeout: Connection to the SMB server timed out."
    )


def test_describe_publishes_transfer_metrics(datasync, task, monkeypatch, capsys):
    with emulated_transfers(EmulatedTransfer(seconds=0.1, files=3, bytes=2048)):
        execution = started(datasync, task)["TaskExecutionArn"]
    time.sleep(0.2)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    describe_step.metrics.clear_metrics()
    description = describe_execution(datasync, execution).model_dump(mode="json")
    describe_step.metrics.flush_metrics()
    emf = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    published = {
        name: emf[name] for name in ("ExecutionsSucceeded", "BytesTransferred", "FilesTransferred", "Duration")
    }
    assert published == {
        "ExecutionsSucceeded": [1.0],
        "BytesTransferred": [2048.0],
        "FilesTransferred": [3.0],
        "Duration": [float(description["Result"]["TotalDuration"])],
    }
    units = {m["Name"]: m["Unit"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["BytesTransferred"] == "Bytes" and units["Duration"] == "Milliseconds"


def test_a_running_execution_is_described_as_running_and_counted_as_nothing(datasync, task, monkeypatch):
    # What a forged or stale wake-up finds: the run goes back to its checks; no metric says an execution ended.
    with emulated_transfers(EmulatedTransfer(seconds=30)):
        execution = started(datasync, task)["TaskExecutionArn"]
    logs = io.StringIO()
    monkeypatch.setattr(describe_step.logger.registered_handler, "stream", logs)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    describe_step.metrics.clear_metrics()
    assert describe_execution(datasync, execution).model_dump(mode="json")["Status"] == "LAUNCHING"
    assert describe_step.metrics.metric_set == {}
    assert '"message":"The execution has not ended: back to the status checks"' in logs.getvalue()
    assert "Final task execution description" not in logs.getvalue()
