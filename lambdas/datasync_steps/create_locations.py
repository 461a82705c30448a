"""Step 2 (only when a location is missing): create the source and/or destination location."""

from datasync_steps.datasync import datasync_client, translate_errors
from datasync_steps.errors import DataSyncTaskCreationError
from datasync_steps.lookup import choose_location, matching_location_arns, stored_uri
from datasync_steps.observability import MetricUnit, logger, metrics, step_handler
from datasync_steps.state import Target, TargetEvent
from datasync_steps.uris import parse_location_uri
from datasync_steps.workflow_input import WorkflowInput


def create_locations(client, create_client, config: WorkflowInput, target: Target) -> dict:
    """Create each location the target lacks; `create_client` is a `datasync_client(creates=True)`."""
    created = list(target.CreatedLocationArns)
    arns = {}
    for side in ("source", "destination"):
        arn = getattr(target, f"{side.capitalize()}LocationArn")
        if arn is None:
            arn, is_new = find_or_create_location(client, create_client, config, side)
            if is_new:
                created.append(arn)
        arns[side] = arn
    return target.model_copy(
        update={
            "SourceLocationArn": arns["source"],
            "DestinationLocationArn": arns["destination"],
            "CreatedLocationArns": created,
        }
    ).model_dump()


def find_or_create_location(client, create_client, config: WorkflowInput, side: str) -> tuple[str, bool]:
    uri = getattr(config, f"{side}_location_uri")
    # None matched when the run began: one that does now was made by an earlier try of this step whose
    # answer was lost, so it is reported as created by this run.
    existing = choose_location(
        matching_location_arns(client, uri), allow_random=config.allow_random_location_choice, uri=uri
    )
    if existing:
        logger.info("Found the location an earlier try created", extra={"uri": uri, "location_arn": existing})
        return existing, True
    create_call = parse_location_uri(uri).create_call
    with translate_errors(f"create the {side} location {uri} ({create_call})", refused=DataSyncTaskCreationError):
        arn = getattr(create_client, create_call)(**getattr(config, f"create_{side}_location_kwargs"))["LocationArn"]
    metrics.add_metric(name="LocationsCreated", unit=MetricUnit.Count, value=1)
    logger.info("Created a location", extra={"uri": uri, "location_arn": arn})
    stored = stored_uri(client, arn)
    if stored is not None and not parse_location_uri(uri).matches(stored):
        # Left in place it would never be found by its URI again, and every run would create another.
        with translate_errors(f"delete the mismatched location {arn}"):
            client.delete_location(LocationArn=arn)
        raise DataSyncTaskCreationError(
            f"The {side} location created from create_{side}_location_kwargs got the URI {stored}, which does "
            f"not match {side}_location_uri {uri}, so it was deleted again. Make the kwargs name the same host "
            "and path as the URI."
        )
    return arn, True


@step_handler(TargetEvent)
def handler(event: TargetEvent) -> dict:
    return create_locations(datasync_client(), datasync_client(creates=True), event.config, event.target)
