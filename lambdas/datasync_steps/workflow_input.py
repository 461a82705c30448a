"""The execution input: the Airflow DataSyncOperator's parameters, checked before anything touches AWS."""

import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import botocore.session
from botocore.model import Shape
from botocore.validate import ParamValidator, ValidationErrors
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_serializer, field_validator
from pydantic_core import ErrorDetails

from datasync_steps.datasync import states_client, translate_errors
from datasync_steps.deployment import Deployment
from datasync_steps.errors import DataSyncInvalidInputError, shown
from datasync_steps.templates import RunDates, is_template, rendered_input
from datasync_steps.timetable import next_fire, parse_schedule, previous_fire
from datasync_steps.uris import MAX_URI_LENGTH, has_credentials, parse_location_uri

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_stepfunctions import SFNClient

# Step Functions' limit on an execution's input: 256 KiB as UTF-8 JSON.
MAX_INPUT_BYTES = 262_144
MAX_WAIT_INTERVAL_SECONDS = 86_400
MAX_TAGS = 50  # DataSync's limit per resource
# A Standard execution fails when its history reaches 25,000 events. A status check is one round of the wait
# loop: the wait for DataSync's event timing out (6 events), the check (5) and the route onwards (2).
HISTORY_LIMIT, EVENTS_PER_CHECK = 25_000, 13
# Everything of a try outside the loop: its longest path takes about 80 events, every retry its steps allow about 200,
# and planning the next try about 10.
RESERVED_EVENTS = 1_000
MAX_ITERATIONS = (HISTORY_LIMIT - RESERVED_EVENTS) // EVENTS_PER_CHECK
# Step Functions also ends a Standard execution after a year; finding, creating and starting take at most an hour.
EXECUTION_TIMEOUT_SECONDS, SETUP_SECONDS = 365 * 86_400, 3600
STARTED_BY_KEY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
KWARGS_FIELDS = (
    "create_task_kwargs",
    "create_source_location_kwargs",
    "create_destination_location_kwargs",
    "update_task_kwargs",
    "task_execution_kwargs",
)
SHOWN_UNKNOWN_KEYS = 20  # named in a message; the rest counted
MAX_GUESSED_CHARACTERS = 100  # a longer unknown name is not matched against the known ones
TASK_ARN_PATTERN = r"^arn:aws[\w-]*:datasync:[a-z0-9-]+:[0-9]{12}:task/task-[0-9a-f]{17}$"
# Airflow's rule for a task id (airflow.utils.helpers.KEY_REGEX, and at most 250 characters).
AIRFLOW_TASK_ID_PATTERN, AIRFLOW_TASK_ID_LENGTH = r"^[\w.-]+$", 250
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
# Airflow's templated fields of the operator (its template_fields).
TEMPLATED_FIELDS = ("task_arn", "source_location_uri", "destination_location_uri", *KWARGS_FIELDS)
DATE_FIELDS = ("logical_date", "data_interval_start", "data_interval_end")
# BaseOperator's arguments in Airflow's JSON form: durations in seconds.
BASE_OPERATOR_FIELDS = (
    "task_id",
    "aws_conn_id",
    "region_name",
    "execution_timeout",
    "retries",
    "retry_delay",
    "retry_exponential_backoff",
    "max_retry_delay",
)

# Each kwargs field is checked against the DataSync API's own input shape; the workflow fills in the
# members listed here, so the user must not.
_KWARGS_OPERATION = {
    "create_task_kwargs": ("CreateTask", {"SourceLocationArn", "DestinationLocationArn"}),
    "update_task_kwargs": ("UpdateTask", {"TaskArn"}),
    "task_execution_kwargs": ("StartTaskExecution", {"TaskArn"}),
}
_FILLED_IN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
# The kwargs that can give a task DataSync's own Schedule.
SCHEDULE_FIELDS = ("create_task_kwargs", "update_task_kwargs")
URI_FIELDS = ("source_location_uri", "destination_location_uri")


Side = Literal["source", "destination"]
SIDES: tuple[Side, Side] = ("source", "destination")


class WorkflowInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    task_arn: str | None = Field(
        default=None,
        pattern=TASK_ARN_PATTERN,
        description="A DataSync task ARN. Run exactly this task. Skips search and creation.",
    )
    source_location_uri: str | None = Field(
        default=None,
        description=(
            "With `destination_location_uri`, find the task whose source and destination locations have these URIs."
        ),
    )
    destination_location_uri: str | None = Field(default=None, description="See `source_location_uri`.")
    create_task_kwargs: dict[str, Any] = Field(
        default={},
        description=(
            "When no task matches, create one with `CreateTask(SourceLocationArn, DestinationLocationArn, "
            "**create_task_kwargs)`. Empty: nothing is ever created."
        ),
    )
    create_source_location_kwargs: dict[str, Any] = Field(
        default={},
        description=(
            "When no location matches the source URI, create it with the `CreateLocation*` call that the URI's scheme "
            "names."
        ),
    )
    create_destination_location_kwargs: dict[str, Any] = Field(
        default={}, description="As `create_source_location_kwargs`, for the destination."
    )
    update_task_kwargs: dict[str, Any] = Field(
        default={}, description="When not empty, `UpdateTask(TaskArn, **update_task_kwargs)` before the run."
    )
    task_execution_kwargs: dict[str, Any] = Field(
        default={},
        description=(
            "Passed to `StartTaskExecution` (OverrideOptions, Includes, Excludes, ManifestConfig, TaskReportConfig, "
            "Tags)."
        ),
    )
    delete_task_after_execution: bool = Field(
        default=False,
        description=(
            "Delete the task after a successful run. Never after a failed one. Locations are never deleted. Needs "
            "`wait_for_completion`."
        ),
    )
    allow_random_task_choice: bool = Field(
        default=False, description="Several tasks match: pick one instead of failing."
    )
    allow_random_location_choice: bool = Field(
        default=False,
        description="Several locations match a URI while a task is being created: pick one instead of failing.",
    )
    wait_for_completion: bool = Field(
        default=True, description="`false`: start the execution and succeed at once with its ARN."
    )
    wait_interval_seconds: int = Field(
        default=30,
        ge=0,
        le=MAX_WAIT_INTERVAL_SECONDS,
        description=(
            "Paces the status checks while waiting, as Airflow's hook does: it sleeps this long twice between two "
            "checks, so two checks are at most 2 x `wait_interval_seconds` apart. The end of the execution is noticed "
            "when DataSync announces it (its state-change event), not at the next check; the checks are the safety "
            "net. `0` waits at most 1 s."
        ),
    )
    max_iterations: int = Field(
        default=60,
        ge=1,
        le=MAX_ITERATIONS,
        description=(
            "Status checks before the run is given up: the DataSync execution is then cancelled and the workflow fails."
        ),
    )
    if_task_running: Literal["queue", "join", "skip", "fail"] = Field(
        default="queue",
        description=(
            "What to do when the task already has an unfinished execution (any status but `SUCCESS`, `ERROR`), say "
            "from an earlier schedule. `queue`: wait for it to end (the waiting counts against `max_iterations`), then "
            "start this run's own and follow it. `join`: start nothing, follow the unfinished one as if this run had "
            "started it (waiting, describing, deleting as asked; it is cancelled if the run gives up or is stopped). "
            "`skip`: start nothing and succeed at once, naming it. `fail`: `DataSyncTaskAlreadyRunningError`, nothing "
            "started."
        ),
    )
    task_id: str | None = Field(
        default=None,
        pattern=AIRFLOW_TASK_ID_PATTERN,
        max_length=AIRFLOW_TASK_ID_LENGTH,
        description=(
            "Airflow's task id (letters, digits, `_`, `.`, `-`). A label: in every log line of resolve, each progress "
            "line of `datasync-workflow run`, and the output."
        ),
    )
    aws_conn_id: str | None = Field(
        default=None,
        description="Accepted and not used: the functions' roles are the connection (resolve says so once in its log).",
    )
    region_name: str | None = Field(
        default=None,
        description=(
            "Must be the region the stack runs in; any other is `DataSyncInvalidInputError` naming both (offline, "
            "`validate` cannot know the region and lets it through)."
        ),
    )
    execution_timeout: float | None = Field(
        default=None,
        gt=0,
        le=EXECUTION_TIMEOUT_SECONDS,
        description=(
            "Seconds. Each try gives up after this long: the waits for DataSync's event end by then, the execution is "
            "cancelled and the try fails with `DataSyncExecutionTimeoutError` (checked while waiting; finding, "
            "creating and starting take seconds)."
        ),
    )
    retries: int = Field(
        default=0,
        ge=0,
        description=(
            "A failed try (any error but `DataSyncInvalidInputError`, a timeout too) runs again from finding the task, "
            "a new DataSync execution each time."
        ),
    )
    retry_delay: float = Field(
        default=300,
        ge=0,
        le=EXECUTION_TIMEOUT_SECONDS,
        description="Seconds. Wait before a retry (whole seconds, rounded up).",
    )
    retry_exponential_backoff: bool = Field(
        default=False,
        description=(
            "As Airflow's `TaskInstance.next_retry_datetime`: the *n*-th retry waits between `retry_delay` x 2^(n-1) "
            "and twice that, the part decided by a hash of the run and the try (the same when computed again)."
        ),
    )
    max_retry_delay: float | None = Field(
        default=None,
        gt=0,
        le=EXECUTION_TIMEOUT_SECONDS,
        description=(
            "Seconds. Upper bound of an exponential backoff's delay (as in Airflow, it does not cap a plain "
            "`retry_delay`)."
        ),
    )
    logical_date: str | None = Field(
        default=None, description="ISO 8601 (no zone: UTC). The run's logical date for templated fields."
    )
    data_interval_start: str | None = Field(
        default=None, description="ISO 8601 (no zone: UTC). The run's data interval for templated fields."
    )
    data_interval_end: str | None = Field(
        default=None, description="ISO 8601 (no zone: UTC). The run's data interval for templated fields."
    )
    schedule: str | None = Field(
        default=None,
        description=(
            "An EventBridge Scheduler expression. With `data_interval_end` and no `logical_date`: the logical date is "
            "the time the schedule fired before `data_interval_end` (Airflow's timetables: a run at the end of its "
            "interval has the interval's start as its logical date). A deployed schedule sets both."
        ),
    )
    # Each templated value as rendered, by where it is in the input.
    _rendered: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def rendered(self) -> dict[str, str]:
        return self._rendered

    @field_validator(*DATE_FIELDS)
    @classmethod
    def iso_8601(cls, text: str | None) -> str | None:
        if text is not None:
            aware(text)
        return text

    @field_validator("schedule")
    @classmethod
    def eventbridge_expression(cls, expression: str | None) -> str | None:
        if expression is not None:
            parse_schedule(expression)
        return expression

    @field_serializer("execution_timeout", "retry_delay", "max_retry_delay")
    @classmethod
    def whole_seconds_as_given(cls, seconds: float | None) -> float | int | None:
        # 3, not 3.0, in the state and in a Cause that names it.
        return int(seconds) if seconds is not None and float(seconds).is_integer() else seconds

    @property
    def tries(self) -> int:
        return self.retries + 1

    @field_validator(*KWARGS_FIELDS, mode="before")
    @classmethod
    def null_means_empty(cls, value: Any) -> Any:
        # Airflow's default for every kwargs parameter is None.
        return {} if value is None else value

    @field_validator("source_location_uri", "destination_location_uri")
    @classmethod
    def known_scheme(cls, uri: str | None) -> str | None:
        if uri is not None:
            if len(uri) > MAX_URI_LENGTH:
                raise ValueError(f"{len(uri):,} characters; a DataSync location URI has at most {MAX_URI_LENGTH:,}")
            if has_credentials(uri):
                # Not echoed: what comes before the @ is a user name and password.
                raise ValueError(
                    "holds credentials before the host (user:password@host); DataSync's location URIs never do. "
                    "Give the host and path only, and the credentials through the location kwargs' "
                    "CustomSecretConfig"
                )
            parse_location_uri(uri)
        return uri

    @field_validator("create_task_kwargs", "update_task_kwargs", "task_execution_kwargs")
    @classmethod
    def valid_for_datasync(cls, kwargs: dict[str, Any], info) -> dict[str, Any]:
        operation, filled_in = _KWARGS_OPERATION[info.field_name]
        given = filled_in & kwargs.keys()
        if given:
            raise ValueError(f"must not set {', '.join(sorted(given))}: the workflow sets it")
        if info.field_name != "create_task_kwargs" or kwargs:
            _check_against_api(operation, {**dict.fromkeys(filled_in, _FILLED_IN), **kwargs})
        return kwargs

    @field_validator("create_source_location_kwargs", "create_destination_location_kwargs")
    @classmethod
    def valid_for_uri_scheme(cls, kwargs: dict[str, Any], info) -> dict[str, Any]:
        uri = info.data.get(info.field_name.removeprefix("create_").replace("_kwargs", "_uri"))
        if uri and kwargs:
            operation = _operation_name(parse_location_uri(uri).create_call)
            try:
                _check_against_api(operation, kwargs)
            except ValueError as error:
                raise ValueError(f"{error} (checked as {operation} input)") from None
        return kwargs

    def location_uri(self, side: Side) -> str:
        """The side's URI, which the input has whenever it gives no task_arn."""
        uri = self.source_location_uri if side == "source" else self.destination_location_uri
        if uri is None:
            raise ValueError(f"{side}_location_uri is not given")
        return uri

    def create_location_kwargs(self, side: Side) -> dict[str, Any]:
        return self.create_source_location_kwargs if side == "source" else self.create_destination_location_kwargs


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


