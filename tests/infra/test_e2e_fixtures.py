"""The end-to-end suite's fixtures stack (infra/e2e_fixtures.py), synthesized as `make e2e-fixtures` deploys it: the
bucket role DataSync assumes, trusted only by DataSync acting for this account and region, allowed only the S3
actions DataSync's user guide lists for an S3 location, on the suite's buckets; the role Scheduler starts the
workflow with, trusted only by Scheduler for this account, allowed only StartExecution on the workflow's state
machines; and the app holds it only when asked."""

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

PARTITION, REGION, ACCOUNT = ({"Ref": f"AWS::{name}"} for name in ("Partition", "Region", "AccountId"))
BUCKETS = {"Fn::Join": ["", ["arn:", PARTITION, ":s3:::datasync-workflow-e2e-*"]]}
OBJECTS = {"Fn::Join": ["", ["arn:", PARTITION, ":s3:::datasync-workflow-e2e-*/*"]]}
# DataSync user guide, "Configuring AWS DataSync transfers with Amazon S3", "Required permissions": the bucket
# actions of a source or destination location, and a destination's object actions (a source's are a subset).
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


def synthesized_app(outdir: Path, context: dict) -> Path:
    from infra.stack import build_app  # imported on first use: aws-cdk-lib starts jsii's Node process

    build_app(outdir=str(outdir), context={"datasync_workflow": {}, **context}).synth()
    return outdir


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    from infra.e2e_fixtures import FIXTURES_STACK_NAME

    outdir = synthesized_app(tmp_path_factory.mktemp("cdk.out"), {"e2e_fixtures": "true"})  # -c gives a string
    return json.loads((outdir / f"{FIXTURES_STACK_NAME}.template.json").read_text())


def only(template: dict, kind: str, construct: str = "BucketRole") -> dict:
    """The properties of the one resource of `kind` whose logical ID starts with `construct`."""
    (resource,) = [r for key, r in template["Resources"].items() if r["Type"] == kind and key.startswith(construct)]
    return resource["Properties"]


def test_the_stack_holds_two_roles_and_their_policies_and_nothing_else(template):
    from aws_cdk.assertions import Template

    assertions = Template.from_json(template)
    assertions.resource_count_is("AWS::IAM::Role", 2)
    assertions.resource_count_is("AWS::IAM::Policy", 2)
    assert {r["Type"] for r in template["Resources"].values()} == {"AWS::IAM::Role", "AWS::IAM::Policy"}


def test_only_datasync_acting_for_this_account_and_region_may_assume_the_role(template):
    from aws_cdk.assertions import Template

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "datasync.amazonaws.com"},
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "StringLike": {
                        "aws:SourceArn": {
                            "Fn::Join": ["", ["arn:", PARTITION, ":datasync:", REGION, ":", ACCOUNT, ":*"]]
                        }
                    },
                },
            }
        ],
    }
    Template.from_json(template).has_resource_properties("AWS::IAM::Role", {"AssumeRolePolicyDocument": trust})
    role = only(template, "AWS::IAM::Role")
    assert role["AssumeRolePolicyDocument"] == trust
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    # A name of its own per region (IAM names are global; the trust names one region), known before the deploy.
    assert role["RoleName"] == {"Fn::Join": ["", ["datasync-workflow-e2e-buckets-", REGION]]}


def test_the_role_is_allowed_exactly_datasyncs_s3_location_actions_on_the_suites_buckets_of_this_account(template):
    in_this_account = {"StringEquals": {"aws:ResourceAccount": ACCOUNT}}
    policy = only(template, "AWS::IAM::Policy")
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": BUCKET_ACTIONS, "Effect": "Allow", "Resource": BUCKETS, "Condition": in_this_account},
        {"Action": OBJECT_ACTIONS, "Effect": "Allow", "Resource": OBJECTS, "Condition": in_this_account},
    ]
    (attached,) = policy["Roles"]
    assert template["Resources"][attached["Ref"]]["Type"] == "AWS::IAM::Role"


def test_only_scheduler_for_this_account_may_assume_the_scheduler_role_to_start_the_workflows(template):
    role = only(template, "AWS::IAM::Role", "SchedulerRole")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
    assert "ManagedPolicyArns" not in role and "Policies" not in role
    machines = {"Fn::Join": ["", ["arn:", PARTITION, ":states:", REGION, ":", ACCOUNT, ":stateMachine:*-Workflow"]]}
    policy = only(template, "AWS::IAM::Policy", "SchedulerRole")
    assert policy["PolicyDocument"]["Statement"] == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": machines}
    ]


