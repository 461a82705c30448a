"""Where the end-to-end scenarios run: the local emulation (moto, the local runner's functions and rules), or a
deployed stack (DATASYNC_WORKFLOW_STACK, with credentials for its account and region). A scenario sees only boto3
clients and this object, so it is written once and proves on AWS what the emulation stands in for."""

import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import boto3

from datasync_steps.names import START_STATE

STACK_VARIABLE = "DATASYNC_WORKFLOW_STACK"
# The role DataSync reads and writes the suite's buckets with (S3 locations need one): on AWS, made once (see
# tests/e2e/README.md) so that the suite needs no iam:CreateRole; locally any role passes.
BUCKET_ROLE_VARIABLE = "DATASYNC_WORKFLOW_E2E_BUCKET_ROLE_ARN"
# The role EventBridge Scheduler starts the workflow with in the schedule scenario (trusted by scheduler.amazonaws.com,
# allowed states:StartExecution on the stack's state machine).
SCHEDULER_ROLE_VARIABLE = "DATASYNC_WORKFLOW_E2E_SCHEDULER_ROLE_ARN"
# Without the variables, the roles of the fixtures stack (infra/e2e_fixtures.py, `make e2e-fixtures`) in the region.
FIXTURES_STACK = "DataSyncWorkflowE2EFixtures"
FIXTURES_ROLE_OUTPUT, FIXTURES_SCHEDULER_ROLE_OUTPUT = "BucketRoleArn", "SchedulerRoleArn"
# Locally any role passes.
EMULATED_BUCKET_ROLE = "arn:aws:iam::123456789012:role/datasync-e2e-buckets"
EMULATED_SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/datasync-e2e-scheduler"
EMULATED_REGION = "us-east-1"
# How long a scenario's run may take: DataSync launches a task execution in a minute or two on AWS.
DEPLOYED_RUN_SECONDS, EMULATED_RUN_SECONDS = 900, 60
OBJECTS = {"a.txt": b"alpha\n", "b/c.txt": b"gamma\n"}  # what each source bucket holds


@dataclass
class Run:
    """A workflow execution as it ended."""

    execution_arn: str
    status: str
    output: dict | None
    error: str | None
    cause: str | None
    history: list[dict]

    def entered(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.history if "stateEnteredEventDetails" in e]


