"""Batch step 2: a row for each item (its child execution's status, task, DataSync execution, bytes and files, Error
and Cause) and totals; DataSyncBatchFailedError, naming the items, when more failed than the batch tolerates. The rows
come from the batch's Map, which holds each child's result: an array of rows' sources in the state (inline), or the
result files its ResultWriter put in the batch bucket (a Distributed Map, from S3), read entry by entry; the Map's
output is read from the batch's own history, never taken from the invocation. A child is described only when the Map
cannot say how it ended: a failed child of an inline Map (whose Cause JSONPath cannot cut to fit 256 KiB), or a start
that failed other than by a refusal of the request (a child of the batch may have started under that name). The rows
of a batch read from S3 go back to the batch bucket, as JSON Lines. Which batch's, and so where, is what Step Functions
says of the running batch the step is told of: it reads and writes no other batch's files.

The step answers the batch's task token: the summary, or DataSyncBatchFailedError (and the other failures it can
name) with its plain Cause, so that a failed batch fails in the summary's Task, which a redrive runs again. Redriven
(Step Functions' redrive count above that of the last items run again), the summary writes the items that did not
succeed to the batch's place for the Map that runs them again, each child named with the redrive count, and keeps the
rows so far beside them; after that Map it reads those rows, puts each item's latest child in its row, and summarizes
again."""

import json
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from datasync_steps.batch_children import batch_place, checked_items_key, child_index, child_name, child_prefix
from datasync_steps.batch_summary import BatchSummary, RerunItems
from datasync_steps.datasync import patient_states_client, s3_client, translate_errors
from datasync_steps.deployment import WORKFLOW_STATE_MACHINE_VARIABLE, Deployment
from datasync_steps.errors import DataSyncBatchFailedError, DataSyncInvalidInputError, DataSyncWorkflowError
from datasync_steps.executions import newest_exit
from datasync_steps.names import MAP_STATES, RERUN_MAP_STATE, STARTED_BY_KEY, is_batch
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
# What is read of ResultWriter's files before it is parsed. The manifest names a few files of each status (Step
# Functions starts another past some size); an entry holds an iteration's input and output, each at most 256 KiB, and
# some metadata.
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_RESULT_ENTRY_BYTES = 2 * 262_144 + 16_384
READ_BYTES = 256 * 1024
HISTORY_EVENTS_READ_AT_ONCE = 20
RESULT_STATUSES = ("SUCCEEDED", "FAILED", "PENDING")
# The Catch's Error of a child that ended other than SUCCEEDED.
CHILD_FAILED = "States.TaskFailed"
# StartExecution's refusals of the request itself (its errors in the API model): no child was started. Any other
# error may have started one, which is described: a throttled, failed or unanswered start whose retries ran out, or
# ExecutionAlreadyExists (a start tried again after its answer was lost finds its child so once that child ended).
REFUSED_STARTS = frozenset(
    {"InvalidArn", "InvalidName", "InvalidExecutionInput", "StateMachineDoesNotExist", "StateMachineDeleting"}
)


class ResultWriterDetails(BaseModel):
    Bucket: str
    Key: str  # of the manifest


class WrittenResults(BaseModel):
    """A Distributed Map's output with a ResultWriter: its Map Run, and where the manifest of its results is."""

    MapRunArn: str
    ResultWriterDetails: ResultWriterDetails


class SummarizeEvent(StepEvent):
    count: int
    tolerated_failures: int
    state_machine_arn: str  # the workflow's, whose executions the children are
    token: str  # the batch's task token, which the step answers
    # The Map's results: a row's source per item, in order (inline), or where ResultWriter wrote them; and where the
    # last Map of the items run again wrote theirs. Read from the batch's history, whatever the invocation says.
    results: list[dict[str, Any]] | WrittenResults | None = None
    reran: WrittenResults | None = None


class MapOutput(BaseModel):
    """What the batch's Map gave the summary (or the Map of the items run again), as the batch's history keeps it."""

    count: int
    tolerated_failures: int
    mapped: list[dict[str, Any]] | WrittenResults | None = None
    reran: WrittenResults | None = None


