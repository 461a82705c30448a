"""What Step Functions says of a workflow (or batch) execution that an event names: the steps that act on events
(cleanup, announce, announce-batch, await-event, stop-batch) ask it instead of trusting the event."""

import json
import os
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from datasync_steps.datasync import translate_errors
from datasync_steps.deployment import BATCH_STATE_MACHINE_VARIABLE, WORKFLOW_STATE_MACHINE_VARIABLE
from datasync_steps.names import START_STATE
from datasync_steps.observability import logger

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_stepfunctions import SFNClient


HISTORY_PAGE_SIZE = 1000


class StatusChange(BaseModel):
    executionArn: str
    status: str  # what the event says: only logged, Step Functions is asked


def workflow_execution(sfn: "SFNClient", execution_arn: str) -> dict[str, Any] | None:
    """What Step Functions says of `execution_arn` (DescribeExecution), when it is an execution of this deployment's
    workflow; None when it does not exist or is another state machine's."""
    return _execution_of(sfn, execution_arn, WORKFLOW_STATE_MACHINE_VARIABLE, "workflow")


def batch_execution(sfn: "SFNClient", execution_arn: str) -> dict[str, Any] | None:
    """The same of an execution of this deployment's batch state machine (not one of its Distributed Map's children,
    whose state machine is <batch>/<map run>)."""
    return _execution_of(sfn, execution_arn, BATCH_STATE_MACHINE_VARIABLE, "batch")


def _execution_of(sfn: "SFNClient", execution_arn: str, variable: str, what: str) -> dict[str, Any] | None:
    with translate_errors(f"describe the {what} execution {execution_arn}", service="Step Functions"):
        try:
            described = sfn.describe_execution(executionArn=execution_arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            logger.warning(f"No such {what} execution", extra={"execution": execution_arn})
            return None
    if not fnmatchcase(described["stateMachineArn"], os.environ[variable]):
        logger.warning(f"Not an execution of this {what}", extra={"state_machine": described["stateMachineArn"]})
        return None
    return dict(described)


def started_execution(sfn: "SFNClient", workflow_execution_arn: str) -> dict | None:
    """What the workflow's start state last gave ($.execution, with the task at $.target), reading the history newest
    event first; None when that start failed or never ran."""
    # 1,000 events a page (the most the API gives): a history at the 25,000-event limit takes 25 calls.
    exited = newest_exit(sfn, workflow_execution_arn, (START_STATE,), HISTORY_PAGE_SIZE)
    output = json.loads(exited or "{}")
    # A caught failure also leaves the state, with the error beside what was there before.
    if not isinstance(output, dict) or "error" in output or not isinstance(output.get("execution"), dict):
        return None
    return output


def newest_exit(
    sfn: "SFNClient", execution_arn: str, states: tuple[str, ...], page_size: int, most_events: int | None = None
) -> str | None:
    """The output of the newest exit from any of `states` in the execution's history, read newest event first in
    pages of `page_size` (and no further than its `most_events` newest events); None when there is none."""
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn,
        reverseOrder=True,
        includeExecutionData=True,
        PaginationConfig={"PageSize": page_size, **({"MaxItems": most_events} if most_events else {})},
    )
    for page in pages:
        for event in page["events"]:
            exited = event.get("stateExitedEventDetails", {})
            if exited.get("name") in states:
                return exited.get("output") or "{}"
    return None
