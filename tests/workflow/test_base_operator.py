"""BaseOperator's keys, run locally: task_id, aws_conn_id, region_name, execution_timeout and the retries, with
Airflow's meaning."""

import io
import json

import pytest

from datasync_steps.observability import logger
from datasync_workflow.local import EmulatedTransfer, emulated_transfers, run_local
from tests import fakes
from tests.conftest import make_s3_location, make_smb_location, make_task
from tests.workflow.test_workflow import entered_states, failed

FAST = {"wait_interval_seconds": 0}


@pytest.fixture
def task(datasync):
    return make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))


def statuses_of_executions() -> list[str]:
    return [execution.status for execution in fakes.backend().task_executions.values()]


def test_execution_timeout_cancels_the_execution_and_fails_the_try(datasync, task):
    # The default wait_interval_seconds (30) would first check after 60 s: the timeout ends the wait at 3 s.
    with emulated_transfers(EmulatedTransfer(seconds=20)):
        execution = run_local({"task_arn": task, "execution_timeout": 3}, timeout=30)
    cause = failed(execution, "DataSyncExecutionTimeoutError")
    (started,) = fakes.backend().task_executions
    assert cause == f"DataSync execution {started} did not finish within execution_timeout=3 s, so it was cancelled."
    assert statuses_of_executions() in (["CANCELLING"], ["ERROR"])
    started_at = execution.history[0]["timestamp"]
    assert (execution.history[-1]["timestamp"] - started_at).total_seconds() < 10


def test_retries_start_a_new_execution_each_try_and_the_cause_says_it_was_the_last(datasync, task):
    with emulated_transfers(EmulatedTransfer(seconds=0.3, error_code="VerificationFailed")):
        execution = run_local({"task_arn": task, **FAST, "retries": 2, "retry_delay": 1}, timeout=60)
    cause = failed(execution, "DataSyncTaskExecutionFailedError")
    assert cause.endswith("This was the last of 3 tries.") and "VerificationFailed" in cause
    assert statuses_of_executions() == ["ERROR"] * 3
    assert entered_states(execution).count("Wait before the next try") == 2
    assert entered_states(execution).count("Validate input and find task") == 3


def test_a_try_that_succeeds_after_a_failed_one_says_how_many_ran(datasync, task, monkeypatch):
    fakes.fail_calls(monkeypatch, "start_task_execution", fakes.refused("The agent is offline."), times=1)
    execution = run_local({"task_arn": task, **FAST, "retries": 3, "retry_delay": 0, "task_id": "sync_nightly"})
    assert execution.status == "SUCCEEDED", execution.cause
    assert (execution.output["Attempts"], execution.output["task_id"]) == (2, "sync_nightly")
    assert len(fakes.backend().task_executions) == 1


def test_without_retries_a_failure_is_the_only_try_and_its_cause_is_unchanged(datasync, task):
    with emulated_transfers(EmulatedTransfer(seconds=0.3, error_code="VerificationFailed")):
        cause = failed(run_local({"task_arn": task, **FAST}), "DataSyncTaskExecutionFailedError")
    assert "tries" not in cause
    assert statuses_of_executions() == ["ERROR"]


def test_an_invalid_input_is_never_tried_again(datasync):
    execution = run_local({"task_arn": "not-an-arn", "retries": 5, "retry_delay": 0})
    assert "tries" not in failed(execution, "DataSyncInvalidInputError")
    assert "Wait before the next try" not in entered_states(execution)


def test_region_name_must_be_the_deployments_region_unless_it_lists_others(datasync, task):
    # tests/workflow/test_regions_and_accounts.py runs in a region the deployment lists.
    assert run_local({"task_arn": task, **FAST, "region_name": "us-east-1"}).status == "SUCCEEDED"
    cause = failed(run_local({"task_arn": task, **FAST, "region_name": "eu-west-1"}), "DataSyncInvalidInputError")
    assert "region_name: 'eu-west-1' is not a region this deployment acts in; it acts in us-east-1 " in cause
    assert len(fakes.backend().task_executions) == 1


def test_task_id_labels_the_logs_and_aws_conn_id_is_said_once_with_its_place(datasync, task, monkeypatch):
    logs = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", logs)
    execution = run_local({"task_arn": task, **FAST, "task_id": "copy_share", "aws_conn_id": "aws_default"})
    assert execution.status == "SUCCEEDED", execution.cause
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    resolved = [line for line in lines if line["message"] == "Resolved the task"]
    assert resolved and all(line["task_id"] == "copy_share" for line in resolved)
    placed = [line for line in lines if "aws_conn_id" in line["message"]]
    assert len(placed) == 1 and placed[0]["aws_conn_id"] == "aws_default"
    assert (placed[0]["region_name"], placed[0]["role_arn"]) == ("us-east-1", "the step's own")


def test_a_templated_filter_starts_an_execution_filtered_on_the_logical_date(datasync, task):
    includes = [{"FilterType": "SIMPLE_PATTERN", "Value": "/{{ ds_nodash }}/*"}]
    execution_input = {
        "task_arn": task,
        **FAST,
        "task_execution_kwargs": {"Includes": includes},
        "logical_date": "2026-11-28T02:00:00Z",
    }
    execution = run_local(execution_input)
    assert execution.status == "SUCCEEDED", execution.cause
    (started,) = fakes.backend().task_executions.values()
    assert started.includes == [{"FilterType": "SIMPLE_PATTERN", "Value": "/20261128/*"}]
    assert execution.output["Rendered"] == {"task_execution_kwargs.Includes[0].Value": "/20261128/*"}


def test_without_a_logical_date_templates_render_the_executions_start(datasync, task):
    execution = run_local({"task_arn": task, **FAST, "update_task_kwargs": {"Name": "copy-{{ ds }}-{{ run_id }}"}})
    assert execution.status == "SUCCEEDED", execution.cause
    day = execution.history[0]["timestamp"].strftime("%Y-%m-%d")
    name = execution.execution_arn.rsplit(":", 1)[1]
    assert datasync.describe_task(TaskArn=task)["Name"] == f"copy-{day}-{name}"


def test_a_template_that_cannot_be_rendered_touches_nothing(datasync, task):
    execution = run_local({"task_arn": task, "update_task_kwargs": {"Name": "{{ var.value.name }}"}})
    cause = failed(execution, "DataSyncInvalidInputError")
    assert "update_task_kwargs.Name: the template '{{ var.value.name }}' {{ var }}: not a variable" in cause
    assert fakes.backend().task_executions == {}