def as_the_batch_ran(sfn: "SFNClient", event: SummarizeEvent) -> SummarizeEvent:
    """The event with what Step Functions says the batch's Map gave: its results, the count of items and the failures
    tolerated (the Map's output, read newest event first from the batch's history), and the workflow's state machine
    checked against the deployment's. Whoever invokes the step can name a running batch, but not its rows."""
    if not fnmatchcase(event.state_machine_arn, os.environ.get(WORKFLOW_STATE_MACHINE_VARIABLE, "")):
        raise DataSyncInvalidInputError(f"{event.state_machine_arn} is not this deployment's workflow.")
    # The summary runs right after the Map, whose end is a few events from the newest: small pages (each event may
    # hold 256 KiB of data; an inline Map's iterations are in the batch's history too), and an execution whose newest
    # events hold no Map's end is no batch at its summary, however long its history.
    with translate_errors(f"read the history of the batch {event.execution_id}", service="Step Functions"):
        exited = newest_exit(
            sfn,
            event.execution_id,
            (*MAP_STATES, RERUN_MAP_STATE),
            HISTORY_EVENTS_READ_AT_ONCE,
            5 * HISTORY_EVENTS_READ_AT_ONCE,
        )
    if exited is None:
        raise DataSyncInvalidInputError(
            f"{event.execution_id} is no running batch: its history holds no end of the batch's Map to summarize."
        )
    ran_json = json.loads(exited)
    if isinstance(ran_json, dict) and ran_json.get("reran") is not None:
        ran_json["mapped"] = None  # after the rerun Map, $.mapped holds the summary that handed it its items
    ran = MapOutput.model_validate(ran_json)
    return event.model_copy(
        update={
            "count": ran.count,
            "tolerated_failures": ran.tolerated_failures,
            "results": ran.mapped,
            "reran": ran.reran,
        }
    )


def summarize(sfn: "SFNClient", event: SummarizeEvent, s3: Any = None, rows_bucket: str | None = None) -> BatchSummary:
    """The batch's rows and totals; the rows of a batch read from S3 (or too many to fit in the output) are written to
    the deployment's batch bucket, `rows_bucket`. Redriven, the items to run again first."""
    prefix, batch_input, redrives = running_batch(sfn, event.execution_id)
    from_s3 = "transfers_from" in batch_input
    executions = event.state_machine_arn.replace(":stateMachine:", ":execution:")
    ran_again = 0
    if event.reran is not None:
        ran_again = rerun_number(event.reran, str(rows_bucket), prefix)
        rows = kept_rows(s3, str(rows_bucket), prefix, event.count)
        again = written_sources(s3, event.reran, str(rows_bucket), rerun_place(prefix, ran_again), prefix)
        rows.update(rows_of(sfn, again, event, executions, prefix, ran_again))
    elif isinstance(event.results, list) and not from_s3:
        rows = rows_of(sfn, inline_sources(event.results, batch_input), event, executions, prefix)
    elif isinstance(event.results, WrittenResults) and from_s3:
        rows = rows_of(
            sfn,
            written_sources(s3, event.results, str(rows_bucket), batch_place(prefix), prefix),
            event,
            executions,
            prefix,
        )
    else:
        raise DataSyncInvalidInputError(f"{event.execution_id}: the step was given no results of the batch's Map.")
    ordered = [
        rows.get(index) or not_started(index, f"{executions}:{child_name(prefix, index)}")
        for index in range(event.count)
    ]
    unfinished = [row["index"] for row in ordered if row["Status"] != "SUCCEEDED"]
    if redrives > ran_again and unfinished:
        if rows_bucket:
            return run_again(s3, rows_bucket, prefix, batch_input, ordered, unfinished, redrives)
        if len(unfinished) > event.tolerated_failures:
            raise DataSyncBatchFailedError(
                f"{len(unfinished):,} of {len(ordered):,} items did not succeed, and this deployment has no batch "
                "bucket for a redrive to run them again from: start a new batch of them."
            )
    return summary_of(ordered, event, prefix, from_s3, s3, rows_bucket)


