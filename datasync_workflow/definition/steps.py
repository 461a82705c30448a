"""The state machine definition file and the step functions its placeholders name."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from datasync_steps.deployment import ScopeTag
from datasync_steps.names import EVENT_SOURCE, WORKFLOW_TAG
from datasync_steps.uris import CREATE_CALL_BY_SCHEME

ASL_PATH = Path(__file__).resolve().parents[2] / "statemachine" / "datasync_workflow.asl.json"
# The batch's state machine: a Map of child executions of the workflow's (whose ARN fills ${StateMachineArn}).
BATCH_ASL_PATH = ASL_PATH.with_name("datasync_batch.asl.json")
WORKFLOW_ARN_PLACEHOLDER = "StateMachineArn"


STEP_TIMEOUT_SECONDS = 30  # the Lambda timeout of every step that makes only one or two DataSync calls
SLOW_STEP_TIMEOUT_SECONDS = 120  # listing and describing every task of a location can take a while
# A batch's steps check (render, validate) or describe each of up to 5,000 items: Lambda's most, 15 minutes. Step
# Functions answers DescribeExecution in a burst of 300, then 15 a second, in the largest regions, and 250, then 10,
# elsewhere (its quotas page), so summarizing 5,000 takes about 5 minutes there and 8 elsewhere; checking them,
# seconds on a laptop, some times that on Lambda's share of a CPU.
BATCH_STEP_TIMEOUT_SECONDS = 900


def _iam_action(boto3_method: str) -> str:
    return "datasync:" + "".join(part.capitalize() for part in boto3_method.split("_"))


# From the scheme table: the CreateLocation* calls the workflow makes, and the DescribeLocation* calls that read
# back what they made.
CREATE_LOCATION_ACTIONS = tuple(_iam_action(call) for call in sorted(set(CREATE_CALL_BY_SCHEME.values())))
DESCRIBE_LOCATION_ACTIONS = tuple(action.replace(":Create", ":Describe") for action in CREATE_LOCATION_ACTIONS)

# Resources a grant names: "*", or the kind of ARN the execution input decides, of this account and of its region and
# every region of its `regions` setting (DataSync's kinds): "task",
# "location", "execution", "agent", "secret" (the secrets DataSync keeps credentials in), or "workflow-execution" (an
# execution of this deployment's state machine), or "default-bus" (the account's default event bus in this region).
# Conditions a grant carries. With the deployment's scope_tag set, IN_SCOPE (the resource carries the tag: the
# actions whose resource types take aws:ResourceTag in the Service Authorization Reference) and SETS_SCOPE (the
# request sets it: the create and start actions, which take aws:RequestTag) limit it; MADE_HERE always does (the
# resource's datasync-workflow:execution tag names an execution of this state machine).
IN_SCOPE, SETS_SCOPE, MADE_HERE = "in-scope", "sets-scope", "made-here"
# The conditions of AWS's AWSDataSyncFullAccess on the secrets DataSync manages: in the caller's account, owned by
# DataSync; and the first alone, for a secret being made.
OWNED_BY_DATASYNC, IN_THIS_ACCOUNT = "owned-by-datasync", "in-this-account"
# Only events whose source is the workflow's own (the Service Authorization Reference: PutEvents takes the event-bus
# resource and the events:source condition key; ForAllValues, as a PutEvents call may hold several entries).
OWN_EVENT_SOURCE = "own-event-source"


# The kinds of resource that name a state machine of this deployment ("workflow" is the workflow's own), and the
# batch bucket's: "batch-bucket" its every object (transfers_from is one), "batch-files" the workflow's own under
# batches/.
STATE_MACHINE_KINDS = frozenset({"workflow", "workflow-execution", "batch-execution"})


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[str, ...] = ()
    only_with_plaintext_secrets: bool = False  # granted only where the deployment's allow_secrets_in_input is set

    def conditions_for(self, scope: ScopeTag | None, workflow_executions: str) -> dict[str, dict[str, str | list[str]]]:
        """The grant's IAM Condition block; `workflow_executions` is the ARN pattern of this state machine's
        executions (a CloudFormation token in the stack, the local state machine's in a local run)."""
        rendered: dict[str, dict[str, str | list[str]]] = {}
        for condition in self.conditions:
            if condition in (IN_SCOPE, SETS_SCOPE) and scope is not None:
                kind = "ResourceTag" if condition == IN_SCOPE else "RequestTag"
                rendered.setdefault("StringEquals", {})[f"aws:{kind}/{scope.key}"] = scope.value
            elif condition == MADE_HERE:
                rendered.setdefault("StringLike", {})[f"aws:ResourceTag/{WORKFLOW_TAG}"] = workflow_executions
            elif condition == OWN_EVENT_SOURCE:
                rendered["ForAllValues:StringEquals"] = {"events:source": [EVENT_SOURCE]}
            elif condition in (OWNED_BY_DATASYNC, IN_THIS_ACCOUNT):
                rendered.setdefault("StringEquals", {})["aws:ResourceAccount"] = "${aws:PrincipalAccount}"
                if condition == OWNED_BY_DATASYNC:
                    rendered["StringEquals"]["secretsmanager:ResourceTag/aws:secretsmanager:owningService"] = (
                        "aws-datasync"
                    )
        return rendered

    @property
    def names_the_state_machine(self) -> bool:
        return MADE_HERE in self.conditions or bool(STATE_MACHINE_KINDS & set(self.resources))


# The steps that read the execution's input themselves (no state carries the kwargs); the same grant lets a step ask
# whether the runs registered on a task still run (task_users.py).
READS_INPUT = Grant(("states:DescribeExecution",), ("workflow-execution",))
# On the waiting table, which also keeps which runs use each task (task_users.py). A registration is a
# TransactWriteItems of two Puts and a ConditionCheck, which IAM authorizes as dynamodb:PutItem and
# dynamodb:ConditionCheckItem ("Using IAM with DynamoDB transactions", DynamoDB developer guide:
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html); a registration on a
# task found deleted is removed (DeleteItem), and a deletion under way is read (GetItem) while it is waited for.
REGISTERS_ON_TASKS = ("dynamodb:PutItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem")
# Unregistering, the deletion's marker and request (PutItem, GetItem, DeleteItem), and the task's users (Query).
RELEASES_TASKS = ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query")
# The batch's first step reads the batch's own input.
READS_BATCH_INPUT = Grant(("states:DescribeExecution",), ("batch-execution",))


