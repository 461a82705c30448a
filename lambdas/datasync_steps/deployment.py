"""What a deployment allows its runs: the roles they may hand to DataSync, whether a plaintext secret may be in
their input, whether they may give a task DataSync's own schedule, and the tag that scopes them. The stack sets these
variables on every function; a local run's steps read them from the runner's own environment."""

import json
import os
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from datasync_steps.names import CANCELLED_TAG, WORKFLOW_TAG

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync.type_defs import TagListEntryTypeDef

PASSABLE_ROLES_VARIABLE = "PASSABLE_ROLE_ARNS"
ALLOW_SECRETS_VARIABLE = "ALLOW_SECRETS_IN_INPUT"
ALLOW_TASK_SCHEDULE_VARIABLE = "ALLOW_TASK_SCHEDULE"
SCOPE_TAG_VARIABLE = "SCOPE_TAG"
# The bucket of a batch's transfers_from objects and of what the workflow keeps there (set on the batch's steps).
BATCH_BUCKET_VARIABLE = "BATCH_BUCKET"
# The workflow's state machine, whose executions the steps check what they are told of against (set by the stack; a
# local run sets a pattern that every local deployment's matches).
WORKFLOW_STATE_MACHINE_VARIABLE = "WORKFLOW_STATE_MACHINE_ARN"
# The batch's state machine, set on the step that announces a batch's end (the stack sets its ARN; a local run, a
# pattern every local deployment's batch state machine matches).
BATCH_STATE_MACHINE_VARIABLE = "BATCH_STATE_MACHINE_ARN"
# DataSync's TagKey and TagValue (its API model).
TAG_KEY_PATTERN, TAG_VALUE_PATTERN = r"^[a-zA-Z0-9\s+=._:/-]{1,256}$", r"^[a-zA-Z0-9\s+=._:@/-]{0,256}$"


class ScopeTag(BaseModel):
    """The tag that bounds a deployment: its roles act only on DataSync resources that carry it, and it goes on
    everything its runs create or start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=TAG_KEY_PATTERN)
    value: str = Field(pattern=TAG_VALUE_PATTERN)

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
    # Where the steps run: an input's region_name must name it. None where it is not known (offline validation).
    region: str | None = None
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
        return cls(
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
        return variables

    def in_region_of(self, arn: str) -> "Deployment":
        """These settings, in the region of `arn` (the workflow execution a step works for)."""
        return self.model_copy(update={"region": arn.split(":")[3]})

    def tags_for(self, made_by_run: "TagListEntryTypeDef") -> list["TagListEntryTypeDef"]:
        """The tags the workflow adds to what a run creates or starts: whose run made it, and the scope."""
        return [made_by_run, *([self.scope_tag.tag] if self.scope_tag else [])]

    @property
    def reserved_tag_keys(self) -> list[str]:
        return [WORKFLOW_TAG, CANCELLED_TAG, *([self.scope_tag.key] if self.scope_tag else [])]
