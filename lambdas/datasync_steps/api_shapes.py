"""DataSync's API model, as the pinned botocore ships it: the input shapes of the calls the kwargs are given to,
checked as botocore would check them; the values their enums allow; and the members that hold a credential."""

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import botocore.session
from botocore.model import Shape
from botocore.validate import ParamValidator, ValidationErrors

from datasync_steps.errors import closest, shown
from datasync_steps.input_templates import is_template

# Each kwargs field is checked against the DataSync API's own input shape; the workflow fills in the
# members listed here, so the user must not.
KWARGS_OPERATION = {
    "create_task_kwargs": ("CreateTask", {"SourceLocationArn", "DestinationLocationArn"}),
    "update_task_kwargs": ("UpdateTask", {"TaskArn"}),
    "task_execution_kwargs": ("StartTaskExecution", {"TaskArn"}),
}
FILLED_IN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


@cache
def datasync_model():
    return botocore.session.get_session().get_service_model("datasync")


def operation_name(boto3_method: str) -> str:
    return next(name for name in datasync_model().operation_names if botocore.xform_name(name) == boto3_method)


@cache
def secret_members() -> frozenset[tuple[str, ...]]:
    """The members of DataSync's CreateLocation* and UpdateLocation* inputs that hold a credential: those its API
    model marks sensitive (an SMB password, an object store's secret key, an Azure SAS token), and KerberosKeytab,
    a keytab file, which holds the Kerberos principal's keys although the model does not mark it."""
    model = datasync_model()
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


def check_against_api(operation: str, params: dict[str, Any]) -> None:
    shape = datasync_model().operation_model(operation).input_shape
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


def operation_of(field: str, raw: dict) -> str | None:
    """The DataSync call a kwargs field is given to; for a location's, the one its URI's scheme names (None while the
    URI is not one, which its own check says)."""
    if field in KWARGS_OPERATION:
        return KWARGS_OPERATION[field][0]
    from datasync_steps.uris import parse_location_uri

    uri = raw.get(field.removeprefix("create_").replace("_kwargs", "_uri"))
    try:
        return operation_name(parse_location_uri(uri).create_call) if isinstance(uri, str) else None
    except ValueError:
        return None


def off_enum(value: Any, shape: Shape, where: str) -> Iterator[tuple[str, str, list[str]]]:
    """(where, value, the values allowed) for each string in `value` that `shape`'s enums do not allow. Only members
    the shape has are followed (an unknown one is botocore's problem to report), so the depth is the model's."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        for name, member in value.items():
            if name in members:
                yield from off_enum(member, members[name], f"{where}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from off_enum(item, shape.member, f"{where}[{index}]")  # type: ignore[attr-defined]
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from off_enum(item, shape.value, f"{where}.{key}")  # type: ignore[attr-defined]
    elif isinstance(value, str) and not is_template(value):
        allowed = getattr(shape, "enum", None)
        if allowed and value not in allowed:
            yield where, value, list(allowed)
