"""What the steps pass each other through the state machine (statemachine/datasync_workflow.asl.json) and more than
one of them reads: the target, the plan, the status check, a caught failure. A step's own result, at the ResultPath
the definition gives it, is in the step's module (resolve's, which holds the checked input, in resolve.py), so that
each step builds only the models it uses when Lambda starts it."""

import math
from typing import TYPE_CHECKING

from pydantic import BaseModel

from datasync_steps.observability import Sparse, StepEvent

if TYPE_CHECKING:
    from datasync_steps.input_model import Side


class Target(BaseModel):
    """The task to run and its locations, as far as they are known yet."""

    TaskArn: str | None = None
    SourceLocationArn: str | None = None
    DestinationLocationArn: str | None = None
    CreatedLocationArns: list[str] = []
    TaskCreated: bool = False

    def location_arn(self, side: "Side") -> str | None:
        return self.SourceLocationArn if side == "source" else self.DestinationLocationArn

    def locations(self) -> tuple[str, str]:
        """Both locations, which the task's creation needs and create-locations has made sure of."""
        if self.SourceLocationArn is None or self.DestinationLocationArn is None:
            raise ValueError("the task's locations are not both known")
        return self.SourceLocationArn, self.DestinationLocationArn


class TargetEvent(StepEvent):
    """What create-locations and create-task get; they read the kwargs from the execution's input."""

    target: Target


class Check(Sparse):
    """$.execution.check: the status checks made so far (waiting for another run's execution counts), what the
    last one read, how long the next wait for DataSync's event lasts, and whether the try is out of time."""

    checks_done: int
    wait_seconds: int
    TimedOut: bool = False  # the try's execution_timeout has passed
    Status: str | None = None
    FilesTransferred: int | None = None
    BytesTransferred: int | None = None
    # Enhanced mode's counters (files without folders): listed at the source, prepared, verified, and failed in any
    # phase.
    TaskMode: str | None = None
    FilesListed: int | None = None
    FilesPrepared: int | None = None
    FilesVerified: int | None = None
    FilesFailed: int | None = None


class Plan(Sparse):
    """$.plan: where the state machine goes after resolve, how long each wait for DataSync's event lasts at most, and
    when the try runs out of time (execution_timeout; seconds since the epoch)."""

    route: str
    update_task: bool
    wait_seconds: int
    deadline: float | None = None

    def next_wait(self, now: float) -> int:
        """The next wait's timeout: `wait_seconds`, or less when the deadline comes first (at least 1 s, the
        shortest a Task state's timeout can be)."""
        if self.deadline is None:
            return self.wait_seconds
        return max(1, min(self.wait_seconds, math.ceil(self.deadline - now)))

    def out_of_time(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline


class Checked(BaseModel):
    check: Check


class CaughtError(BaseModel):
    """What a Catch keeps of a failure ($.error): Step Functions' error name and its cause (a Lambda error's JSON, or
    the sentence a timeout state wrote)."""

    Error: str
    Cause: str | None = None
