"""Where a run's DataSync calls go: a region, and the role of another account they are made with (none: the step's
own role, in the deployment's account).

The steps that read the input take the place from its region_name and aws_conn_id. The others see only a task's or an
execution's ARN (from the state or an event), which names its region and account: the place follows from the
deployment's settings (one role per account), and an ARN in a region or an account the deployment does not list is
refused, so that whoever may invoke a step cannot make it act anywhere else.
"""

import hashlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from datasync_steps.deployment import DEFAULT_CONNECTION, Deployment, account_of
from datasync_steps.errors import DataSyncInvalidInputError, shown

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient

    from datasync_steps.input_model import WorkflowInput

    ClientOfInput = Callable[[WorkflowInput], DataSyncClient]

# STS's RoleSessionName: 2 to 64 of these characters.
SESSION_NAME_CHARACTERS = re.compile(r"[^\w+=,.@-]", re.ASCII)
MAX_SESSION_NAME = 64
SESSION_PREFIX = "datasync-workflow-"


class Place(BaseModel):
    model_config = ConfigDict(frozen=True)

    region: str | None = None  # None: the step's own region
    role_arn: str | None = None  # None: the step's own role
    session_name: str | None = None  # the assumed role's session, naming the workflow execution

    def __str__(self) -> str:
        return f"{self.region or 'the own region'}" + (f" as {self.role_arn}" if self.role_arn else "")


def session_name(execution_arn: str) -> str:
    """A RoleSessionName that names the workflow execution (its name, after the state machine's): what CloudTrail
    shows of the calls in the other account. Cut to STS's 64 characters with a hash of the whole, so that two long
    names stay two."""
    name = execution_arn.split(":", 7)[-1] if execution_arn.count(":") >= 7 else execution_arn
    text = SESSION_PREFIX + SESSION_NAME_CHARACTERS.sub("-", name)
    if len(text) > MAX_SESSION_NAME:
        digest = hashlib.sha256(execution_arn.encode()).hexdigest()[:10]
        text = f"{text[: MAX_SESSION_NAME - len(digest) - 1]}-{digest}"
    return text


def input_place(deployment: Deployment, region_name: str | None, aws_conn_id: str | None, execution_arn: str) -> Place:
    """The place of a run from its input (checked already: input_checks.py refuses what is not listed)."""
    region = region_name or deployment.region
    if region_name and deployment.region and region_name not in deployment.allowed_regions:
        raise DataSyncInvalidInputError(region_problem(deployment, region_name))
    if aws_conn_id in (None, DEFAULT_CONNECTION):
        return Place(region=region)
    if aws_conn_id not in deployment.connections:
        raise DataSyncInvalidInputError(connection_problem(deployment, aws_conn_id))
    return Place(region=region, role_arn=deployment.connections[aws_conn_id], session_name=session_name(execution_arn))


def place_of(deployment: Deployment, arn: str, execution_arn: str) -> Place:
    """The place of a DataSync task or execution, from its ARN's region and account; DataSyncInvalidInputError for
    one outside what the deployment lists (`deployment` knows its own region and account: `in_region_of`)."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != "datasync":
        raise DataSyncInvalidInputError(f"{shown(arn)} is not a DataSync ARN.")
    region, account = parts[3], parts[4]
    if deployment.region and region not in deployment.allowed_regions:
        raise DataSyncInvalidInputError(
            f"{shown(arn)} is in {region}, where this deployment does not act (it acts in "
            f"{', '.join(deployment.allowed_regions)}: its own region and its regions setting)."
        )
    own = Place(region=region)
    if deployment.account is not None and account == deployment.account:
        return own
    roles = [role for role in deployment.connections.values() if account_of(role) == account]
    if roles:
        return Place(region=region, role_arn=roles[0], session_name=session_name(execution_arn))
    if deployment.account is None:
        return own
    accounts = [deployment.account, *sorted({account_of(role) for role in deployment.connections.values()})]
    raise DataSyncInvalidInputError(
        f"{shown(arn)} is in account {account}, where this deployment does not act (it acts in "
        f"{', '.join(accounts)}: its own account and those of its connections' roles)."
    )


def region_problem(deployment: Deployment, region_name: str) -> str:
    return (
        f"region_name: {shown(region_name)} is not a region this deployment acts in; it acts in "
        f"{', '.join(deployment.allowed_regions)} (its own region, then its regions setting: add the region there, or "
        "leave region_name out)"
    )


def connection_problem(deployment: Deployment, aws_conn_id: str) -> str:
    return (
        f"aws_conn_id: {shown(aws_conn_id)} is no connection of this deployment; it knows "
        f"{', '.join(deployment.known_connections)} ({DEFAULT_CONNECTION}: its own account; the others are its "
        "connections setting, each a role in another account: add it there, or leave aws_conn_id out)"
    )


def client_at_input_place(deployment: Deployment, execution_arn: str, *, creates: bool = False) -> "ClientOfInput":
    """For a step that reads the input: the DataSync client of the input's place, once it is parsed."""
    from datasync_steps.datasync import datasync_client

    def client(config: "WorkflowInput") -> "DataSyncClient":
        place = input_place(deployment, config.region_name, config.aws_conn_id, execution_arn)
        return datasync_client(creates=creates, place=place)

    return client
