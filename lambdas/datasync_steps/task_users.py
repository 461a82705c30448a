"""Which runs of this deployment use a DataSync task: a run deletes its task (delete_task_after_execution) only when
no other run uses it or waits for it, and the last of them deletes it.

Kept in the waiting table (waiting.py), whose partition key is then a task's ARN (a task execution's ARN is the task's
and /execution/..., so the two never meet):

- under the task, an item per workflow execution that uses it (sort key: the execution's ARN), put before the run uses
  the task (resolve, create-task), each try again;
- under the workflow execution, an item per task it registered on (sort key: the task's ARN), which the clean-up of a
  run that failed or stopped reads;
- under the task, the marker DELETING while a step of a run (delete, or cleanup) decides whether to delete the task,
  and deletes it: a registration is refused while it is there (one transaction puts the user and checks the marker),
  and the deleter deletes the task before it removes the marker, so a registration that lands after it finds the task
  gone and looks again. The marker names the step as well as the run: the clean-up of a run stopped while its delete
  step ran must not take (or remove) the marker that step holds;
- under the task, DELETE_REQUESTED once a run asked for the task's deletion and kept it for runs still using it: the
  last of those deletes it (one with delete_task_after_execution, or the clean-up of one that failed or stopped).

Step Functions is the truth of who uses the task: a registered run whose execution is no longer RUNNING counts for
nothing, and its items are removed. Every write is idempotent or conditional, so a retried step repeats nothing
wrongly: a registration puts the same key again, and deleting a deleted task is what was asked.
"""

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from datasync_steps.datasync import TRANSACTION_CONFLICT, translate_errors
from datasync_steps.errors import DataSyncTaskNotFoundError, DataSyncTransientError
from datasync_steps.limits import SETUP_SECONDS, seconds_between_checks
from datasync_steps.observability import logger
from datasync_steps.resources import describe_task
from datasync_steps.waiting import (
    EXPIRES_AT,
    PARTITION_KEY,
    SORT_KEY,
    TABLE_NAME_VARIABLE,
    waiting_for,
    waiting_table,
)

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_stepfunctions import SFNClient

    from datasync_steps.input_model import WorkflowInput


# Sort keys that no workflow execution's ARN (arn:...) can be.
DELETING, DELETE_REQUESTED = "#deleting", "#delete-requested"
RESERVED = (DELETING, DELETE_REQUESTED)
DELETER = "DeletingStep"  # the marker's: the workflow execution and its step deleting the task
# A marker outlives the step that took it (delete's and cleanup's Lambda timeout is 120 s, counted from before the
# take), so one left by a function that was killed counts for nothing after this, and no sooner.
MARKER_SECONDS = 130
# A registration (or a second deleter) waits this long at most for a deletion under way, checking every POLL_SECONDS;
# then the step fails with DataSyncTransientError, which Step Functions retries (5 times): its 6 waits outlast a
# marker left by a killed function, so a run is never failed by one.
WAIT_SECONDS, POLL_SECONDS = 25.0, 0.25
REGISTER_ROUNDS = 3
# The deleter asks Step Functions about the registered runs for at most this long; those not asked by then count as
# users.
CHECK_SECONDS = 60.0
# The clean-up of a stopped run releases its tasks for at most this long (of its Lambda's 120 s); a task it had no
# time for is kept, and the next run that deletes it, or its expiry, releases it.
CLEANUP_SECONDS = 80.0
# Removing a marker that meets a transaction (a registration's check of it) is tried this many times.
RELEASE_TRIES = 3
# A user's items are kept this much longer than its try can use the task (DynamoDB removes them some time after).
EXPIRY_MARGIN_SECONDS = 86_400
CONDITION_FAILED = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException"})
# A transaction's reasons: refused by the marker's check, or in conflict with a deleter's write of it.
REFUSALS = {"ConditionalCheckFailed", "TransactionConflict"}
THROTTLED = {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}


def use_seconds(config: "WorkflowInput") -> int:
    """How long a try of `config` may use its task at most: its setup and its status checks (those waiting for
    another run's execution count), bounded by its execution_timeout."""
    checks = config.max_iterations * seconds_between_checks(config.wait_interval_seconds)
    return int(SETUP_SECONDS + min(checks, config.execution_timeout or checks))


