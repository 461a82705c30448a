"""A batch's summary: what summarize-batch answers (the totals, the rows or where they are, and a redrive's items to
run again), which is the batch's output that announce-batch reads back."""

from typing import Any

from pydantic import BaseModel

from datasync_steps.observability import Sparse


class RerunItems(BaseModel):
    """The items a redrive runs again, in the batch bucket, and where that Map's ResultWriter puts their results."""

    Bucket: str
    Key: str
    ResultsPrefix: str
    Items: int


class BatchSummary(Sparse):
    Totals: dict[str, int]
    Rows: list[dict[str, Any]] | None = None  # a batch given in its input
    RowsUri: str | None = None  # a batch read from S3, or with too many rows to show: one JSON object a line
    Rerun: RerunItems | None = None  # a redriven batch's items that had not succeeded, to run again