def seconds_between_checks(wait_interval_seconds: int) -> int:
    """The longest wait between two status checks: twice the interval, as Airflow's DataSyncHook waits (provider
    9.39.0, hooks/datasync.py, wait_for_task_execution, lines 318-322: it sleeps wait_interval_seconds while the
    status is not final, then again before the next check), so that the same max_iterations give up as late as the
    operator does. At least 1 s: a Task state's timeout can be no shorter."""
    return max(1, 2 * wait_interval_seconds)


def aware(text: str) -> datetime:
    """An ISO 8601 date and time; one without a time zone is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not an ISO 8601 date and time, like 2026-11-28T02:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_dates(raw: dict, started_at: datetime, run_id: str) -> RunDates:
    """The run's logical date and data interval, as Airflow's timetables give them: logical_date when given; else,
    for a schedule that passed the time it fired (data_interval_end), the time it fired before that (the interval
    that just ended starts there); else the execution's start. ValueError for dates that are not ISO 8601."""
    given = {name: aware(raw[name]) for name in DATE_FIELDS if isinstance(raw.get(name), str)}
    schedule = raw.get("schedule") if isinstance(raw.get("schedule"), str) else None
    logical_date = given.get("logical_date")
    if logical_date is None:
        end = given.get("data_interval_end")
        logical_date = previous_fire(schedule, end) if schedule and end else started_at
    end = given.get("data_interval_end") or (next_fire(schedule, logical_date) if schedule else logical_date)
    return RunDates(logical_date, given.get("data_interval_start", logical_date), end, run_id)


