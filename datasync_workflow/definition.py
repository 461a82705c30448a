"""The state machine definition file and the step functions its placeholders name."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from datasync_steps.uris import CREATE_CALL_BY_SCHEME

ASL_PATH = Path(__file__).resolve().parent.parent / "statemachine" / "datasync_workflow.asl.json"
LAMBDAS_PATH = ASL_PATH.parent.parent / "lambdas"


STEP_TIMEOUT_SECONDS = 30  # the Lambda timeout of every step that makes only one or two DataSync calls
SLOW_STEP_TIMEOUT_SECONDS = 120  # listing and describing every task of a location can take a while


def _iam_action(boto3_method: str) -> str:
    return "datasync:" + "".join(part.capitalize() for part in boto3_method.split("_"))


# From the scheme table: the CreateLocation* calls the workflow makes, and the DescribeLocation* calls that read
# back what they made.
CREATE_LOCATION_ACTIONS = tuple(_iam_action(call) for call in sorted(set(CREATE_CALL_BY_SCHEME.values())))
DESCRIBE_LOCATION_ACTIONS = tuple(action.replace(":Create", ":Describe") for action in CREATE_LOCATION_ACTIONS)

# (actions, resources): a resource is "*", or the kind of ARN the execution input decides, of this account and
# region: "task", "location", "execution", "agent", or "secret" (the secrets DataSync keeps credentials in).
Permission = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Step:
    """A step, known everywhere by its name: its module lambdas/datasync_steps/<name with _>.py and that module's
    `handler`, its function datasync-workflow-<name>, its construct <Name>Function and its ${<Name>FunctionArn}
    placeholder in the definition; and what its function may do, which the stack grants and nothing more."""

    name: str
    permissions: tuple[Permission, ...] = ()
    timeout_seconds: int = STEP_TIMEOUT_SECONDS
    in_definition: bool = True  # False for a step that an EventBridge rule runs
    table_actions: tuple[str, ...] = ()  # on the table of waiting task tokens
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
    def placeholder(self) -> str | None:
        return f"{self.construct_name}FunctionArn" if self.in_definition else None


STEPS = (
    Step(
        "resolve",
        (
            (("datasync:DescribeTask",), ("task",)),
            (("datasync:ListLocations", "datasync:ListTasks"), ("*",)),
            (DESCRIBE_LOCATION_ACTIONS, ("location",)),
            (("datasync:ListTagsForResource",), ("location", "task")),
        ),
        timeout_seconds=SLOW_STEP_TIMEOUT_SECONDS,
    ),
    Step(
        "create-locations",
        (
            (("datasync:ListLocations", *CREATE_LOCATION_ACTIONS), ("*",)),
            (
                (
                    "datasync:DeleteLocation",
                    "datasync:TagResource",
                    "datasync:ListTagsForResource",
                    *DESCRIBE_LOCATION_ACTIONS,
                ),
                ("location",),
            ),
            # Credentials given in the kwargs become a secret DataSync manages, made on the caller's behalf.
            (("secretsmanager:CreateSecret",), ("secret",)),
        ),
        timeout_seconds=SLOW_STEP_TIMEOUT_SECONDS,
        passes_roles=True,
        makes_network_interfaces=True,
    ),
    Step(
        "create-task",
        (
            (("datasync:ListTasks",), ("*",)),
            (("datasync:DescribeTask", "datasync:DeleteTask", "datasync:ListTagsForResource"), ("task",)),
            (("datasync:CreateTask",), ("location", "task", "agent")),
            (("datasync:TagResource",), ("task",)),
        ),
        timeout_seconds=SLOW_STEP_TIMEOUT_SECONDS,
        passes_roles=True,
        makes_network_interfaces=True,
    ),
    Step("update", ((("datasync:UpdateTask",), ("task",)),), passes_roles=True),
    Step(
        "start",
        (
            (("datasync:StartTaskExecution",), ("task",)),
            (("datasync:ListTaskExecutions",), ("*",)),
            (("datasync:TagResource", "datasync:ListTagsForResource"), ("execution",)),
        ),
        passes_roles=True,
    ),
    Step(
        "await-event",
        ((("datasync:DescribeTaskExecution",), ("execution",)),),
        table_actions=("dynamodb:PutItem", "dynamodb:DeleteItem"),
    ),
    Step("check-status", ((("datasync:DescribeTaskExecution",), ("execution",)),)),
    Step("describe", ((("datasync:DescribeTaskExecution", "datasync:ListTagsForResource"), ("execution",)),)),
    Step("delete", ((("datasync:DeleteTask", "datasync:DescribeTask"), ("task",)),)),
    Step("cancel", ((("datasync:CancelTaskExecution", "datasync:DescribeTaskExecution"), ("execution",)),)),
    Step(
        "cleanup",
        (
            (
                ("datasync:CancelTaskExecution", "datasync:DescribeTaskExecution", "datasync:TagResource"),
                ("execution",),
            ),
        ),
        in_definition=False,
    ),
    Step("resume", in_definition=False, table_actions=("dynamodb:Query", "dynamodb:DeleteItem")),
)


def step_named(name: str) -> Step:
    (step,) = [step for step in STEPS if step.name == name]
    return step


def definition_text() -> str:
    return ASL_PATH.read_text()


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
