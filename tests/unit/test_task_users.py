"""Which runs use a task (task_users.py), and the deletion that waits for the last of them: the waiting table is moto's
DynamoDB (TransactWriteItems with a ConditionCheck), the runs are moto's Step Functions executions (RUNNING until
stopped), DataSync is the emulated one."""

import json

import boto3
import pytest

from datasync_steps import task_users
from datasync_steps.cleanup import clean_up
from datasync_steps.create_task import create_task
from datasync_steps.delete import delete_task
from datasync_steps.deployment import WORKFLOW_STATE_MACHINE_VARIABLE
from datasync_steps.errors import DataSyncTaskNotFoundError, DataSyncTransientError
from datasync_steps.executions import StatusChange
from datasync_steps.input_parsing import parse_workflow_input
from datasync_steps.names import CREATE_TASK, RUN
from datasync_steps.resolve import resolve
from datasync_steps.resources import workflow_tag
from datasync_steps.state import Target
from datasync_steps.task_users import DELETE_REQUESTED, DELETING, TaskUsers, use_task
from datasync_steps.waiting import PARTITION_KEY, SORT_KEY
from tests.conftest import (
    REGION,
    items,
    make_s3_location,
    make_smb_location,
    make_task,
    s3_kwargs,
    smb_kwargs,
    task_arns,
)

URIS = {"source_location_uri": "smb://hostname/directory/", "destination_location_uri": "s3://mybucket/prefix"}
FIND_OR_CREATE = {
    **URIS,
    "create_task_kwargs": {"Name": "created"},
    "create_source_location_kwargs": smb_kwargs(),
    "create_destination_location_kwargs": s3_kwargs(),
    "delete_task_after_execution": True,
}


WAIT_SECONDS = task_users.WAIT_SECONDS  # as deployed; the tests below wait less


