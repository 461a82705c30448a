"""Batch step 2: a row for each item (its child execution's status, task, DataSync execution, bytes and files, Error
and Cause) and totals; DataSyncBatchFailedError, naming the items, when more failed than the batch tolerates. The rows
of a batch read from S3 go back to the batch bucket, as JSON Lines. Which batch's, and so where, is what Step Functions
says of the running batch the step is told of: it writes no other batch's rows."""

import json
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, model_serializer

from datasync_steps.batch_children import ITEMS_PREFIX, child_name, child_prefix
from datasync_steps.datasync import patient_states_client, s3_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncBatchFailedError, DataSyncInvalidInputError
from datasync_steps.names import is_batch
from datasync_steps.observability import StepEvent, logger, step_handler

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_stepfunctions import SFNClient

COUNTED = ("BytesTransferred", "FilesTransferred")
ROW_CAUSE_CHARACTERS = 200  # of a failed item's Cause in its row; the child's own history keeps it whole
SHOWN_FAILURES = 20
DESCRIBING_AT_ONCE = 8  # boto3's connection pool holds 10
# The rows of a batch given in its input stay in its output when they fit, with room to spare, in Step Functions'
# 256 KiB; else they go to the batch bucket too (a long task_id and Cause make a row some 700 bytes).
MAX_ROWS_IN_OUTPUT_BYTES = 200_000


class SummarizeEvent(StepEvent):
    count: int
    tolerated_failures: int
    state_machine_arn: str  # the workflow's, whose executions the children are


class BatchSummary(BaseModel):
    Totals: dict[str, int]
    Rows: list[dict[str, Any]] | None = None  # a batch given in its input
    RowsUri: str | None = None  # a batch read from S3, or with too many rows to show: one JSON object a line

    @model_serializer(mode="wrap")
    def without_the_absent(self, serialize: Any) -> dict[str, Any]:
        return {key: value for key, value in serialize(self).items() if value is not None}


def summarize(sfn: "SFNClient", event: SummarizeEvent, s3: Any = None, rows_bucket: str | None = None) -> BatchSummary:
    """The batch's rows and totals; the rows of a batch read from S3 (or too many to fit in the output) are written to
    the deployment's batch bucket, `rows_bucket`."""
    prefix, from_s3 = running_batch(sfn, event.execution_id)
    executions = event.state_machine_arn.replace(":stateMachine:", ":execution:")
    with ThreadPoolExecutor(DESCRIBING_AT_ONCE) as pool:
        rows = list(
            pool.map(
                lambda index: item_row(sfn, index, f"{executions}:{child_name(prefix, index)}"),
                range(event.count),
            )
        )
    failed = [row for row in rows if row["Status"] != "SUCCEEDED"]
    totals = {"Items": len(rows), "Succeeded": len(rows) - len(failed), "Failed": len(failed)}
    totals |= {name: sum(row.get(name, 0) for row in rows) for name in COUNTED}
    logger.info("Batch ended", extra={"totals": totals})
    summary = BatchSummary(Totals=totals, Rows=rows)
    if from_s3 or len(json.dumps(rows)) > MAX_ROWS_IN_OUTPUT_BYTES:
        bucket, key = rows_bucket, f"{ITEMS_PREFIX}{prefix}/rows.jsonl"
        body = "".join(json.dumps(row) + "\n" for row in rows).encode()
        with translate_errors(f"write the batch's rows to s3://{bucket}/{key}", service="S3"):
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson")
        summary = BatchSummary(Totals=totals, RowsUri=f"s3://{bucket}/{key}")
    if len(failed) > event.tolerated_failures:
        named = "; ".join(
            f"item {row['index']}{' (' + row['task_id'] + ')' if row.get('task_id') else ''}: {row['Status']}, "
            f"{row.get('Error')}: {row.get('Cause')}"
            for row in failed[:SHOWN_FAILURES]
        )
        more = f"; and {len(failed) - SHOWN_FAILURES:,} more" if len(failed) > SHOWN_FAILURES else ""
        rows_at = f" All rows: {summary.RowsUri}." if summary.RowsUri else ""
        raise DataSyncBatchFailedError(
            f"{len(failed):,} of {len(rows):,} transfers failed, more than the {event.tolerated_failures:,} tolerated: "
            f"{named}{more}.{rows_at}"
        )
    return summary


def running_batch(sfn: "SFNClient", batch_arn: str) -> tuple[str, bool]:
    """What names the children of the running batch `batch_arn` (their prefix, as the batch's first step made it), and
    whether its transfers were read from S3; DataSyncInvalidInputError for an execution that is no running batch."""
    with translate_errors(f"describe the batch {batch_arn}", service="Step Functions"):
        described = sfn.describe_execution(executionArn=batch_arn)
    batch_input = json.loads(described.get("input") or "null")
    if described["status"] != "RUNNING" or not is_batch(batch_input):
        raise DataSyncInvalidInputError(f"{batch_arn} is no running batch: there are no rows of it to summarize.")
    return child_prefix(batch_arn, described["startDate"]), "transfers_from" in batch_input


def item_row(sfn: "SFNClient", index: int, execution_arn: str) -> dict[str, Any]:
    """The item's row, from its child execution: status, task, DataSync execution and counters, or Error and Cause."""
    with translate_errors(f"describe the batch item {index}'s execution {execution_arn}", service="Step Functions"):
        try:
            described = sfn.describe_execution(executionArn=execution_arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            # The batch's Map ended (failed) before this item's turn.
            return {"index": index, "Status": "NOT_STARTED", "Error": None, "Cause": "", "ExecutionArn": execution_arn}
    row: dict[str, Any] = {"index": index, "Status": described["status"]}
    item_input = json.loads(described.get("input") or "{}")
    if isinstance(item_input, dict) and isinstance(item_input.get("task_id"), str):
        row["task_id"] = item_input["task_id"]
    if described["status"] == "SUCCEEDED":
        output = json.loads(described.get("output") or "{}")
        row |= {key: output[key] for key in ("TaskArn", "TaskExecutionArn") if key in output}
        row |= {key: value for key, value in (output.get("TaskExecution") or {}).items() if key in COUNTED}
    else:
        cause = described.get("cause") or ""
        cut = f"{cause[:ROW_CAUSE_CHARACTERS]}…" if len(cause) > ROW_CAUSE_CHARACTERS else cause
        row |= {"Error": described.get("error"), "Cause": cut, "ExecutionArn": execution_arn}
    return row


@step_handler(SummarizeEvent, BatchSummary)
def handler(event: SummarizeEvent) -> BatchSummary:
    return summarize(patient_states_client(), event, s3_client(), Deployment.from_environment().batch_bucket)
