"""Stop the children of a batch that was stopped, timed out or failed; the workflow's clean-up then cancels each
one's DataSync execution.

Step Functions tries to stop a .sync child when its parent's state is aborted; this step makes sure of it, for every
child still running. An EventBridge rule on the batch's "Step Functions Execution Status Change" runs it with the
workflow's state machine in its input. It stops nothing of a batch still running (it asks Step Functions, not the
event) and only the children named after that batch."""

from typing import TYPE_CHECKING

from pydantic import BaseModel

from datasync_steps.batch_children import child_index, child_prefix
from datasync_steps.datasync import states_client, translate_errors
from datasync_steps.executions import StatusChange
from datasync_steps.names import STOPPED_STATUSES
from datasync_steps.observability import logger, step_handler

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_stepfunctions import SFNClient

STOP_ERROR = "DataSyncBatchStopped"


class BatchStatusChangeEvent(BaseModel):
    detail: StatusChange
    workflow_state_machine_arn: str  # the rule's own, from the stack


class StoppedChildren(BaseModel):
    Stopped: list[str]


def stop_children(sfn: "SFNClient", event: BatchStatusChangeEvent) -> StoppedChildren:
    batch_arn = event.detail.executionArn
    with translate_errors(f"describe the batch {batch_arn}", service="Step Functions"):
        batch = sfn.describe_execution(executionArn=batch_arn)
    status = batch["status"]
    if status not in STOPPED_STATUSES:
        return StoppedChildren(Stopped=[])
    prefix = child_prefix(batch_arn, batch["startDate"])
    stopped = []
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=event.workflow_state_machine_arn, statusFilter="RUNNING"
    )
    with translate_errors(f"stop the running children of the batch {batch_arn}", service="Step Functions"):
        for page in pages:
            for child in page["executions"]:
                if child_index(prefix, child["name"]) is not None:
                    sfn.stop_execution(
                        executionArn=child["executionArn"],
                        error=STOP_ERROR,
                        cause=f"The batch {batch_arn} ended {status}.",
                    )
                    stopped.append(child["executionArn"])
    logger.info("Stopped the batch's running children", extra={"status": status, "stopped": len(stopped)})
    return StoppedChildren(Stopped=stopped)


@step_handler(BatchStatusChangeEvent, StoppedChildren, correlation_id_path="detail.executionArn")
def handler(event: BatchStatusChangeEvent) -> StoppedChildren:
    return stop_children(states_client(), event)
