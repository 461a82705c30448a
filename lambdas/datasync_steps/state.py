"""What the steps pass each other through the state machine."""

from pydantic import BaseModel

from datasync_steps.observability import StepEvent
from datasync_steps.workflow_input import Side, WorkflowInput


class Target(BaseModel):
    """The task to run and its locations, as far as they are known yet."""

    TaskArn: str | None = None
    SourceLocationArn: str | None = None
    DestinationLocationArn: str | None = None
    CreatedLocationArns: list[str] = []
    TaskCreated: bool = False

    def location_arn(self, side: Side) -> str | None:
        return self.SourceLocationArn if side == "source" else self.DestinationLocationArn

    def locations(self) -> tuple[str, str]:
        """Both locations, which the task's creation needs and create-locations has made sure of."""
        if self.SourceLocationArn is None or self.DestinationLocationArn is None:
            raise ValueError("the task's locations are not both known")
        return self.SourceLocationArn, self.DestinationLocationArn


class TargetEvent(StepEvent):
    config: WorkflowInput
    target: Target
