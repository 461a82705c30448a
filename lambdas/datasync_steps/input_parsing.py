"""The checked input of a run: parsed from what its caller gave, or read back from its workflow execution."""

import json
from typing import TYPE_CHECKING, Any

from datasync_steps.datasync import states_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.input_checks import checked, json_type
from datasync_steps.input_model import StartedInput, WorkflowInput

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_stepfunctions import SFNClient


def read_input(sfn: "SFNClient", execution_arn: str) -> StartedInput:
    """The workflow execution's input. The steps that need the kwargs read them here rather than from the state, so
    that no state and no step's event holds them (nor any secret in them), and the state stays small whatever their
    size."""
    with translate_errors(f"read the input of workflow execution {execution_arn}", service="Step Functions"):
        described = sfn.describe_execution(executionArn=execution_arn)
    return StartedInput(raw=json.loads(described["input"]), started_at=described["startDate"], run_id=described["name"])


def input_of_execution(execution_arn: str, deployment: Deployment) -> WorkflowInput:
    """The checked input of the workflow execution, its templates rendered: what the steps that use the kwargs
    start from."""
    started = read_input(states_client(), execution_arn)
    return parse_workflow_input(started.raw, deployment.in_region_of(execution_arn), started)


def parse_workflow_input(
    raw: Any, deployment: Deployment | None = None, started: StartedInput | None = None
) -> WorkflowInput:
    """The validated input, its templates rendered for the run that `started` (by default: a run starting now), or
    DataSyncInvalidInputError naming every bad field at once, by the rules of `deployment` (by default: no plaintext
    secret, every role may be passed, no scope)."""
    if not isinstance(raw, dict):
        raise DataSyncInvalidInputError(f"The execution input must be a JSON object, not {json_type(raw)}.")
    workflow_input, problems = checked(raw, deployment or Deployment(), started)
    if problems or workflow_input is None:
        raise DataSyncInvalidInputError(f"Invalid workflow input: {'; '.join(problems)}.")
    return workflow_input