@dataclass(frozen=True)
class Step:
    """A step, known everywhere by its name: its module lambdas/datasync_steps/<name with _>.py and that module's
    `handler`, its function datasync-workflow-<name>, its construct <Name>Function and its ${<Name>FunctionArn}
    placeholder in the definition; and what its function may do, which the stack grants and nothing more."""

    name: str
    grants: tuple[Grant, ...] = ()
    timeout_seconds: int = STEP_TIMEOUT_SECONDS
    in_definition: bool = True  # False for a step that an EventBridge rule runs
    in_batch: bool = False  # a step of the batch's definition rather than the workflow's
    table_actions: tuple[str, ...] = ()  # on the table of waiting task tokens and of the runs that use each task
    sends_task_tokens: bool = False  # wakes the waiting workflow executions (states:SendTaskSuccess)
    answers_batch_tokens: bool = False  # ends the batch's summary Task (states:SendTaskSuccess, SendTaskFailure)
    passes_roles: bool = False  # its kwargs may name a role DataSync is handed (iam:PassRole)
    # DataSync checks the caller may make network interfaces and see the file systems of EFS and FSx locations.
    makes_network_interfaces: bool = False

    @property
    def module(self) -> str:
        return "datasync_steps." + self.name.replace("-", "_")

    @property
    def handler(self) -> str:
        return f"{self.module}.handler"

    @property
    def construct_name(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("-"))

    @property
    def calls_datasync(self) -> bool:
        """Whether it makes DataSync calls: then in every region the deployment lists, and with the roles of its
        connections (sts:AssumeRole) too."""
        return any(action.startswith("datasync:") for grant in self.grants for action in grant.actions)

    @property
    def placeholder(self) -> str | None:
        return f"{self.construct_name}FunctionArn" if self.in_definition else None


