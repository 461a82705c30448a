"""What a deployment allows its runs: the roles they may hand to DataSync, whether a plaintext secret may be in
their input, whether they may give a task DataSync's own schedule, the tag that scopes them, and where they may act
(the other regions, and the other accounts' roles by connection id). The stack sets these
variables on every function; a local run's steps read them from the runner's own environment."""

import json
import os
import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from datasync_steps.names import CANCELLED_TAG, WORKFLOW_TAG

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync.type_defs import TagListEntryTypeDef

PASSABLE_ROLES_VARIABLE = "PASSABLE_ROLE_ARNS"
ALLOW_SECRETS_VARIABLE = "ALLOW_SECRETS_IN_INPUT"
ALLOW_TASK_SCHEDULE_VARIABLE = "ALLOW_TASK_SCHEDULE"
SCOPE_TAG_VARIABLE = "SCOPE_TAG"
# The other regions a run's region_name may name (a JSON list), and the roles a run's aws_conn_id assumes (a JSON
# object {"conn_id": "role ARN"}).
REGIONS_VARIABLE, CONNECTIONS_VARIABLE = "REGIONS", "CONNECTIONS"
# Airflow's default connection: the deployment's own account, as no aws_conn_id is.
DEFAULT_CONNECTION = "aws_default"
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
# A whole role ARN: no wildcard (sts:AssumeRole is granted on exactly the roles named).
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
CONNECTION_ID_PATTERN = re.compile(r"^[\w.:-]{1,250}$")
# The bucket of a batch's transfers_from objects and of what the workflow keeps there (set on the batch's steps).
BATCH_BUCKET_VARIABLE = "BATCH_BUCKET"
# The workflow's state machine, whose executions the steps check what they are told of against (set by the stack; a
# local run sets a pattern that every local deployment's matches).
WORKFLOW_STATE_MACHINE_VARIABLE = "WORKFLOW_STATE_MACHINE_ARN"
# The batch's state machine, set on the step that announces a batch's end (the stack sets its ARN; a local run, a
# pattern every local deployment's batch state machine matches).
BATCH_STATE_MACHINE_VARIABLE = "BATCH_STATE_MACHINE_ARN"
# DataSync's TagKey and TagValue (its API model: ^[a-zA-Z0-9\s+=._:/-]{1,256}$ and ^[a-zA-Z0-9\s+=._:@/-]{0,256}$),
# with their lengths as length bounds: a counted repetition of a Unicode class makes pydantic's regex engine build an
# automaton of 256 copies, which took 4 of the 23 ms the resolve step's import spends in this package.
TAG_KEY_PATTERN, TAG_VALUE_PATTERN = r"^[a-zA-Z0-9\s+=._:/-]+$", r"^[a-zA-Z0-9\s+=._:@/-]*$"
TAG_LENGTH = 256


class ScopeTag(BaseModel):
    """The tag that bounds a deployment: its roles act only on DataSync resources that carry it, and it goes on
    everything its runs create or start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1, max_length=TAG_LENGTH, pattern=TAG_KEY_PATTERN)
    value: str = Field(max_length=TAG_LENGTH, pattern=TAG_VALUE_PATTERN)

    @field_validator("key")
    @classmethod
    def not_the_workflows_own(cls, key: str) -> str:
        if key in (WORKFLOW_TAG, CANCELLED_TAG):
            raise ValueError(f"{key} is a tag the workflow sets itself")
        if key.lower().startswith("aws:"):
            raise ValueError("a key beginning aws: is AWS's own")
        return key

    @property
    def tag(self) -> "TagListEntryTypeDef":
        return {"Key": self.key, "Value": self.value}

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


def scope_tag_from(text: str | None, name: str = SCOPE_TAG_VARIABLE) -> ScopeTag | None:
    """A scope tag written as the stack writes it, {"key": ..., "value": ...}, or as a person would, KEY=VALUE;
    ValueError naming `name` and saying what is wrong."""
    if not text:
        return None
    key, equals, value = text.partition("=")
    if not text.lstrip().startswith("{") and not equals:
        raise ValueError(f'{name} {text!r}: give KEY=VALUE (or {{"key": ..., "value": ...}})')
    try:
        return ScopeTag.model_validate_json(text) if text.lstrip().startswith("{") else ScopeTag(key=key, value=value)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'it'}: {e['msg']}" for e in error.errors())
        raise ValueError(f"{name} {text!r}: {problems}") from None


def region_problems(regions: list[str]) -> list[str]:
    """What is wrong with a `regions` setting: each a region's name (eu-west-1), once."""
    problems = [
        f"{region!r} is not a region name (like eu-west-1)" for region in regions if not REGION_PATTERN.match(region)
    ]
    problems += [f"{region!r} is listed twice" for region in sorted(set(regions)) if regions.count(region) > 1]
    return problems


def connection_problems(connections: dict[str, str]) -> list[str]:
    """What is wrong with a `connections` setting: each id names a whole role ARN (no wildcard), aws_default is the
    deployment's own account, and each account has one role (a step that sees only an ARN finds the role by the
    ARN's account)."""
    problems = []
    by_account: dict[str, list[str]] = {}
    for conn_id, role_arn in connections.items():
        if conn_id == DEFAULT_CONNECTION:
            problems.append(f"{conn_id}: is the deployment's own account and takes no role")
        elif not CONNECTION_ID_PATTERN.match(conn_id):
            problems.append(f"{conn_id!r}: not a connection id (letters, digits, _ . : -)")
        if not isinstance(role_arn, str) or not ROLE_ARN_PATTERN.match(role_arn):
            problems.append(f"{conn_id}: {role_arn!r} is not a whole IAM role ARN (no wildcard)")
            continue
        by_account.setdefault(account_of(role_arn), []).append(conn_id)
    problems += [
        f"connections {', '.join(ids)}: name roles in one account ({account}); give each account one role"
        for account, ids in by_account.items()
        if len({connections[i] for i in ids}) > 1
    ]
    return problems