@dataclass
class Target:
    """What the scenarios act on: the workflow's state machines and their bucket, and boto3 clients in its region.
    Everything a scenario makes through `bucket` or `remember` is removed at its end, whether it passed or not."""

    name: str  # "emulation", or the stack's name
    region: str
    state_machine_arn: str
    batch_state_machine_arn: str
    batch_bucket: str
    emulated: bool
    bucket_role_arn: str
    scheduler_role_arn: str
    run_seconds: float
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    # Every run a scenario follows is checked for an AccessDenied anywhere in its history (a step's grant that the
    # stack's template lacks, even where a retry or a Catch hid it); a scenario about IAM's refusals sets this.
    access_denied_expected: bool = False

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    # Runs.

    def start(self, execution_input: dict, machine_arn: str | None = None) -> str:
        return self.client("stepfunctions").start_execution(
            stateMachineArn=machine_arn or self.state_machine_arn,
            name=f"e2e-{uuid.uuid4().hex[:12]}",
            input=json.dumps(execution_input),
        )["executionArn"]

    def finish(self, execution_arn: str, seconds: float | None = None) -> Run:
        """Follow the execution to its end; one still running after `seconds` is stopped and fails the scenario."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + (seconds or self.run_seconds)
        while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                sfn.stop_execution(executionArn=execution_arn, error="E2ETimeout", cause="the scenario ran out of time")
                raise AssertionError(f"{execution_arn} still running after {seconds or self.run_seconds} s: stopped")
            time.sleep(0.2 if self.emulated else 5)
        output = json.loads(described["output"]) if described.get("output") else None
        history = self.history(execution_arn)
        denied = [event for event in history if "AccessDenied" in json.dumps(event, default=str)]
        assert self.access_denied_expected or not denied, f"IAM refused a step of {execution_arn}: {denied[0]}"
        return Run(execution_arn, described["status"], output, described.get("error"), described.get("cause"), history)

    def run(self, execution_input: dict, seconds: float | None = None) -> Run:
        return self.finish(self.start(execution_input), seconds)

    def wait_for_state(self, execution_arn: str, state: str, seconds: float | None = None) -> None:
        """Until the execution has entered `state`."""
        deadline = time.monotonic() + (seconds or self.run_seconds)
        while time.monotonic() < deadline:
            events = self.history(execution_arn)
            if any((e.get("stateEnteredEventDetails") or {}).get("name") == state for e in events):
                return
            time.sleep(0.1 if self.emulated else 3)
        raise AssertionError(f"{execution_arn} did not enter {state!r} in time")

    def history(self, execution_arn: str) -> list[dict]:
        pages = self.client("stepfunctions").get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [event for page in pages for event in page["events"]]

    def long_transfers(self, seconds: float) -> AbstractContextManager:
        """Transfers started inside this block outlast a scenario's stop or timeout: the emulation must be told (its
        transfers end in 1.5 s); on AWS an S3-to-S3 execution takes a minute or more by itself."""
        if not self.emulated:
            return nullcontext()
        from datasync_workflow.local import EmulatedTransfer, emulated_transfers

        return emulated_transfers(EmulatedTransfer(seconds=seconds))

    def function_name(self, step: str) -> str:
        """The deployed function of `step`, from the stack's resources (datasync_workflow/cdk/core.py names no
        function: CDK gives each the logical ID Workflow<construct name>Function<8 hex> and CloudFormation a name of
        its own)."""
        from datasync_workflow.definition.steps import step_named

        logical = re.compile(rf"^Workflow{step_named(step).construct_name}Function[0-9A-F]{{8}}$")
        pages = self.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=self.name)
        (name,) = [
            resource["PhysicalResourceId"]
            for page in pages
            for resource in page["StackResourceSummaries"]
            if resource["ResourceType"] == "AWS::Lambda::Function" and logical.match(resource["LogicalResourceId"])
        ]
        return name

    def may(self, step: str, action: str, resource_arn: str, context: dict[str, list[str]]) -> bool:
        """Whether IAM lets the step's role do `action` on `resource_arn` with the request's condition keys `context`:
        on a stack, IAM's policy simulator on the deployed function's role (SimulatePrincipalPolicy evaluates the
        role's own policies, not the account's service control policies); on the emulation, the emulated IAM on the
        grants the stack writes (datasync_workflow/definition/steps.py)."""
        from datasync_workflow.definition.steps import step_named

        if self.emulated:
            from datasync_workflow.local import emulated_iam

            return emulated_iam.allows(step_named(step), action, resource_arn, context)
        role = self.client("lambda").get_function_configuration(FunctionName=self.function_name(step))["Role"]
        entries = [
            {"ContextKeyName": key, "ContextKeyValues": values, "ContextKeyType": "stringList"}
            for key, values in context.items()
        ]
        (result,) = self.client("iam").simulate_principal_policy(
            PolicySourceArn=role, ActionNames=[action], ResourceArns=[resource_arn], ContextEntries=entries
        )["EvaluationResults"]
        return result["EvalDecision"] == "allowed"

    # What a scenario makes.

    def remember(self, cleanup: Callable[[], None]) -> None:
        self.cleanups.append(cleanup)

    def bucket(self, objects: dict[str, bytes] | None = None) -> str:
        """A new bucket (holding `objects`), removed with what it holds at the scenario's end (unless the scenario
        removed it already)."""
        s3, name = self.client("s3"), f"datasync-workflow-e2e-{uuid.uuid4().hex[:16]}"
        extra = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        s3.create_bucket(Bucket=name, **extra)
        self.remember(lambda: empty_and_delete(s3, name, missing_ok=True))
        for key, body in (objects or {}).items():
            s3.put_object(Bucket=name, Key=key, Body=body)
        return name

    def s3_to_s3(self, source_objects: dict[str, bytes] = OBJECTS) -> dict:
        """The input keys of a transfer between two new buckets, the locations and the task made by the run (found
        or created from the URIs); the task and locations the run leaves are removed at the scenario's end."""
        source, destination = self.bucket(source_objects), self.bucket()
        self.remember(lambda: delete_datasync_resources_of(self.client("datasync"), (source, destination)))
        return {
            "source_location_uri": f"s3://{source}/",
            "destination_location_uri": f"s3://{destination}/copy/",
            "create_source_location_kwargs": self.s3_location(source, "/"),
            "create_destination_location_kwargs": self.s3_location(destination, "/copy/"),
            "create_task_kwargs": {"Name": f"e2e-{destination[-16:]}"},
        }

    def task_between(
        self, source: str, destination: str, destination_directory: str = "/", **task_settings: Any
    ) -> tuple[str, str]:
        """A task made outside the workflow between two buckets' new locations (not tagged with any scope): its ARN
        and its source location's. The task, then the locations, are removed at the scenario's end."""
        datasync = self.client("datasync")
        locations = []
        for bucket, directory in ((source, "/"), (destination, destination_directory)):
            location = datasync.create_location_s3(**self.s3_location(bucket, directory))["LocationArn"]
            self.remember(lambda location=location: datasync.delete_location(LocationArn=location))
            locations.append(location)
        task = datasync.create_task(
            SourceLocationArn=locations[0], DestinationLocationArn=locations[1], **task_settings
        )["TaskArn"]
        self.remember(lambda: datasync.delete_task(TaskArn=task))
        return task, locations[0]

    def tags(self, arn: str) -> dict[str, str]:
        """A DataSync resource's tags."""
        tags = self.client("datasync").list_tags_for_resource(ResourceArn=arn)["Tags"]
        return {tag["Key"]: tag["Value"] for tag in tags}

    def s3_location(self, bucket: str, subdirectory: str) -> dict:
        return {
            "S3BucketArn": f"arn:aws:s3:::{bucket}",
            "Subdirectory": subdirectory,
            "S3Config": {"BucketAccessRoleArn": self.bucket_role_arn},
        }

    def clean_up(self) -> list[str]:
        """Run every cleanup, newest first; what failed, said."""
        failed = []
        while self.cleanups:
            try:
                self.cleanups.pop()()
            except Exception as error:  # every cleanup is tried; the failures are reported
                failed.append(f"{type(error).__name__}: {error}")
        return failed