STEPS = (
    Step(
        "resolve",
        (
            READS_INPUT,
            Grant(("datasync:DescribeTask",), ("task",), (IN_SCOPE,)),
            Grant(("datasync:ListLocations", "datasync:ListTasks"), ("*",)),
            Grant(DESCRIBE_LOCATION_ACTIONS, ("location",), (IN_SCOPE,)),
            # Unconditioned: the tags say which resources are in the scope.
            Grant(("datasync:ListTagsForResource",), ("location", "task")),
        ),
        timeout_seconds=SLOW_STEP_TIMEOUT_SECONDS,
        table_actions=REGISTERS_ON_TASKS,
    ),
    Step(
        "create-locations",
        (
            READS_INPUT,
            Grant(("datasync:ListLocations",), ("*",)),
            Grant(CREATE_LOCATION_ACTIONS, ("*",), (SETS_SCOPE,)),
            Grant(("datasync:DeleteLocation", *DESCRIBE_LOCATION_ACTIONS), ("location",), (IN_SCOPE,)),
            Grant(("datasync:TagResource",), ("location",), (SETS_SCOPE,)),
            # Unconditioned: the tags say whether the location and the agents the kwargs name are in the scope (IAM
            # cannot check the agents: CreateLocation* lists no resource type in the Service Authorization Reference).
            Grant(("datasync:ListTagsForResource",), ("location", "agent")),
            # Credentials given in plain text become a secret DataSync manages, made (and deleted with its location)
            # on the caller's behalf. A secret not yet made has no tags for IAM to match: its creation is bounded by
            # its name (aws-datasync!…) and account only.
            Grant(("secretsmanager:CreateSecret",), ("secret",), (IN_THIS_ACCOUNT,), only_with_plaintext_secrets=True),
            Grant(
                ("secretsmanager:DeleteSecret",), ("secret",), (OWNED_BY_DATASYNC,), only_with_plaintext_secrets=True
            ),
        ),
        timeout_seconds=SLOW_STEP_TIMEOUT_SECONDS,
        passes_roles=True,
        makes_network_interfaces=True,
    ),
    Step(
        "create-task",
        (
            READS_INPUT,
            Grant(("datasync:ListTasks",), ("*",)),
            Grant(("datasync:DescribeTask",), ("task",), (IN_SCOPE,)),
            # Only to remove its own duplicate after a race: a task made by a run of this workflow.
            Grant(("datasync:DeleteTask",), ("task",), (IN_SCOPE, MADE_HERE)),
            Grant(("datasync:ListTagsForResource",), ("task",)),
            # The task links the locations (their tags decide) and may name agents.
            Grant(("datasync:CreateTask",), ("location",), (IN_SCOPE, SETS_SCOPE)),
            Grant(("datasync:CreateTask",), ("task", "agent"), (SETS_SCOPE,)),
            Grant(("datasync:TagResource",), ("task",), (SETS_SCOPE,)),
        ),
        timeout_seconds=SLOW_STEP_TIMEOUT_SECONDS,
        passes_roles=True,
        makes_network_interfaces=True,
        table_actions=REGISTERS_ON_TASKS,
    ),
    Step("update", (READS_INPUT, Grant(("datasync:UpdateTask",), ("task",), (IN_SCOPE,))), passes_roles=True),
    Step(
        "start",
        (
            READS_INPUT,
            Grant(("datasync:StartTaskExecution",), ("task",), (IN_SCOPE, SETS_SCOPE)),
            # Whether the task is ready, and the agents of one that is not.
            Grant(("datasync:DescribeTask",), ("task",), (IN_SCOPE,)),
            Grant(("datasync:ListLocations",), ("*",)),
            Grant(DESCRIBE_LOCATION_ACTIONS, ("location",), (IN_SCOPE,)),
            Grant(("datasync:ListTaskExecutions",), ("*",)),
            # Tags on StartTaskExecution need TagResource, and AWS does not say whether on the task or the new
            # execution (its tag-on-create page shows task/*, which in IAM matches execution ARNs too): both.
            Grant(("datasync:TagResource",), ("task", "execution"), (SETS_SCOPE,)),
            Grant(("datasync:ListTagsForResource",), ("execution",)),
        ),
        passes_roles=True,
    ),
    # Keeps a token only for a running execution that follows the DataSync execution named (its history says).
    Step(
        "await-event",
        (
            READS_INPUT,
            Grant(("states:GetExecutionHistory",), ("workflow-execution",)),
            Grant(("datasync:DescribeTaskExecution",), ("execution",), (IN_SCOPE,)),
            Grant(("datasync:ListTagsForResource",), ("execution",)),
        ),
        table_actions=("dynamodb:PutItem", "dynamodb:DeleteItem"),
        sends_task_tokens=True,
    ),
    Step("check-status", (Grant(("datasync:DescribeTaskExecution",), ("execution",), (IN_SCOPE,)),)),
    Step(
        "describe",
        (
            Grant(("datasync:DescribeTaskExecution",), ("execution",), (IN_SCOPE,)),
            Grant(("datasync:ListTagsForResource",), ("execution",)),
        ),
    ),
    Step("report", (Grant(("datasync:DescribeTaskExecution",), ("execution",), (IN_SCOPE,)),)),
    # Deletes the task only when the runs registered on it have ended, which it asks Step Functions.
    Step(
        "delete",
        (READS_INPUT, Grant(("datasync:DeleteTask", "datasync:DescribeTask"), ("task",), (IN_SCOPE,))),
        timeout_seconds=SLOW_STEP_TIMEOUT_SECONDS,
        table_actions=RELEASES_TASKS,
    ),
    Step(
        "cancel",
        (Grant(("datasync:CancelTaskExecution", "datasync:DescribeTaskExecution"), ("execution",), (IN_SCOPE,)),),
    ),
    # Reads retries and the delays from the input; cancels a failed try's execution that still runs.
    Step(
        "retry",
        (
            READS_INPUT,
            Grant(("datasync:CancelTaskExecution", "datasync:DescribeTaskExecution"), ("execution",), (IN_SCOPE,)),
        ),
    ),
    # Asks Step Functions whether the execution really stopped. The stopped run no longer uses its tasks: one whose
    # deletion another run asked for, and that no other run uses, it deletes.
    Step(
        "cleanup",
        (
            READS_INPUT,
            Grant(
                ("datasync:CancelTaskExecution", "datasync:DescribeTaskExecution", "datasync:TagResource"),
                ("execution",),
                (IN_SCOPE,),
            ),
            Grant(("datasync:DeleteTask", "datasync:DescribeTask"), ("task",), (IN_SCOPE,)),
        ),
        timeout_seconds=SLOW_STEP_TIMEOUT_SECONDS,
        in_definition=False,
        table_actions=RELEASES_TASKS,
    ),
    # The batch's: each reads the input of the batch's execution, or the children's, which the workflow's grant covers;
    # prepare-batch reads a transfers_from object and keeps the checked items beside it; summarize-batch reads the
    # results the Distributed Map's ResultWriter put there, keeps the rows beside them, and describes a child only when
    # the Map cannot say how it ended.
    Step(
        "prepare-batch",
        (READS_BATCH_INPUT, Grant(("s3:GetObject",), ("batch-bucket",)), Grant(("s3:PutObject",), ("batch-files",))),
        timeout_seconds=BATCH_STEP_TIMEOUT_SECONDS,
        in_batch=True,
    ),
    Step(
        "summarize-batch",
        (
            Grant(("states:DescribeExecution", "states:GetExecutionHistory"), ("batch-execution",)),
            READS_INPUT,
            Grant(("s3:GetObject", "s3:PutObject"), ("batch-files",)),
        ),
        timeout_seconds=BATCH_STEP_TIMEOUT_SECONDS,
        in_batch=True,
        answers_batch_tokens=True,
    ),
    # Run by a rule on the batch's stopped executions: the children it stops, their clean-up cancels.
    Step(
        "stop-batch",
        (
            READS_BATCH_INPUT,
            Grant(("states:ListExecutions",), ("workflow",)),
            Grant(("states:StopExecution",), ("workflow-execution",)),
        ),
        in_definition=False,
    ),
    # Its other grant (the execution's history) names what the stack makes: datasync_workflow/cdk/operations.py.
    Step(
        "announce",
        (
            READS_INPUT,
            Grant(("datasync:DescribeTaskExecution",), ("execution",), (IN_SCOPE,)),
            Grant(("events:PutEvents",), ("default-bus",), (OWN_EVENT_SOURCE,)),
        ),
        in_definition=False,
    ),
    # Run by a rule on the batch's finished executions: the batch's own description (its output holds the summary),
    # the beginning of the rows a batch from S3 wrote back, and the same events as announce; no child is described.
    Step(
        "announce-batch",
        (
            READS_BATCH_INPUT,
            Grant(("s3:GetObject",), ("batch-files",)),
            Grant(("events:PutEvents",), ("default-bus",), (OWN_EVENT_SOURCE,)),
        ),
        in_definition=False,
    ),
    Step(
        "resume",
        (Grant(("datasync:DescribeTaskExecution",), ("execution",), (IN_SCOPE,)),),
        in_definition=False,
        table_actions=("dynamodb:Query", "dynamodb:DeleteItem"),
        sends_task_tokens=True,
    ),
)


