"""The WorkflowOperations construct: what runs beside a WorkflowCore to operate it, the clean-up of stopped
executions, the rules that announce each run's and batch's end, the alarms and their topic, the dashboard and the
schedules."""

from aws_cdk import ArnFormat, Duration, Names, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from datasync_steps.announce import FINISHED_STATUSES
from datasync_steps.deployment import BATCH_STATE_MACHINE_VARIABLE
from datasync_steps.names import STOPPED_STATUSES
from datasync_steps.observability import METRICS_NAMESPACE, SERVICE
from datasync_workflow.cdk.config import Schedule
from datasync_workflow.cdk.core import WorkflowCore, acknowledge, resource_finding


def ended_execution() -> dict[str, str]:
    """What a rule on Step Functions' status change hands its step of the event's detail: which execution, of which
    state machine, and the status, never its input, output, error or cause. An input may hold a secret (with
    allow_secrets_in_input), and the step asks Step Functions for the rest (DescribeExecution) rather than trust an
    event anyone who may invoke the function could write."""
    return {
        key: events.EventField.from_path(f"$.detail.{key}") for key in ("executionArn", "stateMachineArn", "status")
    }


class WorkflowOperations(Construct):
    """Operates one WorkflowCore, with its settings (alarm_emails, schedules)."""

    def __init__(self, scope: Construct, construct_id: str, *, workflow: WorkflowCore):
        super().__init__(scope, construct_id)
        self.workflow, self.config = workflow, workflow.config
        self.state_machine = workflow.state_machine
        self._clean_up_stopped_executions()
        self._stop_the_children_of_stopped_batches()
        self._announce_finished_runs()
        self._announce_finished_batches()
        self.alarm, self.failed_events_alarm = self._alarms()
        self.dashboard = self._dashboard()
        self.schedules = [self._schedule(schedule) for schedule in self.config.schedules]

    def _clean_up_stopped_executions(self) -> None:
        """Step Functions runs no Catch on abort or timeout: cancel the DataSync execution from EventBridge."""
        self._run_when_executions_end(
            "cleanup",
            "CleanUpStoppedExecutions",
            "Cancel the DataSync execution of a workflow that was aborted, timed out or failed",
            sorted(STOPPED_STATUSES),
            "The clean-up step reads the history of whichever execution of this one state machine stopped.",
        )

    def _stop_the_children_of_stopped_batches(self) -> None:
        """A batch that was stopped, timed out or failed stops its children still running (the stop-batch step),
        whose clean-up then cancels their DataSync executions. The rule hands the step the workflow's state machine."""
        self._run_on_ends(
            "StopChildrenOfStoppedBatches",
            "Stop the running children of a DataSync workflow batch that was aborted, timed out or failed",
            self.workflow.batch_state_machine,
            sorted(STOPPED_STATUSES),
            "stop-batch",
            workflow_state_machine_arn=self.state_machine.state_machine_arn,
        )

    def _announce_finished_runs(self) -> None:
        """Each run's end, whatever ended it, as one event on the default bus (the announce step)."""
        self._run_when_executions_end(
            "announce",
            "AnnounceFinishedRuns",
            "Put one DataSync Workflow Run Finished event on the default bus when a run ends",
            list(FINISHED_STATUSES),
            "The announce step reads the history of whichever execution of this one state machine ended.",
        )

    def _announce_finished_batches(self) -> None:
        """Each batch's end, whatever ended it, as one event on the default bus (the announce-batch step), which
        knows the batch's state machine from its environment, never from the event."""
        batches = self.workflow.batch_state_machine
        self.workflow.functions["announce-batch"].add_environment(
            BATCH_STATE_MACHINE_VARIABLE, batches.state_machine_arn
        )
        self._run_on_ends(
            "AnnounceFinishedBatches",
            "Put one DataSync Workflow Batch Finished event on the default bus when a batch ends",
            batches,
            list(FINISHED_STATUSES),
            "announce-batch",
        )

    def _run_when_executions_end(
        self, step_name: str, rule_id: str, description: str, statuses: list[str], why_history: str
    ) -> None:
        """A rule on the workflow's executions that end in `statuses`, which runs `step_name`'s function (allowed to
        read their history)."""
        executions = self.workflow.executions_of(self.state_machine)
        self.workflow.functions[step_name].add_to_role_policy(
            iam.PolicyStatement(actions=["states:GetExecutionHistory"], resources=[executions])
        )
        self._run_on_ends(rule_id, description, self.state_machine, statuses, step_name)
        acknowledge(self.workflow.roles[step_name], resource_finding(self, executions), why_history)

    def _run_on_ends(
        self,
        rule_id: str,
        description: str,
        machine: sfn.StateMachine,
        statuses: list[str],
        step_name: str,
        **given: str,
    ) -> None:
        """A rule on Step Functions' status change of `machine`'s executions that end in `statuses`, which runs
        `step_name`'s function with which execution ended (ended_execution) and what the stack has `given` it. Its
        events keep for 6 hours: a stopped execution's DataSync transfer goes on until it is cancelled, so hours later
        is still worth it."""
        events.Rule(
            self,
            rule_id,
            description=description,
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={"status": statuses, "stateMachineArn": [machine.state_machine_arn]},
            ),
            targets=[
                self.workflow.rule_target(
                    step_name,
                    max_event_age=Duration.hours(6),
                    event=events.RuleTargetInput.from_object({"detail": ended_execution(), **given}),
                )
            ],
        )

    def _alarms(self) -> list[cloudwatch.Alarm]:
        """An alarm when an execution fails or times out, one when an event could not be handled (kept in the
        workflow's failed_events queue); both notify the topic where alarm_emails are set."""
        self.topic: sns.Topic | None = None
        period = Duration.minutes(5)
        # Named, so that the topic's key and policy can name the alarms without depending on them (the alarms
        # depend on the topic).
        names = [f"{Names.unique_id(self)}-{kind}" for kind in ("FailedOrTimedOut", "FailedEvents")]
        alarms = [
            cloudwatch.Alarm(
                self,
                "FailedOrTimedOut",
                alarm_name=names[0],
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
            ),
            cloudwatch.Alarm(
                self,
                "FailedEvents",
                alarm_name=names[1],
                alarm_description="An event the DataSync workflow could not handle (a wake-up, a clean-up, a "
                "scheduled start) waits in its failed-events queue",
                metric=self.workflow.failed_events.metric_approximate_number_of_messages_visible(
                    period=period, statistic="Maximum", label="Failed events kept"
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        if self.config.alarm_emails:
            # CloudWatch cannot use the AWS-managed alias/aws/sns key, whose policy no one can change: the topic's
            # key is the stack's own, and CloudWatch may use it (and publish to the topic) for these alarms only.
            cloudwatch_alarms = iam.ServicePrincipal("cloudwatch.amazonaws.com").with_conditions(
                {
                    "ArnLike": {
                        "aws:SourceArn": [
                            Stack.of(self).format_arn(
                                service="cloudwatch",
                                resource="alarm",
                                resource_name=name,
                                arn_format=ArnFormat.COLON_RESOURCE_NAME,
                            )
                            for name in names
                        ]
                    },
                    "StringEquals": {"aws:SourceAccount": Stack.of(self).account},
                }
            )
            key = kms.Key(
                self,
                "AlarmTopicKey",
                description="Encrypts the DataSync workflow's alarm topic; CloudWatch may use it for the alarms",
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
            for alarm in alarms:
                alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        return alarms

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
            cloudwatch.AlarmWidget(title="Failed or timed-out executions", alarm=self.alarm, width=6),
            cloudwatch.AlarmWidget(
                title="Events that failed (wake-ups, clean-ups, scheduled starts)",
                alarm=self.failed_events_alarm,
                width=6,
            ),
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
                right=[
                    published("FilesTransferred", "files"),
                    published("FilesFailed", "files failed (Enhanced mode)"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Batches",
                left=[
                    metric.with_(statistic="Sum", period=period)
                    for metric in (
                        self.workflow.batch_state_machine.metric_started(label="batches started"),
                        self.workflow.batch_state_machine.metric_succeeded(label="batches succeeded"),
                        self.workflow.batch_state_machine.metric_failed(label="batches failed"),
                    )
                ],
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
                self.state_machine,
                input=scheduler.ScheduleTargetInput.from_object(schedule.started_input),
                # EventBridge Scheduler retries a start it could not make (throttled, say), then keeps it here.
                dead_letter_queue=self.workflow.failed_events,
                retry_attempts=8,
                max_event_age=Duration.hours(1),
            ),
        )
