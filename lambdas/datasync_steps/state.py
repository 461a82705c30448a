"""What the steps pass each other through the state machine."""

from pydantic import BaseModel

from datasync_steps.observability import StepEvent
from datasync_steps.workflow_input import WorkflowInput


class Target(BaseModel):
    """The task to run and its locations, as far as they are known yet."""

    TaskArn: str | None = None
    SourceLocationArn: str | None = None
    DestinationLocationArn: str | None = None
    CreatedLocationArns: list[str] = []
    TaskCreated: bool = False


class TargetEvent(StepEvent):
    config: WorkflowInput
    target: Target