def account_of(arn: str) -> str:
    """The account an ARN names (its fifth part)."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def _json_setting(variable: str, kind: type) -> object:
    text = os.environ.get(variable)
    if not text:
        return kind()
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ValueError(f"{variable}: not JSON ({error})") from None
    if not isinstance(value, kind):
        raise ValueError(f"{variable}: not a JSON {'list' if kind is list else 'object'}")
    return value


def _flag(variable: str) -> bool:
    """A true or false setting of the environment, false when not set; ValueError naming it for anything else."""
    value = os.environ.get(variable, "false").lower()
    if value not in ("true", "false"):
        raise ValueError(f"{variable} is {value!r}: give true or false")
    return value == "true"


class Deployment(BaseModel):
    model_config = ConfigDict(frozen=True)

    passable_role_arns: list[str] | None = None  # None: every role, as in a local run, which has no IAM
    allow_secrets_in_input: bool = False
    # DataSync's own Schedule of a task (create_task_kwargs, update_task_kwargs) starts it after the run, outside the
    # workflow: no retries, no clean-up, no event.
    allow_task_schedule: bool = False
    scope_tag: ScopeTag | None = None
    # Where the steps run: an input's region_name must name it or one of `regions`. None where it is not known
    # (offline validation), and the account with it (from the workflow execution's ARN).
    region: str | None = None
    account: str | None = None
    # The other regions a run may act in, and the role (in another account) each connection id assumes.
    regions: list[str] = []
    connections: dict[str, str] = {}
    batch_bucket: str | None = None

    @classmethod
    def from_environment(cls) -> "Deployment":
        """The settings the stack (or, for a local run, the user) put in the environment; ValueError naming the
        variable for one that is not as documented."""
        roles = os.environ.get(PASSABLE_ROLES_VARIABLE)
        try:
            passable = None if roles is None else json.loads(roles)
            if passable is not None and not (isinstance(passable, list) and all(isinstance(r, str) for r in passable)):
                raise ValueError("not a JSON list of role ARNs")
        except ValueError as error:
            raise ValueError(f"{PASSABLE_ROLES_VARIABLE}: {error}") from None
        regions = _json_setting(REGIONS_VARIABLE, list)
        connections = _json_setting(CONNECTIONS_VARIABLE, dict)
        assert isinstance(regions, list) and isinstance(connections, dict)
        problems = [f"{REGIONS_VARIABLE}: {p}" for p in region_problems(regions)]
        problems += [f"{CONNECTIONS_VARIABLE}: {p}" for p in connection_problems(connections)]
        if problems:
            raise ValueError("; ".join(problems))
        return cls(
            regions=regions,
            connections=connections,
            passable_role_arns=passable,
            allow_secrets_in_input=_flag(ALLOW_SECRETS_VARIABLE),
            allow_task_schedule=_flag(ALLOW_TASK_SCHEDULE_VARIABLE),
            scope_tag=scope_tag_from(os.environ.get(SCOPE_TAG_VARIABLE)),
            batch_bucket=os.environ.get(BATCH_BUCKET_VARIABLE) or None,
        )

    def environment(self) -> dict[str, str]:
        """The variables `from_environment` reads back: what the stack sets on each function."""
        variables = {
            ALLOW_SECRETS_VARIABLE: str(self.allow_secrets_in_input).lower(),
            ALLOW_TASK_SCHEDULE_VARIABLE: str(self.allow_task_schedule).lower(),
        }
        if self.passable_role_arns is not None:
            variables[PASSABLE_ROLES_VARIABLE] = json.dumps(self.passable_role_arns)
        if self.scope_tag is not None:
            variables[SCOPE_TAG_VARIABLE] = self.scope_tag.model_dump_json()
        if self.regions:
            variables[REGIONS_VARIABLE] = json.dumps(self.regions)
        if self.connections:
            variables[CONNECTIONS_VARIABLE] = json.dumps(self.connections)
        return variables

    def in_region_of(self, arn: str) -> "Deployment":
        """These settings, in the region and account of `arn` (the workflow execution a step works for)."""
        parts = arn.split(":")
        # The region is the function's own where Lambda says it: whoever invokes a step chooses the ARN it is told
        # of, and so could otherwise add a region to those the deployment acts in.
        own = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if len(parts) < 6:  # no ARN (a direct invocation's): the function's own region, the account unknown
            return self.model_copy(update={"region": self.region or own})
        return self.model_copy(update={"region": own or parts[3] or None, "account": parts[4]})

    @property
    def allowed_regions(self) -> list[str]:
        """The regions a run may act in: the deployment's own (when known), then its `regions`."""
        own = [self.region] if self.region else []
        return own + [region for region in self.regions if region != self.region]

    @property
    def known_connections(self) -> list[str]:
        return [DEFAULT_CONNECTION, *self.connections]

    def tags_for(self, made_by_run: "TagListEntryTypeDef") -> list["TagListEntryTypeDef"]:
        """The tags the workflow adds to what a run creates or starts: whose run made it, and the scope."""
        return [made_by_run, *([self.scope_tag.tag] if self.scope_tag else [])]

    @property
    def reserved_tag_keys(self) -> list[str]:
        return [WORKFLOW_TAG, CANCELLED_TAG, *([self.scope_tag.key] if self.scope_tag else [])]