def started_transfers(history: list[dict]) -> list[str]:
    """The DataSync executions a run started, one per try: each exit of its start state, the output's
    $.execution.TaskExecutionArn."""
    return [
        json.loads(event["stateExitedEventDetails"]["output"])["execution"]["TaskExecutionArn"]
        for event in history
        if (event.get("stateExitedEventDetails") or {}).get("name") == START_STATE
    ]


def empty_and_delete(s3, bucket: str, missing_ok: bool = False) -> None:
    if missing_ok and bucket not in {known["Name"] for known in s3.list_buckets()["Buckets"]}:
        return
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions = page.get("Versions", []) + page.get("DeleteMarkers", [])
        if versions:
            s3.delete_objects(
                Bucket=bucket,
                Delete={"Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]},
            )
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        if page.get("Contents"):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": o["Key"]} for o in page["Contents"]]})
    s3.delete_bucket(Bucket=bucket)


def delete_datasync_resources_of(datasync, buckets: tuple[str, ...]) -> None:
    """The tasks linking, and the S3 locations of, these buckets."""
    locations = [
        location["LocationArn"]
        for page in datasync.get_paginator("list_locations").paginate()
        for location in page["Locations"]
        if any(location["LocationUri"].startswith(f"s3://{bucket}/") for bucket in buckets)
    ]
    for page in datasync.get_paginator("list_tasks").paginate():
        for task in page["Tasks"]:
            described = datasync.describe_task(TaskArn=task["TaskArn"])
            if {described["SourceLocationArn"], described["DestinationLocationArn"]} & set(locations):
                datasync.delete_task(TaskArn=task["TaskArn"])
    for location in locations:
        datasync.delete_location(LocationArn=location)


def stack_outputs(cloudformation, stack_name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def deployed_target(stack_name: str, region: str | None = None) -> Target:
    """The stack's state machines and bucket, from its outputs; the bucket and scheduler roles from their variables,
    else from the fixtures stack's outputs (read once, if a variable is missing)."""
    from botocore.exceptions import ClientError

    session_region = region or boto3.session.Session().region_name
    cloudformation = boto3.client("cloudformation", region_name=session_region)
    outputs = stack_outputs(cloudformation, stack_name)
    fixtures: dict[str, str] = {}
    roles = {  # each role's variable: the fixtures stack's output, and what the role is for
        BUCKET_ROLE_VARIABLE: (FIXTURES_ROLE_OUTPUT, "DataSync to read and write the suite's buckets"),
        SCHEDULER_ROLE_VARIABLE: (FIXTURES_SCHEDULER_ROLE_OUTPUT, "Scheduler to start the workflow"),
    }
    if not all(os.environ.get(variable) for variable in roles):
        try:
            fixtures = stack_outputs(cloudformation, FIXTURES_STACK)
        except ClientError as error:  # CloudFormation's answer for a stack that does not exist
            if error.response["Error"]["Code"] != "ValidationError":
                raise
    found = {variable: os.environ.get(variable) or fixtures.get(output) for variable, (output, _) in roles.items()}
    for variable, (output, what) in roles.items():
        if not found[variable]:
            raise RuntimeError(
                f"no role for {what} with: set {variable}, or deploy the stack {FIXTURES_STACK} in {session_region} "
                f"(make e2e-fixtures), whose output {output} names one"
            )
    return Target(
        name=stack_name,
        region=session_region,
        state_machine_arn=outputs["StateMachineArn"],
        batch_state_machine_arn=outputs["BatchStateMachineArn"],
        batch_bucket=outputs["BatchBucketName"],
        emulated=False,
        bucket_role_arn=str(found[BUCKET_ROLE_VARIABLE]),
        scheduler_role_arn=str(found[SCHEDULER_ROLE_VARIABLE]),
        run_seconds=DEPLOYED_RUN_SECONDS,
    )


@contextmanager
def emulated_target() -> Iterator[Target]:
    """The workflow as the stack deploys it, in moto, with its steps, DataSync's events and its rules in this
    process."""
    from datasync_workflow.local import BATCH_BUCKET, local_deployment
    from datasync_workflow.local.runner import local_batches

    with ExitStack() as stack:
        machine_arn = stack.enter_context(local_deployment(EMULATED_REGION))
        batch_arn = stack.enter_context(local_batches(EMULATED_REGION, machine_arn))
        yield Target(
            name="emulation",
            region=EMULATED_REGION,
            state_machine_arn=machine_arn,
            batch_state_machine_arn=batch_arn,
            batch_bucket=BATCH_BUCKET,
            emulated=True,
            bucket_role_arn=EMULATED_BUCKET_ROLE,
            scheduler_role_arn=EMULATED_SCHEDULER_ROLE,
            run_seconds=EMULATED_RUN_SECONDS,
        )
