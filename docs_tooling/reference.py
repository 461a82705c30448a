"""The documentation's reference sections, made from the code that they describe: the input tables from the input
models, the error table from the error classes, the permissions from the step rows, the deployment settings from the
config model, the make targets from the Makefile, and the state machines' diagrams from their definitions.

Each lives in a page of docs/ (the workflow's overview in README.md too) between `<!-- generated: NAME -->` and
`<!-- generated end -->`; `make docs` writes them (`python -m docs_tooling.reference`), and a test fails when a
committed page differs from what this makes.
"""

import ast
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from datasync_steps import errors
from datasync_steps.batch import BatchInput
from datasync_steps.input_model import WorkflowInput
from datasync_workflow.definition.diagram import flowchart, overview
from datasync_workflow.definition.steps import ASL_PATH, STEPS, Grant, Step, batch_definition_text, definition_text

ROOT = ASL_PATH.parents[1]
DOCS = ROOT / "docs"
START, END = "<!-- generated: {name} (make docs writes it from the code; do not edit) -->", "<!-- generated end -->"
CONDITIONS = {
    "in-scope": "the resource carries the `scope_tag`",
    "sets-scope": "the request sets the `scope_tag`",
    "made-here": "the resource was made by a run of this workflow",
    "owned-by-datasync": "the secret is DataSync's, in this account",
    "in-this-account": "the secret is in this account",
    "own-event-source": "every event's `events:source` is `datasync-workflow`",
}
RESOURCES = {
    "*": "`*`",
    "task": "tasks",
    "location": "locations",
    "execution": "task executions",
    "agent": "agents",
    "secret": "DataSync's own secrets (`aws-datasync!*`)",
    "workflow": "the workflow's state machine",
    "workflow-execution": "the workflow's executions",
    "batch-execution": "the batch's executions",
    "batch-bucket": "the batch bucket's objects",
    "batch-files": "the batch bucket's `batches/*`",
    "default-bus": "the default event bus",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _number(value: Any) -> str:  # a bound: an int or a float
    return f"{value:,}" if isinstance(value, int) or float(value).is_integer() else str(value)


def _type(annotation: Any) -> str:
    """A field's type in the words of JSON."""
    origin, args = get_origin(annotation), [a for a in get_args(annotation) if a is not type(None)]
    if origin is Literal:
        return "one of " + ", ".join(f'`"{value}"`' for value in get_args(annotation))
    if args and origin is not list and origin is not dict:  # an optional: X | None
        return _type(args[0])
    if origin is list or annotation is list:
        return f"array of {_type(args[0])}s" if args else "array"
    return {str: "string", bool: "boolean", int: "integer", float: "number"}.get(annotation, "object")


def _bounds(field: FieldInfo) -> str:
    low = next((m for m in field.metadata if isinstance(m, Ge | Gt)), None)
    high = next((m for m in field.metadata if isinstance(m, Le | Lt)), None)
    shown = []
    if low is not None and high is not None and isinstance(low, Ge) and isinstance(high, Le):
        shown.append(f"{_number(low.ge)}..{_number(high.le)}")
    else:
        if isinstance(low, Ge):
            shown.append(f"≥ {_number(low.ge)}")
        if isinstance(low, Gt):
            shown.append(f"> {_number(low.gt)}")
        if isinstance(high, Le):
            shown.append(f"≤ {_number(high.le)}")
    for metadata in field.metadata:
        if isinstance(metadata, MinLen) and metadata.min_length:
            shown.append(f"at least {metadata.min_length:,} long")
        if isinstance(metadata, MaxLen):
            shown.append(f"at most {metadata.max_length:,} long")
    return ", ".join(shown)


def _default(field: FieldInfo) -> str:
    if field.is_required() or field.default is PydanticUndefined:
        return "required"
    return "none" if field.default is None else f"`{json.dumps(field.default)}`"


def model_table(model: type[BaseModel]) -> str:
    """A row per field of `model`: its key, type, default, bounds and description."""
    rows = ["| key | type | default | bounds | meaning |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        assert field.description, f"{model.__name__}.{name} has no description"
        cells = [f"`{name}`", _type(field.annotation), _default(field), _bounds(field), _cell(field.description)]
        rows.append(f"| {' | '.join(cells)} |")
    return "\n".join(rows) + "\n"


def error_table() -> str:
    """A row per error a run can fail with: the classes of datasync_steps/errors.py, by what they say of themselves."""
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, errors._BoundedMessage)
        and value not in (errors._BoundedMessage, errors.DataSyncWorkflowError)
    ]
    rows = ["| Error | when |", "|---|---|"]
    for error in classes:
        assert error.__doc__, f"{error.__name__} has no docstring"
        rows.append(f"| `{error.__name__}` | {_cell(error.__doc__)} |")
    return "\n".join(rows) + "\n"


