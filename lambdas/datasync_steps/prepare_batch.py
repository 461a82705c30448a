"""Batch step 1: check every transfer of a batch input before any starts, and hand the Map its items: each the input
of one child execution of the workflow, linked to the batch's execution."""

from typing import Any

from pydantic import BaseModel

from datasync_steps.batch import parse_batch
from datasync_steps.datasync import states_client
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.observability import StepEvent, logger, step_handler
from datasync_steps.workflow_input import STARTED_BY_KEY, StartedInput, read_input

# Step Functions' 256 KiB for a state, less room for what the Map adds.
MAX_STATE_BYTES = 240_000


class BatchItem(BaseModel):
    index: int
    input: dict[str, Any]


class PreparedBatch(BaseModel):
    """$ after prepare-batch: the items, how many run at once, and how many may fail."""

    items: list[BatchItem]
    max_concurrency: int
    tolerated_failures: int


def prepare_batch(started: StartedInput, execution_id: str, deployment: Deployment | None = None) -> PreparedBatch:
    batch = parse_batch(started.raw, deployment, started)
    # Each child names the batch's execution as its parent: the console links them (Step Functions' own key).
    items = [
        BatchItem(index=index, input={**batch.transfer(index), STARTED_BY_KEY: execution_id})
        for index in range(len(batch.transfers))
    ]
    prepared = PreparedBatch(
        items=items, max_concurrency=batch.max_concurrency, tolerated_failures=batch.tolerated_failures
    )
    size = len(prepared.model_dump_json().encode())
    if size > MAX_STATE_BYTES:
        # Each item carries the defaults merged in: the items together may outgrow the batch's state.
        raise DataSyncInvalidInputError(
            f"Invalid batch input: its {len(items):,} transfers, each with the defaults, take {size:,} bytes, more "
            f"than a batch's state holds ({MAX_STATE_BYTES:,}); split it into smaller batches."
        )
    logger.info("Prepared the batch", extra={"items": len(items), "max_concurrency": batch.max_concurrency})
    return prepared


@step_handler(StepEvent, PreparedBatch)
def handler(event: StepEvent) -> PreparedBatch:
    started = read_input(states_client(), event.execution_id)
    deployment = Deployment.from_environment().in_region_of(event.execution_id)
    return prepare_batch(started, event.execution_id, deployment)
