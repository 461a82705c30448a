"""The state machine definition file and the step functions its placeholders name."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

ASL_PATH = Path(__file__).resolve().parent.parent / "statemachine" / "datasync_workflow.asl.json"
LAMBDAS_PATH = ASL_PATH.parent.parent / "lambdas"


@dataclass(frozen=True)
class Step:
    name: str  # as in function names: datasync-workflow-<name>
    placeholder: str | None  # ${Placeholder} in the definition file; None for a step started by EventBridge
    handler: str  # module.function inside lambdas/

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


STEPS = (
    Step("resolve", "ResolveFunctionArn", "datasync_steps.resolve.handler"),
    Step("create-locations", "CreateLocationsFunctionArn", "datasync_steps.create_locations.handler"),
    Step("create-task", "CreateTaskFunctionArn", "datasync_steps.create_task.handler"),
    Step("update", "UpdateTaskFunctionArn", "datasync_steps.update.handler"),
    Step("start", "StartExecutionFunctionArn", "datasync_steps.start.handler"),
    Step("await-event", "AwaitEventFunctionArn", "datasync_steps.await_event.handler"),
    Step("check-status", "CheckStatusFunctionArn", "datasync_steps.check_status.handler"),
    Step("describe", "DescribeExecutionFunctionArn", "datasync_steps.describe.handler"),
    Step("delete", "DeleteTaskFunctionArn", "datasync_steps.delete.handler"),
    Step("cancel", "CancelExecutionFunctionArn", "datasync_steps.cancel.handler"),
    Step("cleanup", None, "datasync_steps.cleanup.handler"),
    Step("resume", None, "datasync_steps.resume.handler"),
)


STEP_TIMEOUT_SECONDS = 30  # the Lambda timeout of every step that makes only one or two DataSync calls


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
