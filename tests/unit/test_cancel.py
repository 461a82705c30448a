"""cancel: stop a running execution; one that already ended or is being cancelled is not an error."""

import time

from datasync_steps.cancel import cancel_execution
from datasync_workflow.local.emulated_datasync_executions import CANCELLING_SECONDS
from tests.conftest import started


def test_cancel_stops_a_running_execution(datasync, task):
    execution = started(datasync, task)["TaskExecutionArn"]
    assert cancel_execution(datasync, execution).model_dump(mode="json") == {"Cancelled": True}
    assert datasync.describe_task_execution(TaskExecutionArn=execution)["Status"] == "CANCELLING"
    # Asked again while DataSync is still cancelling it: already done, not an error.
    assert cancel_execution(datasync, execution).model_dump(mode="json") == {"Cancelled": True, "Status": "CANCELLING"}
    time.sleep(CANCELLING_SECONDS)
    assert datasync.describe_task_execution(TaskExecutionArn=execution)["Status"] == "ERROR"
    assert datasync.describe_task(TaskArn=task)["Status"] == "AVAILABLE"
    assert cancel_execution(datasync, execution).model_dump(mode="json") == {"Cancelled": False, "Status": "ERROR"}
