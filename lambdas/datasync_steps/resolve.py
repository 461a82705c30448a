"""Step 1: validate the input and find the task to run, or say what has to be created first."""

import time
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, field_serializer

from datasync_steps.datasync import states_client
from datasync_steps.deployment import Deployment, ScopeTag
from datasync_steps.errors import (
    DataSyncInvalidInputError,
    DataSyncLocationNotFoundError,
    DataSyncTaskNotFoundError,
    DataSyncTransientError,
    shortened,
)
from datasync_steps.input_checks import enhanced_mode_problems
from datasync_steps.input_model import KWARGS_FIELDS, SIDES, StartedInput, WorkflowInput
from datasync_steps.input_parsing import parse_workflow_input, read_input
from datasync_steps.limits import seconds_between_checks
from datasync_steps.lookup import (
    choose_location,
    choose_task,
    location_created_at,
    matching_location_arns,
    tasks_linking,
    without_racers,
)
from datasync_steps.names import CREATE_LOCATIONS, CREATE_TASK, RUN
from datasync_steps.observability import MetricUnit, StepEvent, logger, metrics, step_handler
from datasync_steps.places import client_at_input_place
from datasync_steps.resources import describe_task
from datasync_steps.state import Check, Checked, Plan, Target
from datasync_steps.task_users import TaskUsers, task_exists, use_seconds, use_task

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_datasync.type_defs import DescribeTaskResponseTypeDef

    from datasync_steps.places import ClientOfInput


# The output shows at most this many rendered values (the input may hold thousands of templates).
MAX_RENDERED_SHOWN = 50
# Looks for the task again after it was deleted under the look-up by another run: a URI input then finds none (and
# creates one) or another; a task_arn input is not found.
LOOKUPS = 3


class Resolved(BaseModel):
    """$ after resolve: which try this is, the checked input, the plan, the target, and no status check made yet."""

    attempt: int
    rendered: dict[str, str]  # the templated values, as rendered (the first few, long ones cut)
    drift: dict[str, dict] = {}  # where a found task differs from create_task_kwargs
    config: WorkflowInput
    plan: Plan
    target: Target
    execution: Checked

    @field_serializer("config")
    def _without_kwargs(self, config: WorkflowInput) -> dict[str, Any]:
        # The steps that use the kwargs read them from the execution's input: in the state they would travel
        # through every state (a secret among them too), and could make it outgrow Step Functions' 256 KiB.
        return config.model_dump(mode="json", exclude=set(KWARGS_FIELDS))


class ResolveEvent(StepEvent):
    """The execution and which try of it this is: resolve reads the input itself (`read_input`)."""

    attempt: int = 1


def resolve(
    client: "DataSyncClient | ClientOfInput",
    raw_input: Any,
    deployment: Deployment | None = None,
    attempt: int = 1,
    started: StartedInput | None = None,
    users: TaskUsers | None = None,
) -> Resolved:
    """The checked input and the plan; a task found is registered in `users` (the runs that use each task) first.
    `client` is a DataSync client, or what makes the one of the input's place (its region_name and aws_conn_id)."""
    deployment = deployment or Deployment()
    config = parse_workflow_input(raw_input, deployment, started)
    if callable(client):
        client = client(config)
    rendered = shortened(dict(list(config.rendered.items())[:MAX_RENDERED_SHOWN]))
    if rendered:
        logger.info("Rendered the templated fields", extra={"rendered": rendered})
    logger.append_keys(task_id=config.task_id)  # None (not given) removes a warm function's last one
    if (config.aws_conn_id or config.region_name) and attempt == 1:
        role = deployment.connections.get(config.aws_conn_id or "")
        logger.info(
            "The run's DataSync calls go to its region_name, with its aws_conn_id's role",
            extra={
                "aws_conn_id": config.aws_conn_id,
                "region_name": config.region_name or deployment.region,
                "role_arn": role or "the step's own",
            },
        )
    route, target, task = used_task(client, config, deployment, users)
    drift = task_drift(config.create_task_kwargs, task) if task is not None else {}
    if task is not None:
        problems = enhanced_mode_problems(config, task.get("TaskMode"))
        if problems:
            raise DataSyncInvalidInputError(f"Invalid workflow input: {'; '.join(problems)}.")
    if drift:
        logger.warning("The task differs from create_task_kwargs; it runs as it is", extra={"task_drift": drift})
    logger.info("Resolved the task", extra={"route": route, "target": target.model_dump(), "attempt": attempt})
    plan = Plan(
        route=route,
        update_task=bool(config.update_task_kwargs),
        wait_seconds=seconds_between_checks(config.wait_interval_seconds),
        deadline=time.time() + config.execution_timeout if config.execution_timeout else None,
    )
    return Resolved(
        attempt=attempt,
        rendered=rendered,
        drift=shortened(drift),
        config=config,
        plan=plan,
        target=target,
        execution=Checked(check=Check(checks_done=0, wait_seconds=plan.wait_seconds)),
    )