def rows_of(
    sfn: "SFNClient",
    sources: Iterable[tuple[int, str | None, dict[str, Any]]],
    event: SummarizeEvent,
    executions: str,
    prefix: str,
    redrive: int = 0,
) -> dict[int, dict[str, Any]]:
    """The rows of the items in `sources` (a Map's results), from the children that Map started (of the batch's own
    Map, or of the one that redrive number `redrive` ran), described where the Map cannot say how one ended."""
    rows: dict[int, dict[str, Any]] = {}
    to_describe: list[tuple[int, str | None, dict[str, Any]]] = []
    for index, task_id, source in sources:
        if not 0 <= index < event.count or index in rows:
            raise DataSyncInvalidInputError(f"{event.execution_id}: the Map's results name item {index} twice or more.")
        row = row_from(index, task_id, source, f"{executions}:{child_name(prefix, index, redrive)}")
        rows[index] = row
        if row.get("Status") is None:
            to_describe.append((index, task_id, source))
    with ThreadPoolExecutor(DESCRIBING_AT_ONCE) as pool:
        described = pool.map(
            lambda item: item_row(
                sfn, item[0], f"{executions}:{child_name(prefix, item[0], redrive)}", item[1], item[2]
            ),
            to_describe,
        )
        rows.update((row["index"], row) for row in described)
    return rows


def rerun_place(prefix: str, redrive: int) -> str:
    return f"{batch_place(prefix)}reruns/{redrive}/"


def rows_key(prefix: str) -> str:
    return f"{batch_place(prefix)}rows.jsonl"


def rerun_number(reran: WrittenResults, bucket: str, prefix: str) -> int:
    """Which redrive ran the items again whose results `reran` names: from the place its ResultWriter wrote to."""
    place = re.escape(f"{batch_place(prefix)}reruns/")
    found = re.match(rf"{place}([1-9][0-9]{{0,5}})/", reran.ResultWriterDetails.Key)
    if reran.ResultWriterDetails.Bucket != bucket or found is None:
        raise DataSyncInvalidInputError(f"{reran.ResultWriterDetails.Key} is no place of this batch's items run again.")
    return int(found.group(1))


def kept_rows(s3: Any, bucket: str, prefix: str, count: int) -> dict[int, dict[str, Any]]:
    """The rows the summary kept before the items were run again, by item."""
    rows: dict[int, dict[str, Any]] = {}
    for row in json_values(s3, bucket, rows_key(prefix)):
        index = row.get("index") if isinstance(row, dict) else None
        if not isinstance(index, int) or not 0 <= index < count or not isinstance(row.get("Status"), str):
            raise DataSyncInvalidInputError(
                f"s3://{bucket}/{rows_key(prefix)} holds no row of this batch: {row!r:.100}"
            )
        rows[index] = row
    return rows


def keep_rows(s3: Any, bucket: str, prefix: str, rows: list[dict[str, Any]]) -> str:
    """Writes the rows to the batch's place, one JSON object a line; their URI."""
    key = rows_key(prefix)
    body = "".join(json.dumps(row) + "\n" for row in rows).encode()
    with translate_errors(f"write the batch's rows to s3://{bucket}/{key}", service="S3"):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson")
    return f"s3://{bucket}/{key}"


def run_again(
    s3: Any,
    bucket: str,
    prefix: str,
    batch_input: dict[str, Any],
    rows: list[dict[str, Any]],
    unfinished: list[int],
    redrive: int,
) -> BatchSummary:
    """The items that did not succeed, written for the Map that runs them again (each with its input, as the batch's
    Map gave it, and its new child's name), beside the rows so far; the totals so far."""
    inputs = item_inputs(s3, bucket, prefix, batch_input, set(unfinished))
    items = [{"name": child_name(prefix, index, redrive), "input": inputs[index]} for index in unfinished]
    key = f"{rerun_place(prefix, redrive)}items.json"
    with translate_errors(f"keep the items to run again in s3://{bucket}/{key}", service="S3"):
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(items).encode(), ContentType="application/json")
    keep_rows(s3, bucket, prefix, rows)
    logger.info("Running again what did not succeed", extra={"items": len(items), "redrive": redrive})
    return BatchSummary(
        Totals=totals_of(rows),
        Rerun=RerunItems(
            Bucket=bucket, Key=key, ResultsPrefix=rerun_place(prefix, redrive).rstrip("/"), Items=len(items)
        ),
    )


def item_inputs(
    s3: Any, bucket: str, prefix: str, batch_input: dict[str, Any], wanted: set[int]
) -> dict[int, dict[str, Any]]:
    """The inputs of the `wanted` items, merged over the defaults as the batch's Map gave them to its children: from
    the batch's input (inline), or from the checked items prepare-batch kept in the batch's place."""
    if "transfers_from" not in batch_input:
        defaults, transfers = batch_input.get("defaults") or {}, batch_input.get("transfers") or []
        return {index: {**defaults, **transfers[index]} for index in wanted}
    found = {}
    for index, item in enumerate(json_values(s3, bucket, checked_items_key(prefix))):
        if index in wanted and isinstance(item, dict):
            found[index] = {key: value for key, value in item.items() if key != STARTED_BY_KEY}
    if missing := wanted - found.keys():
        raise DataSyncInvalidInputError(f"the batch's checked items lack item {min(missing)}.")
    return found


