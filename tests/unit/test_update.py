"""update: UpdateTask with the input's kwargs."""

import pytest

from datasync_steps.errors import (
    DataSyncTaskNotFoundError,
)
from datasync_steps.update import update_task

TASK = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


def test_update_changes_the_task(datasync, task):
    update_task(datasync, task, {"Name": "Updated by the workflow"})
    assert datasync.describe_task(TaskArn=task)["Name"] == "Updated by the workflow"


def test_update_of_a_missing_task_is_not_found(datasync):
    missing = TASK.replace("111122223333", "123456789012")
    with pytest.raises(DataSyncTaskNotFoundError, match=f"Task {missing} not found"):
        update_task(datasync, missing, {"Name": "n"})
