"""The execution input: the Airflow DataSyncOperator's parameters, checked before anything touches AWS."""

from functools import cache
from typing import Any

import botocore.session
from botocore.validate import ParamValidator
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.uris import parse_location_uri

MAX_WAIT_INTERVAL_SECONDS = 900
STARTED_BY_KEY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
TASK_ARN_PATTERN = r"^arn:aws[\w-]*:datasync:[a-z0-9-]+:[0-9]{12}:task/task-[0-9a-f]{17}$"

# Each kwargs field is checked against the DataSync API's own input shape; the workflow fills in the
# members listed here, so the user must not.
_KWARGS_OPERATION = {
    "create_task_kwargs": ("CreateTask", {"SourceLocationArn", "DestinationLocationArn"}),
    "update_task_kwargs": ("UpdateTask", {"TaskArn"}),
    "task_execution_kwargs": ("StartTaskExecution", {"TaskArn"}),
}
_FILLED_IN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


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
    max_iterations: int = Field(default=60, ge=1)

    @field_validator(
        "create_task_kwargs",
        "create_source_location_kwargs",
        "create_destination_location_kwargs",
        "update_task_kwargs",
        "task_execution_kwargs",
        mode="before",
    )
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


def parse_workflow_input(raw: Any) -> WorkflowInput:
    """The validated input, or DataSyncInvalidInputError naming every bad field at once."""
    if not isinstance(raw, dict):
        raise DataSyncInvalidInputError(f"The execution input must be a JSON object, not {type(raw).__name__}.")
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
        problems += [_describe(error) for error in invalid.errors()]
    if problems:
        raise DataSyncInvalidInputError(f"Invalid workflow input: {'; '.join(problems)}.")
    return workflow_input


def _describe(error: dict[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"{field}: unknown key (the keys are {', '.join(WorkflowInput.model_fields)})"
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
