"""The Lambda handlers themselves: the thin layer of parsing, logging context and JSON out."""

import json

import pytest
from pydantic import ValidationError

from datasync_steps import check_status, resolve
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.observability import logger
from datasync_workflow.definition import step_named
from datasync_workflow.local import _LambdaContext
from tests.conftest import make_s3_location, make_smb_location, make_task

EXECUTION_ID = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:nightly-1"


def test_resolve_handler_returns_json_and_logs_under_the_execution_id(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    result = resolve.handler(
        {"execution_id": EXECUTION_ID, "input": {"task_arn": task}}, _LambdaContext(step_named("resolve"))
    )
    assert json.loads(json.dumps(result))["target"]["TaskArn"] == task
    assert logger.get_correlation_id() == EXECUTION_ID


def test_a_bad_execution_input_is_the_contract_error_not_a_parser_error(datasync):
    with pytest.raises(DataSyncInvalidInputError):
        resolve.handler({"execution_id": EXECUTION_ID, "input": {"task_arn": 1}}, _LambdaContext(step_named("resolve")))


def test_an_event_the_state_machine_would_never_send_is_refused():
    with pytest.raises(ValidationError):
        check_status.handler({"execution_id": EXECUTION_ID}, _LambdaContext(step_named("check-status")))