def delay_before_retry(config: WorkflowInput, failed_try: int, run: str = "") -> int:
    """Seconds to wait after try `failed_try` (1 is the first) failed, as Airflow's TaskInstance.next_retry_datetime
    computes it: retry_delay; with retry_exponential_backoff, retry_delay * 2 ** (failed_try - 1) plus a part of that
    again that a hash of the run and the try decides (the same every time), capped by max_retry_delay. Whole seconds,
    as a Wait state takes them."""
    delay = config.retry_delay
    if config.retry_exponential_backoff:
        min_backoff = max(1, math.ceil(delay * 2 ** (failed_try - 1)))
        run_hash = int(hashlib.sha1(f"{run}#{config.task_id}#{failed_try}".encode()).hexdigest(), 16)
        delay = min_backoff + run_hash % min_backoff
        if config.max_retry_delay:
            delay = min(config.max_retry_delay, delay)
    return math.ceil(delay)


def longest_retry_delay(config: WorkflowInput, failed_try: int) -> int:
    """The most `delay_before_retry` can give after `failed_try`, whatever the hash."""
    if not config.retry_exponential_backoff:
        return math.ceil(config.retry_delay)
    min_backoff = max(1, math.ceil(config.retry_delay * 2 ** (failed_try - 1)))
    longest = 2 * min_backoff - 1
    return math.ceil(min(config.max_retry_delay, longest) if config.max_retry_delay else longest)


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


def secrets_in(kwargs: dict[str, Any], where: str) -> Iterator[str]:
    """Where the kwargs hold a credential in plain text (a member `secret_members` names)."""
    for path in sorted(secret_members()):
        value: Any = kwargs
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value not in (None, "", b""):
            yield ".".join((where, *path))


class StartedInput(BaseModel):
    """A workflow execution's input as its caller gave it, and when and as what it started: its logical date and
    run_id, unless the input says otherwise."""

    raw: Any
    started_at: datetime
    run_id: str


def read_input(sfn: "SFNClient", execution_arn: str) -> StartedInput:
    """The workflow execution's input. The steps that need the kwargs read them here rather than from the state, so
    that no state and no step's event holds them (nor any secret in them), and the state stays small whatever their
    size."""
    with translate_errors(f"read the input of workflow execution {execution_arn}", service="Step Functions"):
        described = sfn.describe_execution(executionArn=execution_arn)
    return StartedInput(raw=json.loads(described["input"]), started_at=described["startDate"], run_id=described["name"])


