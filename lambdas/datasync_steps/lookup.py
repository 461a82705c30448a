"""Finding the locations that match a URI and the tasks that link two sets of locations."""

import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from datasync_steps.datasync import translate_errors
from datasync_steps.errors import (
    DataSyncLocationNotFoundError,
    DataSyncMultipleLocationsError,
    DataSyncMultipleTasksError,
    DataSyncTaskNotFoundError,
)
from datasync_steps.resources import describe_task, made_by

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_datasync.type_defs import DescribeTaskResponseTypeDef, TaskFilterTypeDef

    from datasync_steps.deployment import ScopeTag


def matching_location_arns(client: "DataSyncClient", uri: str, scope: "ScopeTag | None" = None) -> list[str]:
    """Every location whose stored LocationUri matches `uri`, over all pages of ListLocations; with a `scope`, only
    those in it."""
    from datasync_steps.uris import parse_location_uri  # only where a URI is matched: not every importer's cold start

    wanted = parse_location_uri(uri)
    with translate_errors(f"list the locations for {uri}"):
        pages = client.get_paginator("list_locations").paginate(Filters=[wanted.list_filter()])
        matching = [
            location["LocationArn"]
            for page in pages
            for location in page["Locations"]
            if wanted.matches(location["LocationUri"])
        ]
    return [arn for arn in matching if in_scope(client, arn, scope)]


def in_scope(client: "DataSyncClient", arn: str, scope: "ScopeTag | None") -> bool:
    """Whether the resource carries the deployment's scope tag (any does where there is no scope). Outside it, the
    deployment's roles may not describe, change or use it: to a scoped deployment it is not there."""
    if scope is None:
        return True
    try:
        return made_by(client, arn, scope.key) == scope.value
    except DataSyncTaskNotFoundError:
        return False  # deleted since it was listed


def tasks_linking(
    client: "DataSyncClient", source_arns: list[str], destination_arns: list[str], scope: "ScopeTag | None" = None
) -> dict[str, "DescribeTaskResponseTypeDef"]:
    """The tasks whose source is one of `source_arns` and whose destination is one of `destination_arns` (with a
    `scope`, those in it), each with its description, oldest first, then by ARN (runs racing to create the same
    task all keep the first)."""
    found: dict[str, DescribeTaskResponseTypeDef] = {}
    for source_arn in source_arns:
        on_location: TaskFilterTypeDef = {"Name": "LocationId", "Values": [source_arn], "Operator": "Equals"}
        with translate_errors(f"list the tasks of location {source_arn}"):
            pages = client.get_paginator("list_tasks").paginate(Filters=[on_location])
            candidates = [task["TaskArn"] for page in pages for task in page["Tasks"]]
        for task_arn in (arn for arn in candidates if in_scope(client, arn, scope)):
            try:
                task = describe_task(client, task_arn)
            except DataSyncTaskNotFoundError:
                continue  # deleted since it was listed: a racing run's loser
            if task["SourceLocationArn"] in source_arns and task["DestinationLocationArn"] in destination_arns:
                found[task_arn] = task
    return dict(sorted(found.items(), key=lambda item: (item[1]["CreationTime"], item[0])))


def choose_task(task_arns: list[str], *, allow_random: bool, source_uri: str, destination_uri: str) -> str:
    if len(task_arns) > 1 and not allow_random:
        raise DataSyncMultipleTasksError(
            f"{len(task_arns)} DataSync tasks link {source_uri} to {destination_uri}: {', '.join(task_arns)}. "
            "Pass task_arn, delete the extra tasks, or set allow_random_task_choice to true."
        )
    return random.choice(task_arns)


def choose_location(location_arns: list[str], *, allow_random: bool, uri: str) -> str | None:
    if not location_arns:
        return None
    if len(location_arns) > 1 and not allow_random:
        raise DataSyncMultipleLocationsError(
            f"{len(location_arns)} DataSync locations match {uri}: {', '.join(location_arns)}. "
            "Delete the extra locations or set allow_random_location_choice to true."
        )
    return random.choice(location_arns)


def location_describer(client: "DataSyncClient", uri: str) -> Callable[[str], dict]:
    """DescribeLocation* of the kind `uri` names: what DataSync stores of a location, its URI and creation time."""
    from datasync_steps.uris import parse_location_uri

    describe = getattr(client, parse_location_uri(uri).create_call.replace("create_", "describe_", 1))

    def described(location_arn: str) -> dict:
        with translate_errors(
            f"describe location {location_arn}",
            not_found=DataSyncLocationNotFoundError,
            missing=f"location {location_arn}",
        ):
            return describe(LocationArn=location_arn)

    return described


def agent_arns(location: Mapping[str, Any]) -> list[str]:
    """The agents a location's CreateLocation* request or DescribeLocation* answer names: the AgentArns of an SMB,
    HDFS, object storage, Azure Blob or S3 on Outposts location, an NFS location's OnPremConfig.AgentArns. No other
    member of DataSync's API model names an agent (EFS and FSx locations use none)."""
    return list(location.get("AgentArns") or (location.get("OnPremConfig") or {}).get("AgentArns") or [])


def agents_of(client: "DataSyncClient", location_arns: list[str]) -> list[str]:
    """The agents the locations use."""
    with translate_errors("list the locations"):
        pages = client.get_paginator("list_locations").paginate()
        uris = {location["LocationArn"]: location["LocationUri"] for page in pages for location in page["Locations"]}
    agents: list[str] = []
    for arn in location_arns:
        if arn in uris:
            agents += agent_arns(location_describer(client, uris[arn])(arn))
    return sorted(set(agents))


def location_created_at(client: "DataSyncClient", uri: str) -> Callable[[str], object]:
    described = location_describer(client, uri)
    return lambda location_arn: described(location_arn)["CreationTime"]


def by_age(arns: list[str], created_at: Callable[[str], object]) -> list[str]:
    """The ARNs oldest first, then by ARN: runs racing to create the same thing all keep the first. One deleted
    since it was listed (a racing run's loser) is left out."""
    aged = []
    for arn in arns:
        try:
            aged.append((created_at(arn), arn))
        except (DataSyncTaskNotFoundError, DataSyncLocationNotFoundError):
            continue
    return [arn for _, arn in sorted(aged)]


def without_racers(client: "DataSyncClient", arns: list[str], created_at: Callable[[str], object]) -> list[str]:
    """Matches where all but the oldest were made by workflow runs are runs that raced to create the same thing,
    each loser deleting its own: the oldest is the match. Anything else is a choice the input's rules make."""
    if len(arns) < 2:
        return arns
    first, *others = by_age(arns, created_at) or arns
    return [first] if all(_made_by_a_run(client, arn) for arn in others) else arns


def _made_by_a_run(client: "DataSyncClient", arn: str) -> bool:
    try:
        return made_by(client, arn) is not None
    except DataSyncTaskNotFoundError:
        return True  # deleted since it was listed: a racing run's loser
