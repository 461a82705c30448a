"""A batch input: many transfers in one run, as Airflow's `partial().expand()` maps the operator over a list. Each
transfer is an input of the single run's contract merged over `defaults`, and runs as a child execution of the
workflow's state machine; every one is checked before any starts. The transfers are given in the input
(`transfers`), or, for thousands, in a JSON, JSON Lines or CSV object of the deployment's batch bucket
(`transfers_from`)."""

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, get_origin

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from datasync_steps.batch_children import ITEMS_PREFIX, child_name, child_prefix
from datasync_steps.datasync import translate_errors
from datasync_steps.errors import DataSyncInvalidInputError, closest
from datasync_steps.limits import MAX_INLINE_TRANSFERS, MAX_INPUT_BYTES, input_bytes
from datasync_steps.names import STARTED_BY_KEY

if TYPE_CHECKING:  # the steps that only name a batch's children need neither
    from datasync_steps.deployment import Deployment
    from datasync_steps.input_model import StartedInput

MAX_CONCURRENCY = 40  # Step Functions runs an inline Map's iterations at most 40 at once
# The batch's output has a row per item, at most about 400 bytes each (a failed one's Cause cut short), and Step
# Functions' 256 KiB hold 500 of them. Its history holds the inline Map's events, about 14 an item and 3 more for each
# retried child start: MAX_INLINE_TRANSFERS items (545) when every start is retried the most (limits.py).
MAX_TRANSFERS = min(500, MAX_INLINE_TRANSFERS)
# From S3 the rows go back to S3 and the Map's own history stays small (a Distributed Map's children have their own).
# The bound is the summary's: it describes each child, and Step Functions answers about 15 DescribeExecution calls a
# second once its burst of 250 is spent, so 5,000 take about five minutes of the step's fifteen.
MAX_FILE_TRANSFERS = 5_000
MAX_FILE_BYTES = 16 * 1024 * 1024
# The checked items, each merged over the defaults, that prepare-batch writes back: a bound on the step's memory.
MAX_ITEMS_BYTES = 32 * 1024 * 1024
STATE_ROOM = 1_024  # of Step Functions' 256 KiB, for what the batch's state adds to its input
SHOWN_PROBLEMS = 20


class BatchInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    defaults: dict[str, Any] = Field(
        default={},
        description="Keys of the single run's input that every transfer has unless it gives its own (Airflow's "
        "`partial()`).",
    )
    transfers: list[dict[str, Any]] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_TRANSFERS,
        description="The transfers, each an input of the single run merged over `defaults` (Airflow's `expand()`).",
    )
    transfers_from: str | None = Field(
        default=None,
        pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$",
        description=f"Instead of `transfers`: an object of the deployment's batch bucket (`s3://BUCKET/KEY`) holding "
        f"them as a JSON array or JSON Lines, or as CSV (a key ending in `.csv`, or ContentType `text/csv`), at most "
        f"{MAX_FILE_TRANSFERS:,} and {MAX_FILE_BYTES // 2**20} MiB.",
    )
    max_concurrency: int = Field(
        default=4, ge=1, le=MAX_CONCURRENCY, description="At most this many transfers run at once."
    )
    tolerated_failure_count: int | None = Field(
        default=None, ge=0, description="The batch fails when more transfers than this fail (none, by default)."
    )
    tolerated_failure_percentage: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Instead of `tolerated_failure_count`: the batch fails when more than this share of them fail.",
    )

    @model_validator(mode="after")
    def one_source_one_tolerance(self) -> "BatchInput":
        if (self.transfers is None) == (self.transfers_from is None):
            raise ValueError("give transfers or transfers_from, not both")
        if self.tolerated_failure_count is not None and self.tolerated_failure_percentage is not None:
            raise ValueError("give tolerated_failure_count or tolerated_failure_percentage, not both")
        return self

    def tolerated_failures(self, items: int) -> int:
        """How many of `items` may fail before the batch does (none, by default)."""
        if self.tolerated_failure_percentage is not None:
            return int(items * self.tolerated_failure_percentage / 100)
        return self.tolerated_failure_count or 0


class Batch(BaseModel):
    """A checked batch: its settings, and every transfer as given (each still to be merged over the defaults)."""

    settings: BatchInput
    transfers: list[dict[str, Any]]

    def transfer(self, index: int) -> dict[str, Any]:
        """Item `index` merged over the defaults (Airflow's partial() arguments, which an item's own replace)."""
        return {**self.settings.defaults, **self.transfers[index]}


