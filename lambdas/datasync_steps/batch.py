"""A batch input: many transfers in one run, as Airflow's `partial().expand()` maps the operator over a list. Each
transfer is an input of the single run's contract merged over `defaults`, and runs as a child execution of the
workflow's state machine; every one is checked before any starts."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.workflow_input import MAX_INPUT_BYTES, STARTED_BY_KEY, StartedInput, input_bytes, input_problems

MAX_CONCURRENCY = 40  # Step Functions runs an inline Map's iterations at most 40 at once
# The batch's output has a row per item, at most about 400 bytes each (a failed one's Cause cut short), and Step
# Functions' 256 KiB hold 500 of them; its history takes about 12 events an item, far within 25,000.
MAX_TRANSFERS = 500
STATE_ROOM = 1_024  # of Step Functions' 256 KiB, for what the batch's state adds to its input
SHOWN_PROBLEMS = 20


class BatchInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    defaults: dict[str, Any] = {}
    transfers: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_TRANSFERS)
    max_concurrency: int = Field(default=4, ge=1, le=MAX_CONCURRENCY)
    tolerated_failure_count: int | None = Field(default=None, ge=0)
    tolerated_failure_percentage: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def one_tolerance(self) -> "BatchInput":
        if self.tolerated_failure_count is not None and self.tolerated_failure_percentage is not None:
            raise ValueError("give tolerated_failure_count or tolerated_failure_percentage, not both")
        return self

    def transfer(self, index: int) -> dict[str, Any]:
        """Item `index` merged over the defaults (Airflow's partial() arguments, which an item's own replace)."""
        return {**self.defaults, **self.transfers[index]}

    @property
    def tolerated_failures(self) -> int:
        """How many items may fail before the batch does (none, by default)."""
        if self.tolerated_failure_percentage is not None:
            return int(len(self.transfers) * self.tolerated_failure_percentage / 100)
        return self.tolerated_failure_count or 0


def batch_problems(raw: dict, deployment: Deployment | None = None, started: StartedInput | None = None) -> list[str]:
    """Every problem of the batch: its own keys, then each item's as the single run would find them, named by index."""
    if "transfers_from" in raw:
        return ["transfers_from: reading the transfers from S3 is not built yet; give them as transfers"]
    raw = {key: value for key, value in raw.items() if key != STARTED_BY_KEY}
    if input_bytes(raw) > MAX_INPUT_BYTES - STATE_ROOM:
        # The batch's state holds the input once more, with a little of its own.
        return [f"the batch input is {input_bytes(raw):,} bytes; at most {MAX_INPUT_BYTES - STATE_ROOM:,}"]
    try:
        batch = BatchInput.model_validate(raw)
    except ValidationError as invalid:
        return [
            f"{'.'.join(map(str, e['loc'])) or 'the batch'}: {e['msg'].removeprefix('Value error, ')}"
            for e in invalid.errors()
        ]
    # Each item travels in the batch's state, into its history: no plaintext secret, whatever the deployment allows.
    deployment = (deployment or Deployment()).model_copy(update={"allow_secrets_in_input": False})
    problems = []
    for index in range(len(batch.transfers)):
        item_problems = input_problems(batch.transfer(index), deployment, started)
        problems += [f"transfers[{index}].{problem}" for problem in item_problems]
    if len(problems) > SHOWN_PROBLEMS:
        problems = [*problems[:SHOWN_PROBLEMS], f"and {len(problems) - SHOWN_PROBLEMS:,} more"]
    return problems


def parse_batch(raw: Any, deployment: Deployment | None = None, started: StartedInput | None = None) -> BatchInput:
    problems = batch_problems(raw, deployment, started)
    if problems:
        raise DataSyncInvalidInputError(f"Invalid batch input: {'; '.join(problems)}.")
    return BatchInput.model_validate({key: value for key, value in raw.items() if key != STARTED_BY_KEY})
