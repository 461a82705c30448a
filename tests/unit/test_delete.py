"""delete: remove the task, keep the locations."""

from datasync_steps.delete import delete_task
from tests.conftest import location_arns, task_arns


def test_delete_removes_the_task_and_keeps_the_locations(datasync, task):
    delete_task(datasync, task)
    assert task_arns(datasync) == [] and len(location_arns(datasync)) == 2
    # Retried after a lost answer: the task is already gone, which is what was asked.
    assert delete_task(datasync, task).model_dump(mode="json") == {"TaskDeleted": True}
