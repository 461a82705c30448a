"""Batch step 1: check every transfer of a batch input before any starts, and hand the Map its items. Transfers given
in the input stay in the state, for the Map to merge over the defaults; those read from S3 are written back, checked
and merged, beside it in the batch bucket, where the Distributed Map reads them (not the object the input names,
which could change after the check)."""

import json
from typing import Any

from pydantic import BaseModel

from datasync_steps.batch import parse_batch
from datasync_steps.batch_children import batch_place, checked_items_key, child_prefix
from datasync_steps.datasync import s3_client, states_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.input_model import StartedInput
from datasync_steps.input_parsing import read_input
from datasync_steps.observability import StepEvent, logger, step_handler


class S3Items(BaseModel):
    Bucket: str
    Key: str
    ResultsPrefix: str  # where the Distributed Map's ResultWriter puts its results: the batch's own place, beside Key


class PrepareEvent(StepEvent):
    workflow_state_machine_arn: str  # the state machine the children run, shown to whoever follows the batch


class MappedTransfers(BaseModel):
    """What the inline Map maps: the transfers given in the input and their defaults (empty when the items are in S3).
    The Map's results take their place in the state, which so never holds both (each could be most of 256 KiB)."""

    defaults: dict[str, Any]
    transfers: list[dict[str, Any]]


class PreparedBatch(BaseModel):
    """$ after prepare-batch: the checked batch as the Map takes it, and what names its children."""

    mapped: MappedTransfers
    items: S3Items | None  # the checked items, each merged over the defaults, when read from S3
    count: int
    prefix: str  # of each child execution's name, <prefix>-<index>
    workflow_state_machine_arn: str
    max_concurrency: int
    tolerated_failures: int


def prepare_batch(
    started: StartedInput, event: PrepareEvent, deployment: Deployment | None = None, s3: Any = None
) -> PreparedBatch:
    deployment = deployment or Deployment()
    if "transfers_from" in started.raw and not deployment.batch_bucket:
        raise DataSyncInvalidInputError("transfers_from: this deployment has no batch bucket to read transfers from.")
    prefix = child_prefix(event.execution_id, started.started_at)
    batch = parse_batch(started.raw, deployment, started, s3, prefix)
    settings, count = batch.settings, len(batch.transfers)
    items = None
    if settings.transfers_from is not None:
        items = S3Items(
            Bucket=str(deployment.batch_bucket),
            Key=checked_items_key(prefix),
            ResultsPrefix=batch_place(prefix).rstrip("/"),
        )
        body = json.dumps([batch.transfer(index) for index in range(count)], separators=(",", ":"))
        with translate_errors(f"keep the batch's checked items in s3://{items.Bucket}/{items.Key}", service="S3"):
            s3.put_object(Bucket=items.Bucket, Key=items.Key, Body=body.encode(), ContentType="application/json")
    logger.info("Prepared the batch", extra={"items": count, "max_concurrency": settings.max_concurrency})
    return PreparedBatch(
        mapped=MappedTransfers(
            defaults=settings.defaults if items is None else {}, transfers=batch.transfers if items is None else []
        ),
        items=items,
        count=count,
        prefix=prefix,
        workflow_state_machine_arn=event.workflow_state_machine_arn,
        max_concurrency=settings.max_concurrency,
        tolerated_failures=settings.tolerated_failures(count),
    )


@step_handler(PrepareEvent, PreparedBatch)
def handler(event: PrepareEvent) -> PreparedBatch:
    started = read_input(states_client(), event.execution_id)
    deployment = Deployment.from_environment().in_region_of(event.execution_id)
    return prepare_batch(started, event, deployment, s3_client())
