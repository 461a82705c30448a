"""Wake the workflow executions waiting for a DataSync execution that ended, from DataSync's own event.

An EventBridge rule (COMPLETION_EVENTS) starts this step; AWS delivers service events on a best-effort basis,
so the waiting state's timeout and status check remain the safety net. Only DataSync's own word wakes anybody:
whoever may invoke this function could send it any event, so the status is asked of DataSync first.
"""

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel

from datasync_steps.datasync import datasync_client_by_arn, states_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.names import FINAL_STATUSES
from datasync_steps.observability import MetricUnit, logger, metrics, step_handler
from datasync_steps.waiting import resume, waiting_for, waiting_table

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_stepfunctions import SFNClient


COMPLETION_EVENTS: dict[str, Any] = {
    "source": ["aws.datasync"],
    "detail-type": ["DataSync Task Execution State Change"],
    "detail": {"State": sorted(FINAL_STATUSES)},
}


class StateChange(BaseModel):
    State: str


class StateChangeEvent(EventBridgeModel):
    detail: StateChange


class Resumed(BaseModel):
    """What the resume step did with DataSync's event: how many waiting workflow executions it woke."""

    Resumed: int


def resume_waiting(table: "Table", sfn: "SFNClient", client: "DataSyncClient", event: StateChangeEvent) -> Resumed:
    if event.detail.State not in FINAL_STATUSES:
        return Resumed(Resumed=0)
    resumed = 0
    for execution_arn in (arn for arn in event.resources if "/execution/" in arn):
        waiting = waiting_for(table, execution_arn)
        if not waiting:
            continue  # DataSync's events of every execution in the account come here
        with translate_errors(f"read the status of execution {execution_arn}"):
            status = client.describe_task_execution(TaskExecutionArn=execution_arn)["Status"]
        if status not in FINAL_STATUSES:
            logger.warning(
                "An event said the execution ended; DataSync says it has not: nobody woken",
                extra={"event_state": event.detail.State, "status": status, "task_execution_arn": execution_arn},
            )
            continue
        resumed += sum(resume(table, sfn, item, status) for item in waiting)
    metrics.add_metric(name="WaitsEndedByEvent", unit=MetricUnit.Count, value=resumed)
    logger.info("DataSync execution ended", extra={"state": event.detail.State, "resumed": resumed})
    return Resumed(Resumed=resumed)


@step_handler(StateChangeEvent, Resumed, correlation_id_path="resources[0]")
def handler(event: StateChangeEvent) -> Resumed:
    # The default bus of the deployment's own region and account has only their executions' events.
    deployment = Deployment.from_environment().model_copy(update={"region": event.region, "account": event.account})
    client = datasync_client_by_arn(deployment, event.resources[0] if event.resources else "")
    return resume_waiting(waiting_table(), states_client(), client, event)
