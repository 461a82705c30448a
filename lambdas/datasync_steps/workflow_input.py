"""The execution input: the Airflow DataSyncOperator's parameters, checked before anything touches AWS."""

import json
import os
from collections.abc import Iterator
from functools import cache
from typing import Any, Literal

import botocore.session
from botocore.validate import ParamValidator
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.names import WORKFLOW_TAG
from datasync_steps.uris import parse_location_uri

MAX_WAIT_INTERVAL_SECONDS = 86_400
MAX_TAGS = 50  # DataSync's limit per resource
# A Standard execution fails when its history reaches 25,000 events. A status check is one round of the wait
# loop: the wait for DataSync's event timing out (6 events), the check (5) and the route onwards (2).
HISTORY_LIMIT, EVENTS_PER_CHECK = 25_000, 13
# Everything outside the loop: its longest path takes about 70 events, every retry its steps allow about 200.
RESERVED_EVENTS = 1_000
MAX_ITERATIONS = (HISTORY_LIMIT - RESERVED_EVENTS) // EVENTS_PER_CHECK
# Step Functions also ends a Standard execution after a year; finding, creating and starting take at most an hour.
EXECUTION_TIMEOUT_SECONDS, SETUP_SECONDS = 365 * 86_400, 3600
STARTED_BY_KEY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
PASSABLE_ROLES_VARIABLE = "PASSABLE_ROLE_ARNS"
KWARGS_FIELDS = (
    "create_task_kwargs",
    "create_source_location_kwargs",
    "create_destination_location_kwargs",
    "update_task_kwargs",
    "task_execution_kwargs",
)
TASK_ARN_PATTERN = r"^arn:aws[\w-]*:datasync:[a-z0-9-]+:[0-9]{12}:task/task-[0-9a-f]{17}$"

# Each kwargs field is checked against the DataSync API's own input shape; the workflow fills in the
# members listed here, so the user must not.
_KWARGS_OPERATION = {
    "create_task_kwargs": ("CreateTask", {"SourceLocationArn", "DestinationLocationArn"}),
    "update_task_kwargs": ("UpdateTask", {"TaskArn"}),
    "task_execution_kwargs": ("StartTaskExecution", {"TaskArn"}),
}
_FILLED_IN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


Side = Literal["source", "destination"]
SIDES: tuple[Side, Side] = ("source", "destination")


class WorkflowInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    task_arn: str | None = Field(default=None, pattern=TASK_ARN_PATTERN)
    source_location_uri: str | None = None
    destination_location_uri: str | None = None
    create_task_kwargs: dict[str, Any] = {}
    create_source_location_kwargs: dict[str, Any] = {}
    create_destination_location_kwargs: dict[str, Any] = {}
    update_task_kwargs: dict[str, Any] = {}
    task_execution_kwargs: dict[str, Any] = {}
    delete_task_after_execution: bool = False
    allow_random_task_choice: bool = False
    allow_random_location_choice: bool = False
    wait_for_completion: bool = True
    wait_interval_seconds: int = Field(default=30, ge=0, le=MAX_WAIT_INTERVAL_SECONDS)
    max_iterations: int = Field(default=60, ge=1, le=MAX_ITERATIONS)
    if_task_running: Literal["queue", "join", "skip", "fail"] = "queue"

    @field_validator(*KWARGS_FIELDS, mode="before")
    @classmethod
    def null_means_empty(cls, value: Any) -> Any:
        # Airflow's default for every kwargs parameter is None.
        return {} if value is None else value

    @field_validator("source_location_uri", "destination_location_uri")
    @classmethod
    def known_scheme(cls, uri: str | None) -> str | None:
        if uri is not None:
            parse_location_uri(uri)
        return uri

    @field_validator("create_task_kwargs", "update_task_kwargs", "task_execution_kwargs")
    @classmethod
    def valid_for_datasync(cls, kwargs: dict[str, Any], info) -> dict[str, Any]:
        operation, filled_in = _KWARGS_OPERATION[info.field_name]
        given = filled_in & kwargs.keys()
        if given:
            raise ValueError(f"must not set {', '.join(sorted(given))}: the workflow sets it")
        if info.field_name != "update_task_kwargs":
            _leave_room_for_the_workflow_tag(kwargs)
        if info.field_name != "create_task_kwargs" or kwargs:
            _check_against_api(operation, {**dict.fromkeys(filled_in, _FILLED_IN), **kwargs})
        return kwargs

    @field_validator("create_source_location_kwargs", "create_destination_location_kwargs")
    @classmethod
    def valid_for_uri_scheme(cls, kwargs: dict[str, Any], info) -> dict[str, Any]:
        _leave_room_for_the_workflow_tag(kwargs)
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