def _grant_row(grant: Grant) -> str:
    actions = "<br>".join(f"`{action}`" for action in grant.actions)
    resources = ", ".join(RESOURCES[kind] for kind in grant.resources)
    conditions = "; ".join(CONDITIONS[condition] for condition in grant.conditions)
    if grant.only_with_plaintext_secrets:
        conditions = "; ".join(filter(None, [conditions, "only with `allow_secrets_in_input`"]))
    return f"{actions} | {resources} | {conditions}"


def _step_extras(step: Step) -> list[str]:
    """What the stack grants a step beyond its rows (datasync_workflow/cdk/core.py and operations.py)."""
    extras = []
    if step.table_actions:
        actions = "<br>".join(f"`{action}`" for action in step.table_actions)
        extras.append(f"{actions} | the waiting table (task tokens, and the runs that use each task) | ")
    if step.passes_roles:
        extras.append("`iam:PassRole` | the deployment's `passable_role_arns` | passed to `datasync.amazonaws.com`")
    if step.calls_datasync:
        extras.append(
            "`sts:AssumeRole` | the roles of the deployment's `connections` | only with `connections`: the other "
            "accounts' roles a run's `aws_conn_id` names"
        )
    if step.makes_network_interfaces:
        extras.append(
            "EC2, EFS and FSx descriptions, network interfaces | `*` | only with `vpc_locations`: what DataSync "
            "checks while it creates EFS and FSx locations and their tasks"
        )
    return extras


def permissions_table() -> str:
    """A row per grant of each step's role: actions, resources and conditions (each role also writes its own log
    group and X-Ray traces)."""
    rows = ["| step | actions | resources | conditions |", "|---|---|---|---|"]
    for step in STEPS:
        for line in [_grant_row(grant) for grant in step.grants] + _step_extras(step):
            rows.append(f"| `{step.name}` | {line} |")
    return "\n".join(rows) + "\n"


def settings_table() -> str:
    from datasync_workflow.cdk.config import WorkflowConfig

    return model_table(WorkflowConfig)


def make_targets() -> str:
    """A row per target of the Makefile, with the comment above it."""
    rows = ["| target | what it does |", "|---|---|"]
    comment: list[str] = []
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("#"):
            comment.append(line.lstrip("# "))
            continue
        target = re.match(r"^([a-z][a-z0-9-]*):", line)
        if target:
            rows.append(f"| `make {target.group(1)}` | {_cell(' '.join(comment)) or '—'} |")
        comment = []
    return "\n".join(rows) + "\n"


def steps_table() -> str:
    """A row per step: its module and the first paragraph of the module's docstring."""
    import importlib

    rows = ["| step | module | what it does |", "|---|---|---|"]
    for step in STEPS:
        module = importlib.import_module(step.module)
        assert module.__doc__, f"{step.module} has no docstring"
        path = f"{step.module.removeprefix('datasync_steps.')}.py"
        rows.append(f"| `{step.name}` | `{path}` | {_cell(module.__doc__.split(chr(10) * 2)[0])} |")
    return "\n".join(rows) + "\n"


def _diagram(text: str) -> str:
    return f"```mermaid\n{flowchart(json.loads(text))}```\n"


