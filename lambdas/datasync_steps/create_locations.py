"""Step 2 (only when a location is missing): create the source and/or destination location."""

from typing import TYPE_CHECKING

from datasync_steps.datasync import translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncRequestError, DataSyncTaskCreationError
from datasync_steps.input_model import SIDES, Side, WorkflowInput
from datasync_steps.input_parsing import input_of_execution
from datasync_steps.lookup import (
    agent_arns,
    by_age,
    in_scope,
    location_created_at,
    location_describer,
    matching_location_arns,
)
from datasync_steps.observability import MetricUnit, logger, metrics, step_handler
from datasync_steps.places import client_at_input_place
from datasync_steps.resources import made_by, workflow_tag
from datasync_steps.state import Target, TargetEvent
from datasync_steps.uris import parse_location_uri

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_datasync.type_defs import TagListEntryTypeDef


def create_locations(
    client: "DataSyncClient",
    create_client: "DataSyncClient",
    config: WorkflowInput,
    target: Target,
    made_by_run: "TagListEntryTypeDef",
    deployment: Deployment | None = None,
) -> Target:
    """Create each location the target lacks, tagged `made_by_run` (and the `deployment`'s scope); `create_client`
    is a `datasync_client(creates=True)`."""
    deployment = deployment or Deployment()
    missing = [side for side in SIDES if target.location_arn(side) is None]
    for side in missing:
        refuse_agents_out_of_scope(client, config, side, deployment)
    created = list(target.CreatedLocationArns)
    arns = {}
    for side in SIDES:
        arn = target.location_arn(side)
        if arn is None:
            arn, is_new = find_or_create_location(client, create_client, config, side, made_by_run, deployment)
            if is_new:
                created.append(arn)
        arns[side] = arn
    return target.model_copy(
        update={
            "SourceLocationArn": arns["source"],
            "DestinationLocationArn": arns["destination"],
            "CreatedLocationArns": created,
        }
    )


def refuse_agents_out_of_scope(
    client: "DataSyncClient", config: WorkflowInput, side: Side, deployment: Deployment
) -> None:
    """A scoped deployment makes a location only through agents that carry its scope tag. An agent sits on its team's
    network: through another team's, a run could reach that team's shares. IAM cannot say so: the Service
    Authorization Reference lists no resource type for CreateLocation*, so no aws:ResourceTag condition on the agent
    can be put on it (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsdatasync.html)."""
    scope = deployment.scope_tag
    if scope is None:
        return
    for agent_arn in agent_arns(config.create_location_kwargs(side)):
        if not in_scope(client, agent_arn, scope):
            raise DataSyncRequestError(
                f"The {side} location {config.location_uri(side)} was not created: create_{side}_location_kwargs "
                f"names the agent {agent_arn}, which is not tagged {scope} (this deployment's scope_tag) or does not "
                f"exist in this account and region. Nothing was created: name an agent tagged {scope} instead, or tag "
                "this agent so if it belongs to this scope."
            )


def find_or_create_location(
    client: "DataSyncClient",
    create_client: "DataSyncClient",
    config: WorkflowInput,
    side: Side,
    made_by_run: "TagListEntryTypeDef",
    deployment: Deployment,
) -> tuple[str, bool]:
    """The location for the side's URI and whether this run made it. Runs racing to create it all keep the
    oldest, and each deletes its own if it lost."""
    uri, scope = config.location_uri(side), deployment.scope_tag
    created_at = location_created_at(client, uri)
    # None matched when the run began: one that does now was made by an earlier try of this step whose answer
    # was lost, or by a run racing this one.
    found = matching_location_arns(client, uri, scope)
    if found:
        first = (by_age(found, created_at) or found)[0]
        logger.info("Found the location made since the run began", extra={"uri": uri, "location_arn": first})
        return first, made_by(client, first) == made_by_run["Value"]
    create_call = parse_location_uri(uri).create_call
    kwargs = config.create_location_kwargs(side)
    tags = [*kwargs.get("Tags", []), *deployment.tags_for(made_by_run)]
    with translate_errors(f"create the {side} location {uri} ({create_call})", refused=DataSyncTaskCreationError):
        arn = getattr(create_client, create_call)(**{**kwargs, "Tags": tags})["LocationArn"]
    metrics.add_metric(name="LocationsCreated", unit=MetricUnit.Count, value=1)
    logger.info("Created a location", extra={"uri": uri, "location_arn": arn})
    stored = location_describer(client, uri)(arn)["LocationUri"]
    if not parse_location_uri(uri).matches(stored):
        # Left in place it would never be found by its URI again, and every run would create another.
        delete_location(client, arn)
        raise DataSyncTaskCreationError(
            f"The {side} location created from create_{side}_location_kwargs got the URI {stored}, which does "
            f"not match {side}_location_uri {uri}, so it was deleted again. Make the kwargs name the same host "
            "and path as the URI."
        )
    first = (by_age(matching_location_arns(client, uri, scope), created_at) or [arn])[0]
    if first != arn:
        delete_location(client, arn)
        logger.info("A racing run made the location first: deleted this run's", extra={"location_arn": first})
        return first, False
    return arn, True


def delete_location(client: "DataSyncClient", arn: str) -> None:
    with translate_errors(f"delete the location {arn}"):
        client.delete_location(LocationArn=arn)


@step_handler(TargetEvent, Target)
def handler(event: TargetEvent) -> Target:
    deployment = Deployment.from_environment().in_region_of(event.execution_id)
    config = input_of_execution(event.execution_id, deployment)
    made_by_run = workflow_tag(event.execution_id)
    client, create_client = (
        client_at_input_place(deployment, event.execution_id, creates=c)(config) for c in (False, True)
    )
    return create_locations(client, create_client, config, event.target, made_by_run, deployment)