def input_of_execution(execution_arn: str, deployment: Deployment) -> WorkflowInput:
    """The checked input of the workflow execution, its templates rendered: what the steps that use the kwargs
    start from."""
    started = read_input(states_client(), execution_arn)
    return parse_workflow_input(started.raw, deployment.in_region_of(execution_arn), started)


def parse_workflow_input(
    raw: Any, deployment: Deployment | None = None, started: StartedInput | None = None
) -> WorkflowInput:
    """The validated input, its templates rendered for the run that `started` (by default: a run starting now), or
    DataSyncInvalidInputError naming every bad field at once, by the rules of `deployment` (by default: no plaintext
    secret, every role may be passed, no scope)."""
    if not isinstance(raw, dict):
        raise DataSyncInvalidInputError(f"The execution input must be a JSON object, not {_json_type(raw)}.")
    workflow_input, problems = _checked(raw, deployment or Deployment(), started)
    if problems or workflow_input is None:
        raise DataSyncInvalidInputError(f"Invalid workflow input: {'; '.join(problems)}.")
    return workflow_input


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


def unused_keys(raw: dict) -> list[str]:
    """The keys of `raw` that no run of it reads: with task_arn, those that find or create a task (as Airflow's
    operator ignores them)."""
    return [key for key in FINDING_KEYS if key in raw] if raw.get("task_arn") else []


def input_problems(raw: Any, deployment: Deployment | None = None, started: StartedInput | None = None) -> list[str]:
    """Every problem `parse_workflow_input` would refuse the input for, one sentence each."""
    if not isinstance(raw, dict):
        return [f"the execution input must be a JSON object, not {_json_type(raw)}"]
    return _checked(raw, deployment or Deployment(), started)[1]


def input_bytes(raw: Any) -> int:
    """The size Step Functions counts of an input: its UTF-8 JSON, without spaces."""
    return len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode())