def used_task(
    client: "DataSyncClient", config: WorkflowInput, deployment: Deployment, users: TaskUsers | None = None
) -> tuple[str, Target, "DescribeTaskResponseTypeDef | None"]:
    """Where the run goes, its target and the task's description: the task found is one this run is registered on in
    `users`, so that no other run deletes it under this one."""
    for _ in range(LOOKUPS):
        task: DescribeTaskResponseTypeDef | None
        if config.task_arn:
            route, (target, task) = RUN, known_task(client, config.task_arn)
        else:
            route, target, task = find_task(client, config, deployment.scope_tag)
        task_arn = target.TaskArn
        if users is None or task_arn is None:
            return route, target, task
        if use_task(users, task_arn, use_seconds(config), partial(task_exists, client, task_arn)):
            return route, target, task
    raise DataSyncTransientError(f"The task found was deleted by another run {LOOKUPS} times over; will retry.")


def task_drift(create_task_kwargs: dict[str, Any], task: "DescribeTaskResponseTypeDef") -> dict[str, dict]:
    """Where the task found differs from what create_task_kwargs would have made (its TaskMode, and each option
    they set): {setting: {"asked": ..., "task": ...}}. The run uses the task as it is; update_task_kwargs changes it."""
    if not create_task_kwargs:
        return {}
    asked: dict[str, Any] = {"TaskMode": create_task_kwargs.get("TaskMode", "BASIC")}
    asked |= {f"Options.{key}": value for key, value in (create_task_kwargs.get("Options") or {}).items()}
    found: dict[str, Any] = {"TaskMode": task.get("TaskMode", "BASIC")}
    found |= {f"Options.{key}": value for key, value in (task.get("Options") or {}).items()}
    return {key: {"asked": value, "task": found.get(key)} for key, value in asked.items() if found.get(key) != value}


def known_task(
    client: "DataSyncClient", task_arn: str, described: "DescribeTaskResponseTypeDef | None" = None
) -> tuple[Target, "DescribeTaskResponseTypeDef"]:
    """The task and its locations, and its description (from the caller, when it has one)."""
    task = described or describe_task(client, task_arn)
    target = Target(
        TaskArn=task_arn,
        SourceLocationArn=task.get("SourceLocationArn"),
        DestinationLocationArn=task.get("DestinationLocationArn"),
    )
    return target, task


def find_task(
    client: "DataSyncClient", config: WorkflowInput, scope: ScopeTag | None = None
) -> tuple[str, Target, "DescribeTaskResponseTypeDef | None"]:
    """The task linking the input's URIs and its description, or what must be created; with a `scope`, only
    resources in it count."""
    source_uri, destination_uri = config.location_uri("source"), config.location_uri("destination")
    source_arns = matching_location_arns(client, source_uri, scope)
    destination_arns = matching_location_arns(client, destination_uri, scope)
    tasks = tasks_linking(client, source_arns, destination_arns, scope) if source_arns and destination_arns else {}
    if tasks:
        task_arn = choose_task(
            without_racers(client, list(tasks), lambda arn: tasks[arn]["CreationTime"]),
            allow_random=config.allow_random_task_choice,
            source_uri=source_uri,
            destination_uri=destination_uri,
        )
        return RUN, *known_task(client, task_arn, tasks[task_arn])
    within = f" in this deployment's scope (tagged {scope})" if scope else ""
    if not config.create_task_kwargs:
        raise DataSyncTaskNotFoundError(
            f"No DataSync task{within} links {source_uri} to {destination_uri}, and create_task_kwargs is empty, "
            "so none was created."
        )
    source_arns = without_racers(client, source_arns, location_created_at(client, source_uri))
    destination_arns = without_racers(client, destination_arns, location_created_at(client, destination_uri))
    target = Target(
        SourceLocationArn=choose_location(
            source_arns, allow_random=config.allow_random_location_choice, uri=source_uri
        ),
        DestinationLocationArn=choose_location(
            destination_arns, allow_random=config.allow_random_location_choice, uri=destination_uri
        ),
    )
    missing = [side for side in SIDES if target.location_arn(side) is None]
    cannot_create = [side for side in missing if not config.create_location_kwargs(side)]
    if cannot_create:
        raise DataSyncLocationNotFoundError(
            " ".join(
                f"No DataSync location{within} matches {side}_location_uri {config.location_uri(side)}, "
                f"and create_{side}_location_kwargs is empty, so none was created."
                for side in cannot_create
            )
        )
    return (CREATE_LOCATIONS if missing else CREATE_TASK), target, None


@step_handler(ResolveEvent, Resolved)
def handler(event: ResolveEvent) -> Resolved:
    metrics.add_metric(name="WorkflowRuns", unit=MetricUnit.Count, value=1)
    started = read_input(states_client(), event.execution_id)
    deployment = Deployment.from_environment().in_region_of(event.execution_id)
    users = TaskUsers.of(event.execution_id, states_client(), "resolve")
    client = client_at_input_place(deployment, event.execution_id)
    return resolve(client, started.raw, deployment, event.attempt, started, users)
