"""The workflow as a CDK construct for a team's own app: `pip install "datasync-workflow[cdk]"`, then

    from datasync_workflow.cdk import DataSyncWorkflow

    DataSyncWorkflow(stack, "Transfers", passable_role_arns=[...], alarm_emails=[...])

with the deployment's settings as keyword arguments (WorkflowSettings, checked by WorkflowConfig at synth). The
repository's own stack (infra/stack.py) deploys the same construct. The steps' code and the Jinja2 layer are made
from the installed packages (assets.py); nothing is read from a checkout.
"""

from datasync_steps.deployment import ScopeTag
from datasync_workflow.cdk.config import Schedule, WorkflowConfig, WorkflowSettings
from datasync_workflow.cdk.workflow import DataSyncWorkflow

__all__ = ["DataSyncWorkflow", "Schedule", "ScopeTag", "WorkflowConfig", "WorkflowSettings"]
