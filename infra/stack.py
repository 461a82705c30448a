"""The repository's own stack, which deploys one DataSyncWorkflow with the settings in cdk.json, and the app that holds
it with cdk-nag's checks."""

import json
from typing import Any

from aws_cdk import App, CfnOutput, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from datasync_workflow.cdk import DataSyncWorkflow
from infra.e2e_fixtures import FIXTURES_CONTEXT, FIXTURES_STACK_NAME, E2EFixturesStack

STACK_NAME = "DataSyncWorkflow"
SETTINGS_CONTEXT = "datasync_workflow"


class DataSyncWorkflowStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: dict[str, Any], **kwargs) -> None:
        super().__init__(
            scope, construct_id, description="Runs AWS DataSync tasks as a Step Functions workflow", **kwargs
        )
        # CDK leaves the id "Default" out of the logical IDs and names made below it (the CDK developer guide,
        # "Identifiers"): the resources are Workflow… and Operations…, as this stack has always deployed them.
        self.workflow = DataSyncWorkflow(self, "Default", **settings)
        CfnOutput(self, "StateMachineArn", value=self.workflow.state_machine.state_machine_arn)
        CfnOutput(self, "BatchStateMachineArn", value=self.workflow.batch_state_machine.state_machine_arn)
        CfnOutput(self, "BatchBucketName", value=self.workflow.batch_bucket.bucket_name)
        CfnOutput(self, "AlarmName", value=self.workflow.alarm.alarm_name)
        CfnOutput(self, "FailedEventsQueueUrl", value=self.workflow.failed_events.queue_url)
        dashboard = self.workflow.dashboard.dashboard_name
        CfnOutput(
            self,
            "DashboardUrl",
            value=f"https://console.aws.amazon.com/cloudwatch/home?region={self.region}#dashboards/dashboard/{dashboard}",
        )


def settings_from_context(value: Any) -> dict[str, Any]:
    """The settings from the context value: an object from cdk.json, or a JSON string from `-c`."""
    if value is None:
        return {}
    settings = json.loads(value) if isinstance(value, str) else value
    if not isinstance(settings, dict):
        raise ValueError(f"the {SETTINGS_CONTEXT} context is not an object of settings: {settings!r}")
    return settings


def build_app(outdir: str | None = None, context: dict | None = None) -> App:
    """The CDK app: no AWS call is made, so it synthesizes offline. cdk-nag findings fail the synth. With the context
    e2e_fixtures=true it also holds the end-to-end suite's fixtures (infra/e2e_fixtures.py)."""
    app = App(outdir=outdir, context=context)
    settings = settings_from_context(app.node.try_get_context(SETTINGS_CONTEXT))
    DataSyncWorkflowStack(app, STACK_NAME, settings=settings)
    if str(app.node.try_get_context(FIXTURES_CONTEXT)).lower() == "true":  # -c e2e_fixtures=true: a string
        E2EFixturesStack(app, FIXTURES_STACK_NAME)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app
