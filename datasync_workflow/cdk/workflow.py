"""The DataSyncWorkflow construct: the whole deployment, for any stack."""

from typing import Unpack

from constructs import Construct

from datasync_workflow.cdk.config import WorkflowConfig, WorkflowSettings
from datasync_workflow.cdk.core import WorkflowCore
from datasync_workflow.cdk.operations import WorkflowOperations


class DataSyncWorkflow(Construct):
    """The DataSync workflow in the stack's account and region: what runs a transfer (`core`: the step functions and
    their roles, the state machines, the table of waiting task tokens, the batch bucket, the failed-events queue) and
    what operates it (`operations`: the clean-up and announcing rules, the alarms, the dashboard, the schedules).

    The keyword arguments are the deployment's settings, the keys of cdk.json's `datasync_workflow` object in the
    repository's own app (WorkflowSettings; their meanings and defaults are WorkflowConfig's fields, the table in
    docs/deploying.md). They are checked here, at synth, as that object is: an unknown or bad one raises
    pydantic's ValidationError, a schedule whose input the workflow would refuse DataSyncInvalidInputError.
    """

    def __init__(self, scope: Construct, construct_id: str, **settings: Unpack[WorkflowSettings]) -> None:
        config = WorkflowConfig.model_validate(settings)
        super().__init__(scope, construct_id)
        self.config = config
        self.core = WorkflowCore(self, "Workflow", config=config)
        self.operations = WorkflowOperations(self, "Operations", workflow=self.core)
        # What a stack most often refers to.
        self.state_machine = self.core.state_machine
        self.batch_state_machine = self.core.batch_state_machine
        self.batch_bucket = self.core.batch_bucket
        self.failed_events = self.core.failed_events
        self.functions = self.core.functions
        self.alarm = self.operations.alarm
        self.failed_events_alarm = self.operations.failed_events_alarm
        self.dashboard = self.operations.dashboard