def summary_of(
    rows: list[dict[str, Any]], event: SummarizeEvent, prefix: str, from_s3: bool, s3: Any, rows_bucket: str | None
) -> BatchSummary:
    failed = [row for row in rows if row["Status"] != "SUCCEEDED"]
    totals = totals_of(rows)
    logger.info("Batch ended", extra={"totals": totals})
    summary = BatchSummary(Totals=totals, Rows=rows)
    if from_s3 or len(json.dumps(rows)) > MAX_ROWS_IN_OUTPUT_BYTES:
        summary = BatchSummary(Totals=totals, RowsUri=keep_rows(s3, str(rows_bucket), prefix, rows))
    if len(failed) > event.tolerated_failures:
        if rows_bucket and summary.RowsUri is None:  # for a redrive, which starts from them
            keep_rows(s3, rows_bucket, prefix, rows)
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


def totals_of(rows: list[dict[str, Any]]) -> dict[str, int]:
    failed = sum(row["Status"] != "SUCCEEDED" for row in rows)
    totals = {"Items": len(rows), "Succeeded": len(rows) - failed, "Failed": failed}
    return totals | {name: sum(row.get(name, 0) for row in rows) for name in COUNTED}


def running_batch(sfn: "SFNClient", batch_arn: str) -> tuple[str, dict[str, Any], int]:
    """What names the children of the running batch `batch_arn` (their prefix, as the batch's first step made it), the
    batch's input, and how many times it was redriven; DataSyncInvalidInputError for an execution that is no running
    batch."""
    with translate_errors(f"describe the batch {batch_arn}", service="Step Functions"):
        described = sfn.describe_execution(executionArn=batch_arn)
    batch_input = json.loads(described.get("input") or "null")
    if described["status"] != "RUNNING" or not is_batch(batch_input):
        raise DataSyncInvalidInputError(f"{batch_arn} is no running batch: there are no rows of it to summarize.")
    return child_prefix(batch_arn, described["startDate"]), batch_input, int(described.get("redriveCount") or 0)


def inline_sources(
    results: list[dict[str, Any]], batch_input: dict[str, Any]
) -> Iterator[tuple[int, str | None, dict[str, Any]]]:
    """The inline Map's results, in the order of the transfers, each with its item's task_id (the item's own, else
    the defaults', as the child's input merges them)."""
    defaults, transfers = batch_input.get("defaults") or {}, batch_input.get("transfers") or []
    for index, source in enumerate(results):
        item = transfers[index] if index < len(transfers) and isinstance(transfers[index], dict) else {}
        task_id = {**defaults, **item}.get("task_id") if isinstance(defaults, dict) else item.get("task_id")
        yield index, task_id if isinstance(task_id, str) else None, source


def written_sources(
    s3: Any, results: WrittenResults, bucket: str, place: str, prefix: str
) -> Iterator[tuple[int, str | None, dict[str, Any]]]:
    """The entries of the result files that a Distributed Map's ResultWriter wrote under `place`, the batch's own (or
    its items run again), as the manifest names them, one at a time: each iteration's item (from the name its input
    gives the child), task_id and row's source (its output; the Error and Cause of an iteration that failed). A
    pending iteration has none."""
    details = results.ResultWriterDetails
    if details.Bucket != bucket or not details.Key.startswith(place):
        raise DataSyncInvalidInputError(f"s3://{details.Bucket}/{details.Key} is not this batch's ({bucket}/{place}).")
    manifest = json.loads(read_capped(s3, bucket, details.Key, MAX_MANIFEST_BYTES))
    files = manifest.get("ResultFiles") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise DataSyncInvalidInputError(f"s3://{bucket}/{details.Key} is no manifest of a Map Run's results.")
    for status in RESULT_STATUSES[:2]:
        for written in files.get(status) or []:
            key = written.get("Key") if isinstance(written, dict) else None
            if not isinstance(key, str) or not key.startswith(place):
                raise DataSyncInvalidInputError(f"s3://{bucket}/{details.Key} names a file outside {place}: {key}")
            for entry in json_values(s3, bucket, key):
                item = entry_item(entry, prefix)
                if item is not None:
                    yield item