def step_named(name: str) -> Step:
    (step,) = [step for step in STEPS if step.name == name]
    return step


def definition_text() -> str:
    return _committed_or_built(ASL_PATH)


def batch_definition_text() -> str:
    return _committed_or_built(BATCH_ASL_PATH)


def _committed_or_built(path: Path) -> str:
    """The definition CDK deploys and the local runner runs: the committed file in a checkout; from an installed
    wheel, which has the code and not the files, the same text built by flow.py (tests hold the files to it)."""
    if path.exists():
        return path.read_text()
    from datasync_workflow.definition.flow import definition_file_text  # flow imports this module

    return definition_file_text(batch=path == BATCH_ASL_PATH)


def workflow_steps(batch: bool = False) -> list[Step]:
    """The steps the workflow's definition (or the batch's) invokes."""
    return [step for step in STEPS if step.placeholder and step.in_batch == batch]


def placeholders(text: str | None = None) -> set[str]:
    return set(re.findall(r"\$\{(\w+)\}", text if text is not None else definition_text()))


def render_definition(values: dict[str, str], text: str | None = None) -> str:
    """The definition (or another `text`) with each ${Placeholder} replaced, as CloudFormation's substitutions
    would."""
    text = definition_text() if text is None else text
    missing = placeholders(text) - values.keys()
    if missing:
        raise KeyError(f"no value for {', '.join(sorted(missing))}")
    rendered = re.sub(r"\$\{(\w+)\}", lambda found: values[found[1]], text)
    json.loads(rendered)
    return rendered