def batch_problems(
    raw: dict,
    deployment: "Deployment | None" = None,
    started: "StartedInput | None" = None,
    s3: Any = None,
) -> list[str]:
    """The problems of the batch: its own keys, then each item's as its child run would find them, named by index,
    the first SHOWN_PROBLEMS of them. A `transfers_from` object is read with `s3`; without one only the batch's own
    keys are checked. Without `started` the batch starts now, its children named as a batch's would be."""
    from datasync_steps.input_model import StartedInput

    started = started or StartedInput(raw=raw, started_at=datetime.now(UTC), run_id="manual")
    return _checked(raw, deployment, started, s3, child_prefix(started.run_id, started.started_at))[1]


def parse_batch(raw: Any, deployment: "Deployment | None", started: "StartedInput", s3: Any, prefix: str) -> Batch:
    """The checked batch that `started`, whose children's names begin with `prefix`."""
    batch, problems = _checked(raw, deployment, started, s3, prefix)
    if problems or batch is None:
        raise DataSyncInvalidInputError(f"Invalid batch input: {'; '.join(problems)}.")
    return batch


def _checked(
    raw: dict, deployment: "Deployment | None", started: "StartedInput", s3: Any, prefix: str
) -> tuple[Batch | None, list[str]]:
    # Only prepare-batch and the command line check a batch: the steps that name its children import this module too.
    from datasync_steps.deployment import Deployment
    from datasync_steps.input_checks import input_problems

    raw = {key: value for key, value in raw.items() if key != STARTED_BY_KEY}
    if input_bytes(raw) > MAX_INPUT_BYTES - STATE_ROOM:
        # The batch's state holds the input once more, with a little of its own.
        return None, [f"the batch input is {input_bytes(raw):,} bytes; at most {MAX_INPUT_BYTES - STATE_ROOM:,}"]
    try:
        settings = BatchInput.model_validate(raw)
    except ValidationError as invalid:
        return None, [
            f"{'.'.join(map(str, e['loc'])) or 'the batch'}: {e['msg'].removeprefix('Value error, ')}"
            for e in invalid.errors()
        ]
    deployment = deployment or Deployment()
    if settings.transfers_from is None:
        transfers, field = settings.transfers or [], "transfers"
    else:
        field = "transfers_from"
        bucket, key = settings.transfers_from.removeprefix("s3://").split("/", 1)
        if key.startswith(ITEMS_PREFIX):
            return None, [f"transfers_from: {ITEMS_PREFIX} is the workflow's own; put the transfers elsewhere"]
        if deployment.batch_bucket and bucket != deployment.batch_bucket:
            return None, [
                f"transfers_from: {settings.transfers_from} is not in this deployment's {deployment.batch_bucket}"
            ]
        if s3 is None:
            return None, []
        transfers, problem = read_transfers(s3, settings.transfers_from)
        if problem:
            return None, [f"transfers_from: {problem}"]
    batch = Batch(settings=settings, transfers=transfers)
    merged = 0
    for index in range(len(transfers)):
        merged += input_bytes(batch.transfer(index))
        if merged > MAX_ITEMS_BYTES:  # each item is checked merged: the bound of the checks' work too
            return None, [
                f"{field}: merged over the defaults, the transfers come to over {MAX_ITEMS_BYTES:,} bytes (put what "
                "they share in fewer of them)"
            ]
    # Each item travels in the batch's state or bucket: no plaintext secret, whatever the deployment allows.
    deployment = deployment.model_copy(update={"allow_secrets_in_input": False})
    problems: list[str] = []
    for index in range(len(transfers)):
        if len(problems) > SHOWN_PROBLEMS:
            unchecked = f"and more: {field}[{index}] and the transfers after it are not checked"
            return batch, [*problems[:SHOWN_PROBLEMS], unchecked]
        # As its child run will check it: named <prefix>-<index>, its run_id.
        child = started.model_copy(update={"run_id": child_name(prefix, index)})
        item_problems = input_problems(batch.transfer(index), deployment, child)
        problems += [f"{field}[{index}].{problem}" for problem in item_problems]
    if len(problems) > SHOWN_PROBLEMS:
        problems = [*problems[:SHOWN_PROBLEMS], f"and {len(problems) - SHOWN_PROBLEMS:,} more"]
    return batch, problems


