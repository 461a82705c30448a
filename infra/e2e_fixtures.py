"""What the end-to-end suite needs made once in an account and region, so that it needs no iam:CreateRole: the
role DataSync assumes to read and write the suite's buckets, and the role EventBridge Scheduler starts the workflow
with in the schedule scenario. The app adds this stack only when asked (`-c e2e_fixtures=true`, which
`make e2e-fixtures` passes); tests/e2e/target.py reads the roles from its outputs."""

from aws_cdk import ArnFormat, Aws, CfnOutput, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from datasync_workflow.cdk.core import acknowledge, resource_finding

FIXTURES_STACK_NAME = "DataSyncWorkflowE2EFixtures"
FIXTURES_CONTEXT = "e2e_fixtures"  # -c e2e_fixtures=true adds the stack to the app
BUCKET_ROLE_OUTPUT, SCHEDULER_ROLE_OUTPUT = "BucketRoleArn", "SchedulerRoleArn"
BUCKET_PREFIX = "datasync-workflow-e2e-"  # tests/e2e/target.py's Target.bucket names every bucket so
# IAM role names are global to the account and the trust policy names one region: a role per region, at a name
# that can be written in the main stack's passable_role_arns before this stack is deployed.
BUCKET_ROLE_NAME = f"datasync-workflow-e2e-buckets-{Aws.REGION}"
# The workflow stack names its state machine <construct's unique id>-Workflow (datasync_workflow/cdk/core.py), which
# this stack, deployed first and for any stack name, cannot know more of.
WORKFLOW_STATE_MACHINES = "*-Workflow"

# DataSync user guide, "Configuring AWS DataSync transfers with Amazon S3", section "Required permissions"
# (https://docs.aws.amazon.com/datasync/latest/userguide/create-s3-location.html#create-s3-location-required-permissions):
# a source location's role needs the bucket actions and GetObject, GetObjectTagging, GetObjectVersion,
# GetObjectVersionTagging and ListMultipartUploadParts on its objects; a destination's, the same bucket actions and
# these object actions with AbortMultipartUpload, DeleteObject, PutObject and PutObjectTagging. The suite's buckets
# are both, so the role has the union (the destination's list), and, as the guide's destination example does, only
# on buckets of this account (aws:ResourceAccount).
BUCKET_ACTIONS = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
OBJECT_ACTIONS = [
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:GetObjectTagging",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionTagging",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
    "s3:PutObjectTagging",
]


class E2EFixturesStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(
            scope,
            construct_id,
            description="The end-to-end suite's fixtures for DataSyncWorkflow: the role DataSync uses on its buckets "
            "and the role Scheduler starts the workflow with",
            **kwargs,
        )
        # DataSync user guide, "Cross-service confused deputy prevention"
        # (https://docs.aws.amazon.com/datasync/latest/userguide/cross-service-confused-deputy-prevention.html): for
        # an S3 location not yet made, aws:SourceAccount the account and aws:SourceArn
        # arn:aws:datasync:REGION:ACCOUNT:* (StringLike), which holds the partition, account and region.
        principal = iam.ServicePrincipal("datasync.amazonaws.com").with_conditions(
            {
                "StringEquals": {"aws:SourceAccount": self.account},
                "StringLike": {"aws:SourceArn": self.format_arn(service="datasync", resource="*", resource_name=None)},
            }
        )
        self.bucket_role = iam.Role(
            self,
            "BucketRole",
            role_name=BUCKET_ROLE_NAME,
            assumed_by=principal,
            description="DataSync reads and writes the end-to-end suite's buckets (datasync-workflow-e2e-*) with it",
        )
        buckets = self.format_arn(service="s3", region="", account="", resource=f"{BUCKET_PREFIX}*")
        objects = f"{buckets}/*"
        in_this_account = {"StringEquals": {"aws:ResourceAccount": self.account}}
        self.bucket_role.add_to_policy(
            iam.PolicyStatement(actions=BUCKET_ACTIONS, resources=[buckets], conditions=in_this_account)
        )
        self.bucket_role.add_to_policy(
            iam.PolicyStatement(actions=OBJECT_ACTIONS, resources=[objects], conditions=in_this_account)
        )
        for arn in (buckets, objects):
            acknowledge(
                self.bucket_role,
                resource_finding(self, arn),
                "Each scenario makes its own buckets, named datasync-workflow-e2e-<random>, and deletes them at its "
                "end: the role can name them only by that prefix, and only in this account.",
            )
        CfnOutput(self, BUCKET_ROLE_OUTPUT, value=self.bucket_role.role_arn)
        self._scheduler_role()

    def _scheduler_role(self) -> None:
        """EventBridge Scheduler user guide, "Setting up the execution role"
        (https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role): trusted by
        scheduler.amazonaws.com for schedules of this account (aws:SourceAccount); a Step Functions target needs
        states:StartExecution on its state machine."""
        principal = iam.ServicePrincipal("scheduler.amazonaws.com").with_conditions(
            {"StringEquals": {"aws:SourceAccount": self.account}}
        )
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=principal,
            description="EventBridge Scheduler starts the DataSync workflow with it in the end-to-end suite's scenario",
        )
        machines = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=WORKFLOW_STATE_MACHINES,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"], resources=[machines]))
        acknowledge(
            role,
            resource_finding(self, machines),
            "The workflow stack, deployed after this one under any name, names its state machine <unique id>-Workflow; "
            "only Scheduler, for this account's schedules, may start them with this role.",
        )
        CfnOutput(self, SCHEDULER_ROLE_OUTPUT, value=role.role_arn)
