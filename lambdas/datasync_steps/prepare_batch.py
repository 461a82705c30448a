"""Batch step 1: check every transfer of a batch input before any starts, and hand the Map its items: each the input
of one child execution of the workflow, linked to the batch's execution."""

from typing import Any

from pydantic import BaseModel

from datasync_steps.batch import parse_batch
from datasync_steps.datasync import states_client
from datasync_steps.deployment import Deployment
from datasync_steps.observability import StepEvent, logger, step_handler
from datasync_steps.workflow_input import STARTED_BY_KEY, StartedInput, read_input

# Step Functions' 256 KiB for a state, less room for what the Map adds.
MAX_STATE_BYTES = 240_000


class PreparedBatch(BaseModel):
    """$ after prepare-batch: the checked batch, as the Map merges each item over the defaults, and the key that links
    each child to the batch's execution."""

    defaults: dict[str, Any]
    transfers: list[dict[str, Any]]
    link: dict[str, str]
    max_concurrency: int
    tolerated_failures: int


def prepare_batch(started: StartedInput, execution_id: str, deployment: Deployment | None = None) -> PreparedBatch:
    batch = parse_batch(started.raw, deployment, started)
    logger.info("Prepared the batch", extra={"items": len(batch.transfers), "max_concurrency": batch.max_concurrency})
    return PreparedBatch(
        defaults=batch.defaults,
        transfers=list(batch.transfers),
        # Step Functions' own key: the console links each child to the batch's execution.
        link={STARTED_BY_KEY: execution_id},
        max_concurrency=batch.max_concurrency,
        tolerated_failures=batch.tolerated_failures,
    )


@step_handler(StepEvent, PreparedBatch)
def handler(event: StepEvent) -> PreparedBatch:
    started = read_input(states_client(), event.execution_id)
    deployment = Deployment.from_environment().in_region_of(event.execution_id)
    return prepare_batch(started, event.execution_id, deployment)