@pytest.fixture(autouse=True)
def fast_waits(monkeypatch):
    monkeypatch.setattr(task_users, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(task_users, "WAIT_SECONDS", 0.3)


@pytest.fixture
def sfn(aws):
    return boto3.client("stepfunctions", region_name=REGION)


@pytest.fixture
def machine(sfn, monkeypatch) -> str:
    """The workflow's state machine in moto's Step Functions (which does not run it: its executions stay RUNNING
    until stopped)."""
    arn = sfn.create_state_machine(
        name="datasync-workflow",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    monkeypatch.setenv(WORKFLOW_STATE_MACHINE_VARIABLE, arn)
    return arn


@pytest.fixture
def run(sfn, machine, table):
    """A new run of the workflow (RUNNING), as the table of task users sees it."""

    def new_run(name: str, step: str = "delete") -> TaskUsers:
        execution = sfn.start_execution(stateMachineArn=machine, name=name, input="{}")["executionArn"]
        return TaskUsers(table, sfn, execution, step)

    return new_run


def ended(sfn, users: TaskUsers) -> None:
    sfn.stop_execution(executionArn=users.workflow_execution)


def keys(table) -> set[tuple[str, str]]:
    return {(item[PARTITION_KEY], item[SORT_KEY]) for item in items(table)}


def test_a_registration_is_refused_while_a_deletion_is_under_way_and_waits_for_it(datasync, run, task, table):
    deleter, user = run("deleter"), run("user")
    assert deleter.take_marker(task)
    assert user.register(task, 60) is False
    assert keys(table) == {(task, DELETING)}  # nothing of the refused user was written
    # The deletion keeps the task: the user registers once the marker is gone.
    deleter.release_marker(task)
    assert use_task(user, task, 60, lambda: True)
    assert keys(table) == {(task, user.workflow_execution), (user.workflow_execution, task)}


def test_a_registration_that_waited_for_a_deletion_that_happened_looks_again(datasync, run, task, table):
    deleter, user = run("deleter"), run("user")
    deleter.take_marker(task)
    exists = iter([True, False])  # deleted while the user waits
    assert use_task(user, task, 60, lambda: next(exists)) is False
    assert (task, user.workflow_execution) not in keys(table)


def test_a_deletion_that_lasts_too_long_is_a_transient_error_which_step_functions_retries(datasync, run, task):
    run("deleter").take_marker(task)
    with pytest.raises(DataSyncTransientError, match=f"deleting task {task}"):
        use_task(run("user"), task, 60, lambda: True)


def test_a_marker_left_by_a_killed_deleter_counts_for_nothing_after_its_time(datasync, run, task, table, monkeypatch):
    run("killed").take_marker(task)
    table.update_item(
        Key={PARTITION_KEY: task, SORT_KEY: DELETING},
        UpdateExpression="SET ExpiresAt = :past",
        ExpressionAttributeValues={":past": 1},
    )
    assert run("user").register(task, 60)


def test_a_run_that_used_the_task_and_ended_does_not_keep_it(datasync, sfn, run, task, table):
    failed, deleter = run("failed"), run("deleter")
    assert failed.register(task, 60) and deleter.register(task, 60)
    ended(sfn, failed)
    deletion = delete_task(datasync, task, deleter)
    assert deletion.model_dump(mode="json") == {"TaskDeleted": True, "TaskInUseByOtherRuns": 0}
    assert task_arns(datasync) == [] and items(table) == []  # the ended run's items went with it


def test_a_running_user_keeps_the_task_and_the_result_says_so(datasync, sfn, run, task, table):
    user, deleter = run("user"), run("deleter")
    assert user.register(task, 60) and deleter.register(task, 60)
    deletion = delete_task(datasync, task, deleter)
    assert deletion.model_dump(mode="json") == {"TaskDeleted": False, "TaskInUseByOtherRuns": 1}
    assert task_arns(datasync) == [task]
    # The deleter is gone from the users, and the deletion was asked for; no marker is left.
    assert keys(table) == {(task, user.workflow_execution), (user.workflow_execution, task), (task, DELETE_REQUESTED)}
    # The last user to finish that deletes its task deletes it.
    assert delete_task(datasync, task, user).model_dump(mode="json") == {"TaskDeleted": True, "TaskInUseByOtherRuns": 0}
    assert task_arns(datasync) == [] and items(table) == []


def test_a_retried_delete_step_is_idempotent(datasync, sfn, run, task, table):
    user, deleter = run("user"), run("deleter")
    user.register(task, 60), deleter.register(task, 60)
    kept = delete_task(datasync, task, deleter)
    # Retried after a lost answer: the same decision, nothing written twice.
    assert delete_task(datasync, task, deleter) == kept and kept.TaskDeleted is False
    assert len(items(table)) == 3
    ended(sfn, user)
    # Retried again once the user ended: now it deletes; and again: deleting a deleted task is success.
    assert delete_task(datasync, task, deleter).TaskDeleted is True
    assert delete_task(datasync, task, deleter).model_dump(mode="json") == {
        "TaskDeleted": True,
        "TaskInUseByOtherRuns": 0,
    }
    assert items(table) == [] and task_arns(datasync) == []


def test_a_retried_delete_step_retakes_its_own_marker(datasync, run, task, table):
    deleter = run("deleter")
    deleter.register(task, 60)
    deleter.take_marker(task)  # its first try was killed holding the marker
    assert delete_task(datasync, task, deleter).TaskDeleted is True
    assert items(table) == []


def test_a_second_deleter_waits_for_the_first_and_finds_the_task_deleted(datasync, run, task, table, monkeypatch):
    first, second = run("first"), run("second")
    first.register(task, 60), second.register(task, 60)
    first.unregister(task), first.take_marker(task)  # the first is deleting it
    original = second.sleep

    def first_deletes_meanwhile(seconds: float) -> None:
        datasync.delete_task(TaskArn=task)
        first.release_marker(task)
        original(seconds)

    second.sleep = first_deletes_meanwhile
    assert delete_task(datasync, task, second).TaskDeleted is True
    assert items(table) == []


def test_a_registration_that_lands_after_the_deletion_finds_the_task_gone_and_looks_again(
    datasync, run, table, monkeypatch
):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    make_task(datasync, source, destination)
    user = run("user")
    register = TaskUsers.register

    def deleted_just_before(self, task_arn: str, seconds: int) -> bool:
        # Another run deleted the task (and removed its marker) between this run's look-up and its registration.
        datasync.delete_task(TaskArn=task_arn)
        monkeypatch.setattr(TaskUsers, "register", register)
        return register(self, task_arn, seconds)

    monkeypatch.setattr(TaskUsers, "register", deleted_just_before)
    resolved = resolve(datasync, FIND_OR_CREATE, users=user)
    # Looked again: no task links the URIs now, so the run creates one (and registers on it there).
    assert resolved.plan.route == CREATE_TASK and resolved.target.TaskArn is None
    assert items(table) == []
    # A task_arn input finds it gone: not found, as before.
    other = make_task(datasync, source, destination)
    monkeypatch.setattr(TaskUsers, "register", deleted_just_before)
    with pytest.raises(DataSyncTaskNotFoundError, match=other):
        resolve(datasync, {"task_arn": other}, users=user)
    assert items(table) == []


def test_a_found_task_is_registered_before_it_is_used(datasync, run, table):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    user = run("user")
    assert resolve(datasync, FIND_OR_CREATE, users=user).plan.route == RUN
    (registered,) = [item for item in items(table) if item[PARTITION_KEY] == task]
    assert registered[SORT_KEY] == user.workflow_execution
    # Kept longer than the try can use it: its checks (60 of twice 30 s), an hour to set up, and a day's margin.
    assert registered["ExpiresAt"] - registered["RegisteredAt"] == 3600 + 3600 + 86_400
    assert user.tasks_used() == [task]


def test_create_task_registers_on_the_task_it_made_and_makes_another_when_that_was_deleted(
    datasync, run, table, monkeypatch
):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    config = parse_workflow_input(FIND_OR_CREATE)
    target = Target(SourceLocationArn=source, DestinationLocationArn=destination)
    user = run("user")
    register, registered = TaskUsers.register, []

    def first_deleted(self, task_arn: str, seconds: int) -> bool:
        if not registered:  # a run that found the first task deletes it as this one registers
            datasync.delete_task(TaskArn=task_arn)
        registered.append(task_arn)
        return register(self, task_arn, seconds)

    monkeypatch.setattr(TaskUsers, "register", first_deleted)
    made = create_task(datasync, datasync, config, target, workflow_tag(user.workflow_execution), users=user)
    assert task_arns(datasync) == [made.TaskArn] and len(registered) == 2 and registered[1] == made.TaskArn
    assert made.TaskCreated is True
    assert keys(table) == {(made.TaskArn, user.workflow_execution), (user.workflow_execution, made.TaskArn)}


def test_the_clean_up_of_a_failed_last_user_deletes_a_task_whose_deletion_was_asked(datasync, sfn, run, task, table):
    failing, deleter = run("failing"), run("deleter")
    failing.register(task, 60), deleter.register(task, 60)
    assert delete_task(datasync, task, deleter).TaskDeleted is False
    ended(sfn, failing)
    clean_up(sfn, datasync, StatusChange(executionArn=failing.workflow_execution, status="ABORTED"), failing)
    assert task_arns(datasync) == [] and items(table) == []


def test_the_clean_up_of_a_failed_run_keeps_a_task_nobody_asked_to_delete(datasync, sfn, run, task, table):
    failing, other = run("failing"), run("other")
    failing.register(task, 60), other.register(task, 60)
    ended(sfn, failing)
    clean_up(sfn, datasync, StatusChange(executionArn=failing.workflow_execution, status="ABORTED"), failing)
    assert task_arns(datasync) == [task]  # a failed run never deletes its task by itself
    assert keys(table) == {(task, other.workflow_execution), (other.workflow_execution, task)}


def test_the_clean_up_of_a_run_that_did_not_stop_releases_nothing(datasync, sfn, run, task, table):
    running = run("running")
    running.register(task, 60)
    clean_up(sfn, datasync, StatusChange(executionArn=running.workflow_execution, status="ABORTED"), running)
    assert len(items(table)) == 2


# The marker: held while the task is deleted, by one step of one run, for as long as that step can live.


def test_the_marker_is_held_while_the_task_is_deleted_and_released_after(datasync, run, task, table):
    deleter, late = run("deleter"), run("late")
    refused_meanwhile = []

    def delete() -> None:
        refused_meanwhile.append(late.register(task, 60) is False)
        datasync.delete_task(TaskArn=task)

    outcome = task_users.delete_when_unused(deleter, task, delete, lambda: task in task_arns(datasync))
    assert outcome.deleted and refused_meanwhile == [True]
    assert items(table) == []  # the marker went last


def test_the_clean_up_of_a_run_never_takes_or_removes_the_marker_its_own_delete_step_holds(datasync, sfn, run, task):
    # A run stopped while its delete step runs: the step goes on, and the run's clean-up starts beside it.
    delete_step = run("stopped", step="delete")
    cleanup_step = TaskUsers(delete_step.table, sfn, delete_step.workflow_execution, "cleanup")
    assert delete_step.take_marker(task)
    assert cleanup_step.take_marker(task) is False
    cleanup_step.release_marker(task)
    assert delete_step.deleting(task)
    marker = delete_step.table.get_item(Key={PARTITION_KEY: task, SORT_KEY: DELETING})["Item"]
    assert marker[task_users.DELETER] == f"{delete_step.workflow_execution}#delete"
    delete_step.release_marker(task)
    assert not delete_step.deleting(task)


def test_an_expired_marker_of_another_step_is_taken(datasync, run, task, table):
    killed, deleter = run("killed"), run("deleter")
    killed.take_marker(task)
    assert deleter.take_marker(task) is False
    table.update_item(
        Key={PARTITION_KEY: task, SORT_KEY: DELETING},
        UpdateExpression="SET ExpiresAt = :past",
        ExpressionAttributeValues={":past": 1},
    )
    assert deleter.take_marker(task)
    assert table.get_item(Key={PARTITION_KEY: task, SORT_KEY: DELETING})["Item"][task_users.DELETER].startswith(
        deleter.workflow_execution
    )


def test_a_marker_outlives_the_step_that_holds_it_and_no_waiting_run_fails_before_it_expires():
    from datasync_workflow.definition.flow import RETRY
    from datasync_workflow.definition.steps import step_named

    (transient,) = [retry for retry in RETRY if retry["ErrorEquals"] == ["DataSyncTransientError"]]
    longest_holder = max(step_named(name).timeout_seconds for name in ("delete", "cleanup"))
    # Taken after its function started, a marker is still there when that function is killed at its timeout...
    assert longest_holder < task_users.MARKER_SECONDS
    # ...and a registration's waits (a first try and each retry, however short the retries' delays) outlast it.
    assert WAIT_SECONDS * (1 + transient["MaxAttempts"]) > task_users.MARKER_SECONDS
    # The clean-up's last task, begun at its deadline, may wait for another deleter once more: still in its timeout.
    assert step_named("cleanup").timeout_seconds > task_users.CLEANUP_SECONDS + WAIT_SECONDS


# DynamoDB's refusals, which moto does not make: a transaction in progress on the marker, a throttle. Stubber answers
# as DynamoDB's API reference says (TransactionConflictException for a single-item write that meets a transaction;
# TransactionCanceledException with a reason per item for a transaction).


@pytest.fixture
def stubbed(run):
    from botocore.stub import Stubber

    users = run("stubbed")
    with Stubber(users.table.meta.client) as stubber:
        yield users, stubber
        stubber.assert_no_pending_responses()


def test_a_marker_that_meets_a_registrations_transaction_is_not_taken_now(stubbed, task):
    users, stubber = stubbed
    stubber.add_client_error("put_item", "TransactionConflictException")
    assert users.take_marker(task) is False


def test_a_marker_that_meets_a_transaction_is_removed_at_the_next_try(stubbed, task):
    users, stubber = stubbed
    stubber.add_client_error("delete_item", "TransactionConflictException")
    stubber.add_response("delete_item", {})
    waited = []
    users.sleep = waited.append
    users.release_marker(task)
    assert waited == [task_users.POLL_SECONDS]


def test_a_registration_in_conflict_with_a_deleters_write_waits_as_if_refused(stubbed, task):
    users, stubber = stubbed
    reasons = [{"Code": "None"}, {"Code": "None"}, {"Code": "TransactionConflict"}]
    stubber.add_client_error(
        "transact_write_items", "TransactionCanceledException", modeled_fields={"CancellationReasons": reasons}
    )
    assert users.register(task, 60) is False


def test_a_throttled_table_is_a_transient_error_which_step_functions_retries(stubbed, task):
    users, stubber = stubbed
    reasons = [{"Code": "ThrottlingError"}, {"Code": "None"}, {"Code": "None"}]
    stubber.add_client_error(
        "transact_write_items", "TransactionCanceledException", modeled_fields={"CancellationReasons": reasons}
    )
    with pytest.raises(DataSyncTransientError, match="throttled"):
        users.register(task, 60)
    stubber.add_client_error("put_item", "ProvisionedThroughputExceededException")
    with pytest.raises(DataSyncTransientError, match="DynamoDB failed to record the deletion"):
        users.request_deletion(task, [{"ExpiresAt": 1}])
    stubber.add_client_error("delete_item", "TransactionConflictException")
    with pytest.raises(DataSyncTransientError, match="DynamoDB failed to forget"):
        users.forget(task, "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:other")


# What the deleter counts and records.


def test_every_other_run_that_may_use_the_task_is_counted(datasync, sfn, run, task, table):
    finished, running, later, deleter = run("finished"), run("running"), run("later"), run("deleter")
    for users in (finished, running, later, deleter):
        users.register(task, 60)
    ended(sfn, finished)
    assert delete_task(datasync, task, deleter).TaskInUseByOtherRuns == 2
    assert (task, finished.workflow_execution) not in keys(table)  # the ended one was forgotten


def test_a_kept_tasks_deletion_is_asked_for_as_long_as_its_longest_user_may_use_it(datasync, run, task, table):
    short, long, deleter = run("short"), run("long"), run("deleter")
    short.register(task, 60), long.register(task, 6000), deleter.register(task, 60)
    delete_task(datasync, task, deleter)
    expiry = {item[SORT_KEY]: item["ExpiresAt"] for item in items(table) if item[PARTITION_KEY] == task}
    assert expiry[DELETE_REQUESTED] == expiry[long.workflow_execution] > expiry[short.workflow_execution]


def test_a_clean_up_with_no_time_left_keeps_the_task(datasync, sfn, run, task, table, monkeypatch):
    failing, deleter = run("failing"), run("deleter")
    failing.register(task, 60), deleter.register(task, 60)
    delete_task(datasync, task, deleter)
    ended(sfn, failing)
    monkeypatch.setattr(task_users, "CLEANUP_SECONDS", -1.0)
    monkeypatch.setattr("datasync_steps.cleanup.CLEANUP_SECONDS", -1.0)
    clean_up(sfn, datasync, StatusChange(executionArn=failing.workflow_execution, status="ABORTED"), failing)
    assert task_arns(datasync) == [task]
