"""The DataSyncWorkflow construct: step functions, their roles, the state machine, logs, alarm and schedules."""

import json
from importlib.metadata import version
from typing import cast

from aws_cdk import Acknowledgment, ArnFormat, CfnElement, Duration, Names, RemovalPolicy, Stack, TimeZone, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct

from datasync_steps import waiting
from datasync_steps.names import STOPPED_STATUSES
from datasync_steps.observability import METRICS_NAMESPACE, SERVICE
from datasync_steps.resume import COMPLETION_EVENTS
from datasync_steps.workflow_input import PASSABLE_ROLES_VARIABLE
from datasync_workflow.definition import LAMBDAS_PATH, STEPS, Step, definition_text
from infra.config import Schedule, WorkflowConfig

# The newest runtime both aws-cdk-lib and the AWS-managed Powertools layer support.
RUNTIME = lambda_.Runtime.PYTHON_3_14
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/arm64/python3.14/{version}"

MEMORY_MB = 256

# What DataSync checks on its caller while it creates EFS and FSx locations and the tasks on them (the network
# interfaces it places in the input's subnets, the file systems it mounts), after AWS's AWSDataSyncFullAccess.
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
    "agent": "CreateTask may name the agents of the locations the execution input describes.",
    "secret": "Only the secrets DataSync names aws-datasync!… when it keeps a location's credentials for it.",
}


