"""The AWS clients the steps use, and the one place that turns botocore errors into the workflow's."""

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, lru_cache, partial
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, ParamValidationError

from datasync_steps.errors import (
    DataSyncInvalidInputError,
    DataSyncLocationNotFoundError,
    DataSyncRequestError,
    DataSyncTaskNotFoundError,
    DataSyncTransientError,
    DataSyncWorkflowError,
)

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_stepfunctions import SFNClient

    from datasync_steps.deployment import Deployment
    from datasync_steps.places import Place

# A throttled request was refused before DataSync did anything.
THROTTLING_ERROR_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
# DynamoDB's (task_users.py): a write that met a transaction on its item is refused so, and may be tried again.
TRANSACTION_CONFLICT = "TransactionConflictException"
TRANSIENT_ERROR_CODES = THROTTLING_ERROR_CODES | {
    "InternalException",
    "ServiceUnavailable",
    "ProvisionedThroughputExceededException",
    TRANSACTION_CONFLICT,
}
# A missing permission: never "not found", whatever the call.
ACCESS_DENIED_ERROR_CODES = {"AccessDeniedException", "AccessDenied"}
# The errors that say something the input names does not exist.
NOT_FOUND_ERRORS = (DataSyncTaskNotFoundError, DataSyncLocationNotFoundError)
_NOT_FOUND = re.compile(r"not\s+found|does\s+not\s+exist|unable\s+to\s+find|no\s+such", re.IGNORECASE)
# What botocore's report of a refused parameter says of its value, which may be a secret.
_ECHOED_VALUE = re.compile(r", value: .*?(?=, (?:type|valid min value|valid min length): )", re.DOTALL)


def datasync_client(*, creates: bool = False, place: "Place | None" = None) -> "DataSyncClient":
    """A DataSync client; botocore retries its throttled, failed and unanswered calls. At a `place` (places.py), its
    calls go to that region, made with that role's credentials (another account's), which botocore renews before
    they expire; without one, the step's own region and role.

    No DataSync create or start call takes a client token, so repeating one whose answer was lost can make a
    second location, task or execution. A client that `creates` repeats only throttled calls, which DataSync
    refused before acting; the steps' look-up-before-create covers the rest when Step Functions retries them.
    """
    if place is None or (place.region in (None, _region()) and place.role_arn is None):
        return _datasync_client(creates, _region())
    return _placed_datasync_client(creates, place.region or _region(), place.role_arn, place.session_name)


def datasync_client_by_arn(deployment: "Deployment", execution_arn: str) -> "DataSyncClient":
    """A DataSync client for a step that sees only ARNs (of tasks and executions, from the state or an event): each
    call goes to the place (places.py) of the ARN it names, in the region and account the ARN says, and a call on an
    ARN outside what `deployment` lists (its own region and account, its regions and connections) is refused with
    DataSyncInvalidInputError before anything is sent. `execution_arn` is the workflow execution the step acts for
    (its assumed role's session name)."""
    from datasync_steps.places import place_of

    return cast(
        "DataSyncClient",
        _ByArn(lambda arn: datasync_client(place=place_of(deployment, arn, execution_arn))),
    )


# The parameters that name what a DataSync call acts on, in the order a call is routed by.
ARN_PARAMETERS = ("TaskExecutionArn", "TaskArn", "ResourceArn", "LocationArn")


class _ByArn:
    """A stand-in for a DataSync client whose calls (and paginators) are each made by the client of the ARN's place."""

    def __init__(self, client_for: "Callable[[str], DataSyncClient]") -> None:
        self._client_for = client_for

    def _client_of(self, operation: str, params: dict[str, Any]) -> "DataSyncClient":
        arn = next((params[key] for key in ARN_PARAMETERS if isinstance(params.get(key), str)), None)
        if arn is None:
            raise TypeError(f"{operation} names no task, execution or location: it has no place")
        return self._client_for(arn)

    def __getattr__(self, operation: str) -> Any:
        if operation.startswith("_"):
            raise AttributeError(operation)
        return lambda **params: getattr(self._client_of(operation, params), operation)(**params)

    def get_paginator(self, operation: str) -> Any:
        routed = self

        class Paginator:
            def paginate(self, **params: Any) -> Any:
                return routed._client_of(operation, params).get_paginator(operation).paginate(**params)  # type: ignore[call-overload]

        return Paginator()


def states_client() -> "SFNClient":
    return _client("stepfunctions", _region())


def patient_states_client() -> "SFNClient":
    """Step Functions for a step that makes thousands of calls (a batch's summary): botocore's adaptive mode paces
    them to the DescribeExecution quota (its quotas page: a burst of 300, then 15 a second, in the largest regions;
    250, then 10, elsewhere) instead of failing the step, and its retry, from the start, when throttled."""
    return _client("stepfunctions", _region(), paced=True)


def events_client() -> Any:  # no stubs installed for EventBridge
    return _client("events", _region())


def s3_client() -> Any:  # no stubs installed for S3
    return _client("s3", _region())


def dynamodb_table(name: str) -> Any:
    """The DynamoDB table `name`, as a boto3 resource. Resources are not safe to share between threads (boto3's guide,
    "Resources": "Multithreading or multiprocessing with resources"), so each thread keeps its own: Lambda runs every
    invocation on one thread, so a warm function makes it once, not once an invocation (some 8 ms of CPU each)."""
    made = _tables.__dict__.setdefault("made", {})
    key = (name, _region())
    if key not in made:
        made[key] = boto3.resource("dynamodb", region_name=key[1]).Table(name)
    return made[key]


