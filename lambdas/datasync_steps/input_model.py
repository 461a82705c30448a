"""The execution input: the Airflow DataSyncOperator's parameters, each field checked as it is parsed."""

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_serializer, field_validator

from datasync_steps.api_shapes import FILLED_IN, KWARGS_OPERATION, check_against_api, operation_name
from datasync_steps.input_secrets import has_credentials
from datasync_steps.limits import (
    DEFAULT_MAX_ITERATIONS,
    DEFAULT_RETRIES,
    EXECUTION_TIMEOUT_SECONDS,
    MAX_ITERATIONS,
    MAX_WAIT_INTERVAL_SECONDS,
)

KWARGS_FIELDS = (
    "create_task_kwargs",
    "create_source_location_kwargs",
    "create_destination_location_kwargs",
    "update_task_kwargs",
    "task_execution_kwargs",
)
TASK_ARN_PATTERN = r"^arn:aws[\w-]*:datasync:[a-z0-9-]+:[0-9]{12}:task/task-[0-9a-f]{17}$"
# Airflow's rule for a task id (airflow.utils.helpers.KEY_REGEX, and at most 250 characters).
AIRFLOW_TASK_ID_PATTERN, AIRFLOW_TASK_ID_LENGTH = r"^[\w.-]+$", 250
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
        default=DEFAULT_MAX_ITERATIONS,
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
        description=(
            "Which account the run's DataSync calls act in: an id of the deployment's `connections` setting makes "
            "them with its role's credentials (STS AssumeRole, in that role's account); `aws_default`, or none, is the "
            "deployment's own account; any other id is `DataSyncInvalidInputError` naming `aws_conn_id` and the ids "
            "known (offline, `validate` cannot know the settings and lets it through)."
        ),
    )
    region_name: str | None = Field(
        default=None,
        description=(
            "Which region the run's DataSync calls act in: the stack's own (the default) or one of its `regions` "
            "setting; any other is `DataSyncInvalidInputError` naming `region_name` and the regions allowed (offline, "
            "`validate` cannot know the region and lets it through). Another region's (or account's) DataSync events "
            "do not reach the stack: the run notices the end by a status check (the output's `EndNoticedBy`)."
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
        default=DEFAULT_RETRIES,
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
            # Only an input with a schedule needs the scheduler's expressions: not every step's cold start.
            from datasync_steps.timetable import parse_schedule

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
            # Only an input that names its locations by URI needs their rules: not every step's cold start.
            from datasync_steps.uris import MAX_URI_LENGTH, parse_location_uri

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
        operation, filled_in = KWARGS_OPERATION[info.field_name]
        given = filled_in & kwargs.keys()
        if given:
            raise ValueError(f"must not set {', '.join(sorted(given))}: the workflow sets it")
        if info.field_name != "create_task_kwargs" or kwargs:
            check_against_api(operation, {**dict.fromkeys(filled_in, FILLED_IN), **kwargs})
        return kwargs

    @field_validator("create_source_location_kwargs", "create_destination_location_kwargs")
    @classmethod
    def valid_for_uri_scheme(cls, kwargs: dict[str, Any], info) -> dict[str, Any]:
        uri = info.data.get(info.field_name.removeprefix("create_").replace("_kwargs", "_uri"))
        if uri and kwargs:
            from datasync_steps.uris import parse_location_uri

            operation = operation_name(parse_location_uri(uri).create_call)
            try:
                check_against_api(operation, kwargs)
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


def aware(text: str) -> datetime:
    """An ISO 8601 date and time; one without a time zone is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not an ISO 8601 date and time, like 2026-11-28T02:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class StartedInput(BaseModel):
    """A workflow execution's input as its caller gave it, and when and as what it started: its logical date and
    run_id, unless the input says otherwise."""

    raw: Any
    started_at: datetime
    run_id: str