def entry_item(entry: Any, prefix: str) -> tuple[int, str | None, dict[str, Any]] | None:
    """An entry of a result file as the summary reads it; None for one of no item of this batch."""
    if not isinstance(entry, dict):
        return None
    given = as_json(entry.get("Input"))
    index = child_index(prefix, str(given.get("name"))) if isinstance(given, dict) else None
    if index is None:
        return None
    item = given.get("input") if isinstance(given.get("input"), dict) else {}
    task_id = item.get("task_id") if isinstance(item.get("task_id"), str) else None
    output = as_json(entry.get("Output")) if entry.get("Status") == "SUCCEEDED" else None
    if not isinstance(output, dict):  # the iteration itself failed, outside the Catch of its child's start
        output = {"Error": entry.get("Error") or "States.Runtime", "Cause": entry.get("Cause") or "", "Iteration": True}
    return index, task_id, output


def row_from(index: int, task_id: str | None, source: dict[str, Any], execution_arn: str) -> dict[str, Any]:
    """The item's row from its source in the Map's results; without a Status when the child is to be described."""
    row: dict[str, Any] = {"index": index, "Status": source.get("Status")}
    if task_id is not None:
        row["task_id"] = task_id
    if "TaskArn" in source:  # the child succeeded
        row |= {key: source[key] for key in ("TaskArn", "TaskExecutionArn") if key in source}
        return row | {key: source[key] for key in COUNTED if isinstance(source.get(key), int)}
    error, cause = source.get("Error"), source.get("Cause")
    if error == CHILD_FAILED and isinstance(cause, str):
        child = as_json(cause)  # .sync:2's Cause: the child's DescribeExecution, as JSON
        fields = {key.lower(): value for key, value in child.items()} if isinstance(child, dict) else {}
        if isinstance(fields.get("status"), str):
            return row | {
                "Status": fields["status"],
                "Error": fields.get("error"),
                "Cause": cut(fields.get("cause") or ""),
                "ExecutionArn": execution_arn,
            }
    refused = str(error).removeprefix("StepFunctions.").removesuffix("Exception") in REFUSED_STARTS
    if not refused or source.get("Iteration"):
        return row | {"Status": None}  # how the child ended (or whether it started) is Step Functions' to say
    return row | not_started(index, execution_arn, error, cause)


def not_started(index: int, execution_arn: str, error: str | None = None, cause: str | None = None) -> dict[str, Any]:
    """The row of an item whose child did not start: of which the Map has no result (it ended before its turn), or
    whose start was answered `error` and `cause`."""
    return {
        "index": index,
        "Status": "NOT_STARTED",
        "Error": error,
        "Cause": cut(cause or ""),
        "ExecutionArn": execution_arn,
    }


def item_row(
    sfn: "SFNClient", index: int, execution_arn: str, task_id: str | None = None, source: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The item's row from its child execution, as Step Functions describes it: status, Error and Cause (and task,
    DataSync execution and counters of one that succeeded). No child of that name: the item did not start, with the
    Error its start was answered, if any."""
    with translate_errors(f"describe the batch item {index}'s execution {execution_arn}", service="Step Functions"):
        try:
            described = sfn.describe_execution(executionArn=execution_arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            return not_started(index, execution_arn, (source or {}).get("Error"), (source or {}).get("Cause"))
    row: dict[str, Any] = {"index": index, "Status": described["status"]}
    item_input = json.loads(described.get("input") or "{}")
    if isinstance(item_input, dict) and isinstance(item_input.get("task_id"), str):
        row["task_id"] = item_input["task_id"]
    elif task_id is not None:
        row["task_id"] = task_id
    if described["status"] == "SUCCEEDED":
        output = json.loads(described.get("output") or "{}")
        row |= {key: output[key] for key in ("TaskArn", "TaskExecutionArn") if key in output}
        row |= {key: value for key, value in (output.get("TaskExecution") or {}).items() if key in COUNTED}
    else:
        row |= {
            "Error": described.get("error"),
            "Cause": cut(described.get("cause") or ""),
            "ExecutionArn": execution_arn,
        }
    return row


def cut(cause: str) -> str:
    return f"{cause[:ROW_CAUSE_CHARACTERS]}…" if len(cause) > ROW_CAUSE_CHARACTERS else cause


def as_json(value: Any) -> Any:
    """A JSON string's value (ResultWriter's Input and Output, .sync:2's Cause), or the value itself if it is none."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return None