def read_transfers(s3: Any, uri: str) -> tuple[list[dict[str, Any]], str | None]:
    """The transfers of a JSON array, JSON Lines or CSV object, or why there are none to run."""
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    with translate_errors(f"read the transfers of {uri}", service="S3"):
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return [], f"{uri} does not exist"
            raise
        if head["ContentLength"] > MAX_FILE_BYTES:
            return [], f"{uri} is {head['ContentLength']:,} bytes; at most {MAX_FILE_BYTES:,}"
        # The object as measured, not one written since.
        body = s3.get_object(Bucket=bucket, Key=key, IfMatch=head["ETag"])["Body"].read(MAX_FILE_BYTES + 1)
    if len(body) > MAX_FILE_BYTES:  # written again, larger, between the two calls
        return [], f"{uri} is over {MAX_FILE_BYTES:,} bytes"
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return [], f"{uri} is not UTF-8 (at byte {error.start:,})"
    # CSV as S3 and its users name it: by the key's suffix, or the type the object was put with.
    as_csv = key.lower().endswith(".csv") or head.get("ContentType", "").split(";")[0].strip().lower() == "text/csv"
    transfers, problem = _csv_transfers(text) if as_csv else _json_transfers(text)
    if problem:
        return [], f"{uri} {problem}"
    if not isinstance(transfers, list):
        return [], f"{uri} is a JSON {type(transfers).__name__}, not an array of transfers"
    if not transfers or len(transfers) > MAX_FILE_TRANSFERS:
        return [], f"{uri} holds {len(transfers):,} transfers; give 1 to {MAX_FILE_TRANSFERS:,}"
    odd = [index for index, transfer in enumerate(transfers) if not isinstance(transfer, dict)]
    if odd:
        return [], f"transfer {odd[0]} of {uri} is not a JSON object"
    return transfers, None


def _json_transfers(text: str) -> tuple[Any, str | None]:
    try:
        if text.lstrip().startswith("["):
            transfers = json.loads(text, parse_constant=_not_json)
        else:
            # JSON Lines ends a line at \n only (\r\n too): str.splitlines would also split inside a string at U+2028.
            transfers = [json.loads(line, parse_constant=_not_json) for line in text.split("\n") if line.strip()]
    except json.JSONDecodeError as error:
        return None, f"is neither a JSON array nor JSON Lines ({error.msg} at line {error.lineno})"
    except (ValueError, RecursionError) as error:  # NaN and Infinity; a number too long; nesting too deep
        return None, f"is not JSON that Step Functions takes ({str(error) or 'nested too deep'})"
    return transfers, None


def _csv_transfers(text: str) -> tuple[list[dict[str, Any]], str | None]:
    """The transfers of a CSV text (RFC 4180) whose header row names input keys: a row is the keys of its cells that
    are not empty, the cell of a key that takes no string read as JSON (`true`, `30`, `{"Name": "x"}`); a row with no
    cell given is skipped. Rows are numbered as a spreadsheet numbers them, the header being row 1."""
    from datasync_steps.input_model import WorkflowInput  # only a CSV object needs the input's keys and their types

    keys = WorkflowInput.model_fields
    text_keys = {
        name
        for name, field in keys.items()
        if field.annotation in (str, str | None) or get_origin(field.annotation) is Literal
    }
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    transfers: list[dict[str, Any]] = []
    try:
        header = [column.strip() for column in next(rows, [])]
        seen: set[str] = set()
        for number, column in enumerate(header, 1):
            if column not in keys:
                # Only a name is shown: a CSV without its header row has a row of values there, a password maybe.
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", column):
                    return [], f"column {number}'s header is not an input key: the first row must name input keys"
                guess = closest(column, keys)
                return [], f"has an unknown column '{column}'" + (f" (did you mean {guess}?)" if guess else "")
            if column in seen:
                return [], f"has the column {column} twice"
            seen.add(column)
        for row, cells in enumerate(rows, start=2):
            if len(cells) > len(header):
                return [], f"row {row} has {len(cells):,} cells; its header names {len(header):,}"
            item: dict[str, Any] = {}
            for column, cell in zip(header, cells, strict=False):
                if not cell:
                    continue  # not given: the batch's defaults apply
                try:
                    item[column] = cell if column in text_keys else json.loads(cell, parse_constant=_not_json)
                except json.JSONDecodeError as error:  # the cell is not echoed: a kwargs cell may hold a secret
                    return [], (
                        f"row {row}, column {column}: not JSON ({error.msg}); {column} takes no string, so its cells "
                        'are JSON, like 30, true or {"Name": "x"}'
                    )
                except (ValueError, RecursionError) as error:  # NaN and Infinity; a number too long; too deep
                    problem = str(error) or "nested too deep"
                    return [], f"row {row}, column {column}: not JSON that Step Functions takes ({problem})"
            if item:
                transfers.append(item)
            if len(transfers) > MAX_FILE_TRANSFERS:  # counted as they are read: no more are made
                return [], f"holds over {MAX_FILE_TRANSFERS:,} transfers; give 1 to {MAX_FILE_TRANSFERS:,}"
    except csv.Error as error:
        return [], f"is not CSV ({error} at line {rows.line_num:,})"
    return transfers, None


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON number")