def task_exists(client: "DataSyncClient", task_arn: str) -> bool:
    try:
        describe_task(client, task_arn)
    except DataSyncTaskNotFoundError:
        return False
    return True


@dataclass
class TaskUsers:
    """The table's items of the runs that use tasks, as the run `workflow_execution` reads and writes them."""

    table: "Table"
    sfn: "SFNClient"
    workflow_execution: str
    step: str  # the step of the run that acts ("resolve", "delete", ...): a deleting step's marker names it
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def of(cls, workflow_execution: str, sfn: "SFNClient", step: str) -> "TaskUsers | None":
        """The run's, in the table the stack names to the step (WAITING_TABLE_NAME; the stack and the local runner set
        it on each step that keeps task users); None, with a warning, in an environment without it."""
        if not os.environ.get(TABLE_NAME_VARIABLE):
            logger.warning(f"{TABLE_NAME_VARIABLE} is not set: the runs that use each task are not kept")
            return None
        return cls(waiting_table(), sfn, workflow_execution, step)

    @property
    def deleter(self) -> str:
        return f"{self.workflow_execution}#{self.step}"

    # This run's own registration.

    def register(self, task_arn: str, seconds: int) -> bool:
        """Record that this run uses the task for up to `seconds`; False, recording nothing, while a deletion of
        it is under way."""
        now = int(time.time())
        expires = now + seconds + EXPIRY_MARGIN_SECONDS
        try:
            with _table_errors(f"register on task {task_arn}", passing=CONDITION_FAILED):
                self.table.meta.client.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": self.table.name, "Item": self._user(task_arn, now, expires)}},
                        {"Put": {"TableName": self.table.name, "Item": self._used(task_arn, now, expires)}},
                        {
                            "ConditionCheck": {
                                "TableName": self.table.name,
                                "Key": _key(task_arn, DELETING),
                                "ConditionExpression": "attribute_not_exists(#pk) OR #expires < :now",
                                "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#expires": EXPIRES_AT},
                                "ExpressionAttributeValues": {":now": now},
                            }
                        },
                    ]
                )
        except ClientError as error:
            # Refused by the marker's check, or in conflict with a deleter's write of it: either way, wait and see.
            reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
            if reasons & REFUSALS:
                return False
            if reasons & THROTTLED:
                raise DataSyncTransientError(
                    f"DynamoDB throttled the registration on task {task_arn}; will retry."
                ) from error
            with _table_errors(f"register on task {task_arn}"):
                raise
        return True

    def unregister(self, task_arn: str) -> None:
        self.forget(task_arn, self.workflow_execution)

    def tasks_used(self) -> list[str]:
        """The tasks this run registered on (and has not unregistered from)."""
        return [item[SORT_KEY] for item in waiting_for(self.table, self.workflow_execution)]

    def _user(self, task_arn: str, now: int, expires: int) -> dict[str, Any]:
        return {**_key(task_arn, self.workflow_execution), "RegisteredAt": now, EXPIRES_AT: expires}

    def _used(self, task_arn: str, now: int, expires: int) -> dict[str, Any]:
        return {**_key(self.workflow_execution, task_arn), "RegisteredAt": now, EXPIRES_AT: expires}

    # Another run's.

    def forget(self, task_arn: str, workflow_execution: str) -> None:
        with _table_errors(f"forget a run of task {task_arn}"):
            self.table.delete_item(Key=_key(task_arn, workflow_execution))
            self.table.delete_item(Key=_key(workflow_execution, task_arn))

    def running(self, workflow_execution: str) -> bool:
        """Whether Step Functions says the workflow execution runs."""
        with translate_errors(f"describe the workflow execution {workflow_execution}", service="Step Functions"):
            try:
                return self.sfn.describe_execution(executionArn=workflow_execution)["status"] == "RUNNING"
            except self.sfn.exceptions.ExecutionDoesNotExist:
                return False

    def other_users(self, task_arn: str, deadline: float) -> list[dict]:
        """The other runs registered on the task that may still use it, having removed those that ended. Step
        Functions is asked about them one by one until one runs (it alone keeps the task) or `deadline` passes:
        the others are counted unasked."""
        others = [
            item
            for item in waiting_for(self.table, task_arn)
            if item[SORT_KEY] not in RESERVED and item[SORT_KEY] != self.workflow_execution
        ]
        for index, item in enumerate(others):
            if time.monotonic() > deadline:
                return others[index:]
            if self.running(item[SORT_KEY]):
                return others[index:]
            logger.info("A run that used the task has ended: forgotten", extra={"workflow_execution": item[SORT_KEY]})
            self.forget(task_arn, item[SORT_KEY])
        return []

    # The deletion's marker and request.

    def take_marker(self, task_arn: str) -> bool:
        """Take the marker: False while another step holds it, or a registration's transaction meets it now."""
        now = int(time.time())
        try:
            with _table_errors(
                f"mark task {task_arn} as being deleted", passing=CONDITION_FAILED | {TRANSACTION_CONFLICT}
            ):
                self.table.put_item(
                    Item={**_key(task_arn, DELETING), DELETER: self.deleter, EXPIRES_AT: now + MARKER_SECONDS},
                    # Its own (a retried step's) or one left past its time count as none.
                    ConditionExpression="attribute_not_exists(#pk) OR #deleter = :me OR #expires < :now",
                    ExpressionAttributeNames={"#pk": PARTITION_KEY, "#deleter": DELETER, "#expires": EXPIRES_AT},
                    ExpressionAttributeValues={":me": self.deleter, ":now": now},
                )
        except ClientError:
            return False
        return True

    def release_marker(self, task_arn: str) -> None:
        """Remove this step's marker (another step's stays). One that cannot be removed now is left, with a warning,
        to count for nothing after its time: raising here would hide what the deletion did."""
        for _ in range(RELEASE_TRIES):
            try:
                self.table.delete_item(
                    Key=_key(task_arn, DELETING),
                    ConditionExpression="#deleter = :me",
                    ExpressionAttributeNames={"#deleter": DELETER},
                    ExpressionAttributeValues={":me": self.deleter},
                )
                return
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code in CONDITION_FAILED:
                    return
                if code != TRANSACTION_CONFLICT:
                    logger.warning("Could not remove the deletion's marker", extra={"task_arn": task_arn, "code": code})
                    return
            self.sleep(POLL_SECONDS)
        logger.warning(
            "Could not remove the deletion's marker", extra={"task_arn": task_arn, "code": TRANSACTION_CONFLICT}
        )

    def deleting(self, task_arn: str) -> bool:
        """Whether a deletion of the task is under way (its marker is there, and in its time)."""
        with _table_errors(f"read the deletion marker of task {task_arn}"):
            item = self.table.get_item(Key=_key(task_arn, DELETING), ConsistentRead=True).get("Item")
        return item is not None and int(item[EXPIRES_AT]) >= time.time()  # type: ignore[arg-type]

    def request_deletion(self, task_arn: str, users: list[dict]) -> None:
        """Record that a run asked for the task's deletion, for as long as the `users` it was kept for may use it."""
        expires = max(int(user[EXPIRES_AT]) for user in users)
        with _table_errors(f"record the deletion asked of task {task_arn}"):
            self.table.put_item(Item={**_key(task_arn, DELETE_REQUESTED), EXPIRES_AT: expires})

    def deletion_requested(self, task_arn: str) -> bool:
        with _table_errors(f"read whether a deletion of task {task_arn} was asked"):
            return "Item" in self.table.get_item(Key=_key(task_arn, DELETE_REQUESTED), ConsistentRead=True)

    def forget_task(self, task_arn: str) -> None:
        """Remove the deleted task's items but the marker (removed last)."""
        for item in waiting_for(self.table, task_arn):
            if item[SORT_KEY] == DELETING:
                continue
            if item[SORT_KEY] in RESERVED:
                with _table_errors(f"forget the deleted task {task_arn}"):
                    self.table.delete_item(Key=_key(task_arn, item[SORT_KEY]))
            else:
                self.forget(task_arn, item[SORT_KEY])

    def wait_while_deleting(self, task_arn: str, exists: Callable[[], bool], take: bool = False) -> bool:
        """Wait while another run deletes the task (taking the marker as soon as it is free, when `take`): whether the
        task is still there once the marker is free (or taken). DataSyncTransientError if that takes too long."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            if take and self.take_marker(task_arn):
                return True
            if not exists():
                return False
            if not take and not self.deleting(task_arn):
                return True
            if time.monotonic() > deadline:
                raise DataSyncTransientError(
                    f"Another run of this workflow has been deleting task {task_arn} for more than {WAIT_SECONDS:.0f} "
                    "s; will retry."
                )
            self.sleep(POLL_SECONDS)


def _key(partition: str, sort: str) -> dict[str, str]:
    return {PARTITION_KEY: partition, SORT_KEY: sort}


@contextmanager
def _table_errors(doing: str, passing: frozenset[str] = frozenset()) -> Iterator[None]:
    """A refusal of the table's whose code is in `passing` goes to the caller as it is; any other is the workflow's
    error (DataSyncTransientError for a throttle or a conflict with a transaction, which Step Functions retries)."""
    try:
        yield
    except ClientError as error:
        if error.response["Error"]["Code"] in passing:
            raise
        with translate_errors(doing, service="DynamoDB"):
            raise


def use_task(users: TaskUsers, task_arn: str, seconds: int, exists: Callable[[], bool]) -> bool:
    """Register this run on the task before it uses it: True once registered on a task that exists; False when the
    task is gone (deleted by another run, perhaps while this one waited for that deletion): look it up again."""
    for _ in range(REGISTER_ROUNDS):
        if users.register(task_arn, seconds):
            # A deleter deletes the task before it removes its marker: a registration that landed after that finds it
            # gone.
            if exists():
                return True
            users.unregister(task_arn)
            logger.info("The task was deleted by another run: looking again", extra={"task_arn": task_arn})
            return False
        logger.info("Another run is deleting the task: waiting", extra={"task_arn": task_arn})
        if not users.wait_while_deleting(task_arn, exists):
            logger.info("The task was deleted by another run: looking again", extra={"task_arn": task_arn})
            return False
    raise DataSyncTransientError(f"Other runs of this workflow keep deleting task {task_arn}; will retry.")


@dataclass(frozen=True)
class Outcome:
    deleted: bool  # the task is gone (this run deleted it, or another did)
    in_use_by: int = 0  # other runs that may still use it, for which it was kept


def delete_when_unused(
    users: TaskUsers,
    task_arn: str,
    delete: Callable[[], object],
    exists: Callable[[], bool],
    *,
    asked: bool = True,
    deadline: float | None = None,
) -> Outcome:
    """This run is done with the task: unregister, and delete the task unless another run still uses it. A run that
    `asked` for the deletion (delete_task_after_execution) records, when it keeps the task, that the deletion was asked;
    one that did not (the clean-up of a run that failed) deletes it only when a deletion was asked. Runs not asked
    about by `deadline` (time.monotonic()'s; CHECK_SECONDS from now at most) count as users."""
    users.unregister(task_arn)
    if not users.wait_while_deleting(task_arn, exists, take=True):
        logger.info("Another run deleted the task", extra={"task_arn": task_arn})
        return Outcome(deleted=True)
    try:
        if not asked and not users.deletion_requested(task_arn):
            return Outcome(deleted=False)
        check_until = time.monotonic() + CHECK_SECONDS
        others = users.other_users(task_arn, check_until if deadline is None else min(deadline, check_until))
        if others:
            users.request_deletion(task_arn, others)
            logger.info(
                "Other runs use the task: kept, and the last of them deletes it",
                extra={"task_arn": task_arn, "other_runs": len(others), "running": others[0][SORT_KEY]},
            )
            return Outcome(deleted=False, in_use_by=len(others))
        delete()
        users.forget_task(task_arn)
        return Outcome(deleted=True)
    finally:
        # Last: a registration refused meanwhile waits for this, then finds the task gone (or kept).
        users.release_marker(task_arn)
