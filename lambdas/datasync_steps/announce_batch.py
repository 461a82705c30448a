"""At the end of every batch, whatever ended it (its last state, a stop, a timeout, a failure): one "DataSync Workflow
Batch Finished" event on the account's default EventBridge bus, for a rule to act once on the whole batch. EventBridge
runs this step on Step Functions' status-change event of the batch's state machine. What the event announces is what
Step Functions says of the batch execution (its status, its summary, its Error and Cause), never what the event that
ran the step says, and no child execution is described.

Each child is a run like any other, announced by its own "Run Finished" event; this one adds the batch's totals and its
first failed items: from the rows in its output, or from the beginning of its rows object in the batch bucket."""

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from datasync_steps.announce import Announced, FinishedEvent, finished_detail, put_finished_event, why_not_succeeded
from datasync_steps.batch_children import ITEMS_PREFIX
from datasync_steps.batch_summary import BatchSummary
from datasync_steps.datasync import events_client, s3_client, states_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncRequestError, DataSyncTransientError, shortened
from datasync_steps.executions import batch_execution
from datasync_steps.observability import logger, step_handler

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_stepfunctions import SFNClient

DETAIL_TYPE = "DataSync Workflow Batch Finished"
SHOWN_FAILED_ITEMS = 10  # each text cut at 1,024 characters: with them the detail stays far within 256 KB
FAILED_ITEM_KEYS = ("index", "task_id", "Status", "Error", "Cause", "ExecutionArn")
# Of a batch's rows object only the beginning is read for its first failed items: 4 MiB hold some 6,000 rows of about
# 700 bytes, all the rows of the largest batch read from S3 (5,000 items).
ROWS_READ_BYTES = 4 * 1024**2


def batch_finished(
    sfn: "SFNClient", batch_arn: str, s3: Any = None, rows_bucket: str | None = None
) -> dict[str, Any] | None:
    """The event's detail, from what Step Functions says of the batch: its status, the console page, the totals, rows
    object and first failed items of a batch that summed up its items, and Error and Cause of one that did not
    succeed; None for an execution of the batch's state machine that has not finished, or that is none of its."""
    finished = batch_execution(sfn, batch_arn)
    detail = finished_detail(finished, batch_arn, "BatchExecutionArn", "batch")
    if finished is None or detail is None:
        return None
    summary = _summary(finished.get("output")) if finished["status"] == "SUCCEEDED" else None
    if summary is not None:
        detail["Totals"] = summary.Totals
        detail["RowsUri"] = summary.RowsUri
        if summary.Totals.get("Failed"):
            rows = summary.Rows if summary.Rows is not None else _first_rows(s3, rows_bucket, summary.RowsUri)
            detail["FailedItems"] = failed_items(rows)
    detail |= why_not_succeeded(finished)
    return {key: value for key, value in detail.items() if value is not None}


def failed_items(rows: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The first SHOWN_FAILED_ITEMS rows of items that did not succeed, with what says why; None without rows."""
    if rows is None:
        return None
    failed = [row for row in rows if isinstance(row, dict) and row.get("Status") != "SUCCEEDED"]
    return [shortened({key: row[key] for key in FAILED_ITEM_KEYS if key in row}) for row in failed[:SHOWN_FAILED_ITEMS]]


def _summary(output: str | None) -> BatchSummary | None:
    """The batch's summary (summarize-batch's BatchSummary), as its output holds it; None for an output that is none."""
    try:
        return BatchSummary.model_validate_json(output or "null")
    except ValidationError:
        logger.warning("The batch's output holds no summary; announced without its totals")
        return None


def _first_rows(s3: Any, rows_bucket: str | None, rows_uri: str | None) -> list[dict[str, Any]] | None:
    """The rows at the beginning (ROWS_READ_BYTES) of the batch's rows object, which must be one of the workflow's own
    in the deployment's batch bucket; None when there is none or it cannot be read (the event goes without them). `s3`
    is made only here, when there are rows to read."""
    bucket, _, key = (rows_uri or "").removeprefix("s3://").partition("/")
    if not rows_uri or not rows_bucket or bucket != rows_bucket or not key.startswith(ITEMS_PREFIX):
        logger.warning("The batch's rows are not in the batch bucket: announced without its failed items")
        return None
    try:
        with translate_errors(f"read the batch's rows from {rows_uri}", service="S3"):
            body = (s3 or s3_client()).get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{ROWS_READ_BYTES - 1}")[
                "Body"
            ]
            lines = list(body.iter_lines())
    except (DataSyncRequestError, DataSyncTransientError) as error:
        logger.warning(
            "The batch's rows could not be read; announced without its failed items", extra={"error": str(error)}
        )
        return None
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except ValueError:  # the last line, cut by the range
            break
    return rows


def announce_batch(events: Any, detail: dict[str, Any]) -> Announced:
    return put_finished_event(events, DETAIL_TYPE, detail["BatchExecutionArn"], detail, "batch")


@step_handler(FinishedEvent, Announced, correlation_id_path="detail.executionArn")
def handler(event: FinishedEvent) -> Announced:
    rows_bucket = Deployment.from_environment().batch_bucket
    detail = batch_finished(states_client(), event.detail.executionArn, rows_bucket=rows_bucket)
    return announce_batch(events_client(), detail) if detail else Announced()
