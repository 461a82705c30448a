"""The WorkflowCore construct, what runs a transfer: the step functions and their roles, the state machines and their
logs, the table of waiting task tokens and the rule that resumes them. WorkflowOperations (operations.py) operates
it; DataSyncWorkflow (workflow.py) holds both."""

from collections.abc import Callable
from importlib.metadata import version

from aws_cdk import (
    Acknowledgment,
    Annotations,
    ArnFormat,
    BundlingOptions,
    Duration,
    Names,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from datasync_steps import waiting
from datasync_steps.batch_children import ITEMS_PREFIX
from datasync_steps.deployment import BATCH_BUCKET_VARIABLE, WORKFLOW_STATE_MACHINE_VARIABLE
from datasync_steps.observability import FUNCTION_ENVIRONMENT
from datasync_steps.resume import COMPLETION_EVENTS
from datasync_workflow.cdk.assets import (
    BUNDLED_PACKAGES,
    BYTECODE_ENVIRONMENT,
    bundled_packages_layer,
    bytecode_compiler,
    compile_in_container,
    container_engine,
    step_code,
)
from datasync_workflow.cdk.config import WorkflowConfig
from datasync_workflow.definition.flow import definition_file_text
from datasync_workflow.definition.steps import STEPS, WORKFLOW_ARN_PLACEHOLDER, Grant, Step, workflow_steps

# The newest runtime both aws-cdk-lib and the AWS-managed Powertools layer support.
RUNTIME = lambda_.Runtime.PYTHON_3_14
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/{version}"

MEMORY_MB = 256
MAX_STATE_MACHINE_NAME = 80

# What DataSync checks on its caller while it creates EFS and FSx locations and the tasks on them (the network
# interfaces it places in the input's subnets, the file systems it mounts), after AWS's AWSDataSyncFullAccess; granted
# only to a deployment with vpc_locations. Not conditioned on aws:CalledVia: IAM documents that key only for the
# services that forward the caller's credentials through it (the global condition keys page), and DataSync is not one
# of them, so the condition could refuse what DataSync needs.
NETWORK_AND_STORAGE_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:ModifyNetworkInterfaceAttribute",
    "elasticfilesystem:DescribeAccessPoints",
    "elasticfilesystem:DescribeFileSystems",
    "elasticfilesystem:DescribeMountTargets",
    "fsx:DescribeFileSystems",
    "fsx:DescribeStorageVirtualMachines",
]

