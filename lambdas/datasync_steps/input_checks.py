"""Every problem of an execution input, one sentence each: what its model refuses, and what only the input as a
whole, the deployment or Step Functions' limits can say."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from datasync_steps.api_shapes import datasync_model, off_enum, operation_of, secret_members
from datasync_steps.deployment import Deployment
from datasync_steps.errors import closest, shown
from datasync_steps.input_model import (
    DATE_FIELDS,
    KWARGS_FIELDS,
    TEMPLATED_FIELDS,
    StartedInput,
    WorkflowInput,
    aware,
)
from datasync_steps.input_secrets import has_credentials, plaintext_secret, secrets_in
from datasync_steps.input_templates import RunDates, rendered_input
from datasync_steps.limits import (
    EVENTS_PER_CHECK,
    EXECUTION_TIMEOUT_SECONDS,
    HISTORY_LIMIT,
    MAX_INPUT_BYTES,
    MAX_ITERATIONS,
    MAX_TAGS,
    RESERVED_EVENTS,
    SETUP_SECONDS,
    input_bytes,
    longest_retry_delay,
    seconds_between_checks,
)
from datasync_steps.names import STARTED_BY_KEY

SHOWN_UNKNOWN_KEYS = 20  # named in a message; the rest counted
# The option values Enhanced mode does not support, as the DataSync API model's Options documentation says
# (botocore 1.44.5: VerifyMode POINT_IN_TIME_CONSISTENT "isn't currently supported with Enhanced mode tasks"; "Enhanced
# mode tasks don't support Mtime set to NONE"). DataSync itself would refuse them only when the execution runs.
ENHANCED_UNSUPPORTED = {"VerifyMode": "POINT_IN_TIME_CONSISTENT", "Mtime": "NONE"}
# Where the input sets a task's options: the task's own, and an execution's overrides.
OPTIONS_IN_INPUT = (
    ("create_task_kwargs", "Options"),
    ("update_task_kwargs", "Options"),
    ("task_execution_kwargs", "OverrideOptions"),
)
# The kwargs that can give a task DataSync's own Schedule.
SCHEDULE_FIELDS = ("create_task_kwargs", "update_task_kwargs")
URI_FIELDS = ("source_location_uri", "destination_location_uri")
# What a run never reads when its input names the task: the keys that find or create one.
FINDING_KEYS = (
    "source_location_uri",
    "destination_location_uri",
    "create_task_kwargs",
    "create_source_location_kwargs",
    "create_destination_location_kwargs",
    "allow_random_task_choice",
    "allow_random_location_choice",
)


def tag_problems(kwargs: dict[str, Any], where: str, deployment: Deployment) -> Iterator[str]:
    """The `Tags` of a create or start call must leave room for the tags the workflow sets (the clean-up's too, which
    it may add to an execution later), and not set them."""
    tags = kwargs.get("Tags")
    if not isinstance(tags, list):
        return
    reserved = deployment.reserved_tag_keys
    room = MAX_TAGS - len(reserved)
    keys = {tag.get("Key") for tag in tags if isinstance(tag, dict)}
    if len(tags) > room or keys & set(reserved):
        yield (
            f"{where}.Tags: at most {room}, none with the key {' or '.join(reserved)}: the workflow sets those "
            "on what it creates and starts"
        )


def run_dates(raw: dict, started_at: datetime, run_id: str) -> RunDates:
    """The run's logical date and data interval, as Airflow's timetables give them: logical_date when given; else,
    for a schedule that passed the time it fired (data_interval_end), the time it fired before that (the interval
    that just ended starts there); else the execution's start. ValueError for dates that are not ISO 8601."""
    given = {name: aware(raw[name]) for name in DATE_FIELDS if isinstance(raw.get(name), str)}
    schedule = raw.get("schedule") if isinstance(raw.get("schedule"), str) else None
    if schedule:  # only then the scheduler's expressions: not every step's cold start
        from datasync_steps.timetable import next_fire, previous_fire

    logical_date = given.get("logical_date")
    if logical_date is None:
        end = given.get("data_interval_end")
        logical_date = previous_fire(schedule, end) if schedule and end else started_at
    end = given.get("data_interval_end") or (next_fire(schedule, logical_date) if schedule else logical_date)
    return RunDates(logical_date, given.get("data_interval_start", logical_date), end, run_id)


