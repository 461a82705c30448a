"""check-status: read the execution's status and counters."""

import time

from datasync_steps.check_status import check_status
from tests.conftest import PLAN, started

TASK = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
EXECUTION = f"{TASK}/execution/exec-0123456789abcdef0"


def test_check_status_counts_the_checks(datasync, task):
    execution = started(datasync, task)["TaskExecutionArn"]
    first = check_status(datasync, execution, 0, PLAN).model_dump(mode="json")
    second = check_status(datasync, execution, first["checks_done"], PLAN).model_dump(mode="json")
    assert second["checks_done"] == 2


class StatusSays:
    """A DataSync client that reports one status: Stubber refuses statuses outside the API model's enum."""

    def __init__(self, status):
        self.status = status

    def describe_task_execution(self, TaskExecutionArn):
        return {"TaskExecutionArn": TaskExecutionArn, "Status": self.status}


def unknown_status_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "does not know" in r.getMessage()]


def test_an_unknown_status_is_logged_and_passed_on(caplog):
    assert check_status(StatusSays("QUEUED"), EXECUTION, 0, PLAN).model_dump(mode="json")["Status"] == "QUEUED"
    assert unknown_status_warnings(caplog) == []
    assert check_status(StatusSays("PAUSED"), EXECUTION, 1, PLAN).model_dump(mode="json") == {
        "Status": "PAUSED",
        "checks_done": 2,
        "wait_seconds": PLAN.wait_seconds,
        "TimedOut": False,
    }
    assert unknown_status_warnings(caplog) == ["DataSync reported a status this workflow does not know; waiting on"]


def test_past_the_tries_execution_timeout_a_running_execution_is_out_of_time():
    past = PLAN.model_copy(update={"deadline": time.time() - 1})
    assert check_status(StatusSays("TRANSFERRING"), EXECUTION, 0, past).TimedOut is True
    # An execution that ended is not out of time: the run describes it.
    assert check_status(StatusSays("SUCCESS"), EXECUTION, 0, past).TimedOut is False


def test_the_wait_after_a_check_ends_by_the_deadline():
    soon = PLAN.model_copy(update={"deadline": time.time() + 5.5})
    checked = check_status(StatusSays("TRANSFERRING"), EXECUTION, 0, soon)
    assert checked.TimedOut is False and checked.wait_seconds == 6  # not the plan's 60 s
    assert check_status(StatusSays("TRANSFERRING"), EXECUTION, 0, PLAN).wait_seconds == 60


def test_an_enhanced_execution_is_checked_with_the_counters_of_its_mode(datasync):
    from datasync_workflow.local import EmulatedTransfer, emulated_transfers
    from tests.conftest import make_s3_location, make_smb_location, make_task

    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync), TaskMode="ENHANCED")
    with emulated_transfers(EmulatedTransfer(seconds=0.2, files=9, files_failed=2)):
        execution = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    time.sleep(0.3)
    checked = check_status(datasync, execution, 0, PLAN).model_dump(mode="json")
    assert {key: checked[key] for key in ("TaskMode", "FilesListed", "FilesPrepared", "FilesFailed")} == {
        "TaskMode": "ENHANCED",
        "FilesListed": 9,
        "FilesPrepared": 9,
        "FilesFailed": 2,
    }
    # Basic mode has no such counters.
    assert "FilesListed" not in check_status(StatusSays("TRANSFERRING"), EXECUTION, 0, PLAN).model_dump(mode="json")