def test_the_workflows_state_machine_name_is_one_the_scheduler_role_may_start(tmp_path):
    from fnmatch import fnmatchcase

    from infra.e2e_fixtures import WORKFLOW_STATE_MACHINES
    from infra.stack import STACK_NAME

    outdir = synthesized_app(tmp_path, {})
    main = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    names = [
        r["Properties"].get("StateMachineName")
        for r in main["Resources"].values()
        if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    assert len(names) == 2 and fnmatchcase(names[0], WORKFLOW_STATE_MACHINES), names  # the workflow's, named at synth


def test_the_stack_outputs_the_role_arns_under_the_names_the_suite_reads(template):
    from aws_cdk.assertions import Template

    from tests.e2e import target

    roles = {
        key.removesuffix(key[-8:]): key for key, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"
    }
    assertions = Template.from_json(template)
    for output, construct in (
        (target.FIXTURES_ROLE_OUTPUT, "BucketRole"),
        (target.FIXTURES_SCHEDULER_ROLE_OUTPUT, "SchedulerRole"),
    ):
        assertions.has_output(output, {"Value": {"Fn::GetAtt": [roles[construct], "Arn"]}})
    assert sorted(template["Outputs"]) == sorted([target.FIXTURES_ROLE_OUTPUT, target.FIXTURES_SCHEDULER_ROLE_OUTPUT])


def test_the_suite_looks_for_the_stack_and_output_the_app_makes():
    from infra.e2e_fixtures import BUCKET_PREFIX, BUCKET_ROLE_OUTPUT, FIXTURES_STACK_NAME, SCHEDULER_ROLE_OUTPUT
    from tests.e2e import target

    assert (target.FIXTURES_STACK, target.FIXTURES_ROLE_OUTPUT) == (FIXTURES_STACK_NAME, BUCKET_ROLE_OUTPUT)
    assert target.FIXTURES_SCHEDULER_ROLE_OUTPUT == SCHEDULER_ROLE_OUTPUT
    assert "datasync-workflow-e2e-{" in Path(target.__file__).read_text()  # Target.bucket's names
    assert BUCKET_PREFIX == "datasync-workflow-e2e-"


def test_cfn_lint_finds_no_errors(template):
    from cfnlint.api import lint_all

    errors = [str(match) for match in lint_all(json.dumps(template)) if match.rule.id.startswith("E")]
    assert errors == []


def test_cdk_nag_passes_with_only_the_three_wildcards_acknowledged(tmp_path, monkeypatch):
    # The fixture's synth passed AwsSolutionsChecks; without the acknowledgments, exactly the two bucket prefixes and
    # the workflow's state machines fail it.
    import infra.e2e_fixtures

    monkeypatch.setattr(infra.e2e_fixtures, "acknowledge", lambda *args, **kwargs: None)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synthesized_app(tmp_path, {"e2e_fixtures": "true"})
    report = json.loads((tmp_path / "validation-report.json").read_text())
    violations = [violation for plugin in report["pluginReports"] for violation in plugin["violations"]]
    assert {violation["ruleName"] for violation in violations} == {
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::datasync-workflow-e2e-*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::datasync-workflow-e2e-*/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:stateMachine:*-Workflow]",
    }
    paths = {where["constructPath"] for violation in violations for where in violation["violatingConstructs"]}
    assert paths == {
        "DataSyncWorkflowE2EFixtures/BucketRole/DefaultPolicy/Resource",
        "DataSyncWorkflowE2EFixtures/SchedulerRole/DefaultPolicy/Resource",
    }


@pytest.mark.parametrize(
    ("context", "held"),
    [({}, False), ({"e2e_fixtures": "false"}, False), ({"e2e_fixtures": True}, True)],  # True: cdk.json's JSON
)
def test_the_app_holds_the_fixtures_stack_only_when_asked(tmp_path, context, held):
    from infra.e2e_fixtures import FIXTURES_STACK_NAME
    from infra.stack import STACK_NAME

    outdir = synthesized_app(tmp_path, context)
    assert (outdir / f"{STACK_NAME}.template.json").exists()
    assert (outdir / f"{FIXTURES_STACK_NAME}.template.json").exists() == held
    assert (FIXTURES_STACK_NAME in json.loads((outdir / "manifest.json").read_text())["artifacts"]) == held