def _checked(
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
                problems += [_plaintext_secret(where) for where in secrets_in(raw[field], field)]
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
    if deployment.region and workflow_input.region_name is not None and workflow_input.region_name != deployment.region:
        problems.append(
            f"region_name: {shown(workflow_input.region_name)}, but this deployment runs in {deployment.region}; its "
            "steps act in their own region only (deploy the stack in that region too, or leave region_name out)"
        )
    return workflow_input, problems + _limit_problems(workflow_input) + enhanced_mode_problems(workflow_input)


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


def _json_type(value: Any) -> str:
    names = {
        type(None): "null",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
    }
    return names.get(type(value), type(value).__name__)


def _plaintext_secret(where: str) -> str:
    return (
        f"{where}: a plaintext secret in the execution input can be read by anyone who may read the execution. "
        'Keep it in AWS Secrets Manager and give CustomSecretConfig instead ({"SecretArn": ..., '
        '"SecretAccessRoleArn": a role DataSync reads it with}), or create the location beforehand; the '
        "deployment's allow_secrets_in_input setting lets plaintext through"
    )


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


def closest(name: str, known: Iterable[str]) -> str | None:
    """The one of `known` that `name` is most likely a misspelling of (difflib's closest match, ignoring case, `_` and
    `-`: taskArn is task_arn), or None when none is close."""
    if len(name) > MAX_GUESSED_CHARACTERS:  # no name is this long, and difflib's time grows with it
        return None
    import difflib  # only for a misspelling

    by_form = {_form(candidate): candidate for candidate in known}
    matches = difflib.get_close_matches(_form(name), list(by_form), n=1)
    return by_form[matches[0]] if matches else None


def _form(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).lower()


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


@cache
def _datasync_model():
    return botocore.session.get_session().get_service_model("datasync")


def _operation_name(boto3_method: str) -> str:
    return next(name for name in _datasync_model().operation_names if botocore.xform_name(name) == boto3_method)


@cache
def secret_members() -> frozenset[tuple[str, ...]]:
    """The members of DataSync's CreateLocation* and UpdateLocation* inputs that hold a credential: those its API
    model marks sensitive (an SMB password, an object store's secret key, an Azure SAS token), and KerberosKeytab,
    a keytab file, which holds the Kerberos principal's keys although the model does not mark it."""
    model = _datasync_model()
    paths: set[tuple[str, ...]] = {("KerberosKeytab",)}
    for operation in model.operation_names:
        if operation.startswith(("CreateLocation", "UpdateLocation")):
            paths |= set(_sensitive_paths(model.operation_model(operation).input_shape))
    return frozenset(paths)


def _sensitive_paths(shape: Shape, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if shape.serialization.get("sensitive") or shape.metadata.get("sensitive"):
        yield path
    elif shape.type_name == "structure" and len(path) < 4:
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            yield from _sensitive_paths(member, (*path, name))


def _check_against_api(operation: str, params: dict[str, Any]) -> None:
    shape = _datasync_model().operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        # botocore's own report echoes each bad value whole: here each is shortened, and a secret's left out. Its
        # errors as (type, name, details) are a private attribute of the pinned botocore.
        raise ValueError(", ".join(_api_problem(*error) for error in report._errors))


_API_PROBLEMS = {
    "invalid type": "Invalid type for parameter {name}, value: {value}, type: {type}, valid types: {valid_types}",
    "invalid type for document": "Invalid type for document parameter {name}, value: {value}, type: {type}",
    "invalid range": "Invalid value for parameter {name}, value: {value}, valid min value: {min_allowed}",
    "invalid length": "Invalid length for parameter {name}, value: {value}, valid min length: {min_allowed}",
}


def _api_problem(error_type: str, name: str, additional: dict) -> str:
    if error_type == "unknown field":
        unknown, known = additional["unknown_param"], additional["valid_names"]
        guess = closest(str(unknown), known)
        return (
            f'Unknown parameter in {name.removeprefix(".") or "input"}: "{unknown}"'
            + (f' (did you mean "{guess}"?)' if guess else "")
            + f", must be one of: {', '.join(known)}"
        )
    if error_type not in _API_PROBLEMS:  # no value in the sentence: botocore's own
        report = ValidationErrors()
        report.report(name, error_type, **additional)
        return report.generate_report()
    value, name = additional["param"], name.removeprefix(".")
    is_secret = tuple(re.sub(r"\[\d+\]", "", name).split(".")) in secret_members()
    return _API_PROBLEMS[error_type].format(
        name=name or "input",
        value="(a secret: not shown)" if is_secret else shown(value),
        type=type(value).__name__,
        valid_types=", ".join(additional.get("valid_types", ())),
        min_allowed=additional.get("min_allowed"),
    )


def enum_problems(raw: dict) -> list[str]:
    """Every string of the kwargs where DataSync's API model allows only some values (its enums: an option's mode, a
    filter's FilterType, a report's level, a location's protocol version, ...) that is not one of them, naming where
    it is and the values there are. botocore sends any string; DataSync refuses the call. A value still a template (it
    could not be rendered, which is a problem of its own) is left to be checked once rendered."""
    problems = []
    for field in KWARGS_FIELDS:
        kwargs = raw.get(field)
        operation = _operation_of(field, raw) if isinstance(kwargs, dict) and kwargs else None
        if operation is None:
            continue
        input_shape = _datasync_model().operation_model(operation).input_shape
        for where, value, allowed in _off_enum(kwargs, input_shape, field):
            guess = closest(value, allowed)
            problems.append(
                f"{where}: {shown(value)} is not one of the values DataSync takes there ({', '.join(allowed)})"
                + (f"; did you mean {guess}?" if guess else "")
            )
    return problems


def _operation_of(field: str, raw: dict) -> str | None:
    """The DataSync call a kwargs field is given to; for a location's, the one its URI's scheme names (None while the
    URI is not one, which its own check says)."""
    if field in _KWARGS_OPERATION:
        return _KWARGS_OPERATION[field][0]
    uri = raw.get(field.removeprefix("create_").replace("_kwargs", "_uri"))
    try:
        return _operation_name(parse_location_uri(uri).create_call) if isinstance(uri, str) else None
    except ValueError:
        return None


def _off_enum(value: Any, shape: Shape, where: str) -> Iterator[tuple[str, str, list[str]]]:
    """(where, value, the values allowed) for each string in `value` that `shape`'s enums do not allow. Only members
    the shape has are followed (an unknown one is botocore's problem to report), so the depth is the model's."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        for name, member in value.items():
            if name in members:
                yield from _off_enum(member, members[name], f"{where}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _off_enum(item, shape.member, f"{where}[{index}]")  # type: ignore[attr-defined]
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from _off_enum(item, shape.value, f"{where}.{key}")  # type: ignore[attr-defined]
    elif isinstance(value, str) and not is_template(value):
        allowed = getattr(shape, "enum", None)
        if allowed and value not in allowed:
            yield where, value, list(allowed)
