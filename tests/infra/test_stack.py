"""The synthesized CloudFormation template, read as a reviewer would: roles, wiring, logs, checks."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.limits import EXECUTION_TIMEOUT_SECONDS
from datasync_workflow.definition.steps import (
    STEPS,
    WORKFLOW_ARN_PLACEHOLDER,
    batch_definition_text,
    definition_text,
    placeholders,
    workflow_steps,
)


def build_app(**kwargs):
    """infra.stack's, imported on first use: aws-cdk-lib starts jsii's Node process as it is imported, which the
    workers of make test that run no test of this file need not pay for while they collect it."""
    from infra.stack import build_app as build

    return build(**kwargs)


def synthesized(outdir: Path, config: dict) -> dict:
    from infra.stack import STACK_NAME

    build_app(outdir=str(outdir), context={"datasync_workflow": config}).synth()
    return json.loads((outdir / f"{STACK_NAME}.template.json").read_text())


ROOT = Path(__file__).resolve().parents[2]
BUCKET_ROLE = "arn:aws:iam::111122223333:role/datasync-bucket-access"
AGENT_ARN = "arn:aws:datasync:us-east-1:111122223333:agent/agent-0123456789abcdef0"


def manifest_with(role: str) -> dict:
    return {
        "Action": "TRANSFER",
        "Source": {"S3": {"ManifestObjectPath": "m.csv", "BucketAccessRoleArn": role, "S3BucketArn": "arn:aws:s3:::m"}},
    }


NIGHTLY_INPUT = {"task_arn": "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"}
CONFIG = {
    "passable_role_arns": [BUCKET_ROLE],
    "schedules": [
        {"name": "nightly", "expression": "cron(0 2 * * ? *)", "timezone": "Europe/Paris", "input": NIGHTLY_INPUT}
    ],
    "alarm_emails": ["ops@example.com"],
    "log_retention": "TWO_WEEKS",
}


def datasync_arns(resource: str) -> dict:
    """Any DataSync ARN of the stack's account and region under `resource`, as CloudFormation spells it."""
    partition, region, account = ({"Ref": f"AWS::{name}"} for name in ("Partition", "Region", "AccountId"))
    return {"Fn::Join": ["", ["arn:", partition, ":datasync:", region, ":", account, f":{resource}"]]}


TASK, LOCATION, EXECUTION, AGENT = (datasync_arns(r) for r in ("task/*", "location/*", "task/*/execution/*", "agent/*"))
LOCATION_KINDS = (
    "AzureBlob",
    "Efs",
    "FsxLustre",
    "FsxOntap",
    "FsxOpenZfs",
    "FsxWindows",
    "Hdfs",
    "Nfs",
    "ObjectStorage",
    "S3",
    "Smb",
)
CREATE_LOCATIONS = [f"datasync:CreateLocation{kind}" for kind in LOCATION_KINDS]
DESCRIBE_LOCATIONS = [f"datasync:DescribeLocation{kind}" for kind in LOCATION_KINDS]
# What DataSync checks on its caller while it creates EFS and FSx locations and their tasks.
NETWORK_AND_STORAGE = {
    action: "*"
    for action in (
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
    )
}
XRAY = {"xray:PutTraceSegments": ["*"], "xray:PutTelemetryRecords": ["*"]}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}

