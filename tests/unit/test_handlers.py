"""The Lambda handlers themselves: the thin layer of reading the execution's input, parsing, logging context and JSON
out."""

import json

import boto3
import pytest
from pydantic import ValidationError

from datasync_steps import check_status, resolve
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.observability import logger
from datasync_workflow.definition.steps import step_named
from datasync_workflow.local.runner import _LambdaContext
from tests.conftest import REGION, make_s3_location, make_smb_location, make_task


def workflow_execution(execution_input) -> str:
    """An execution of a state machine in moto's Step Functions (which does not run it), holding `execution_input`."""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="datasync-workflow",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    return sfn.start_execution(stateMachineArn=machine, name="nightly-1", input=json.dumps(execution_input))[
        "executionArn"
    ]


def test_resolve_reads_the_executions_input_returns_json_and_logs_under_the_execution_id(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    execution_id = workflow_execution({"task_arn": task})
    result = resolve.handler({"execution_id": execution_id}, _LambdaContext(step_named("resolve")))
    assert json.loads(json.dumps(result))["target"]["TaskArn"] == task
    assert logger.get_correlation_id() == execution_id


def test_a_bad_execution_input_is_the_contract_error_not_a_parser_error(datasync):
    execution_id = workflow_execution({"task_arn": 1})
    with pytest.raises(DataSyncInvalidInputError):
        resolve.handler({"execution_id": execution_id}, _LambdaContext(step_named("resolve")))


def test_an_event_the_state_machine_would_never_send_is_refused():
    execution_id = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:nightly-1"
    with pytest.raises(ValidationError):
        check_status.handler({"execution_id": execution_id}, _LambdaContext(step_named("check-status")))
    # Nor is more than it names taken: a kwarg slipped into an event goes nowhere.
    event = {"execution_id": execution_id, "TaskExecutionArn": "arn", "checks_done": 0, "task_execution_kwargs": {}}
    with pytest.raises(ValidationError):
        check_status.handler(event, _LambdaContext(step_named("check-status")))
