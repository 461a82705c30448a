"""A batch's child executions and what it keeps of them: their names, from which a retried start finds the child it
started and the batch's stop finds those still running, and where the batch bucket holds their items and rows."""

import hashlib
from datetime import datetime

ITEMS_PREFIX = "batches/"  # the workflow's own objects in the batch bucket: checked items and rows


def child_prefix(batch_execution_arn: str, started_at: datetime) -> str:
    """What each child execution's name begins with: the batch's own, so that a retried start finds the child it
    started, and the batch's stop finds the children still running. The batch's start time is in it, to the
    millisecond Step Functions gives, so that no one who can only guess a batch's name can take its children's names
    before it starts them."""
    return hashlib.sha256(f"{batch_execution_arn}|{started_at.timestamp():.3f}".encode()).hexdigest()[:24]


def batch_place(prefix: str) -> str:
    """The batch's own place in the batch bucket: its checked items, its Map's results, its rows and its reruns."""
    return f"{ITEMS_PREFIX}{prefix}/"


def checked_items_key(prefix: str) -> str:
    """The checked items of a batch read from S3, each merged over the defaults: what its Distributed Map reads."""
    return f"{batch_place(prefix)}items.json"


def child_name(prefix: str, index: int, redrive: int = 0) -> str:
    """Item `index`'s child: of the batch's own Map, or of the Map that its redrive number `redrive` ran again."""
    return f"{prefix}-{index}-r{redrive}" if redrive else f"{prefix}-{index}"


def child_index(prefix: str, name: str) -> int | None:
    """The item whose child execution has this name, when the batch of `prefix` gave it; else None."""
    item = child_item(prefix, name)
    return item[0] if item else None


def child_item(prefix: str, name: str) -> tuple[int, int] | None:
    """The item and the redrive (0: the batch's own Map) whose child execution has this name; None for a name the
    batch of `prefix` gave no child."""
    item, _, redrive = name.removeprefix(f"{prefix}-").partition("-r")
    if name == item or not item.isdigit() or (redrive and not redrive.isdigit()) or name.endswith("-r"):
        return None
    return int(item), int(redrive or 0)
