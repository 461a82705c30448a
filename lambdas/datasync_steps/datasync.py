"""The DataSync client the steps use, and the one place that turns botocore errors into the workflow's."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from datasync_steps.errors import DataSyncRequestError, DataSyncTransientError, DataSyncWorkflowError

TRANSIENT_ERROR_CODES = {
    "InternalException",
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
}
_NOT_FOUND = re.compile(r"not\s+found|does\s+not\s+exist|unable\s+to\s+find|no\s+such", re.IGNORECASE)


def datasync_client(*, retry_in_sdk: bool = True):
    """A DataSync client.

    No DataSync create or start call takes a client token, so a call that botocore repeats after a lost
    response can make a second location, task or execution: those calls use `retry_in_sdk=False` and rely
    on the step's own look-up-before-create when Step Functions retries the whole step.
    """
    retries = {"mode": "standard", "total_max_attempts": 3 if retry_in_sdk else 1}
    return boto3.client("datasync", config=Config(retries=retries, user_agent_extra="datasync-workflow"))


@contextmanager
def translate_errors(
    doing: str,
    *,
    refused: type[DataSyncWorkflowError] = DataSyncRequestError,
    not_found: type[DataSyncWorkflowError] | None = None,
) -> Iterator[None]:
    """Raise the workflow's error for a failed DataSync call; `doing` says what was being done."""
    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "Unknown")
        message = details.get("Message") or str(error)
        datasync_code = error.response.get("datasyncErrorCode") or details.get("datasyncErrorCode")
        said = f"{code}: {message}" + (f" (DataSync error code {datasync_code})" if datasync_code else "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
        if code in TRANSIENT_ERROR_CODES or status >= 500:
            raise DataSyncTransientError(f"DataSync failed to {doing}, will retry: {said}") from error
        if not_found is not None and code == "InvalidRequestException" and _NOT_FOUND.search(message):
            raise not_found(f"Could not {doing}: {said}") from error
        raise refused(f"DataSync refused to {doing}: {said}") from error
    except (ConnectionError, HTTPClientError) as error:
        raise DataSyncTransientError(f"Could not reach DataSync to {doing}, will retry: {error}") from error
