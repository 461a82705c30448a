"""Step 6, in the wait loop: read the execution's status; the state machine decides what it means."""

import time
from typing import TYPE_CHECKING

from datasync_steps.counters import enhanced_counters
from datasync_steps.datasync import datasync_client_by_arn, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.names import DATASYNC_STATUSES, FINAL_STATUSES
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler
from datasync_steps.state import Check, Plan

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient


class CheckStatusEvent(StepEvent):
    TaskExecutionArn: str
    checks_done: int
    plan: Plan


def check_status(client: "DataSyncClient", execution_arn: str, checks_done: int, plan: Plan) -> Check:
    with translate_errors(f"read the status of execution {execution_arn}"):
        described = client.describe_task_execution(TaskExecutionArn=execution_arn)
    status = described["Status"]
    if status not in DATASYNC_STATUSES:  # the state machine keeps waiting on any status that is not final
        logger.warning("DataSync reported a status this workflow does not know; waiting on", extra={"status": status})
    logger.info("Execution status", extra={"status": status, "check": checks_done + 1})
    metrics.add_metric(name="StatusChecks", unit=MetricUnit.Count, value=1)
    now = time.time()
    timed_out = status not in FINAL_STATUSES and plan.out_of_time(now)
    if timed_out:
        logger.warning("The try's execution_timeout has passed", extra={"status": status})
    return Check(
        Status=status,
        checks_done=checks_done + 1,
        wait_seconds=plan.next_wait(now),
        TimedOut=timed_out,
        FilesTransferred=described.get("FilesTransferred"),
        BytesTransferred=described.get("BytesTransferred"),
        **enhanced_counters(described),
    )


@step_handler(CheckStatusEvent, Check)
def handler(event: CheckStatusEvent) -> Check:
    client = datasync_client_by_arn(Deployment.from_environment().in_region_of(event.execution_id), event.execution_id)
    return check_status(client, event.TaskExecutionArn, event.checks_done, event.plan)
