"""retry: whether a failed try runs again, and the Error and Cause of the last."""

import json

from datasync_steps.input_parsing import parse_workflow_input
from datasync_steps.retry import MAX_CAUSE_CHARACTERS, explained, next_try
from datasync_steps.state import CaughtError

TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
LAMBDA_ERROR = CaughtError(
    Error="DataSyncTaskExecutionFailedError",
    Cause=json.dumps({"errorMessage": "The execution failed.", "errorType": "X", "stackTrace": ["..."]}),
)


def test_a_lambda_errors_cause_is_its_message_and_any_other_cause_is_kept():
    assert explained(LAMBDA_ERROR) == "The execution failed."
    assert explained(CaughtError(Error="States.Timeout", Cause="The task timed out.")) == "The task timed out."
    assert explained(CaughtError(Error="States.Timeout", Cause='"just a string"')) == '"just a string"'
    assert explained(CaughtError(Error="Lambda.Unknown")) == "Lambda.Unknown"


def test_a_failed_try_runs_again_until_the_retries_are_used_up():
    config = parse_workflow_input({"task_arn": TASK_ARN, "retries": 2, "retry_delay": 7})
    first = next_try(config, "run", 1, LAMBDA_ERROR)
    assert (first.Retry, first.Attempt, first.DelaySeconds) == (True, 2, 7)
    assert next_try(config, "run", 2, LAMBDA_ERROR).Retry is True
    last = next_try(config, "run", 3, LAMBDA_ERROR)
    assert (last.Retry, last.Error, last.Cause) == (
        False,
        "DataSyncTaskExecutionFailedError",
        "The execution failed. This was the last of 3 tries.",
    )


def test_without_retries_or_a_valid_input_the_failure_is_final_and_unchanged():
    assert (
        next_try(parse_workflow_input({"task_arn": TASK_ARN}), "run", 1, LAMBDA_ERROR).Cause == "The execution failed."
    )
    refused = CaughtError(Error="DataSyncInvalidInputError", Cause=json.dumps({"errorMessage": "Invalid input."}))
    assert next_try(None, "run", 1, refused).model_dump() == {
        "Retry": False,
        "Attempt": 1,
        "DelaySeconds": 0,
        "Error": "DataSyncInvalidInputError",
        "Cause": "Invalid input.",
    }


def test_the_last_tries_cause_fits_in_step_functions_cause():
    config = parse_workflow_input({"task_arn": TASK_ARN, "retries": 1})
    huge = CaughtError(Error="States.Runtime", Cause="x" * 40_000)
    cause = next_try(config, "run", 2, huge).Cause
    assert len(cause) <= MAX_CAUSE_CHARACTERS and cause.endswith("This was the last of 2 tries.")


def test_a_failed_tries_execution_that_still_runs_is_cancelled_before_the_next_try(datasync, task):
    from datasync_steps.retry import TryExecution, cancel_before_retrying
    from datasync_workflow.local import EmulatedTransfer, emulated_transfers
    from tests import fakes

    with emulated_transfers(EmulatedTransfer(seconds=30)):
        running = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    config = parse_workflow_input({"task_arn": TASK_ARN, "retries": 1})
    retrying = next_try(config, "run", 1, LAMBDA_ERROR)
    # Another run's execution this try only waited for (queue) is not this run's to cancel.
    cancel_before_retrying(datasync, retrying, TryExecution(TaskExecutionArn=running, Action="queue"))
    assert fakes.backend().task_executions[running].cancel_time is None
    # The last try's is left to the clean-up, as without retries.
    cancel_before_retrying(
        datasync, next_try(config, "run", 2, LAMBDA_ERROR), TryExecution(TaskExecutionArn=running, Action="follow")
    )
    assert fakes.backend().task_executions[running].cancel_time is None
    cancel_before_retrying(datasync, retrying, TryExecution(TaskExecutionArn=running, Action="follow"))
    assert fakes.backend().task_executions[running].cancel_time is not None