def enhanced_mode_problems(config: "WorkflowInput", task_mode: str | None = None) -> list[str]:
    """The options the input sets that Enhanced mode does not support, when the task is Enhanced: `task_mode` (a
    found task's) or, for a task to create, create_task_kwargs' TaskMode."""
    mode = task_mode or config.create_task_kwargs.get("TaskMode")
    if mode != "ENHANCED":
        return []
    problems = []
    for field, member in OPTIONS_IN_INPUT:
        options = getattr(config, field).get(member) or {}
        for option, unsupported in ENHANCED_UNSUPPORTED.items():
            if options.get(option) == unsupported:
                problems.append(
                    f"{field}.{member}.{option}: {unsupported} is not supported by Enhanced mode tasks (DataSync's API "
                    "reference, Options), and the task is ENHANCED"
                )
    return problems


def roles_in(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(where, role ARN) for every `...RoleArn` member inside kwargs: S3Config.BucketAccessRoleArn,
    FileSystemAccessRoleArn, a task report's or manifest's role, CustomSecretConfig.SecretAccessRoleArn, ..."""
    if isinstance(value, dict):
        for key, member in value.items():
            if key.endswith("RoleArn") and isinstance(member, str):
                yield f"{where}.{key}", member
            else:
                yield from roles_in(member, f"{where}.{key}")
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from roles_in(member, f"{where}[{index}]")


def unused_keys(raw: dict) -> list[str]:
    """The keys of `raw` that no run of it reads: with task_arn, those that find or create a task (as Airflow's
    operator ignores them)."""
    return [key for key in FINDING_KEYS if key in raw] if raw.get("task_arn") else []


def input_problems(raw: Any, deployment: Deployment | None = None, started: StartedInput | None = None) -> list[str]:
    """Every problem `parse_workflow_input` would refuse the input for, one sentence each."""
    if not isinstance(raw, dict):
        return [f"the execution input must be a JSON object, not {json_type(raw)}"]
    return checked(raw, deployment or Deployment(), started)[1]


def checked(
    raw: dict, deployment: Deployment, started: StartedInput | None = None
) -> tuple[WorkflowInput | None, list[str]]:
    size = input_bytes(raw)
    if size > MAX_INPUT_BYTES:
        # Nothing else is looked at: the message would only echo more of it.
        return None, [
            f"the execution input is {size:,} bytes of JSON; Step Functions takes at most {MAX_INPUT_BYTES:,} (256 KiB)"
        ]
    # Step Functions' own key, set by a parent state machine to link the two executions.
    raw = {key: value for key, value in raw.items() if key != STARTED_BY_KEY}
    problems = []
    started = started or StartedInput(raw=raw, started_at=datetime.now(UTC), run_id="manual")
    dates_problem = None
    try:
        dates = run_dates(raw, started.started_at, started.run_id)
    except (ValueError, OverflowError) as error:
        # The date keys' own checks below say what is wrong with one of them; this, what is wrong with them together.
        dates, dates_problem = None, f"the run's dates: {error}"
    rendered: dict[str, str] = {}
    if dates is not None:
        # A URI with credentials is refused by its own check, which never quotes it: its templates are never rendered.
        templated = tuple(
            field
            for field in TEMPLATED_FIELDS
            if not (field in URI_FIELDS and isinstance(raw.get(field), str) and has_credentials(raw[field]))
        )
        raw, rendered, template_problems = rendered_input(raw, dates, templated, secret_members())
        problems += template_problems
    if not raw.get("task_arn") and not (raw.get("source_location_uri") and raw.get("destination_location_uri")):
        problems.append("give task_arn, or both source_location_uri and destination_location_uri")
    if raw.get("delete_task_after_execution") is True and raw.get("wait_for_completion") is False:
        problems.append("delete_task_after_execution needs wait_for_completion: a running task cannot be deleted")
    if not deployment.allow_secrets_in_input:
        for field in KWARGS_FIELDS:
            if isinstance(raw.get(field), dict):
                problems += [plaintext_secret(where) for where in secrets_in(raw[field], field)]
    problems += enum_problems(raw)
    if not deployment.allow_task_schedule:
        problems += [
            f"{field}.Schedule: DataSync's own schedule would keep starting the task after this run, outside the "
            "workflow (no retries, no clean-up, no event); schedule the workflow instead, or set the deployment's "
            "allow_task_schedule"
            for field in SCHEDULE_FIELDS
            if isinstance(raw.get(field), dict) and "Schedule" in raw[field]
        ]
    try:
        workflow_input = WorkflowInput.model_validate(raw)
    except ValidationError as invalid:
        unknown, others = _described(invalid.errors())
        # A misspelt key first: the problems that follow from it (a key missing, say) are its consequences.
        return None, unknown + problems + others
    if dates_problem:
        problems.append(dates_problem)
    workflow_input._rendered = rendered
    for field in KWARGS_FIELDS:
        kwargs = getattr(workflow_input, field)
        if field != "update_task_kwargs":
            problems += tag_problems(kwargs, field, deployment)
        for where, role in roles_in(kwargs, field):
            if deployment.passable_role_arns is not None and role not in deployment.passable_role_arns:
                problems.append(
                    f"{where}: this deployment may not pass the role {shown(role)} to DataSync; add it to the "
                    "stack's passable_role_arns setting"
                )
    problems += place_problems(workflow_input, deployment)
    return workflow_input, problems + _limit_problems(workflow_input) + enhanced_mode_problems(workflow_input)


def place_problems(workflow_input: WorkflowInput, deployment: Deployment) -> list[str]:
    """A region_name or aws_conn_id that the deployment does not list. Only where the deployment is known (its
    region): offline, `validate` cannot know its settings and lets both through."""
    from datasync_steps.deployment import DEFAULT_CONNECTION
    from datasync_steps.places import connection_problem, region_problem

    if not deployment.region:
        return []
    problems = []
    region_name, conn_id = workflow_input.region_name, workflow_input.aws_conn_id
    if region_name is not None and region_name not in deployment.allowed_regions:
        problems.append(region_problem(deployment, region_name))
    if conn_id is not None and conn_id != DEFAULT_CONNECTION and conn_id not in deployment.connections:
        problems.append(connection_problem(deployment, conn_id))
    return problems


def _limit_problems(config: WorkflowInput) -> list[str]:
    """Whether every try the input allows fits in one Step Functions execution: its history and its year."""
    problems = []
    events_per_try = config.max_iterations * EVENTS_PER_CHECK + RESERVED_EVENTS
    if config.tries * events_per_try > HISTORY_LIMIT:
        problems.append(
            f"retries: at most {HISTORY_LIMIT // events_per_try - 1:,} with max_iterations={config.max_iterations:,}: "
            f"each try may make max_iterations status checks ({EVENTS_PER_CHECK} events each) and keeps "
            f"{RESERVED_EVENTS:,} events for its other steps, and every try must fit in one execution's "
            f"{HISTORY_LIMIT:,}-event history"
        )
        return problems
    longest_wait = config.max_iterations * seconds_between_checks(config.wait_interval_seconds)
    if config.wait_for_completion and longest_wait > EXECUTION_TIMEOUT_SECONDS - SETUP_SECONDS:
        problems.append(
            f"max_iterations times twice wait_interval_seconds: the checks could wait {longest_wait:,} s, longer "
            f"than a Step Functions execution can run (a year, {EXECUTION_TIMEOUT_SECONDS:,} s, less "
            f"{SETUP_SECONDS:,} s to set up)"
        )
        return problems
    try_seconds = SETUP_SECONDS + (
        min(longest_wait, config.execution_timeout or longest_wait) if config.wait_for_completion else 0
    )
    run_seconds = config.tries * try_seconds + sum(longest_retry_delay(config, n) for n in range(1, config.tries))
    if config.retries and run_seconds > EXECUTION_TIMEOUT_SECONDS:
        problems.append(
            f"retries: {config.retries:,} tries after the first, each of up to {try_seconds:,.0f} s (its checks and "
            f"{SETUP_SECONDS:,} s to set up) and the delays between them, could take {run_seconds:,.0f} s, longer "
            f"than a Step Functions execution can run (a year, {EXECUTION_TIMEOUT_SECONDS:,} s)"
        )
    return problems


def json_type(value: Any) -> str:
    names = {
        type(None): "null",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
    }
    return names.get(type(value), type(value).__name__)


def _described(errors: list[ErrorDetails]) -> tuple[list[str], list[str]]:
    """The unknown keys in one sentence (each with the key it is closest to, and the keys there are listed once when
    one of them is close to none), if any; and one sentence per other bad field."""
    unknown = [error["loc"][-1] for error in errors if error["type"] == "extra_forbidden"]
    problems = [_describe(error) for error in errors if error["type"] != "extra_forbidden"]
    if not unknown:
        return [], problems
    more = f" and {len(unknown) - SHOWN_UNKNOWN_KEYS:,} more" if len(unknown) > SHOWN_UNKNOWN_KEYS else ""
    keys = list(WorkflowInput.model_fields)
    guesses = [(key, closest(str(key), keys)) for key in unknown[:SHOWN_UNKNOWN_KEYS]]
    named = ", ".join(shown(key, 60) + (f" (did you mean {guess}?)" if guess else "") for key, guess in guesses)
    listed = f" (the keys are {', '.join(keys)})" if more or not all(guess for _, guess in guesses) else ""
    return [f"unknown key{'s' if len(unknown) > 1 else ''} {named}{more}{listed}"], problems


def _describe(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if field == "max_iterations" and error["type"] == "less_than_equal":
        message = (
            f"at most {MAX_ITERATIONS:,}: more status checks could fill Step Functions' {HISTORY_LIMIT:,}-event "
            f"execution history ({EVENTS_PER_CHECK} events each, {RESERVED_EVENTS:,} kept for the rest of the run)"
        )
    if error["type"] == "string_pattern_mismatch":
        message = "must be a DataSync task ARN (arn:aws:datasync:REGION:ACCOUNT:task/task-...)"
    if error["type"] == "value_error" or "input" not in error:
        return f"{field}: {message}"
    return f"{field}: {message} (got {shown(error['input'])})"


def enum_problems(raw: dict) -> list[str]:
    """Every string of the kwargs where DataSync's API model allows only some values (its enums: an option's mode, a
    filter's FilterType, a report's level, a location's protocol version, ...) that is not one of them, naming where
    it is and the values there are. botocore sends any string; DataSync refuses the call. A value still a template (it
    could not be rendered, which is a problem of its own) is left to be checked once rendered."""
    problems = []
    for field in KWARGS_FIELDS:
        kwargs = raw.get(field)
        operation = operation_of(field, raw) if isinstance(kwargs, dict) and kwargs else None
        if operation is None:
            continue
        input_shape = datasync_model().operation_model(operation).input_shape
        for where, value, allowed in off_enum(kwargs, input_shape, field):
            guess = closest(value, allowed)
            problems.append(
                f"{where}: {shown(value)} is not one of the values DataSync takes there ({', '.join(allowed)})"
                + (f"; did you mean {guess}?" if guess else "")
            )
    return problems
