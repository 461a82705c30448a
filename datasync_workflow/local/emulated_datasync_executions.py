"""The emulated DataSync's task executions and their clock: what an execution shows at any moment.

An execution runs by itself with time: QUEUED (while another execution of its task runs), LAUNCHING, PREPARING,
TRANSFERRING, VERIFYING, then SUCCESS or ERROR; CancelTaskExecution ends it through CANCELLING. Its description
carries times, counters, Result, the options it ran with and its task report's result, and each change of its status
is the state-change event DataSync sends EventBridge.

What an execution does (how long it takes, what it transfers, whether it fails) is an `EmulatedTransfer`, taken when
it starts from the `emulated_transfers(...)` block around it. The backend that starts, queues and cancels executions
is `emulated_datasync`'s.
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from moto.datasync.models import TaskExecution

if TYPE_CHECKING:
    from datasync_workflow.local.emulated_datasync import EmulatedTask

PHASES = ("LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING")
PHASE_SHARES = {"LAUNCHING": 0.1, "PREPARING": 0.2, "TRANSFERRING": 0.55, "VERIFYING": 0.15}  # of the seconds
FINAL_STATUSES = ("SUCCESS", "ERROR")
CANCELLING_SECONDS = 0.2
REPORT_SECONDS = 0.4  # a task report is PENDING this long after its execution ends
FOLDERS = 10  # the folders of an emulated transfer, which Enhanced mode counts apart from the files


@dataclass(frozen=True)
class EmulatedTransfer:
    """What an emulated execution does once it launches."""

    seconds: float = 1.5  # from launch to SUCCESS; a failing one ends in ERROR halfway through TRANSFERRING
    files: int = 1_000
    bytes: int = 2 * 1024**3
    error_code: str | None = None  # set: the execution ends in ERROR with this Result.ErrorCode ...
    error_detail: str = "The emulated transfer failed."  # ... and this Result.ErrorDetail
    files_failed: int = 0  # Enhanced mode: files that fail to transfer (the execution still ends as set above)
    report_error: str | None = None  # set: a task report ends in ERROR with this ErrorCode

    def phase_seconds(self, phase: str) -> float:
        return self.seconds * PHASE_SHARES[phase]


_transfer = EmulatedTransfer()


@contextmanager
def emulated_transfers(transfer: EmulatedTransfer) -> Iterator[EmulatedTransfer]:
    """Executions started inside this block do what `transfer` says."""
    global _transfer
    before, _transfer = _transfer, transfer
    try:
        yield transfer
    finally:
        _transfer = before


class EmulatedExecution(TaskExecution):
    """An execution whose status follows the clock. `launch_time` is None while it is queued."""

    def __init__(self, arn: str, task: "EmulatedTask", request: dict, backend):
        self.arn, self.task_arn = arn, task.arn
        self.request = request
        self.transfer = _transfer  # what the emulated_transfers block around the start says
        self.options = {**task.options, **(request.get("OverrideOptions") or {})}
        self.mode = task.mode
        self.report_config = request.get("TaskReportConfig") or task.metadata.get("TaskReportConfig")
        self.includes = request.get("Includes") or task.metadata.get("Includes") or []
        self.excludes = request.get("Excludes") or task.metadata.get("Excludes") or []
        self.start_time = time.time()
        self.launch_time: float | None = None
        self.cancel_time: float | None = None
        self._backend = backend

    @property
    def status(self) -> str:
        """DataSync's status of the execution now, as a describe call would give it."""
        now = self._backend.advance()
        return self.status_at(now)

    @status.setter
    def status(self, value: str) -> None:  # moto's TaskExecution sets it; here the clock decides
        pass

    def end_time(self) -> float:
        """When the execution ends (or ended): the clock has it from launch, or from a cancellation."""
        if self.cancel_time is not None:
            return self.cancel_time + CANCELLING_SECONDS
        assert self.launch_time is not None
        if self.transfer.error_code:  # it fails halfway through TRANSFERRING
            return (
                self.launch_time
                + sum(self.transfer.phase_seconds(p) for p in PHASES[:2])
                + (self.transfer.phase_seconds("TRANSFERRING") / 2)
            )
        return self.launch_time + self.transfer.seconds

    def status_at(self, now: float) -> str:
        if self.cancel_time is not None:
            return "CANCELLING" if now < self.end_time() else "ERROR"
        if self.launch_time is None:
            return "QUEUED"
        if now >= self.end_time():
            return "ERROR" if self.transfer.error_code else "SUCCESS"
        return self._phase_at(now)[0]

    def _phase_at(self, moment: float) -> tuple[str, float]:
        """The phase running at `moment` and the share of it done; a phase that just ended counts as done."""
        assert self.launch_time is not None
        elapsed, phase_start = moment - self.launch_time, 0.0
        for phase in PHASES:
            length = self.transfer.phase_seconds(phase)
            if elapsed <= phase_start + length + 1e-9:
                return phase, min(max((elapsed - phase_start) / length, 0.0), 1.0) if length else 1.0
            phase_start += length
        return "VERIFYING", 1.0

    def description(self, now: float) -> dict:
        status = self.status_at(now)
        described = {
            "TaskExecutionArn": self.arn,
            "Status": status,
            "Options": self.options,
            "StartTime": self.start_time,
            "TaskMode": self.mode,
        }
        for key, value in (("Includes", self.includes), ("Excludes", self.excludes)):
            if value:
                described[key] = value
        if self.request.get("ManifestConfig"):
            described["ManifestConfig"] = self.request["ManifestConfig"]
        if self.report_config:
            described["TaskReportConfig"] = self.report_config
            described["ReportResult"] = self._report_result(now, status)
        if status in FINAL_STATUSES:
            described["EndTime"] = self.end_time()
        if self.launch_time is None:
            described["Result"] = {f"{p.capitalize()}Status": "PENDING" for p in PHASES[1:]}
            return described
        described["LaunchTime"] = self.launch_time
        # Counters stop where the execution stopped: at its end, its failure or its cancellation.
        stopped_at = min(now, self.cancel_time if self.cancel_time is not None else self.end_time())
        phase, done = self._phase_at(stopped_at)
        reached = PHASES.index(phase)
        files, size = self.transfer.files, self.transfer.bytes
        transferred = 1.0 if reached > 2 else (done if reached == 2 else 0.0)
        described.update(
            EstimatedFilesToTransfer=files if reached > 1 else 0,
            EstimatedBytesToTransfer=size if reached > 1 else 0,
            EstimatedFilesToDelete=0,
            FilesTransferred=round(files * transferred),
            BytesWritten=round(size * transferred),
            BytesTransferred=round(size * transferred),
            BytesCompressed=round(size * transferred),
            FilesDeleted=0,
            FilesSkipped=0,
            FilesVerified=round(files * done) if reached == 3 else 0,
        )
        if self.mode == "ENHANCED":
            described.update(self._enhanced_counters(reached, transferred, status))
        failed = status in ("ERROR", "CANCELLING")
        result: dict[str, object] = {"TotalDuration": round((stopped_at - self.launch_time) * 1000)}
        for index, name in ((1, "Prepare"), (2, "Transfer"), (3, "Verify")):
            if reached > index or (reached == index and status == "SUCCESS"):
                result[f"{name}Duration"] = round(self.transfer.phase_seconds(PHASES[index]) * 1000)
                result[f"{name}Status"] = "SUCCESS"
            elif reached == index and failed:
                result[f"{name}Duration"] = round(done * self.transfer.phase_seconds(PHASES[index]) * 1000)
                result[f"{name}Status"] = "ERROR"
            else:
                result[f"{name}Status"] = "PENDING"
        if status == "ERROR" and self.cancel_time is None:
            result.update(ErrorCode=self.transfer.error_code, ErrorDetail=self.transfer.error_detail)
        described["Result"] = result
        return described

    def _report_result(self, now: float, status: str) -> dict:
        """A task report is written a moment after the execution ends: PENDING until then."""
        if status not in FINAL_STATUSES or now < self.end_time() + REPORT_SECONDS:
            return {"Status": "PENDING"}
        if self.transfer.report_error:
            return {
                "Status": "ERROR",
                "ErrorCode": self.transfer.report_error,
                "ErrorDetail": "DataSync could not write the emulated task report.",
            }
        return {"Status": "SUCCESS"}

    def _enhanced_counters(self, reached: int, transferred: float, status: str) -> dict:
        """Enhanced mode's counters: files listed and prepared apart from the folders, and failures by phase. Files*
        then count files alone, as DescribeTaskExecution's documentation says."""
        files, failed = self.transfer.files, min(self.transfer.files_failed, self.transfer.files)
        listed = reached >= 1
        prepared = reached >= 2
        counters: dict[str, object] = {
            "FilesListed": {"AtSource": files if listed else 0, "AtDestinationForDelete": 0},
            "FilesPrepared": files if prepared else 0,
            "FoldersListed": {"AtSource": FOLDERS if listed else 0, "AtDestinationForDelete": 0},
            "FoldersPrepared": FOLDERS if prepared else 0,
            "FoldersTransferred": round(FOLDERS * transferred),
            "FoldersSkipped": 0,
            "FoldersVerified": FOLDERS if reached == 3 and status == "SUCCESS" else 0,
            "FoldersDeleted": 0,
            "FoldersFailed": {"List": 0, "Prepare": 0, "Transfer": 0, "Verify": 0, "Delete": 0},
            "FilesFailed": {"Prepare": 0, "Transfer": failed if transferred else 0, "Verify": 0, "Delete": 0},
        }
        return counters

    def state_change_event(self, status: str, account_id: str, region: str) -> dict:
        """The event DataSync sends EventBridge, as EventBridge delivers it: the execution in `resources`, only its
        state in `detail`."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "DataSync Task Execution State Change",
            "source": "aws.datasync",
            "account": account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": region,
            "resources": [self.arn],
            "detail": {"State": status},
        }
