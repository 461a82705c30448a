"""Small fakes layered on the emulated DataSync for what it never does by itself: throttle, refuse, lose answers.

Each patches moto's server side only, so the steps' boto3 calls and error handling run unchanged.
"""

import time

import botocore
from moto.core.exceptions import JsonRESTError
from moto.datasync.exceptions import InvalidRequestException
from moto.datasync.models import DataSyncBackend, datasync_backends
from moto.datasync.responses import DataSyncResponse

from datasync_steps.api_shapes import datasync_model as _datasync_model
from datasync_workflow.local import emulated_iam
from datasync_workflow.local.emulated_datasync import EmulatedDataSyncBackend
from tests.conftest import REGION


def backend() -> DataSyncBackend:
    return datasync_backends["123456789012"][REGION]


def fail_calls(
    monkeypatch, method: str, error: Exception, times: int | None = None, step: str | None = None
) -> list[int]:
    """Make moto's DataSync answer `method` with `error`, the first `times` calls or always (with a `step`, those
    that step makes)."""
    return _fail(monkeypatch, method, error, times, after_doing_it=False, step=step)


def lose_answers(monkeypatch, method: str, times: int = 1) -> list[int]:
    """DataSync does `method` but the answer is lost the first `times` calls: a 500 after the change is made."""
    lost = JsonRESTError("InternalException", "An internal error occurred.")
    lost.code = 500  # as DataSync answers it: botocore's standard retry would repeat it
    return _fail(monkeypatch, method, lost, times, after_doing_it=True)


def _fail(
    monkeypatch, method: str, error: Exception, times: int | None, after_doing_it: bool, step: str | None = None
) -> list[int]:
    """Replace moto's answer to `method` with `error` for the first `times` calls (of `step`, if named); return the
    count of those calls."""
    original = getattr(DataSyncResponse, method)
    calls = [0]

    def answer(self):
        if step is not None and emulated_iam.acting_step() != step:
            return original(self)
        calls[0] += 1
        failing = times is None or calls[0] <= times
        if failing and not after_doing_it:
            raise error
        result = original(self)
        if failing:
            raise error
        return result

    monkeypatch.setattr(DataSyncResponse, method, answer)
    return calls


def slow_answers(monkeypatch, method: str, seconds: float) -> None:
    """DataSync takes `seconds` to act on `method`: runs racing each other overlap there."""
    original = getattr(DataSyncResponse, method)

    def answer_slowly(self):
        time.sleep(seconds)
        return original(self)

    monkeypatch.setattr(DataSyncResponse, method, answer_slowly)


def throttle_every_other_call(monkeypatch) -> list[int]:
    """Throttle every second DataSync call, whatever the action; return the count of throttled calls."""
    calls, throttled_calls = [0], [0]
    for operation in _datasync_model().operation_names:
        action = botocore.xform_name(operation)
        if hasattr(DataSyncResponse, action):
            monkeypatch.setattr(
                DataSyncResponse,
                action,
                _throttled_every_other(getattr(DataSyncResponse, action), calls, throttled_calls),
            )
    return throttled_calls


def _throttled_every_other(answer, calls: list[int], throttled_calls: list[int]):
    def maybe_throttled(self):
        calls[0] += 1
        if calls[0] % 2 == 0:
            throttled_calls[0] += 1
            raise throttled()
        return answer(self)

    return maybe_throttled


def drop_datasync_events(monkeypatch) -> None:
    """EventBridge delivers none of DataSync's state-change events (AWS promises them on a best-effort basis)."""
    monkeypatch.setattr(EmulatedDataSyncBackend, "subscribe", lambda self, listener: lambda: None)


def throttled() -> JsonRESTError:
    return JsonRESTError("ThrottlingException", "Rate exceeded")


def refused(message: str) -> InvalidRequestException:
    return InvalidRequestException(message)
