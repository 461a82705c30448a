"""The stack that deploys one DataSyncWorkflow and its WorkflowOperations, and the app that holds it with cdk-nag's
checks."""

from aws_cdk import App, CfnOutput, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from infra.config import WorkflowConfig, load_config
from infra.e2e_fixtures import FIXTURES_CONTEXT, FIXTURES_STACK_NAME, E2EFixturesStack
from infra.operations import WorkflowOperations
from infra.workflow import DataSyncWorkflow

STACK_NAME = "DataSyncWorkflow"


class DataSyncWorkflowStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: WorkflowConfig, **kwargs) -> None:
        super().__init__(
            scope, construct_id, description="Runs AWS DataSync tasks as a Step Functions workflow", **kwargs
        )
        self.workflow = DataSyncWorkflow(self, "Workflow", config=config)
        self.operations = WorkflowOperations(self, "Operations", workflow=self.workflow, config=config)
        CfnOutput(self, "StateMachineArn", value=self.workflow.state_machine.state_machine_arn)
        CfnOutput(self, "BatchStateMachineArn", value=self.workflow.batch_state_machine.state_machine_arn)
        CfnOutput(self, "BatchBucketName", value=self.workflow.batch_bucket.bucket_name)
        CfnOutput(self, "AlarmName", value=self.operations.alarm.alarm_name)
        CfnOutput(self, "FailedEventsQueueUrl", value=self.workflow.failed_events.queue_url)
        dashboard = self.operations.dashboard.dashboard_name
        CfnOutput(
            self,
            "DashboardUrl",
            value=f"https://console.aws.amazon.com/cloudwatch/home?region={self.region}#dashboards/dashboard/{dashboard}",
        )


def build_app(outdir: str | None = None, context: dict | None = None) -> App:
    """The CDK app: no AWS call is made, so it synthesizes offline. cdk-nag findings fail the synth. With the context
    e2e_fixtures=true it also holds the end-to-end suite's fixtures (infra/e2e_fixtures.py)."""
    app = App(outdir=outdir, context=context)
    config = load_config(app.node.try_get_context("datasync_workflow"))
    DataSyncWorkflowStack(app, STACK_NAME, config=config)
    if str(app.node.try_get_context(FIXTURES_CONTEXT)).lower() == "true":  # -c e2e_fixtures=true: a string
        E2EFixturesStack(app, FIXTURES_STACK_NAME)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app
