"""Small fakes layered on moto for what its DataSync never does by itself: fail, throttle or refuse.

Each patches moto's server side only, so the steps' boto3 calls and error handling run unchanged.
"""

import json

from moto.core.exceptions import JsonRESTError
from moto.datasync.exceptions import InvalidRequestException
from moto.datasync.models import DataSyncBackend, TaskExecution, datasync_backends
from moto.datasync.responses import DataSyncResponse

from tests.conftest import REGION


def backend() -> DataSyncBackend:
    return datasync_backends["123456789012"][REGION]


def executions_end_in_error(monkeypatch, error_code: str, error_detail: str) -> None:
    """Executions run through moto's statuses and end in ERROR with DataSync's Result fields."""
    monkeypatch.setattr(TaskExecution, "TASK_EXECUTION_SUCCESS_STATES", ("ERROR",))
    describe = DataSyncResponse.describe_task_execution

    def with_result(self):
        body = json.loads(describe(self))
        if body["Status"] == "ERROR":
            body["Result"] = {"ErrorCode": error_code, "ErrorDetail": error_detail, "TransferStatus": "ERROR"}
        return json.dumps(body)

    monkeypatch.setattr(DataSyncResponse, "describe_task_execution", with_result)


def fail_calls(monkeypatch, method: str, error: Exception, times: int | None = None) -> list[int]:
    """Make moto's DataSync answer `method` with `error`, the first `times` calls or always."""
    original = getattr(DataSyncResponse, method)
    calls = [0]

    def failing(self):
        calls[0] += 1
        if times is None or calls[0] <= times:
            raise error
        return original(self)

    monkeypatch.setattr(DataSyncResponse, method, failing)
    return calls


def lose_answers(monkeypatch, method: str, times: int = 1) -> list[int]:
    """DataSync does `method` but the answer is lost the first `times` calls: a 500 after the change is made."""
    original = getattr(DataSyncResponse, method)
    calls = [0]

    def answer_lost(self):
        calls[0] += 1
        answer = original(self)
        if calls[0] <= times:
            raise JsonRESTError("InternalException", "An internal error occurred.")
        return answer

    monkeypatch.setattr(DataSyncResponse, method, answer_lost)
    return calls


def throttled() -> JsonRESTError:
    return JsonRESTError("ThrottlingException", "Rate exceeded")


def refused(message: str) -> InvalidRequestException:
    return InvalidRequestException(message)
