"""A DataSync location, task or execution the workflow knows by its ARN: a task's description, and the workflow's
tags on what it makes and does (which workflow execution, and which of its tries, made it or did something else to
it). The steps that act only on what they are told of need none of the look-ups by URI (lookup.py)."""

import re
from typing import TYPE_CHECKING

from datasync_steps.datasync import translate_errors
from datasync_steps.errors import DataSyncTaskNotFoundError
from datasync_steps.names import WORKFLOW_TAG

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_datasync.type_defs import DescribeTaskResponseTypeDef, TagListEntryTypeDef


def describe_task(client: "DataSyncClient", task_arn: str) -> "DescribeTaskResponseTypeDef":
    # The ARN is well formed (the input was checked), so DataSync refusing to describe it means it does not
    # know the task in this account and region, whatever words its message uses.
    with translate_errors(
        f"find task {task_arn} in this account and region",
        refused=DataSyncTaskNotFoundError,
        missing=f"task {task_arn} in this account and region",
    ):
        return client.describe_task(TaskArn=task_arn)


def workflow_tag(workflow_execution: str, key: str = WORKFLOW_TAG) -> "TagListEntryTypeDef":
    """The tag on each location, task and execution the workflow makes: the workflow execution that made it (or,
    with another `key`, that did something else to it)."""
    return {"Key": key, "Value": re.sub(r"[^a-zA-Z0-9\s+=._:@/-]", "_", workflow_execution)[:256]}


def made_by(client: "DataSyncClient", arn: str, key: str = WORKFLOW_TAG) -> str | None:
    """The workflow execution that made the location, task or execution `arn` (or did what `key` says)."""
    with translate_errors(f"list the tags of {arn}", not_found=DataSyncTaskNotFoundError, missing=_named(arn)):
        for page in client.get_paginator("list_tags_for_resource").paginate(ResourceArn=arn):
            for tag in page["Tags"]:
                if tag["Key"] == key:
                    return tag["Value"]
    return None


def _named(arn: str) -> str:
    """A DataSync ARN with what it names before it: `task arn:...`, `location arn:...`, `execution arn:...`."""
    kind = "execution" if "/execution/" in arn else arn.rpartition(":")[2].partition("/")[0]
    return f"{kind} {arn}" if kind in ("task", "location", "execution", "agent") else arn


def try_label(workflow_execution: str, attempt: int) -> str:
    """Who started an execution, as its tag says: the workflow execution, and after its first try which try (so that
    a try never takes an earlier try's execution for its own)."""
    return workflow_execution if attempt == 1 else f"{workflow_execution}/try/{attempt}"