def read_capped(s3: Any, bucket: str, key: str, cap: int) -> bytes:
    with translate_errors(f"read the batch's results s3://{bucket}/{key}", service="S3"):
        got = s3.get_object(Bucket=bucket, Key=key)
        if got.get("ContentLength", 0) > cap:
            raise DataSyncInvalidInputError(f"s3://{bucket}/{key} is {got['ContentLength']:,} bytes; at most {cap:,}.")
        body = got["Body"].read(cap + 1)
    if len(body) > cap:
        raise DataSyncInvalidInputError(f"s3://{bucket}/{key} is over {cap:,} bytes.")
    return body


def json_values(s3: Any, bucket: str, key: str) -> Iterator[Any]:
    """The values of a JSON array (ResultWriter's OutputType JSON), or of JSON Lines, in an S3 object, one at a time,
    read READ_BYTES at a time: no more of the object is held than one value of at most MAX_RESULT_ENTRY_BYTES."""
    decoder = json.JSONDecoder()
    with translate_errors(f"read the batch's results s3://{bucket}/{key}", service="S3"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        text, position, ended, first = "", 0, False, True
        pending = b""

        def more() -> bool:
            nonlocal text, position, pending, ended
            chunk = b"" if ended else body.read(READ_BYTES)
            ended = ended or not chunk
            pending += chunk
            decoded = pending.decode("utf-8", errors="strict") if ended else _decodable(pending)
            pending = pending[len(decoded.encode()) :]
            text, position = text[position:] + decoded, 0
            return bool(chunk)

        while True:
            while position < len(text) and (text[position].isspace() or (text[position] in ",]" and not first)):
                position += 1
            if position == len(text):
                if not more():
                    return
                continue
            if first and text[position] == "[":
                position, first = position + 1, False
                continue
            first = False
            try:
                value, end = decoder.raw_decode(text, position)
            except ValueError:
                if len(text) - position > MAX_RESULT_ENTRY_BYTES:
                    raise DataSyncInvalidInputError(
                        f"s3://{bucket}/{key} holds an entry over {MAX_RESULT_ENTRY_BYTES:,} bytes."
                    ) from None
                if more() or pending:
                    continue
                raise DataSyncInvalidInputError(
                    f"s3://{bucket}/{key} is no JSON array of a Map Run's results."
                ) from None
            position = end
            yield value


def _decodable(data: bytes) -> str:
    """The longest beginning of `data` that is whole UTF-8 (a chunk may end inside a character)."""
    for back in range(4):
        try:
            return data[: len(data) - back].decode("utf-8")
        except UnicodeDecodeError:
            continue
    raise DataSyncInvalidInputError("a result file is not UTF-8")


@step_handler(SummarizeEvent, BatchSummary)
def handler(event: SummarizeEvent) -> BatchSummary:
    """Answers the batch's task token; what it returns to Lambda is only logged."""
    sfn = patient_states_client()
    try:
        summary = summarize(sfn, as_the_batch_ran(sfn, event), s3_client(), Deployment.from_environment().batch_bucket)
    except DataSyncWorkflowError as failure:
        # As a Fail state would end the batch: the error's name and its message, no stack trace. A transient error
        # is raised instead, and the Task's Retry invokes the step again.
        answer(sfn, event.token, failure)
        return BatchSummary(Totals={})
    answer(sfn, event.token, summary)
    return summary


def answer(sfn: "SFNClient", token: str, outcome: BatchSummary | DataSyncWorkflowError) -> None:
    """Sends the summary, or the failure, to the task token; when no task waits on the token (an invocation that is
    not the batch's), the invoker is told the failure, or that the token is no batch summary's."""
    with translate_errors("answer the batch's summary task", service="Step Functions"):
        try:
            if isinstance(outcome, BatchSummary):
                sfn.send_task_success(taskToken=token, output=outcome.model_dump_json())
            else:
                sfn.send_task_failure(taskToken=token, error=type(outcome).__name__, cause=str(outcome))
        except (sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist, sfn.exceptions.TaskTimedOut):
            if isinstance(outcome, DataSyncWorkflowError):
                raise outcome from None
            raise DataSyncInvalidInputError("the task token is no waiting batch summary's.") from None