def _leave_room_for_the_workflow_tag(kwargs: dict[str, Any]) -> None:
    tags = kwargs.get("Tags")
    if isinstance(tags, list) and (len(tags) >= MAX_TAGS or WORKFLOW_TAG in str(tags)):
        raise ValueError(
            f"Tags: at most {MAX_TAGS - 1}, none with the key {WORKFLOW_TAG}: the workflow adds that tag to what "
            "it creates and starts, naming the workflow execution that did"
        )


def passable_roles_of_the_deployment() -> list[str] | None:
    """The roles this deployment may pass to DataSync (PASSABLE_ROLE_ARNS, a JSON list the stack sets); None,
    every role, where it is not set, as in a local run, which has no IAM."""
    listed = os.environ.get(PASSABLE_ROLES_VARIABLE)
    return None if listed is None else json.loads(listed)


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


def parse_workflow_input(raw: Any, passable_roles: list[str] | None = None) -> WorkflowInput:
    """The validated input, or DataSyncInvalidInputError naming every bad field at once. With `passable_roles`,
    a role in the kwargs that is not among them is a bad field too: DataSync could not be handed it."""
    if not isinstance(raw, dict):
        raise DataSyncInvalidInputError(f"The execution input must be a JSON object, not {_json_type(raw)}.")
    workflow_input, problems = _checked(raw, passable_roles)
    if problems or workflow_input is None:
        raise DataSyncInvalidInputError(f"Invalid workflow input: {'; '.join(problems)}.")
    return workflow_input


def input_problems(raw: Any, passable_roles: list[str] | None = None) -> list[str]:
    """Every problem `parse_workflow_input` would refuse the input for, one sentence each."""
    if not isinstance(raw, dict):
        return [f"the execution input must be a JSON object, not {_json_type(raw)}"]
    return _checked(raw, passable_roles)[1]


def _checked(raw: dict, passable_roles: list[str] | None) -> tuple[WorkflowInput | None, list[str]]:
    # Step Functions' own key, set by a parent state machine to link the two executions.
    raw = {key: value for key, value in raw.items() if key != STARTED_BY_KEY}
    problems = []
    if not raw.get("task_arn") and not (raw.get("source_location_uri") and raw.get("destination_location_uri")):
        problems.append("give task_arn, or both source_location_uri and destination_location_uri")
    if raw.get("delete_task_after_execution") is True and raw.get("wait_for_completion") is False:
        problems.append("delete_task_after_execution needs wait_for_completion: a running task cannot be deleted")
    try:
        workflow_input = WorkflowInput.model_validate(raw)
    except ValidationError as invalid:
        return None, problems + [_describe(error) for error in invalid.errors()]
    for field in KWARGS_FIELDS:
        for where, role in roles_in(getattr(workflow_input, field), field):
            if passable_roles is not None and role not in passable_roles:
                problems.append(
                    f"{where}: this deployment may not pass the role {role} to DataSync; add it to the "
                    "stack's passable_role_arns setting"
                )
    longest_wait = workflow_input.max_iterations * max(1, workflow_input.wait_interval_seconds)
    if workflow_input.wait_for_completion and longest_wait > EXECUTION_TIMEOUT_SECONDS - SETUP_SECONDS:
        problems.append(
            f"max_iterations times wait_interval_seconds: the checks could wait {longest_wait:,} s, longer than a "
            f"Step Functions execution can run (a year, {EXECUTION_TIMEOUT_SECONDS:,} s, less "
            f"{SETUP_SECONDS:,} s to set up)"
        )
    return workflow_input, problems


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


def _describe(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{field}: unknown key (the keys are {', '.join(WorkflowInput.model_fields)})"
    if field == "max_iterations" and error["type"] == "less_than_equal":
        message = (
            f"at most {MAX_ITERATIONS:,}: more status checks could fill Step Functions' {HISTORY_LIMIT:,}-event "
            f"execution history ({EVENTS_PER_CHECK} events each, {RESERVED_EVENTS:,} kept for the rest of the run)"
        )
    if error["type"] == "string_pattern_mismatch":
        message = "must be a DataSync task ARN (arn:aws:datasync:REGION:ACCOUNT:task/task-...)"
    if error["type"] == "value_error" or "input" not in error:
        return f"{field}: {message}"
    return f"{field}: {message} (got {error['input']!r})"


@cache
def _datasync_model():
    return botocore.session.get_session().get_service_model("datasync")


def _operation_name(boto3_method: str) -> str:
    return next(name for name in _datasync_model().operation_names if botocore.xform_name(name) == boto3_method)


def _check_against_api(operation: str, params: dict[str, Any]) -> None:
    shape = _datasync_model().operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise ValueError(", ".join(report.generate_report().splitlines()))