# The workflow's states, part by part, as how-it-works draws them: one chart of 46 states is too big to read. A test
# holds that every state is in exactly one part.
WORKFLOW_PARTS = {
    "Find or create the task": [
        "First try",
        "Validate input and find task",
        "Route by what exists",
        "Create missing locations",
        "Create task",
        "Update task first?",
        "Update task",
    ],
    "Start and wait": [
        "Start execution",
        "Wait for completion?",
        "Report started execution",
        "Wait for the running execution",
        "Check the running execution",
        "Route by the running execution's status",
        "Gave up waiting for the running execution",
        "Out of time waiting for the running execution",
        "Wait for DataSync's event",
        "Ended: said by its event",
        "Ended: said by a status check",
        "Check execution status",
        "Route by execution status",
        "Cancel timed-out execution",
        "Was it cancelled?",
        "Execution timed out",
        "Execution out of time",
        "Cancel execution after failure",
    ],
    "Finish and clean up": [
        "Describe finished execution",
        "Did it end?",
        "Task report to read?",
        "Read the task report",
        "Task report still pending",
        "Delete task after run?",
        "Delete task",
        "Keep task",
        "With a task report?",
        "Report finished execution",
        "Report finished execution and its task report",
    ],
    "Retries and failure": [
        "Plan the next try",
        "Try again?",
        "Wait before the next try",
        "Next try",
        "Failed",
        "Classify failure",
        "Explain failure",
        "Failed with the step's message",
        "Failed with its own sentence",
    ],
}


# The overview's boxes: the Task states of a run that finds or creates its task, updates it, starts it, waits for
# it, describes it and deletes it when asked; each is drawn with its step's name. The other Tasks (the queue behind a
# running execution, the task report, the cancelling, the retries) are in the parts' charts.
OVERVIEW = [
    "Validate input and find task",
    "Create missing locations",
    "Create task",
    "Update task",
    "Start execution",
    "Wait for DataSync's event",
    "Check execution status",
    "Describe finished execution",
    "Delete task",
]


def overview_diagram() -> str:
    """The workflow as its user thinks of it: its main steps and the wait loop."""
    return f"```mermaid\n{overview(json.loads(definition_text()), OVERVIEW)}```\n"


def workflow_diagrams() -> str:
    """A heading and a chart for each part of the workflow; a grey node names a state drawn under another part."""
    definition = json.loads(definition_text())
    return "\n".join(
        f"### {heading}\n\n```mermaid\n{flowchart(definition, part)}```\n" for heading, part in WORKFLOW_PARTS.items()
    )


