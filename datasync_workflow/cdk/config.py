"""The deployment's settings: the keyword arguments of DataSyncWorkflow, and the keys of the CDK context
`datasync_workflow` (cdk.json, or -c on the command line) of the repository's own app. WorkflowConfig checks them,
describes them (docs/deploying.md's table is made from its fields) and gives their defaults; WorkflowSettings types
them for DataSyncWorkflow's callers."""

import json
from typing import Any, TypedDict

from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from datasync_steps.deployment import (
    DEFAULT_CONNECTION,
    Deployment,
    ScopeTag,
    connection_problems,
    region_problems,
)
from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.input_model import TEMPLATED_FIELDS
from datasync_steps.input_parsing import parse_workflow_input
from datasync_steps.places import connection_problem
from datasync_steps.templates import is_template
from datasync_steps.timetable import parse_schedule


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[0-9a-zA-Z-_.]{1,64}$")
    expression: str = Field(pattern=r"^(rate|cron|at)\(.+\)$", description="an EventBridge Scheduler expression")
    timezone: str | None = None
    input: dict[str, Any]

    @property
    def templated(self) -> bool:
        return is_template(json.dumps([self.input.get(field) for field in TEMPLATED_FIELDS]))

    @model_validator(mode="after")
    def logical_dates_in_utc(self) -> "Schedule":
        if self.templated:
            if self.timezone not in (None, "UTC"):
                raise ValueError(
                    f"schedule {self.name}: an input with templates needs the schedule in UTC (no timezone), where "
                    "this workflow finds the logical date of the interval that ended"
                )
            parse_schedule(self.expression)  # it must find the time the schedule fired before
        return self

    @property
    def started_input(self) -> dict[str, Any]:
        """What the schedule starts each run with: its input and, when that has templates, the time it fired (as
        the end of the data interval) and its expression, from which the run's logical date follows as in Airflow
        (the interval's start). EventBridge Scheduler puts the time in for its context attribute, as
        2022-03-22T18:59:43Z (Scheduler user guide, "Adding context attributes")."""
        if not self.templated:
            return self.input
        fired = scheduler.ContextAttribute.scheduled_time
        return {"data_interval_end": fired, "schedule": self.expression, **self.input}


class WorkflowConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passable_role_arns: list[str] = Field(
        default=[],
        description="IAM roles the steps may hand to DataSync: the S3 `BucketAccessRoleArn`, an EFS "
        "`FileSystemAccessRoleArn`, a task report's or manifest's role, a `CustomSecretConfig.SecretAccessRoleArn`. "
        "Only these get `iam:PassRole`, only towards `datasync.amazonaws.com`; each is a whole ARN (a `*` or `?` "
        "fails the synth). An input naming any other role is refused before anything is created; with none, no S3 "
        "location can be created, since `CreateLocationS3` always takes a role.",
    )
    schedules: list[Schedule] = Field(
        default=[],
        description="EventBridge Scheduler schedules that start the workflow: each a `name`, an `expression` "
        '(`"rate(1 day)"`, `"cron(0 2 * * ? *)"`), an optional `timezone` and the execution `input`, which is '
        "validated at synth.",
    )
    alarm_emails: list[str] = Field(
        default=[], description="Addresses subscribed to the SNS topic (encrypted, TLS only) that the alarms notify."
    )
    log_retention: str = Field(
        default="ONE_MONTH", description="Retention of every log group, a CDK `RetentionDays` name (`TWO_WEEKS`, ...)."
    )
    powertools_layer_arn: str | None = Field(
        default=None,
        description="Another Powertools layer; by default AWS's own for the pinned Powertools version, resolved from "
        "its public SSM parameter at deploy time.",
    )
    allow_secrets_in_input: bool = Field(
        default=False,
        description="Let a plaintext password, secret key, SAS token or keytab through in the kwargs (see Security); "
        "only then may create-locations create and delete the secrets DataSync keeps them in.",
    )
    scope_tag: ScopeTag | None = Field(
        default=None,
        description='`{"key": "team", "value": "finance"}`: act only on DataSync tasks, locations and executions '
        "carrying this tag, find only those, and put it on every location, task and execution the runs create or "
        "start. The key may not begin `aws:` nor be the workflow's own. An execution of a scoped task started "
        "elsewhere without the tag cannot be followed: `if_task_running` `queue` and `join` then fail with "
        "`DataSyncRequestError` naming the tag.",
    )

    allow_task_schedule: bool = Field(
        default=False,
        description="Let `create_task_kwargs` and `update_task_kwargs` set DataSync's own `Schedule`, which goes on "
        "starting the task after the workflow's run has ended, outside every run's checks; without it such an input "
        "is refused naming the field.",
    )
    vpc_locations: bool = Field(
        default=False,
        description="The runs may create EFS and FSx locations (and their tasks): only then do create-locations and "
        "create-task get the EC2 network-interface and subnet, EFS and FSx actions that DataSync checks on its caller "
        "for them (AWSDataSyncFullAccess's), on `*`. Without it, expect DataSync to refuse such a creation for want of "
        "them (not tried against AWS from here).",
    )
    regions: list[str] = Field(
        default=[],
        description="Other regions a run may act in: an input's `region_name` naming one of them (or the stack's "
        "own) makes every DataSync call of the run there, and the DataSync grants cover exactly these regions too; any "
        "other `region_name` is refused. DataSync's events go to the bus of the task's region, which the stack's rule "
        "does not see: the end of such a run is noticed by its status checks (the output's `EndNoticedBy`), up to "
        "twice `wait_interval_seconds` after it.",
    )
    connections: dict[str, str] = Field(
        default={},
        description='`{"partner": "arn:aws:iam::222233334444:role/datasync-workflow"}`: the role of another account '
        "that a run whose `aws_conn_id` names the connection assumes (STS AssumeRole, its session named after the "
        "workflow execution) to make its DataSync calls; each step that calls DataSync gets `sts:AssumeRole` on "
        "exactly these roles. Whole ARNs (no wildcard), one role per account (a step that sees only an ARN finds the "
        "role by its account), never `aws_default` (the stack's own account, as no `aws_conn_id` is); any other "
        "`aws_conn_id` is refused. The role to create in the other account is in docs/security.md.",
    )
    step_reserved_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="Reserved concurrency of each step's function: at most this many of one step run at once, so that "
        "a flood of executions (or of direct invocations) cannot take the account's whole Lambda concurrency, and is "
        "always there for the steps. Unset: the functions share the account's unreserved pool.",
    )
    bytecode_in_container: bool = Field(
        default=True,
        description="Where the app finds no Python 3.14 (its own, or `python3.14` on `PATH`) to compile the steps' "
        "bytecode with, compile it in Lambda's build image for the runtime (`public.ecr.aws/sam/build-python3.14`) "
        "when a container engine answers (`CDK_DOCKER`, else `docker`); `false` ships the source alone, which Lambda "
        "compiles at each cold start.",
    )

    @field_validator("log_retention")
    @classmethod
    def retention_name(cls, name: str) -> str:
        if name not in logs.RetentionDays.__members__:
            raise ValueError(f"{name!r} is not one of {', '.join(logs.RetentionDays.__members__)}")
        return name

    @field_validator("passable_role_arns")
    @classmethod
    def role_arns(cls, arns: list[str]) -> list[str]:
        for arn in arns:
            if not arn.startswith("arn:") or ":role/" not in arn:
                raise ValueError(f"{arn!r} is not an IAM role ARN")
            if "*" in arn or "?" in arn:
                raise ValueError(f"{arn!r} has a wildcard: name each role, or iam:PassRole would cover every match")
        return arns

    @field_validator("regions")
    @classmethod
    def region_names(cls, regions: list[str]) -> list[str]:
        problems = region_problems(regions)
        if problems:
            raise ValueError("; ".join(problems))
        return regions

    @field_validator("connections")
    @classmethod
    def connection_roles(cls, connections: dict[str, str]) -> dict[str, str]:
        problems = connection_problems(connections)
        if problems:
            raise ValueError("; ".join(problems))
        return connections

    @property
    def deployment(self) -> Deployment:
        return Deployment(
            regions=self.regions,
            connections=self.connections,
            passable_role_arns=self.passable_role_arns,
            allow_secrets_in_input=self.allow_secrets_in_input,
            scope_tag=self.scope_tag,
            allow_task_schedule=self.allow_task_schedule,
        )

    @model_validator(mode="after")
    def schedules_have_valid_input(self) -> "WorkflowConfig":
        # A schedule whose input the workflow would refuse fails here, at synth, not at 2 a.m.
        for schedule in self.schedules:
            checked = parse_workflow_input(schedule.input, self.deployment)
            # The stack's region is not known here (a region_name is checked when the run starts), its connections are.
            conn_id = checked.aws_conn_id
            if conn_id is not None and conn_id not in (DEFAULT_CONNECTION, *self.connections):
                raise DataSyncInvalidInputError(
                    f"Invalid workflow input: {connection_problem(self.deployment, conn_id)}."
                )
        return self


class WorkflowSettings(TypedDict, total=False):
    """The keyword arguments of DataSyncWorkflow: WorkflowConfig's fields with their types, each optional (its default
    and meaning are the field's description). tests/infra/test_construct.py holds the two to the same keys and types."""

    passable_role_arns: list[str]
    schedules: list[Schedule]
    alarm_emails: list[str]
    log_retention: str
    powertools_layer_arn: str | None
    allow_secrets_in_input: bool
    scope_tag: ScopeTag | None
    allow_task_schedule: bool
    vpc_locations: bool
    regions: list[str]
    connections: dict[str, str]
    step_reserved_concurrency: int | None
    bytecode_in_container: bool