_tables = threading.local()


MAX_PLACED_CLIENTS = 64


# Made once per region and kept, as Lambda advises: a warm function's next invocation uses the same client, and
# its connections (boto3's clients are safe to share between threads).
def _region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


@cache
def _client(service: str, region: str | None, paced: bool = False) -> Any:
    config = Config(retries={"mode": "adaptive", "total_max_attempts": 10}, user_agent_extra="datasync-workflow")
    return boto3.client(service, region_name=region, config=config if paced else None)  # type: ignore[call-overload]


@cache
def _datasync_client(creates: bool, region: str | None) -> "DataSyncClient":
    config = Config(retries={"mode": "standard", "total_max_attempts": 3}, user_agent_extra="datasync-workflow")
    client = boto3.client("datasync", region_name=region, config=config)
    if creates:
        # botocore's stubs type handlers as returning None; a needs-retry handler's answer is what botocore reads.
        client.meta.events.register_first("needs-retry.datasync", _retry_only_when_throttled)  # type: ignore[arg-type]
    return client


# A warm function serves many runs: a client per place and session (one per run in another account), the least
# recently used dropped first.
@lru_cache(maxsize=MAX_PLACED_CLIENTS)
def _placed_datasync_client(
    creates: bool, region: str | None, role_arn: str | None, session_name: str | None
) -> "DataSyncClient":
    if role_arn is None:
        return _datasync_client(creates, region)
    config = Config(retries={"mode": "standard", "total_max_attempts": 3}, user_agent_extra="datasync-workflow")
    client = _assumed_role_session(role_arn, session_name or "datasync-workflow").client(
        "datasync", region_name=region, config=config
    )
    if creates:
        client.meta.events.register_first("needs-retry.datasync", _retry_only_when_throttled)  # type: ignore[arg-type]
    return client


def _assumed_role_session(role_arn: str, session_name: str) -> boto3.session.Session:
    """A session whose credentials are the role's (STS AssumeRole with the step's own credentials, in its own region),
    fetched on first use and again before they expire: botocore's own assume-role provider, as for a profile's
    role_arn."""
    from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials
    from botocore.session import Session as BotocoreSession

    own = _own_botocore_session()
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=partial(own.create_client, region_name=_region()),
        source_credentials=own.get_credentials(),
        role_arn=role_arn,
        extra_args={"RoleSessionName": session_name},
    )
    assumed = BotocoreSession()
    # The service models, loaded once: each session's own loader would hold its own copy (some 9 MiB a client).
    for component in ("data_loader", "endpoint_resolver"):
        assumed.register_component(component, own.get_component(component))
    assumed._credentials = DeferredRefreshableCredentials(  # type: ignore[attr-defined]
        refresh_using=fetcher.fetch_credentials, method="assume-role"
    )
    return boto3.session.Session(botocore_session=assumed)


@cache
def _own_botocore_session() -> Any:
    """The step's own credentials and the service models, shared by every assumed role's session."""
    return boto3.session.Session()._session


def _retry_only_when_throttled(response=None, **_) -> bool | None:
    """False stops botocore's retry; None leaves the decision to its standard retry handler."""
    error_code = response[1].get("Error", {}).get("Code") if response else None
    return None if error_code in THROTTLING_ERROR_CODES else False


@contextmanager
def translate_errors(
    doing: str,
    *,
    refused: type[DataSyncWorkflowError] = DataSyncRequestError,
    not_found: type[DataSyncWorkflowError] | None = None,
    service: str = "DataSync",
    missing: str | None = None,
) -> Iterator[None]:
    """Raise the workflow's error for a failed DataSync (or other `service`) call; `doing` says what was being
    done. `missing` names what the call needs that may not exist ("task ARN"): a refusal that says it does not
    (`not_found`'s, or any when `refused` is itself a not-found error) then reads "DataSync has no task ARN: ...",
    DataSync's code and words after it."""
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
            raise DataSyncTransientError(f"{service} failed to {doing}, will retry: {said}") from error
        if code in ACCESS_DENIED_ERROR_CODES:
            from datasync_steps.deployment import Deployment  # only to explain a refusal

            scope = Deployment.from_environment().scope_tag
            raise DataSyncRequestError(
                f"Access denied to {doing}: {said}. "
                + (
                    f"This deployment acts only on DataSync tasks, locations and executions tagged {scope} (its "
                    "scope_tag), and tags what it creates and starts so: the resource may be outside that scope. "
                    "If it is not, the step's role lacks the permission."
                    if scope
                    else "The step's role lacks that permission."
                )
            ) from error
        if not_found is not None and code == "InvalidRequestException" and _NOT_FOUND.search(message):
            raise not_found(
                f"{service} has no {missing}: {said}" if missing else f"Could not {doing}: {said}"
            ) from error
        if missing and issubclass(refused, NOT_FOUND_ERRORS):
            raise refused(f"{service} has no {missing}: {said}") from error
        raise refused(f"{service} refused to {doing}: {said}") from error
    except ParamValidationError as error:
        # The input is checked against the same API model first; should a call still be refused, say why without
        # the values, which may be secrets.
        report = _ECHOED_VALUE.sub(", value: (not shown)", str(error))
        raise DataSyncInvalidInputError(f"Could not {doing}: {report}") from None
    except (ConnectionError, HTTPClientError) as error:
        raise DataSyncTransientError(f"Could not reach {service} to {doing}, will retry: {error}") from error