# Each section, by name: what makes it, and the pages it is in (of docs/, or README.md).
def proven_scenarios() -> list[tuple[str, str, str, str]]:
    """(behaviour, emulation, file, test) of each end-to-end scenario marked `proves`, read from tests/e2e/ without
    importing it."""
    found = []
    for path in sorted((ROOT / "tests" / "e2e").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "pytest.mark.proves":
                    behaviour = ast.literal_eval(decorator.args[0])
                    emulation = ast.literal_eval(next(k.value for k in decorator.keywords if k.arg == "emulation"))
                    found.append((behaviour, emulation, path.name, node.name))
    return found


def proven_table() -> str:
    rows = [
        f"| {_cell(behaviour)} | `{file}::{test}` | {_cell(emulation)} |"
        for behaviour, emulation, file, test in proven_scenarios()
    ]
    header = ["| On AWS | The scenario (tests/e2e/) | What the emulation does instead |", "|---|---|---|"]
    return "\n".join([*header, *rows]) + "\n"


# The placeholders of the other account's role: its account, the deployment's account and stack.
PARTNER, DEPLOYMENT = "<partner account>", "<deployment account>"


def connection_role_policies() -> str:
    """The trust policy and the permissions of a `connections` role in another account: the deployment's step roles may
    assume it, and it may do every DataSync action of the steps' grants, in that account, under the same conditions
    (a scope tag written <key>=<value>), and pass that account's passable roles to DataSync."""
    from datasync_steps.deployment import ScopeTag

    scope = ScopeTag.model_construct(key="<key>", value="<value>")
    executions = f"arn:aws:states:*:{DEPLOYMENT}:execution:<state machine name>:*"
    arns = {
        "task": f"arn:aws:datasync:<region>:{PARTNER}:task/*",
        "location": f"arn:aws:datasync:<region>:{PARTNER}:location/*",
        "agent": f"arn:aws:datasync:<region>:{PARTNER}:agent/*",
        "execution": f"arn:aws:datasync:<region>:{PARTNER}:task/*/execution/*",
        "*": "*",
    }
    merged: dict[str, dict[str, Any]] = {}
    for step in STEPS:
        for grant in step.grants:
            actions = [action for action in grant.actions if action.startswith("datasync:")]
            if not actions:
                continue
            conditions = grant.conditions_for(scope, executions)
            resources = sorted(arns[kind] for kind in grant.resources)
            key = json.dumps([resources, conditions], sort_keys=True)
            statement = merged.setdefault(key, {"Effect": "Allow", "Action": [], "Resource": resources})
            statement["Action"] = sorted({*statement["Action"], *actions})
            if conditions:
                statement["Condition"] = conditions
    passing = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": f"arn:aws:iam::{PARTNER}:role/<each role the runs hand to DataSync>",
        "Condition": {"StringEquals": {"iam:PassedToService": "datasync.amazonaws.com"}},
    }
    permissions = {"Version": "2012-10-17", "Statement": [*merged.values(), passing]}
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEPLOYMENT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{DEPLOYMENT}:role/<stack name>-*"},
                    "StringLike": {"sts:RoleSessionName": "datasync-workflow-*"},
                },
            }
        ],
    }
    return (
        "Trust policy:\n\n```json\n"
        + json.dumps(trust, indent=2)
        + "\n```\n\nPermissions (without a `scope_tag`, leave out every `<key>` condition):\n\n```json\n"
        + json.dumps(permissions, indent=2)
        + "\n```\n"
    )


SECTIONS: dict[str, tuple[Callable[[], str], str | tuple[str, ...]]] = {
    "connection-role": (connection_role_policies, "security.md"),
    "overview": (overview_diagram, ("README.md", "how-it-works.md")),
    "input": (lambda: model_table(WorkflowInput), "reference/input.md"),
    "batch-input": (lambda: model_table(BatchInput), "reference/input.md"),
    "errors": (error_table, "reference/errors.md"),
    "permissions": (permissions_table, "security.md"),
    "settings": (settings_table, "deploying.md"),
    "make-targets": (make_targets, "development.md"),
    "steps": (steps_table, "how-it-works.md"),
    "workflow-diagram": (workflow_diagrams, "how-it-works.md"),
    "batch-diagram": (lambda: _diagram(batch_definition_text()), "how-it-works.md"),
    "proven": (proven_table, "reference/proven.md"),
}


def with_section(page: str, name: str, content: str) -> str:
    """`page` with the block between section `name`'s markers replaced by `content`."""
    start = START.format(name=name)
    before, found_start, rest = page.partition(start)
    _, found_end, after = rest.partition(END)
    if not (found_start and found_end):
        raise ValueError(f"the page lacks the markers {start} ... {END}")
    return f"{before}{start}\n\n{content}\n{END}{after}"


def page_path(page: str) -> Path:
    return ROOT / page if page == "README.md" else DOCS / page


def pages() -> dict[Path, str]:
    """Every page that has a generated section, as this code would write it."""
    written: dict[Path, str] = {}
    for name, (make, in_pages) in SECTIONS.items():
        content = make()
        for page in (in_pages,) if isinstance(in_pages, str) else in_pages:
            path = page_path(page)
            written[path] = with_section(written.get(path) or path.read_text(), name, content)
    return written


def main() -> None:
    for path, text in pages().items():
        path.write_text(text)


if __name__ == "__main__":
    main()
