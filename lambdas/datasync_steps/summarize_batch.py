"""Batch step 2: a row for each item (its child execution's status, task, DataSync execution, bytes and files, Error
and Cause) and totals; DataSyncBatchFailedError, naming the items, when more failed than the batch tolerates."""

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from datasync_steps.datasync import states_client, translate_errors
from datasync_steps.errors import DataSyncBatchFailedError
from datasync_steps.observability import StepEvent, logger, step_handler

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_stepfunctions import SFNClient

COUNTED = ("BytesTransferred", "FilesTransferred")
ROW_CAUSE_CHARACTERS = 200  # of a failed item's Cause in its row; the child's own history keeps it whole
SHOWN_FAILURES = 20


class MapRow(BaseModel):
    """What the Map keeps of an item: its index and its child execution's name (the rest is read from it)."""

    index: int
    name: str


class SummarizeEvent(StepEvent):
    rows: list[MapRow]
    tolerated_failures: int
    state_machine_arn: str  # the workflow's, whose executions the children are


class BatchSummary(BaseModel):
    Rows: list[dict[str, Any]]
    Totals: dict[str, int]


def summarize(sfn: "SFNClient", event: SummarizeEvent) -> BatchSummary:
    executions = event.state_machine_arn.replace(":stateMachine:", ":execution:")
    rows = [item_row(sfn, row.index, f"{executions}:{row.name}") for row in sorted(event.rows, key=lambda r: r.index)]
    failed = [row for row in rows if row["Status"] != "SUCCEEDED"]
    totals = {"Items": len(rows), "Succeeded": len(rows) - len(failed), "Failed": len(failed)}
    totals |= {name: sum(row.get(name, 0) for row in rows) for name in COUNTED}
    logger.info("Batch ended", extra={"totals": totals})
    if len(failed) > event.tolerated_failures:
        named = "; ".join(
            f"item {row['index']}{' (' + row['task_id'] + ')' if row.get('task_id') else ''}: {row['Status']}, "
            f"{row.get('Error')}: {row.get('Cause')}"
            for row in failed[:SHOWN_FAILURES]
        )
        more = f"; and {len(failed) - SHOWN_FAILURES:,} more" if len(failed) > SHOWN_FAILURES else ""
        raise DataSyncBatchFailedError(
            f"{len(failed):,} of {len(rows):,} transfers failed, more than the {event.tolerated_failures:,} tolerated: "
            f"{named}{more}."
        )
    return BatchSummary(Rows=rows, Totals=totals)


def item_row(sfn: "SFNClient", index: int, execution_arn: str) -> dict[str, Any]:
    """The item's row, from its child execution: status, task, DataSync execution and counters, or Error and Cause."""
    with translate_errors(f"describe the batch item {index}'s execution {execution_arn}", service="Step Functions"):
        described = sfn.describe_execution(executionArn=execution_arn)
    row: dict[str, Any] = {"index": index, "Status": described["status"]}
    item_input = json.loads(described.get("input") or "{}")
    if isinstance(item_input, dict) and isinstance(item_input.get("task_id"), str):
        row["task_id"] = item_input["task_id"]
    if described["status"] == "SUCCEEDED":
        output = json.loads(described.get("output") or "{}")
        row |= {key: output[key] for key in ("TaskExecutionArn",) if key in output}
        row |= {key: value for key, value in (output.get("TaskExecution") or {}).items() if key in COUNTED}
    else:
        cause = described.get("cause") or ""
        cut = f"{cause[:ROW_CAUSE_CHARACTERS]}…" if len(cause) > ROW_CAUSE_CHARACTERS else cause
        row |= {"Error": described.get("error"), "Cause": cut, "ExecutionArn": execution_arn}
    return row


@step_handler(SummarizeEvent, BatchSummary)
def handler(event: SummarizeEvent) -> BatchSummary:
    return summarize(states_client(), event)
