"""What the steps pass each other through the state machine: each step's result, at the ResultPath the definition
gives it (statemachine/datasync_workflow.asl.json), and the parts of them other steps are given; resolve's,
which holds the checked input, is in resolve.py."""

import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, model_serializer

from datasync_steps.observability import StepEvent

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


class Sparse(BaseModel):
    """A result that leaves out what it does not know (None), as DataSync leaves out what it has not counted."""

    @model_serializer(mode="wrap")
    def _without_none(self, serialize: Any) -> dict[str, Any]:
        return {key: value for key, value in serialize(self).items() if value is not None}


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


class ConsoleUrls(BaseModel):
    Task: str
    TaskExecution: str


class Started(Checked):
    """$.execution after start: the execution the run follows (or waits for, or skips)."""

    TaskExecutionArn: str
    ExecutionStarted: bool  # whether this run started it
    Action: str  # names.FOLLOW, QUEUE or SKIP
    ConsoleUrls: ConsoleUrls


class EventStatus(BaseModel):
    """$.execution.event: the status of the execution when the wait for its event ended."""

    Status: str


class Cancellation(Sparse):
    """$.cancellation: whether the execution was cancelled, and its status when it could not be."""

    Cancelled: bool
    Status: str | None = None


class Updated(BaseModel):
    TaskUpdated: bool = True


class Deletion(Sparse):
    """$.deletion: whether the task is gone, and how many other runs of this workflow it was kept for (they use it, at
    least one still running; the last of them deletes it): 0 when it was deleted, None where the runs that use each
    task are not kept."""

    TaskDeleted: bool = True
    TaskInUseByOtherRuns: int | None = None


class Description(BaseModel):
    """$.description: DataSync's DescribeTaskExecution of the finished execution, timestamps as ISO-8601."""

    model_config = ConfigDict(extra="allow")

    Status: str


class Resumed(BaseModel):
    """What the resume step did with DataSync's event: how many waiting workflow executions it woke."""

    Resumed: int


class CaughtError(BaseModel):
    """What a Catch keeps of a failure ($.error): Step Functions' error name and its cause (a Lambda error's JSON, or
    the sentence a timeout state wrote)."""

    Error: str
    Cause: str | None = None


class NextTry(BaseModel):
    """$.retry: whether the run tries again (after DelaySeconds, as try Attempt), and the Error and Cause it fails
    with when it does not."""

    Retry: bool
    Attempt: int
    DelaySeconds: int = 0
    Error: str
    Cause: str


class TaskReport(Sparse):
    """$.report: the execution's task report: how it ended, and where DataSync put it."""

    Status: str
    Bucket: str | None = None
    Prefix: str | None = None
    Uri: str | None = None
    ErrorCode: str | None = None
    ErrorDetail: str | None = None