class DataSyncWorkflow(Construct):
    """Everything the workflow needs in one account and region; embed it in any stack."""

    def __init__(self, scope: Construct, construct_id: str, *, config: WorkflowConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        stack = Stack.of(self)
        self._arn = {
            kind: stack.format_arn(service="datasync", resource=kind, resource_name="*")
            for kind in ("task", "location", "agent")
        }
        self._arn["execution"] = stack.format_arn(service="datasync", resource="task", resource_name="*/execution/*")
        self._arn["secret"] = stack.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name="aws-datasync!*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

        self.code = lambda_.Code.from_asset(str(LAMBDAS_PATH), exclude=["**/__pycache__"])
        self.powertools_layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            config.powertools_layer_arn
            or ssm.StringParameter.value_for_string_parameter(
                self, POWERTOOLS_LAYER_PARAMETER.format(version=version("aws-lambda-powertools"))
            ),
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
        _acknowledge(
            self.waiting_table,
            "AwsSolutions-DDB3",
            "The table holds only task tokens of running executions, each expiring within hours of its wait: "
            "there is nothing to recover to a point in time.",
            finding_is_rule=True,
        )
        self.roles: dict[str, iam.Role] = {}
        self.functions = {step.name: self._function(step) for step in STEPS}

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_string(definition_text()),
            definition_substitutions={
                step.placeholder: self.functions[step.name].function_arn for step in STEPS if step.placeholder
            },
            state_machine_type=sfn.StateMachineType.STANDARD,
            # The overall timeout is the definition's own TimeoutSeconds: CDK ignores `timeout` for a
            # definition given as a string.
            tracing_enabled=True,
            logs=sfn.LogOptions(
                # Step Functions' advice: under /aws/vendedlogs/ its log delivery does not grow the account's
                # CloudWatch Logs resource policy, which has a size limit.
                destination=self._log_group(
                    "StateMachineLogs", name=f"/aws/vendedlogs/states/{Names.unique_id(self)}-StateMachine"
                ),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )
        # The definition invokes each function by its unqualified ARN: no versions or aliases are granted.
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[self.functions[step.name].function_arn for step in STEPS if step.placeholder],
            )
        )
        _acknowledge(self.state_machine.role, "Resource::*", STATE_MACHINE_WILDCARD_REASON)
        self._resume_on_datasync_events()
        self._clean_up_stopped_executions()
        self.alarm = self._alarm_on_failures()
        self.dashboard = self._dashboard()
        self.schedules = [self._schedule(schedule) for schedule in config.schedules]

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
            layers=[self.powertools_layer],
            memory_size=MEMORY_MB,
            timeout=Duration.seconds(step.timeout_seconds),
            role=role,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": SERVICE,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **({waiting.TABLE_NAME_VARIABLE: self.waiting_table.table_name} if step.table_actions else {}),
                # The resolve step refuses an input naming a role the other steps could not pass.
                **(
                    {PASSABLE_ROLES_VARIABLE: json.dumps(self.config.passable_role_arns)}
                    if step.name == "resolve"
                    else {}
                ),
            },
        )
        if step.table_actions:
            self.waiting_table.grant(role, *step.table_actions)
        self._acknowledge_wildcards(step, role)
        return function

    def _permissions(self, step: Step) -> list[iam.PolicyStatement]:
        """Only the DataSync actions the step calls, on the narrowest resources DataSync supports."""
        statements = [
            iam.PolicyStatement(actions=list(actions), resources=[self._arn.get(kind, kind) for kind in kinds])
            for actions, kinds in step.permissions
        ]
        if step.makes_network_interfaces:
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
        if step.passes_roles and self.config.passable_role_arns:
            statements.append(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=self.config.passable_role_arns,
                    conditions={"StringEquals": {"iam:PassedToService": "datasync.amazonaws.com"}},
                )
            )
        return statements

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
            roles=[self.roles[step.name] for step in STEPS if step.table_actions],
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
            targets=[
                events_targets.LambdaFunction(
                    self.functions["resume"], retry_attempts=8, max_event_age=Duration.hours(1)
                )
            ],
        )

    def _clean_up_stopped_executions(self) -> None:
        """Step Functions runs no Catch on abort or timeout: cancel the DataSync execution from EventBridge."""
        cleanup = self.functions["cleanup"]
        executions = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{self.state_machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        cleanup.add_to_role_policy(iam.PolicyStatement(actions=["states:GetExecutionHistory"], resources=[executions]))
        events.Rule(
            self,
            "CleanUpStoppedExecutions",
            description="Cancel the DataSync execution of a workflow that was aborted, timed out or failed",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": sorted(STOPPED_STATUSES), "stateMachineArn": [self.state_machine.state_machine_arn]},
            ),
            targets=[events_targets.LambdaFunction(cleanup, retry_attempts=8, max_event_age=Duration.hours(2))],
        )
        machine_id = Stack.of(self).get_logical_id(cast(CfnElement, self.state_machine.node.default_child))
        _acknowledge(
            self.roles["cleanup"],
            f"Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<{machine_id}.Name>:*",
            "The clean-up step reads the history of whichever execution of this one state machine stopped.",
        )

    def _alarm_on_failures(self) -> cloudwatch.Alarm:
        self.topic: sns.Topic | None = None
        period = Duration.minutes(5)
        # Named, so that the topic's key and policy can name the alarm without depending on it (the alarm depends
        # on the topic).
        alarm_name = f"{Names.unique_id(self)}-FailedOrTimedOut"
        alarm = cloudwatch.Alarm(
            self,
            "FailedOrTimedOut",
            alarm_name=alarm_name,
            alarm_description="A DataSync workflow execution failed or timed out",
            metric=cloudwatch.MathExpression(
                expression="failed + timedOut",
                using_metrics={
                    "failed": self.state_machine.metric_failed(period=period, statistic="Sum"),
                    "timedOut": self.state_machine.metric_timed_out(period=period, statistic="Sum"),
                },
                period=period,
                label="Failed or timed-out executions",
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        if self.config.alarm_emails:
            # CloudWatch cannot use the AWS-managed alias/aws/sns key, whose policy no one can change: the topic's
            # key is the stack's own, and CloudWatch may use it (and publish to the topic) for this alarm only.
            cloudwatch_alarms = iam.ServicePrincipal("cloudwatch.amazonaws.com").with_conditions(
                {
                    "ArnLike": {
                        "aws:SourceArn": Stack.of(self).format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=alarm_name,
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                }
            )
            key = kms.Key(
                self,
                "AlarmTopicKey",
                description="Encrypts the DataSync workflow's alarm topic; CloudWatch may use it for the alarm",
                enable_key_rotation=True,
                pending_window=Duration.days(7),
                removal_policy=RemovalPolicy.DESTROY,
            )
            key.grant(cloudwatch_alarms, "kms:Decrypt", "kms:GenerateDataKey*")
            self.topic = sns.Topic(
                self, "AlarmTopic", display_name="DataSync workflow failures", master_key=key, enforce_ssl=True
            )
            self.topic.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="CloudWatchAlarmPublishes",
                    principals=[cloudwatch_alarms],
                    actions=["sns:Publish"],
                    resources=[self.topic.topic_arn],
                )
            )
            for email in self.config.alarm_emails:
                self.topic.add_subscription(subscriptions.EmailSubscription(email))
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        return alarm

    def _dashboard(self) -> cloudwatch.Dashboard:
        """Executions and what they moved: Step Functions' own metrics beside the ones the steps publish."""
        machine, period = self.state_machine, Duration.hours(1)

        def published(name: str, label: str, statistic: str = "Sum") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": SERVICE},
                statistic=statistic,
                period=period,
                label=label,
            )

        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.days(7))
        executions = [
            machine.metric_started(label="started"),
            machine.metric_succeeded(label="succeeded"),
            machine.metric_failed(label="failed"),
            machine.metric_timed_out(label="timed out"),
            machine.metric_aborted(label="aborted"),
        ]
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Workflow executions",
                left=[metric.with_(statistic="Sum", period=period) for metric in executions],
                width=12,
            ),
            cloudwatch.AlarmWidget(title="Failed or timed-out executions", alarm=self.alarm, width=12),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Duration",
                left=[
                    machine.metric_time(label="workflow execution (average)", statistic="Average", period=period),
                    published("Duration", "DataSync transfer (average)", "Average"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Transferred",
                left=[published("BytesTransferred", "bytes")],
                right=[published("FilesTransferred", "files")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Waiting for the end of transfers",
                left=[
                    published("StatusChecks", "status checks"),
                    published("EventWaits", "waits for DataSync's event"),
                    published("WaitsEndedByEvent", "waits ended by the event"),
                ],
                width=8,
            ),
        )
        return dashboard

    def _schedule(self, schedule: Schedule) -> scheduler.Schedule:
        return scheduler.Schedule(
            self,
            f"Schedule-{schedule.name}",
            description=f"Starts the DataSync workflow: {schedule.name}",
            schedule=scheduler.ScheduleExpression.expression(
                schedule.expression, TimeZone.of(schedule.timezone) if schedule.timezone else None
            ),
            target=scheduler_targets.StepFunctionsStartExecution(
                self.state_machine, input=scheduler.ScheduleTargetInput.from_object(schedule.input)
            ),
        )

    def _acknowledge_wildcards(self, step: Step, role: iam.Role) -> None:
        _acknowledge(role, "Resource::*", FUNCTION_WILDCARD_REASON)
        kinds = {kind for _, step_kinds in step.permissions for kind in step_kinds}
        for kind in sorted(kinds - {"*"}):
            arn = {"execution": "datasync:<AWS::Region>:<AWS::AccountId>:task/*/execution/*"}.get(
                kind, f"datasync:<AWS::Region>:<AWS::AccountId>:{kind}/*"
            )
            if kind == "secret":
                arn = "secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:aws-datasync!*"
            _acknowledge(role, f"Resource::arn:<AWS::Partition>:{arn}", WILDCARD_REASONS[kind])


def _acknowledge(construct: IConstruct, finding: str, reason: str, *, finding_is_rule: bool = False) -> None:
    rule_id = finding if finding_is_rule else f"AwsSolutions-IAM5[{finding}]"
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))