FUNCTION_WILDCARD_REASON = (
    "Resource * is only granted for what supports nothing narrower or names what the input decides: X-Ray's "
    "PutTraceSegments and PutTelemetryRecords, DataSync's List* and CreateLocation* actions, and the EC2, EFS and "
    "FSx actions DataSync checks on its caller while it creates EFS and FSx locations and their tasks (network "
    "interfaces in the input's subnets, the input's file systems)."
)
STATE_MACHINE_WILDCARD_REASON = (
    "CDK's grants for tracing (X-Ray trace and sampling actions) and for logging to a log group (CloudWatch "
    "Logs' log-delivery actions); neither supports resource-level permissions."
)
WILDCARD_REASONS = {
    "task": "The workflow runs whichever task of this account and region the execution input names or finds.",
    "location": "The workflow creates, links and removes locations that the execution input describes.",
    "execution": "The workflow follows and cancels the executions of whichever task it runs.",
    "agent": "CreateTask may name the agents of the locations the execution input describes, and create-locations "
    "reads their tags to keep a scoped run to its own agents.",
    "secret": "Only the secrets DataSync names aws-datasync!… when it keeps a location's credentials for it.",
    "workflow-execution": "The executions of this one state machine, whose input the steps read.",
    "batch-execution": "The executions of this deployment's batch state machine, whose input prepare-batch reads.",
    "batch-bucket": "Any object of this deployment's batch bucket may be a batch's transfers_from.",
    "batch-files": "The checked items and rows of each batch, kept under batches/ in this deployment's batch bucket.",
}
# What a Distributed Map's ResultWriter does with its result files, besides reading them (s3:GetObject, granted for the
# ItemReader): put them, in parts when large.
RESULT_WRITER_ACTIONS = ["s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
BATCH_FILES_DAYS = 30  # how long a batch's checked items and rows are kept


class WorkflowCore(Construct):
    """The functions, roles, state machines, table, bucket and queue of the workflow in one account and region."""

    def __init__(self, scope: Construct, construct_id: str, *, config: WorkflowConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        stack = Stack.of(self)
        # DataSync's kinds in the stack's region and in each of its `regions` (a run's region_name may name them).
        self._regional: dict[str, list[str]] = {
            kind: [
                stack.format_arn(service="datasync", region=region, resource=resource, resource_name=name)
                for region in [stack.region, *(r for r in config.regions if r != stack.region)]
            ]
            for kind, resource, name in (
                ("task", "task", "*"),
                ("location", "location", "*"),
                ("agent", "agent", "*"),
                ("execution", "task", "*/execution/*"),
            )
        }
        self._arn = {kind: arns[0] for kind, arns in self._regional.items()}
        self._arn["default-bus"] = stack.format_arn(service="events", resource="event-bus", resource_name="default")
        self._arn["secret"] = stack.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name="aws-datasync!*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

        self._compiler = bytecode_compiler(RUNTIME.name)
        self._compiling_container = None
        if self._compiler is None and config.bytecode_in_container and container_engine() is not None:
            self._compiling_container = BundlingOptions(
                image=RUNTIME.bundling_image,
                command=compile_in_container(RUNTIME.name),
                environment=BYTECODE_ENVIRONMENT,
            )
        if self._compiler is None and self._compiling_container is None:
            why = "no container engine answers" if config.bytecode_in_container else "bytecode_in_container is false"
            Annotations.of(self).add_info(
                f"The steps' code ships without bytecode: no {RUNTIME.name} here (the app's Python, or on PATH) to "
                f"make it, and {why}, so Lambda compiles the steps' source at each cold start (docs/cost.md)"
            )
        self.code = self._code(step_code)
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            config.powertools_layer_arn
            or ssm.StringParameter.value_for_string_parameter(
                self, POWERTOOLS_LAYER_PARAMETER.format(version=version("aws-lambda-powertools"))
            ),
        )
        self.bundled_layer = lambda_.LayerVersion(
            self,
            "BundledPackagesLayer",
            code=self._code(bundled_packages_layer),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description=f"{', '.join(BUNDLED_PACKAGES)} for the DataSync workflow's steps",
        )
        self.waiting_table = dynamodb.Table(
            self,
            "WaitingExecutions",
            partition_key=dynamodb.Attribute(name=waiting.PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=waiting.SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=waiting.EXPIRES_AT,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.waiting_table,
            "AwsSolutions-DDB3",
            "The table holds only task tokens of running executions and which runs use each task, each expiring "
            "within a day or so of its use: there is nothing to recover to a point in time.",
            finding_is_rule=True,
        )
        # What an EventBridge rule or a schedule could not deliver, and the events a rule's function failed on after
        # Lambda's own retries: kept for two weeks, an alarm (WorkflowOperations) on anything in it.
        self.failed_events = sqs.Queue(
            self,
            "FailedEvents",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.failed_events,
            "AwsSolutions-SQS3",
            "This queue is itself where failed events end: the rules' and schedules' dead-letter queue and the "
            "on-failure destination of the functions EventBridge runs.",
            finding_is_rule=True,
        )
        self.batch_bucket = self._batch_bucket()
        self._arn["batch-bucket"] = self.batch_bucket.arn_for_objects("*")
        self._arn["batch-files"] = self.batch_bucket.arn_for_objects(f"{ITEMS_PREFIX}*")
        # Named at synth, so that the steps can be told its ARN: a reference to it from a function it invokes would
        # make each wait for the other.
        self.state_machine_name = f"{Names.unique_id(self)}-Workflow"
        if len(self.state_machine_name) > MAX_STATE_MACHINE_NAME:
            raise ValueError(
                f"the state machine's name {self.state_machine_name!r}, made from the construct's path, is over "
                f"{MAX_STATE_MACHINE_NAME} characters, Step Functions' most: give the stack or the construct a shorter "
                "id"
            )
        self.state_machine_arn = stack.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=self.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.roles: dict[str, iam.Role] = {}
        self.functions = {step.name: self._function(step) for step in STEPS}

        # The definitions as flow.py makes them: the text of statemachine/*.asl.json, which `make definition` writes
        # from it and the local runner runs (tests/workflow/test_definition.py holds them equal). A wheel has the code,
        # not the files.
        self.state_machine = self._state_machine(
            "StateMachine", definition_file_text(), workflow_steps(), "StateMachine", name=self.state_machine_name
        )
        self._arn["workflow"] = self.state_machine.state_machine_arn
        self._arn["workflow-execution"] = self.executions_of(self.state_machine)
        self.batch_state_machine = self._batch_state_machine()
        self._arn["batch-execution"] = self.executions_of(self.batch_state_machine)
        for step in STEPS:
            self._grant_what_names_the_state_machine(step)
        self._resume_on_datasync_events()
        # The batch's summary is a task token's: the step answers it, with the summary or the batch's failure. Its own
        # policy, as for SendTaskSuccess above: the batch state machine names the step's function.
        iam.Policy(
            self,
            "AnswerBatchSummaries",
            statements=[
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                    resources=[self.batch_state_machine.state_machine_arn],
                )
            ],
            roles=[self.roles[step.name] for step in STEPS if step.answers_batch_tokens],
        )

    def _code(self, directory_of: Callable[[str | None], str]) -> lambda_.Code:
        """The asset of the directory `directory_of(compiler)` makes, with the bytecode of the runtime's Python: made
        there by the compiler found, or by CDK in a bundling container of Lambda's build image, or (neither at hand)
        none."""
        return lambda_.Code.from_asset(directory_of(self._compiler), bundling=self._compiling_container)

    def _batch_bucket(self) -> s3.Bucket:
        """Where a batch's transfers_from objects are put, and where the batch keeps its checked items and rows (under
        batches/, for BATCH_FILES_DAYS)."""
        bucket = s3.Bucket(
            self,
            "BatchBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(prefix=ITEMS_PREFIX, expiration=Duration.days(BATCH_FILES_DAYS))],
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "The bucket holds batch inputs the deployment's users put and what the batch writes back; CloudTrail's "
            "data events, where an account wants them, record who read and wrote which object.",
            finding_is_rule=True,
        )
        return bucket

    def _state_machine(
        self,
        construct_id: str,
        text: str,
        steps: list[Step],
        log_name: str,
        substitutions: dict[str, str] | None = None,
        name: str | None = None,
    ) -> sfn.StateMachine:
        """A Standard state machine of the definition `text`, which invokes `steps`' functions (and only those), traced
        and logging every event without its data."""
        machine = sfn.StateMachine(
            self,
            construct_id,
            state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_string(text),
            definition_substitutions={**self._invoked(steps), **(substitutions or {})},
            state_machine_type=sfn.StateMachineType.STANDARD,
            # The overall timeout is the definition's own TimeoutSeconds: CDK ignores `timeout` for a
            # definition given as a string.
            tracing_enabled=True,
            logs=sfn.LogOptions(
                # Step Functions' advice: under /aws/vendedlogs/ its log delivery does not grow the account's
                # CloudWatch Logs resource policy, which has a size limit.
                destination=self._log_group(
                    f"{construct_id}Logs", name=f"/aws/vendedlogs/states/{Names.unique_id(self)}-{log_name}"
                ),
                level=sfn.LogLevel.ALL,
                # Every state's input and output would land in the log group, whoever may read it: the execution's
                # own history keeps them, behind states:GetExecutionHistory.
                include_execution_data=False,
            ),
        )
        # The definition invokes each function by its unqualified ARN: no versions or aliases are granted.
        machine.add_to_role_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=list(self._invoked(steps).values()))
        )
        acknowledge(machine.role, "Resource::*", STATE_MACHINE_WILDCARD_REASON)
        return machine

    def _invoked(self, steps: list[Step]) -> dict[str, str]:
        """The ${...FunctionArn} substitutions of a definition that invokes `steps`."""
        return {str(step.placeholder): self.functions[step.name].function_arn for step in steps}

    def executions_of(self, machine: sfn.StateMachine) -> str:
        """The ARN pattern of `machine`'s executions."""
        return Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    def _batch_state_machine(self) -> sfn.StateMachine:
        """Many transfers in one run: a Map of child executions of the workflow's state machine (states:startExecution
        .sync:2), logged and traced as the workflow's is."""
        machine = self._state_machine(
            "BatchStateMachine",
            definition_file_text(batch=True),
            workflow_steps(batch=True),
            "Batch",
            {WORKFLOW_ARN_PLACEHOLDER: self.state_machine.state_machine_arn},
        )
        # What a .sync child execution needs (Step Functions developer guide, "IAM policies for starting Step
        # Functions executions"): start it, follow and stop it, and the managed rule that tells of its end.
        machine.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.state_machine.state_machine_arn])
        )
        workflow_executions = self.executions_of(self.state_machine)
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"], resources=[workflow_executions]
            )
        )
        machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[
                    Stack.of(self).format_arn(
                        service="events",
                        resource="rule",
                        resource_name="StepFunctionsGetEventsForStepFunctionsExecutionRule",
                    )
                ],
            )
        )
        acknowledge(
            machine.role,
            resource_finding(self, workflow_executions),
            "The batch follows and stops the child executions it starts of the workflow's state machine.",
        )
        # What a Distributed Map needs (developer guide, "IAM policies for using Distributed Map states"): read its
        # items, and start, follow and stop its own child executions. AWS's example (and CDK's own grant) names them
        # execution:<batch>:*, while a Map Run's children are named execution:<batch>/<map run>:<id>: both are granted.
        # A policy of its own: the role's default policy cannot name the state machine that depends on the role.
        own_children = [
            Stack.of(self).format_arn(
                service="states",
                resource="execution",
                resource_name=f"{machine.state_machine_name}{separator}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for separator in (":", "/")
        ]
        distributed_map = iam.Policy(
            self,
            "BatchDistributedMap",
            statements=[
                iam.PolicyStatement(actions=["s3:GetObject"], resources=[self._arn["batch-files"]]),
                # Its ResultWriter's files (developer guide, "IAM policies for ResultWriter"): put, in parts when
                # large, under the batch's own batches/<prefix>/.
                iam.PolicyStatement(actions=RESULT_WRITER_ACTIONS, resources=[self._arn["batch-files"]]),
                iam.PolicyStatement(actions=["states:StartExecution"], resources=[machine.state_machine_arn]),
                iam.PolicyStatement(
                    actions=["states:DescribeExecution", "states:StopExecution"], resources=own_children
                ),
            ],
            roles=[machine.role],
        )
        for arn, why in (
            *(
                (child, "The Distributed Map follows and stops the child executions it starts of the batch.")
                for child in own_children
            ),
            (self._arn["batch-files"], WILDCARD_REASONS["batch-files"]),
        ):
            acknowledge(distributed_map, resource_finding(self, arn), why)
        return machine

    def _log_group(self, construct_id: str, name: str | None = None) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=name,
            retention=logs.RetentionDays[self.config.log_retention],
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _function(self, step: Step) -> lambda_.Function:
        construct_id = step.construct_name
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"The DataSync workflow's {step.name} step",
        )
        self.roles[step.name] = role
        for statement in self._permissions(step):
            role.add_to_policy(statement)
        log_group = self._log_group(f"{construct_id}Logs")
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            f"{construct_id}Function",
            description=f"DataSync workflow: {step.name}",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=self.code,
            handler=step.handler,
            layers=[self.powertools_layer, self.bundled_layer],
            memory_size=MEMORY_MB,
            timeout=Duration.seconds(step.timeout_seconds),
            reserved_concurrent_executions=self.config.step_reserved_concurrency,
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                **FUNCTION_ENVIRONMENT,
                **({waiting.TABLE_NAME_VARIABLE: self.waiting_table.table_name} if step.table_actions else {}),
                **({BATCH_BUCKET_VARIABLE: self.batch_bucket.bucket_name} if uses_batch_bucket(step) else {}),
                # The workflow whose executions a step acts on, checked against what Step Functions says of them.
                WORKFLOW_STATE_MACHINE_VARIABLE: self.state_machine_arn,
                # The roles it may pass, whether a plaintext secret may be in the input, the scope tag.
                **self.config.deployment.environment(),
            },
        )
        if step.table_actions:
            self.waiting_table.grant(role, *step.table_actions)
        acknowledge(role, "Resource::*", FUNCTION_WILDCARD_REASON)
        self._acknowledge_wildcards(role, [grant for grant in self._granted(step) if not grant.names_the_state_machine])
        return function

    def _granted(self, step: Step) -> list[Grant]:
        return [
            grant
            for grant in step.grants
            if self.config.allow_secrets_in_input or not grant.only_with_plaintext_secrets
        ]

    def _statement(self, grant: Grant) -> iam.PolicyStatement:
        conditions = grant.conditions_for(self.config.scope_tag, self._arn.get("workflow-execution", ""))
        return iam.PolicyStatement(
            actions=list(grant.actions),
            resources=[arn for kind in grant.resources for arn in self._arns(kind)],
            conditions=conditions or None,
        )

    def _arns(self, kind: str) -> list[str]:
        """The ARNs a grant's resource kind names: a DataSync kind's in every region the deployment acts in."""
        return self._regional.get(kind) or [self._arn.get(kind, kind)]

    def _permissions(self, step: Step) -> list[iam.PolicyStatement]:
        """Only the actions the step calls, on the narrowest resources and under the conditions they support;
        those that name the state machine are granted once it exists (_grant_what_names_the_state_machine)."""
        statements = [self._statement(grant) for grant in self._granted(step) if not grant.names_the_state_machine]
        if step.makes_network_interfaces and self.config.vpc_locations:
            statements.append(iam.PolicyStatement(actions=NETWORK_AND_STORAGE_ACTIONS, resources=["*"]))
            statements.append(
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=[
                        Stack.of(self).format_arn(
                            service="iam",
                            region="",
                            resource="role",
                            resource_name="aws-service-role/datasync.amazonaws.com/AWSServiceRoleForDataSync",
                        )
                    ],
                    conditions={"StringLike": {"iam:AWSServiceName": "datasync.amazonaws.com"}},
                )
            )
        if step.calls_datasync and self.config.connections:
            # The other accounts' roles a run's aws_conn_id names: exactly those (places.py assumes them).
            statements.append(
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=sorted(set(self.config.connections.values())))
            )
        if step.passes_roles and self.config.passable_role_arns:
            statements.append(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=self.config.passable_role_arns,
                    conditions={"StringEquals": {"iam:PassedToService": "datasync.amazonaws.com"}},
                )
            )
        return statements

    def _grant_what_names_the_state_machine(self, step: Step) -> None:
        """A policy of its own for the grants that name the state machine, which names the step's function: in the
        role's default policy they would make each wait for the other."""
        grants = [grant for grant in self._granted(step) if grant.names_the_state_machine]
        if grants:
            policy = iam.Policy(
                self,
                f"{step.construct_name}StateMachineGrants",
                statements=[self._statement(grant) for grant in grants],
                roles=[self.roles[step.name]],
            )
            self._acknowledge_wildcards(policy, grants)

    def _resume_on_datasync_events(self) -> None:
        """DataSync's state-change event of a finished execution wakes the workflow executions waiting for it."""
        # Its own policy: the state machine names the await-event function, whose role's default policy would
        # otherwise have to name the state machine first.
        iam.Policy(
            self,
            "SendTaskSuccess",
            statements=[
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess"], resources=[self.state_machine.state_machine_arn]
                )
            ],
            roles=[self.roles[step.name] for step in STEPS if step.sends_task_tokens],
        )
        events.Rule(
            self,
            "ResumeOnDataSyncEvents",
            description="Wake the workflow executions waiting for a DataSync execution that ended",
            event_pattern=events.EventPattern(
                source=COMPLETION_EVENTS["source"],
                detail_type=COMPLETION_EVENTS["detail-type"],
                detail=COMPLETION_EVENTS["detail"],
            ),
            targets=[self.rule_target("resume", max_event_age=Duration.hours(1))],
        )

    def rule_target(
        self, step_name: str, max_event_age: Duration, event: events.RuleTargetInput | None = None
    ) -> events_targets.LambdaFunction:
        """The step's function as an EventBridge rule's target, whose failures are kept in `failed_events`.

        EventBridge retries only the delivery (here up to 8 times, within `max_event_age`), and a delivery it gives
        up on goes to the target's dead-letter queue. Delivered, the event is Lambda's asynchronous invocation: a
        function error is retried twice, then the event goes to the on-failure destination (the same queue)."""
        function = self.functions[step_name]
        function.configure_async_invoke(
            retry_attempts=2,
            max_event_age=max_event_age,
            on_failure=destinations.SqsDestination(self.failed_events),
        )
        return events_targets.LambdaFunction(
            function, event=event, retry_attempts=8, max_event_age=max_event_age, dead_letter_queue=self.failed_events
        )

    def _acknowledge_wildcards(self, construct: IConstruct, grants: list[Grant]) -> None:
        # "*" is acknowledged with the step's own reason; the state machine's and the bus's ARNs have no wildcard.
        for kind in sorted({kind for grant in grants for kind in grant.resources} - {"*", "workflow", "default-bus"}):
            for arn in self._arns(kind):
                acknowledge(construct, resource_finding(self, arn), WILDCARD_REASONS[kind])


def uses_batch_bucket(step: Step) -> bool:
    return any({"batch-bucket", "batch-files"} & set(grant.resources) for grant in step.grants)


def resource_finding(scope: IConstruct, arn: str) -> str:
    """cdk-nag's name for a wildcard in the resource `arn` (a CDK token): its parts with each reference written
    as cdk-nag writes it, `<AWS::Region>` or `<LogicalId.Attribute>`."""
    resolved = Stack.of(scope).resolve(arn)
    parts = resolved["Fn::Join"][1] if isinstance(resolved, dict) else [resolved]
    written = [
        part if isinstance(part, str) else f"<{part['Ref']}>" if "Ref" in part else f"<{'.'.join(part['Fn::GetAtt'])}>"
        for part in parts
    ]
    return "Resource::" + "".join(written)


def acknowledge(construct: IConstruct, finding: str, reason: str, *, finding_is_rule: bool = False) -> None:
    rule_id = finding if finding_is_rule else f"AwsSolutions-IAM5[{finding}]"
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