# What each step's role may do, written out independently of datasync_workflow/cdk/: action -> its resources.
READS_INPUT = {"states:DescribeExecution": "the state machine's executions"}
# A function EventBridge runs sends the events it failed on to the failed-events queue (Lambda's on-failure
# destination, as CDK grants it).
FAILED_EVENTS = dict.fromkeys(
    ("sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"), "the failed-events queue"
)
# The runs that use each task are kept in the waiting table (task_users.py): registering is a TransactWriteItems of
# Puts and a ConditionCheck, which IAM authorizes as dynamodb:PutItem and dynamodb:ConditionCheckItem (DynamoDB
# developer guide, "Using IAM with DynamoDB transactions"); there is no dynamodb:TransactWriteItems action to grant.
REGISTERS_ON_TASKS = dict.fromkeys(
    ("dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem"), "the waiting table"
)
RELEASES_TASKS = dict.fromkeys(
    ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query"), "the waiting table"
)
ALLOWED = {
    "resolve": {
        **READS_INPUT,
        "datasync:DescribeTask": [TASK],
        "datasync:ListLocations": "*",
        "datasync:ListTasks": "*",
        **{action: [LOCATION] for action in DESCRIBE_LOCATIONS},
        "datasync:ListTagsForResource": [LOCATION, TASK],
        **REGISTERS_ON_TASKS,
    },
    "create-locations": {
        **READS_INPUT,
        "datasync:ListLocations": "*",
        **dict.fromkeys(CREATE_LOCATIONS, "*"),
        "datasync:DeleteLocation": [LOCATION],
        "datasync:TagResource": [LOCATION],
        "datasync:ListTagsForResource": [LOCATION, AGENT],
        **{action: [LOCATION] for action in DESCRIBE_LOCATIONS},
        "iam:PassRole": [BUCKET_ROLE],
    },
    "create-task": {
        **READS_INPUT,
        "datasync:ListTasks": "*",
        "datasync:DescribeTask": [TASK],
        "datasync:DeleteTask": [TASK],
        "datasync:ListTagsForResource": [TASK],
        "datasync:CreateTask": [LOCATION, TASK, AGENT],
        "datasync:TagResource": [TASK],
        "iam:PassRole": [BUCKET_ROLE],
        **REGISTERS_ON_TASKS,
    },
    "update": {**READS_INPUT, "datasync:UpdateTask": [TASK], "iam:PassRole": [BUCKET_ROLE]},
    # The retries and their delays; a failed try's execution that still runs is cancelled.
    "retry": {
        **READS_INPUT,
        "datasync:CancelTaskExecution": [EXECUTION],
        "datasync:DescribeTaskExecution": [EXECUTION],
    },
    "report": {"datasync:DescribeTaskExecution": [EXECUTION]},
    "prepare-batch": {
        "states:DescribeExecution": "the batch state machine's executions",
        "s3:GetObject": "the batch bucket's objects",
        "s3:PutObject": "the batches' own files",
    },
    # It describes the batch it is told of (and so knows its children's names), reads the Map's output from the
    # batch's history and its result files, and describes a child only when the Map cannot say how it ended.
    "summarize-batch": {
        "states:DescribeExecution": "the workflow's and the batch state machine's executions",
        "states:GetExecutionHistory": "the batch state machine's executions",
        "s3:GetObject": "the batches' own files",
        "s3:PutObject": "the batches' own files",
        # The batch's summary Task's token, which it answers.
        "states:SendTaskSuccess": "the batch state machine",
        "states:SendTaskFailure": "the batch state machine",
    },
    # Only the children of a batch that ended, which it asks Step Functions about.
    "stop-batch": {
        "states:DescribeExecution": "the batch state machine's executions",
        "states:ListExecutions": "the state machine",
        "states:StopExecution": "the state machine's executions",
        **FAILED_EVENTS,
    },
    "start": {
        **READS_INPUT,
        "datasync:StartTaskExecution": [TASK],
        "datasync:DescribeTask": [TASK],
        "datasync:ListLocations": "*",
        **{action: [LOCATION] for action in DESCRIBE_LOCATIONS},
        "datasync:ListTaskExecutions": "*",
        "datasync:TagResource": [TASK, EXECUTION],
        "datasync:ListTagsForResource": [EXECUTION],
        "iam:PassRole": [BUCKET_ROLE],
    },
    # Only for a running execution of this workflow whose own DataSync execution it names.
    "await-event": {
        **READS_INPUT,
        "states:GetExecutionHistory": "the state machine's executions",
        "datasync:DescribeTaskExecution": [EXECUTION],
        "datasync:ListTagsForResource": [EXECUTION],
        "dynamodb:PutItem": "the waiting table",
        "dynamodb:DeleteItem": "the waiting table",
        "states:SendTaskSuccess": "the state machine",
    },
    "check-status": {"datasync:DescribeTaskExecution": [EXECUTION]},
    "describe": {"datasync:DescribeTaskExecution": [EXECUTION], "datasync:ListTagsForResource": [EXECUTION]},
    # Only when the other runs registered on the task have ended, which it asks Step Functions.
    "delete": {**READS_INPUT, "datasync:DeleteTask": [TASK], "datasync:DescribeTask": [TASK], **RELEASES_TASKS},
    "cancel": {"datasync:CancelTaskExecution": [EXECUTION], "datasync:DescribeTaskExecution": [EXECUTION]},
    # Both act only on what Step Functions says of the execution, never on the event.
    "cleanup": {
        **READS_INPUT,
        "datasync:CancelTaskExecution": [EXECUTION],
        "datasync:DescribeTaskExecution": [EXECUTION],
        "datasync:TagResource": [EXECUTION],
        "states:GetExecutionHistory": "the state machine's executions",
        # A task whose deletion another run asked for, once no run uses it.
        "datasync:DeleteTask": [TASK],
        "datasync:DescribeTask": [TASK],
        **RELEASES_TASKS,
        **FAILED_EVENTS,
    },
    "announce": {
        **READS_INPUT,
        "datasync:DescribeTaskExecution": [EXECUTION],
        "states:GetExecutionHistory": "the state machine's executions",
        "events:PutEvents": "the default event bus",
        **FAILED_EVENTS,
    },
    # Only the batch that ended, as Step Functions describes it (no child), and the rows it wrote back.
    "announce-batch": {
        "states:DescribeExecution": "the batch state machine's executions",
        "s3:GetObject": "the batches' own files",
        "events:PutEvents": "the default event bus",
        **FAILED_EVENTS,
    },
    "resume": {
        "datasync:DescribeTaskExecution": [EXECUTION],
        "dynamodb:Query": "the waiting table",
        "dynamodb:DeleteItem": "the waiting table",
        "states:SendTaskSuccess": "the state machine",
        **FAILED_EVENTS,
    },
}
# Resources the template names by logical id: how each must look.
OWN_RESOURCES = {
    "the state machine's executions": lambda listed: ":execution:" in listed and "WorkflowStateMachine" in listed,
    "the batch state machine's executions": lambda listed: ":execution:" in listed and "BatchStateMachine" in listed,
    "the workflow's and the batch state machine's executions": lambda listed: (
        listed.count(":execution:") == 2 and "WorkflowStateMachine" in listed and "BatchStateMachine" in listed
    ),
    "the waiting table": lambda listed: listed.startswith('[{"Fn::GetAtt": ["WorkflowWaitingExecutions'),
    "the state machine": lambda listed: listed.startswith('[{"Ref": "WorkflowStateMachine'),
    "the batch state machine": lambda listed: listed.startswith('[{"Ref": "WorkflowBatchStateMachine'),
    "DataSync's service-linked role": lambda listed: listed.endswith(
        ':role/aws-service-role/datasync.amazonaws.com/AWSServiceRoleForDataSync"]]}]'
    ),
    "the secrets DataSync manages": lambda listed: listed.endswith(':secret:aws-datasync!*"]]}]'),
    "the failed-events queue": lambda listed: listed.startswith('[{"Fn::GetAtt": ["WorkflowFailedEvents'),
    "the default event bus": lambda listed: listed.endswith(':event-bus/default"]]}]'),
    "the batch bucket's objects": lambda listed: (
        listed.startswith('[{"Fn::Join": ["", [{"Fn::GetAtt": ["WorkflowBatch') and listed.endswith('"/*"]]}]')
    ),
    "the batches' own files": lambda listed: (
        listed.startswith('[{"Fn::Join": ["", [{"Fn::GetAtt": ["WorkflowBatch') and listed.endswith('"/batches/*"]]}]')
    ),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("cdk.out")
    return synthesized(outdir, CONFIG)


def resources(template, kind):
    return {name: r["Properties"] for name, r in template["Resources"].items() if r["Type"] == kind}


def workflow_machine(template, batch: bool = False) -> tuple[str, dict]:
    """The workflow's state machine (or the batch's): its logical id and resource."""
    prefix = "WorkflowBatchStateMachine" if batch else "WorkflowStateMachine"
    ((machine_id, machine),) = [
        (i, r) for i, r in resources(template, "AWS::StepFunctions::StateMachine").items() if i.startswith(prefix)
    ]
    return machine_id, machine


def the(template, kind):
    (properties,) = resources(template, kind).values()
    return properties


def functions_by_step(template):
    handlers = {step.handler: step.name for step in STEPS}
    return {handlers[p["Handler"]]: (name, p) for name, p in resources(template, "AWS::Lambda::Function").items()}


def role_statements(template, role_id) -> list[tuple[str, list, dict | None]]:
    """(action, resources, condition) of every statement in the role's policies."""
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Roles"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                listed = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                found += [(action, listed, statement.get("Condition")) for action in actions]
    return found


def role_permissions(template, role_id):
    """action -> (resources, condition) of the role's policies: an action in several statements (under different
    conditions) has the resources of all of them, and their conditions in a list."""
    granted: dict = {}
    for action, listed, condition in role_statements(template, role_id):
        if action in granted:
            assert not set(map(json.dumps, listed)) & set(map(json.dumps, granted[action][0])), f"{action} twice"
            granted[action] = granted[action][0] + listed, [*granted[action][1:], condition]
        else:
            granted[action] = listed, condition
    return granted


def test_synth_passes_cdk_nag_with_only_acknowledged_findings(template):
    assert template["Resources"]  # build_app adds AwsSolutionsChecks: a finding not acknowledged fails synth


def test_cdk_nag_fails_the_synth_on_an_unacknowledged_finding(tmp_path):
    from aws_cdk import Stack, aws_iam

    app = build_app(outdir=str(tmp_path))
    careless = Stack(app, "Careless")
    aws_iam.Role(careless, "Role", assumed_by=aws_iam.ServicePrincipal("lambda.amazonaws.com")).add_to_policy(
        aws_iam.PolicyStatement(actions=["datasync:*"], resources=["*"])
    )
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text()
    assert "AwsSolutions-IAM5[Action::datasync:*]" in report and "Careless/Role" in report
    assert "DataSyncWorkflow/" not in report


def test_cfn_lint_finds_no_errors(template):
    from cfnlint.api import lint_all

    errors = [str(match) for match in lint_all(json.dumps(template)) if match.rule.id.startswith("E")]
    assert errors == []


def test_the_definition_is_the_file_and_its_placeholders_are_the_substitutions(template):
    machine = workflow_machine(template)[1]
    assert machine["DefinitionString"] == definition_text()
    assert set(machine["DefinitionSubstitutions"]) == placeholders()
    functions = functions_by_step(template)
    for step in workflow_steps():
        assert machine["DefinitionSubstitutions"][step.placeholder] == {"Fn::GetAtt": [functions[step.name][0], "Arn"]}


def test_the_batch_runs_each_transfer_as_a_child_execution_of_the_workflows_state_machine(template):
    workflow_id, _ = workflow_machine(template)
    batch_id, batch = workflow_machine(template, batch=True)
    assert batch["DefinitionString"] == batch_definition_text()
    substitutions = batch["DefinitionSubstitutions"]
    assert set(substitutions) == placeholders(batch_definition_text())
    assert substitutions[WORKFLOW_ARN_PLACEHOLDER] == {"Ref": workflow_id}
    granted = role_permissions(template, batch["RoleArn"]["Fn::GetAtt"][0])
    functions = functions_by_step(template)
    invoked = [{"Fn::GetAtt": [functions[step.name][0], "Arn"]} for step in workflow_steps(batch=True)]
    assert granted["lambda:InvokeFunction"][0] == invoked
    # The workflow's executions, and the Distributed Map's own children (its iterations, executions of the batch).
    assert granted["states:StartExecution"][0] == [{"Ref": workflow_id}, {"Ref": batch_id}]
    # AWS's example names a Map's children execution:<batch>:*, their ARNs read execution:<batch>/<map run>:<id>.
    workflow_children, *own_children = map(json.dumps, granted["states:StopExecution"][0])
    assert OWN_RESOURCES["the state machine's executions"](f"[{workflow_children}]")
    assert [child.rsplit(", ", 1)[1] for child in own_children] == ['":*"]]}', '"/*"]]}']
    assert all(f'":execution:", {{"Fn::GetAtt": ["{batch_id}", "Name"]}}' in child for child in own_children)
    assert granted["states:DescribeExecution"][0] == granted["states:StopExecution"][0]
    assert OWN_RESOURCES["the batches' own files"](json.dumps(granted["s3:GetObject"][0]))
    # The Distributed Map's ResultWriter puts its result files (in parts when large) there too, and nowhere else.
    for action in ("s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"):
        assert granted[action][0] == granted["s3:GetObject"][0], action
    assert not {a for a in granted if a.startswith("s3:")} - {
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload",
    }
    assert json.dumps(granted["events:PutRule"][0]).endswith(
        ':rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"]]}]'
    )
    assert template["Outputs"]["BatchStateMachineArn"]["Value"] == {"Ref": workflow_machine(template, batch=True)[0]}


def test_the_execution_timeout_is_derived_from_the_input_bounds():
    # Step Functions' own limit for a Standard execution; the input model refuses runs that could outlast it.
    assert json.loads(definition_text())["TimeoutSeconds"] == EXECUTION_TIMEOUT_SECONDS == 365 * 86400


def test_each_step_role_allows_only_what_the_step_calls(template):
    functions = functions_by_step(template)
    assert set(functions) == set(ALLOWED)
    for step_name, (_, function) in functions.items():
        role_id = function["Role"]["Fn::GetAtt"][0]
        granted = role_permissions(template, role_id)
        logs = {action for action in granted if action.startswith("logs:")}
        assert logs == LOGS, step_name
        assert {action: granted[action][0] for action in XRAY} == XRAY, step_name
        datasync_and_iam = {a: r for a, (r, _) in granted.items() if not a.startswith(("logs:", "xray:"))}
        expected = {action: ["*"] if listed == "*" else listed for action, listed in ALLOWED[step_name].items()}
        for action, listed in list(expected.items()):
            if isinstance(listed, str) and listed in OWN_RESOURCES:
                assert OWN_RESOURCES[expected.pop(action)](json.dumps(datasync_and_iam.pop(action))), (
                    step_name,
                    action,
                )
        assert datasync_and_iam == expected, step_name
        if "iam:PassRole" in granted:
            assert granted["iam:PassRole"][1] == {"StringEquals": {"iam:PassedToService": "datasync.amazonaws.com"}}


def test_no_role_has_managed_policies(template):
    for role in resources(template, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role


def test_the_state_machine_may_invoke_only_its_own_step_functions(template):
    machine = workflow_machine(template)[1]
    role_id = machine["RoleArn"]["Fn::GetAtt"][0]
    granted = role_permissions(template, role_id)
    functions = functions_by_step(template)
    invoked = [{"Fn::GetAtt": [functions[step.name][0], "Arn"]} for step in workflow_steps()]
    assert granted["lambda:InvokeFunction"][0] == invoked
    assert set(granted) - {"lambda:InvokeFunction"} <= {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    }


def test_functions_run_arm64_on_the_newest_runtime_with_the_matching_powertools_layer(template):
    from importlib.metadata import version

    parameter = f"/aws/service/powertools/python/arm64/python3.14/{version('aws-lambda-powertools')}"
    (layer_parameter,) = [name for name, p in template["Parameters"].items() if p.get("Default") == parameter]
    (bundled_layer,) = resources(template, "AWS::Lambda::LayerVersion")
    for step_name, (_, function) in functions_by_step(template).items():
        assert function["Runtime"] == "python3.14" and function["Architectures"] == ["arm64"], step_name
        assert function["Layers"] == [{"Ref": layer_parameter}, {"Ref": bundled_layer}]
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert function["MemorySize"] == 256
        slow = dict.fromkeys(("resolve", "create-locations", "create-task", "delete", "cleanup"), 120)
        slow |= dict.fromkeys(("prepare-batch", "summarize-batch"), 900)
        assert function["Timeout"] == slow.get(step_name, 30)
        assert function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "datasync-workflow"
        assert "LogGroup" in function["LoggingConfig"]


def test_every_log_group_is_made_by_the_stack_with_the_configured_retention(template):
    groups = resources(template, "AWS::Logs::LogGroup")
    assert len(groups) == len(STEPS) + 2  # and the two state machines
    assert {group["RetentionInDays"] for group in groups.values()} == {14}


def test_the_state_machine_logs_all_events_without_their_data_and_traces(template):
    machine = workflow_machine(template)[1]
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    # States' inputs and outputs stay in the execution's history, out of the log group.
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["StateMachineType"] == "STANDARD"


def rule_for(template, detail_type: str, step_name: str | None = None) -> dict:
    """The rule on `detail_type` (whose target is `step_name`'s function, where several rules share it)."""
    functions = functions_by_step(template)
    (rule,) = [
        r
        for r in resources(template, "AWS::Events::Rule").values()
        if r["EventPattern"]["detail-type"] == [detail_type]
        and (step_name is None or r["Targets"][0]["Arn"] == {"Fn::GetAtt": [functions[step_name][0], "Arn"]})
    ]
    return rule


def test_stopped_executions_are_cleaned_up_by_eventbridge(template):
    rule = rule_for(template, "Step Functions Execution Status Change", "cleanup")
    assert sorted(rule["EventPattern"]["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [functions_by_step(template)["cleanup"][0], "Arn"]}


ENDED_EXECUTION = {f"detail-{key}": f"$.detail.{key}" for key in ("executionArn", "stateMachineArn", "status")}


@pytest.mark.parametrize("step_name", ["cleanup", "announce", "stop-batch", "announce-batch"])
def test_the_steps_run_when_executions_end_get_which_execution_ended_and_never_its_input(template, step_name):
    """An opted-in secret rides in the status-change event's input: none of these targets gets it (each asks Step
    Functions for what it needs)."""
    (target,) = rule_for(template, "Step Functions Execution Status Change", step_name)["Targets"]
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == ENDED_EXECUTION
    written = json.dumps(transformer["InputTemplate"])
    assert all(f"<{key}>" in written for key in ENDED_EXECUTION) and "input" not in written.replace("Input", "")


def test_a_stopped_batchs_children_are_stopped_by_eventbridge_which_names_the_workflow(template):
    rule = rule_for(template, "Step Functions Execution Status Change", "stop-batch")
    assert sorted(rule["EventPattern"]["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    assert rule["EventPattern"]["detail"]["stateMachineArn"] == [{"Ref": workflow_machine(template, batch=True)[0]}]
    (target,) = rule["Targets"]
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == ENDED_EXECUTION
    assert {"Ref": workflow_machine(template)[0]} in transformer["InputTemplate"]["Fn::Join"][1]


def test_only_the_batch_steps_know_the_batch_bucket_which_is_private_encrypted_and_expires_what_the_batch_writes(
    template,
):
    (bucket_id,) = resources(template, "AWS::S3::Bucket")
    bucket = the(template, "AWS::S3::Bucket")
    assert bucket["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    (rule,) = bucket["LifecycleConfiguration"]["Rules"]
    assert (rule["Prefix"], rule["ExpirationInDays"], rule["Status"]) == ("batches/", 30, "Enabled")
    (policy,) = resources(template, "AWS::S3::BucketPolicy").values()
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy["PolicyDocument"]["Statement"]
    )
    knowing = {
        step_name
        for step_name, (_, function) in functions_by_step(template).items()
        if function["Environment"]["Variables"].get("BATCH_BUCKET") == {"Ref": bucket_id}
    }
    assert knowing == {"prepare-batch", "summarize-batch", "announce-batch"}
    assert template["Outputs"]["BatchBucketName"]["Value"] == {"Ref": bucket_id}


def test_every_finished_run_is_announced_on_the_default_bus_and_only_as_this_workflow(template):
    rule = rule_for(template, "Step Functions Execution Status Change", "announce")
    assert sorted(rule["EventPattern"]["detail"]["status"]) == ["ABORTED", "FAILED", "SUCCEEDED", "TIMED_OUT"]
    (_, function) = functions_by_step(template)["announce"]
    granted = role_permissions(template, function["Role"]["Fn::GetAtt"][0])
    resources_, condition = granted["events:PutEvents"]
    assert json.dumps(resources_).endswith(':event-bus/default"]]}]')
    assert condition == {"ForAllValues:StringEquals": {"events:source": ["datasync-workflow"]}}


def test_every_finished_batch_is_announced_on_the_default_bus_by_a_step_that_knows_the_batch_state_machine(template):
    """The rule on the batch state machine's ends (not the workflow's: each child is announced as a run) runs
    announce-batch, told the batch's state machine by its environment, never by the event."""
    batch_machine = {"Ref": workflow_machine(template, batch=True)[0]}
    rule = rule_for(template, "Step Functions Execution Status Change", "announce-batch")
    assert sorted(rule["EventPattern"]["detail"]["status"]) == ["ABORTED", "FAILED", "SUCCEEDED", "TIMED_OUT"]
    assert rule["EventPattern"]["detail"]["stateMachineArn"] == [batch_machine]
    knowing = {
        step_name: function["Environment"]["Variables"]["BATCH_STATE_MACHINE_ARN"]
        for step_name, (_, function) in functions_by_step(template).items()
        if "BATCH_STATE_MACHINE_ARN" in function["Environment"]["Variables"]
    }
    assert knowing == {"announce-batch": batch_machine}
    (_, function) = functions_by_step(template)["announce-batch"]
    granted = role_permissions(template, function["Role"]["Fn::GetAtt"][0])
    resources_, condition = granted["events:PutEvents"]
    assert json.dumps(resources_).endswith(':event-bus/default"]]}]')
    assert condition == {"ForAllValues:StringEquals": {"events:source": ["datasync-workflow"]}}
    # The batch's own executions only: no child (the workflow's executions) is described.
    assert OWN_RESOURCES["the batch state machine's executions"](json.dumps(granted["states:DescribeExecution"][0]))
    assert "WorkflowStateMachine" not in json.dumps(granted["states:DescribeExecution"][0])


def test_datasyncs_completion_events_run_the_resume_step(template):
    rule = rule_for(template, "DataSync Task Execution State Change")
    assert rule["EventPattern"] == {
        "source": ["aws.datasync"],
        "detail-type": ["DataSync Task Execution State Change"],
        "detail": {"State": ["ERROR", "SUCCESS"]},
    }
    (target,) = rule["Targets"]
    functions = functions_by_step(template)
    assert target["Arn"] == {"Fn::GetAtt": [functions["resume"][0], "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    invokers = [
        permission
        for permission in resources(template, "AWS::Lambda::Permission").values()
        if permission["FunctionName"] == target["Arn"]
    ]
    assert [(p["Principal"], p["Action"]) for p in invokers] == [("events.amazonaws.com", "lambda:InvokeFunction")]


def test_the_waiting_table_is_on_demand_encrypted_and_expires_its_tokens(template):
    table = the(template, "AWS::DynamoDB::Table")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ExpiresAt", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert [key["AttributeName"] for key in table["KeySchema"]] == ["TaskExecutionArn", "WorkflowExecution"]
    functions = functions_by_step(template)
    (table_id,) = resources(template, "AWS::DynamoDB::Table")
    # Those that wait and wake, and those that keep which runs use each task.
    for step_name in ("await-event", "resume", "resolve", "create-task", "delete", "cleanup"):
        variables = functions[step_name][1]["Environment"]["Variables"]
        assert variables["WAITING_TABLE_NAME"] == {"Ref": table_id}
    assert "WAITING_TABLE_NAME" not in functions["check-status"][1]["Environment"]["Variables"]


def alarms(template) -> dict[str, dict]:
    return {a["AlarmName"].rsplit("-", 1)[1]: a for a in resources(template, "AWS::CloudWatch::Alarm").values()}


def test_failed_and_timed_out_executions_and_failed_events_raise_alarms_that_notify_the_topic(template):
    alarm, failed_events = alarms(template)["FailedOrTimedOut"], alarms(template)["FailedEvents"]
    metrics = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert metrics == {"ExecutionsFailed", "ExecutionsTimedOut"}
    ((queued,),) = [[m["MetricStat"] for m in failed_events["Metrics"]]]
    (queue_id,) = resources(template, "AWS::SQS::Queue")
    assert queued["Metric"] == {
        "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Namespace": "AWS/SQS",
    }
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    for each in (alarm, failed_events):
        assert each["Threshold"] == 1 and each["TreatMissingData"] == "notBreaching"
        assert each["AlarmActions"] == [{"Ref": topic_id}]
    assert the(template, "AWS::SNS::Subscription")["Endpoint"] == "ops@example.com"
    assert "KmsMasterKeyId" in the(template, "AWS::SNS::Topic")


def test_schedules_start_the_state_machine_with_their_input(template):
    schedule = the(template, "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    machine_id = workflow_machine(template)[0]
    assert schedule["Target"]["Arn"] == {"Ref": machine_id}
    assert json.loads(schedule["Target"]["Input"]) == NIGHTLY_INPUT


def test_a_schedule_whose_input_has_templates_passes_the_time_it_fired_and_its_expression(tmp_path):
    templated = {**NIGHTLY_INPUT, "update_task_kwargs": {"Name": "nightly-{{ ds }}"}}
    last_day = {"name": "n", "expression": "cron(0 2 * * ? *)", "input": templated}
    schedule = the(synthesized(tmp_path, {**CONFIG, "schedules": [last_day]}), "AWS::Scheduler::Schedule")
    # The time it fired (EventBridge Scheduler's context attribute) and its expression give the logical date.
    assert json.loads(schedule["Target"]["Input"]) == {
        "data_interval_end": "<aws.scheduler.scheduled-time>",
        "schedule": "cron(0 2 * * ? *)",
        **templated,
    }


def test_a_schedule_without_templates_may_use_any_eventbridge_expression(tmp_path):
    last_day = {"name": "n", "expression": "cron(0 2 L * ? *)", "input": NIGHTLY_INPUT}
    schedule = the(synthesized(tmp_path, {**CONFIG, "schedules": [last_day]}), "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpression"] == "cron(0 2 L * ? *)"


def test_a_schedule_with_templates_outside_utc_fails_the_synth(tmp_path):
    templated = {**NIGHTLY_INPUT, "update_task_kwargs": {"Name": "nightly-{{ ds }}"}}
    schedule = {"name": "n", "expression": "cron(0 2 * * ? *)", "timezone": "Europe/Paris", "input": templated}
    with pytest.raises(ValueError, match="an input with templates needs the schedule in UTC"):
        build_app(outdir=str(tmp_path), context={"datasync_workflow": {**CONFIG, "schedules": [schedule]}})


def test_the_bundled_layer_holds_jinja2_and_markupsafe_as_pure_python_that_imports_alone():
    from datasync_workflow.cdk.assets import bundled_packages_layer

    layer = Path(bundled_packages_layer())
    assert sorted(path.name for path in (layer / "python").iterdir()) == ["jinja2", "markupsafe"]
    assert not [path for path in layer.rglob("*") if path.suffix in (".so", ".pyd", ".c")]
    # Without this environment's site-packages, as in Lambda, where neither is installed.
    script = (
        f"import sys; sys.path.insert(0, {str(layer / 'python')!r}); import jinja2.sandbox, markupsafe; "
        f"assert markupsafe.__file__.startswith({str(layer)!r}); print(markupsafe.escape('<'))"
    )
    done = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "&lt;\n"), done.stderr


def test_a_schedule_with_bad_input_fails_the_synth(tmp_path):
    bad = {"schedules": [{"name": "bad", "expression": "rate(1 day)", "input": {"task_arn": "nope"}}]}
    with pytest.raises(DataSyncInvalidInputError, match="task_arn"):
        build_app(outdir=str(tmp_path), context={"datasync_workflow": bad})


def test_a_schedule_naming_a_role_the_stack_may_not_pass_fails_the_synth(tmp_path):
    nightly = {**NIGHTLY_INPUT, "task_execution_kwargs": {"ManifestConfig": manifest_with("arn:aws:iam::1:role/other")}}
    config = {**CONFIG, "schedules": [{"name": "n", "expression": "rate(1 day)", "input": nightly}]}
    with pytest.raises(DataSyncInvalidInputError, match="may not pass the role 'arn:aws:iam::1:role/other'"):
        build_app(outdir=str(tmp_path), context={"datasync_workflow": config})


def test_every_step_knows_what_the_deployment_allows_and_traces_no_response(template):
    for _, function in functions_by_step(template).values():
        variables = function["Environment"]["Variables"]
        assert variables["PASSABLE_ROLE_ARNS"] == json.dumps([BUCKET_ROLE])
        assert variables["ALLOW_SECRETS_IN_INPUT"] == "false" and "SCOPE_TAG" not in variables
        assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
        # No pydantic plugin sees what a step validates (tests/unit/test_cold_start.py: and none is looked for).
        assert variables["PYDANTIC_DISABLE_PLUGINS"] == "__all__"


def test_the_stack_outputs_the_state_machine_arn(template):
    machine_id = workflow_machine(template)[0]
    assert template["Outputs"]["StateMachineArn"]["Value"] == {"Ref": machine_id}


def test_app_py_synthesizes_with_no_aws_credentials(tmp_path):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(CDK_OUTDIR=str(tmp_path), AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "DataSyncWorkflow.template.json").exists()


def test_the_alarm_can_notify_through_its_encrypted_topic(template):
    # CloudWatch cannot use the AWS-managed alias/aws/sns key: the topic's key is the stack's own, and both its
    # policy and the topic's let CloudWatch in for this alarm.
    (key_id,) = resources(template, "AWS::KMS::Key")
    key = the(template, "AWS::KMS::Key")
    assert key["EnableKeyRotation"] is True
    assert the(template, "AWS::SNS::Topic")["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    alarm_names = sorted(alarm["AlarmName"] for alarm in alarms(template).values())

    def cloudwatch_statement(statements, action):
        (statement,) = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
        assert action in statement["Action"]
        source_arns = [arn["Fn::Join"][1][-1] for arn in statement["Condition"]["ArnLike"]["aws:SourceArn"]]
        assert sorted(source_arns) == [f":alarm:{name}" for name in alarm_names]
        return statement

    key_statement = cloudwatch_statement(key["KeyPolicy"]["Statement"], "kms:GenerateDataKey*")
    assert "kms:Decrypt" in key_statement["Action"]
    topic_policy = the(template, "AWS::SNS::TopicPolicy")["PolicyDocument"]["Statement"]
    cloudwatch_statement(topic_policy, "sns:Publish")


def test_the_state_machine_logs_under_vendedlogs(template):
    machine = workflow_machine(template)[1]
    group_id = machine["LoggingConfiguration"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"][
        "Fn::GetAtt"
    ][0]
    assert resources(template, "AWS::Logs::LogGroup")[group_id]["LogGroupName"].startswith("/aws/vendedlogs/states/")


def test_the_dashboard_shows_executions_what_they_moved_and_the_alarm(template):
    body = the(template, "AWS::CloudWatch::Dashboard")["DashboardBody"]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else "<ref>" for part in body)
    widgets = json.loads(text.replace('"<ref>"', '"ref"').replace("<ref>", "ref"))["widgets"]
    metrics = {
        (metric[0], metric[1])
        for widget in widgets
        for metric in widget["properties"].get("metrics", [])
        if isinstance(metric[0], str) and not metric[0].startswith("{")
    }
    executions = {
        "ExecutionsStarted",
        "ExecutionsSucceeded",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionsAborted",
    }
    assert {("AWS/States", name) for name in [*executions, "ExecutionTime"]} <= metrics
    # The batches' executions, in a widget of their own.
    (batches,) = [w for w in widgets if w["properties"].get("title") == "Batches"]
    batch_metrics = [metric[1] for metric in batches["properties"]["metrics"]]
    assert batch_metrics == ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"]
    assert {"Ref": workflow_machine(template, batch=True)[0]} in body  # the batch's state machine they are of
    published = {name for namespace, name in metrics if namespace == "DataSyncWorkflow"}
    assert published == {
        "Duration",
        "BytesTransferred",
        "FilesTransferred",
        "FilesFailed",
        "StatusChecks",
        "EventWaits",
        "WaitsEndedByEvent",
    }
    # Each is a metric some step publishes under that name.
    source = "".join(path.read_text() for path in (ROOT / "lambdas" / "datasync_steps").glob("*.py"))
    assert published <= {a or b for a, b in re.findall(r'name="(\w+)"|\("(\w+)", MetricUnit', source)}
    shown_alarms = [a for w in widgets for a in w["properties"].get("annotations", {}).get("alarms", [])]
    assert len(shown_alarms) == 2  # failed or timed-out executions, and failed events
    url = template["Outputs"]["DashboardUrl"]["Value"]["Fn::Join"][1]
    (dashboard_id,) = resources(template, "AWS::CloudWatch::Dashboard")
    assert url[0].startswith("https://console.aws.amazon.com/cloudwatch/home?region=") and url[-1] == {
        "Ref": dashboard_id
    }


# A deployment's scope, and what a plaintext secret needs.

SCOPE = {"key": "team", "value": "finance"}
# From the Service Authorization Reference: the actions whose resource (task, location, execution) takes
# aws:ResourceTag, and those that take aws:RequestTag.
ON_TAGGED_RESOURCES = {
    "datasync:DescribeTask",
    "datasync:UpdateTask",
    "datasync:DeleteTask",
    "datasync:StartTaskExecution",
    "datasync:DeleteLocation",
    *DESCRIBE_LOCATIONS,
    "datasync:DescribeTaskExecution",
    "datasync:CancelTaskExecution",
}
SETTING_THE_TAG = {*CREATE_LOCATIONS, "datasync:CreateTask", "datasync:StartTaskExecution"}


@pytest.fixture(scope="module")
def scoped_template(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("cdk.out")
    config = {**CONFIG, "scope_tag": SCOPE, "allow_secrets_in_input": True, "allow_task_schedule": True}
    return synthesized(outdir, config)


def datasync_statements(template):
    for step_name, (_, function) in functions_by_step(template).items():
        for action, listed, condition in role_statements(template, function["Role"]["Fn::GetAtt"][0]):
            if action.startswith("datasync:"):
                yield step_name, action, listed, condition or {}


def test_a_scope_conditions_every_grant_on_a_task_location_or_execution_on_its_tag(scoped_template):
    seen = set()
    for step_name, action, listed, condition in datasync_statements(scoped_template):
        equals = condition.get("StringEquals", {})
        on_resource, in_request = equals.get("aws:ResourceTag/team"), equals.get("aws:RequestTag/team")
        if action.startswith("datasync:List"):
            # Listing has no resource to condition, and the tags must be read to know what is in the scope.
            assert (on_resource, in_request) == (None, None), (step_name, action)
            continue
        assert "finance" in (on_resource, in_request), (step_name, action, condition)
        if action in ON_TAGGED_RESOURCES:
            assert on_resource == "finance", (step_name, action)
        if action in SETTING_THE_TAG:
            assert in_request == "finance", (step_name, action)
        if action == "datasync:CreateTask" and LOCATION in listed:
            assert on_resource == "finance"  # it links only locations in the scope
        seen.add(action)
    assert seen >= ON_TAGGED_RESOURCES | SETTING_THE_TAG
    # The clean-up tags an execution that is already in the scope; the creators tag what they make with it.
    cleanup = [
        c for s, a, _, c in datasync_statements(scoped_template) if s == "cleanup" and a == "datasync:TagResource"
    ]
    assert cleanup == [{"StringEquals": {"aws:ResourceTag/team": "finance"}}]


def test_the_create_task_step_deletes_only_tasks_a_run_of_this_state_machine_made(template, scoped_template):
    for each in (template, scoped_template):
        ((_, listed, condition),) = [
            (s, r, c) for s, a, r, c in datasync_statements(each) if (s, a) == ("create-task", "datasync:DeleteTask")
        ]
        assert listed == [TASK]
        (made_by,) = condition["StringLike"].values()
        assert list(condition["StringLike"]) == ["aws:ResourceTag/datasync-workflow:execution"]
        parts = made_by["Fn::Join"][1]
        assert parts[-2:] == [{"Fn::GetAtt": [the_state_machine_id(each), "Name"]}, ":*"] and ":execution:" in parts


def the_state_machine_id(template) -> str:
    machine_id = workflow_machine(template)[0]
    return machine_id


def test_the_secrets_datasync_keeps_may_be_made_only_where_plaintext_is_allowed(template, scoped_template):
    def secret_grants(each):
        role = functions_by_step(each)["create-locations"][1]["Role"]["Fn::GetAtt"][0]
        return [(a, c) for a, _, c in role_statements(each, role) if a.startswith("secretsmanager:")]

    assert secret_grants(template) == []
    granted = secret_grants(scoped_template)
    assert sorted(action for action, _ in granted) == ["secretsmanager:CreateSecret", "secretsmanager:DeleteSecret"]
    conditions = {action: condition["StringEquals"] for action, condition in granted}
    # AWSDataSyncFullAccess's own conditions; a secret not yet made has no tag IAM could match.
    assert conditions["secretsmanager:DeleteSecret"] == {
        "aws:ResourceAccount": "${aws:PrincipalAccount}",
        "secretsmanager:ResourceTag/aws:secretsmanager:owningService": "aws-datasync",
    }
    assert conditions["secretsmanager:CreateSecret"] == {"aws:ResourceAccount": "${aws:PrincipalAccount}"}


def test_the_functions_know_the_scope_and_that_plaintext_and_task_schedules_are_allowed(template, scoped_template):
    for _, function in functions_by_step(scoped_template).values():
        variables = function["Environment"]["Variables"]
        assert json.loads(variables["SCOPE_TAG"]) == SCOPE and variables["ALLOW_SECRETS_IN_INPUT"] == "true"
        assert variables["ALLOW_TASK_SCHEDULE"] == "true"
    for _, function in functions_by_step(template).values():
        assert function["Environment"]["Variables"]["ALLOW_TASK_SCHEDULE"] == "false"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"passable_role_arns": ["arn:aws:iam::123456789012:role/*"]}, "has a wildcard"),
        ({"passable_role_arns": ["arn:aws:iam::123456789012:role/data-?"]}, "has a wildcard"),
        ({"scope_tag": {"key": "aws:team", "value": "x"}}, "AWS's own"),
        ({"scope_tag": {"key": "AWS:team", "value": "x"}}, "AWS's own"),
        ({"scope_tag": {"key": "datasync-workflow:execution", "value": "x"}}, "the workflow sets itself"),
        ({"scope_tag": {"key": "datasync-workflow:cancelled-when-stopped", "value": "x"}}, "the workflow sets itself"),
        ({"scope_tag": {"key": "team", "value": "no;semicolons"}}, "String should match pattern"),
    ],
)
def test_unsafe_settings_fail_the_synth(tmp_path, setting, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_app(outdir=str(tmp_path), context={"datasync_workflow": {**CONFIG, **setting}})


def test_a_schedule_with_a_plaintext_secret_fails_the_synth_unless_the_deployment_allows_it(tmp_path):
    smb = {"ServerHostname": "h", "Subdirectory": "/s", "User": "u", "Password": "hunter2", "AgentArns": [AGENT_ARN]}
    nightly = {
        "source_location_uri": "smb://h/s",
        "destination_location_uri": "s3://b/p",
        "create_source_location_kwargs": smb,
    }
    config = {**CONFIG, "schedules": [{"name": "n", "expression": "rate(1 day)", "input": nightly}]}
    with pytest.raises(
        DataSyncInvalidInputError, match=r"create_source_location_kwargs\.Password: a plaintext"
    ) as raised:
        build_app(outdir=str(tmp_path / "refused"), context={"datasync_workflow": config})
    assert "hunter2" not in str(raised.value)
    build_app(
        outdir=str(tmp_path / "allowed"), context={"datasync_workflow": {**config, "allow_secrets_in_input": True}}
    )


def test_what_eventbridge_and_the_schedules_cannot_deliver_or_handle_is_kept_in_an_encrypted_queue(template):
    (queue_id,) = resources(template, "AWS::SQS::Queue")
    queue = the(template, "AWS::SQS::Queue")
    assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 86_400
    (policy,) = resources(template, "AWS::SQS::QueuePolicy").values()
    statements = policy["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )
    in_queue = {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    functions = functions_by_step(template)
    for detail_type, step_name, hours in (
        ("DataSync Task Execution State Change", "resume", 1),
        ("Step Functions Execution Status Change", "cleanup", 6),
        ("Step Functions Execution Status Change", "announce", 6),
        ("Step Functions Execution Status Change", "stop-batch", 6),
        ("Step Functions Execution Status Change", "announce-batch", 6),
    ):
        (target,) = rule_for(template, detail_type, step_name)["Targets"]
        assert target["DeadLetterConfig"] == in_queue
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": hours * 3600}
        (invoke_config,) = [
            c
            for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
            if c["FunctionName"] == {"Ref": functions[step_name][0]}
        ]
        assert invoke_config["MaximumRetryAttempts"] == 2
        assert invoke_config["MaximumEventAgeInSeconds"] == hours * 3600
        assert invoke_config["DestinationConfig"] == {"OnFailure": {"Destination": in_queue["Arn"]}}
    schedule = the(template, "AWS::Scheduler::Schedule")
    assert schedule["Target"]["DeadLetterConfig"] == in_queue
    assert schedule["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}
    assert template["Outputs"]["FailedEventsQueueUrl"]["Value"] == {"Ref": queue_id}


@pytest.fixture(scope="module")
def vpc_template(tmp_path_factory):
    config = {**CONFIG, "vpc_locations": True, "step_reserved_concurrency": 20}
    return synthesized(tmp_path_factory.mktemp("cdk.out"), config)


def test_only_a_deployment_with_vpc_locations_may_make_network_interfaces(template, vpc_template):
    network_granted = {*NETWORK_AND_STORAGE, "iam:CreateServiceLinkedRole"}

    def network_grants(each) -> dict[str, list[str]]:
        return {
            step_name: sorted(a for a in role_permissions(each, f["Role"]["Fn::GetAtt"][0]) if a in network_granted)
            for step_name, (_, f) in functions_by_step(each).items()
        }

    assert not any(network_grants(template).values())
    granted = {step: actions for step, actions in network_grants(vpc_template).items() if actions}
    assert granted == dict.fromkeys(("create-locations", "create-task"), sorted(network_granted))
    for step_name in granted:
        role = functions_by_step(vpc_template)[step_name][1]["Role"]["Fn::GetAtt"][0]
        permissions = role_permissions(vpc_template, role)
        assert {action: permissions[action][0] for action in NETWORK_AND_STORAGE} == {
            action: ["*"] for action in NETWORK_AND_STORAGE
        }
        assert OWN_RESOURCES["DataSync's service-linked role"](
            json.dumps(permissions["iam:CreateServiceLinkedRole"][0])
        )


def test_the_step_functions_reserve_the_concurrency_the_deployment_sets(template, vpc_template):
    assert all("ReservedConcurrentExecutions" not in f for _, f in functions_by_step(template).values())
    reserved = {name: f["ReservedConcurrentExecutions"] for name, (_, f) in functions_by_step(vpc_template).items()}
    assert reserved == dict.fromkeys(ALLOWED, 20)


def test_a_reserved_concurrency_below_one_fails_the_synth(tmp_path):
    with pytest.raises(ValueError, match="step_reserved_concurrency"):
        build_app(outdir=str(tmp_path), context={"datasync_workflow": {**CONFIG, "step_reserved_concurrency": 0}})


def test_every_step_knows_the_workflows_state_machine_by_the_name_it_is_given_at_synth(template):
    """The steps check that an execution they are told of is this workflow's; the ARN is written from the name, as a
    reference to the state machine would make each function it invokes wait for it."""
    machine_id, machine = workflow_machine(template)
    name = machine["StateMachineName"]
    assert isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,80}", name)
    for step_name, (_, function) in functions_by_step(template).items():
        arn = function["Environment"]["Variables"]["WORKFLOW_STATE_MACHINE_ARN"]
        assert arn["Fn::Join"][1][-1] == f":stateMachine:{name}", step_name
        assert machine_id not in json.dumps(arn), step_name


# Other regions and accounts (issue 29).

PARTNER_ROLE = "arn:aws:iam::222233334444:role/datasync-workflow-partner"
PLACES = {"regions": ["eu-west-1"], "connections": {"partner": PARTNER_ROLE}}
DATASYNC_KINDS = (":task/*", ":location/*", ":agent/*", ":task/*/execution/*")


@pytest.fixture(scope="module")
def places_template(tmp_path_factory):
    return synthesized(tmp_path_factory.mktemp("cdk.out"), {**CONFIG, **PLACES})


def regions_named(listed: list) -> list[str]:
    """The region of each DataSync ARN of a statement: a literal, or the stack's own (AWS::Region)."""
    named = []
    for arn in listed:
        text = json.dumps(arn)
        if any(kind in text for kind in DATASYNC_KINDS):
            named.append("eu-west-1" if ":datasync:eu-west-1:" in text else "own" if "AWS::Region" in text else text)
    return named


def test_datasync_grants_name_the_stacks_region_and_exactly_its_other_regions(template, places_template):
    for each, expected in ((template, ["own"]), (places_template, ["own", "eu-west-1"])):
        seen = 0
        for step_name, action, listed, _ in datasync_statements(each):
            regions = regions_named(listed)
            if listed == ["*"]:
                continue
            assert regions and len(regions) % len(expected) == 0, (step_name, action, listed)
            assert set(regions) == set(expected) and regions.count("own") == regions.count(expected[-1]), (
                step_name,
                action,
            )
            seen += 1
        assert seen > 10


def test_the_steps_that_call_datasync_may_assume_exactly_the_connections_roles(template, places_template):
    calling = {step.name for step in STEPS if step.calls_datasync}
    assert {"resolve", "start", "check-status", "cancel", "cleanup", "announce", "resume", "report"} <= calling
    for step_name, (_, function) in functions_by_step(places_template).items():
        granted = role_permissions(places_template, function["Role"]["Fn::GetAtt"][0])
        if step_name in calling:
            assert granted["sts:AssumeRole"] == ([PARTNER_ROLE], None), step_name
        else:
            assert "sts:AssumeRole" not in granted, step_name
    for _, function in functions_by_step(template).values():
        assert "sts:AssumeRole" not in role_permissions(template, function["Role"]["Fn::GetAtt"][0])


def test_the_functions_know_the_regions_and_the_connections(template, places_template):
    for _, function in functions_by_step(places_template).values():
        variables = function["Environment"]["Variables"]
        assert json.loads(variables["REGIONS"]) == ["eu-west-1"]
        assert json.loads(variables["CONNECTIONS"]) == {"partner": PARTNER_ROLE}
    for _, function in functions_by_step(template).values():
        assert {"REGIONS", "CONNECTIONS"}.isdisjoint(function["Environment"]["Variables"])


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"regions": ["Ireland"]}, "'Ireland' is not a region name"),
        ({"regions": ["eu-west-1", "eu-west-1"]}, "'eu-west-1' is listed twice"),
        ({"connections": {"partner": "arn:aws:iam::222233334444:role/*"}}, "is not a whole IAM role ARN"),
        ({"connections": {"aws_default": PARTNER_ROLE}}, "the deployment's own account"),
        ({"connections": {"a": PARTNER_ROLE, "b": PARTNER_ROLE + "-2"}}, "give each account one role"),
    ],
)
def test_bad_regions_and_connections_fail_the_synth(tmp_path, setting, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_app(outdir=str(tmp_path), context={"datasync_workflow": {**CONFIG, **setting}})


def test_a_schedule_may_name_a_listed_region_and_connection_but_no_other(tmp_path):
    scheduled = {**NIGHTLY_INPUT, "region_name": "eu-west-1", "aws_conn_id": "partner"}
    schedule = {"name": "elsewhere", "expression": "rate(1 day)", "input": scheduled}
    build_app(outdir=str(tmp_path / "ok"), context={"datasync_workflow": {**CONFIG, **PLACES, "schedules": [schedule]}})
    with pytest.raises(DataSyncInvalidInputError, match="aws_conn_id: 'partner' is no connection"):
        build_app(outdir=str(tmp_path / "bad"), context={"datasync_workflow": {**CONFIG, "schedules": [schedule]}})
