"""moto's Step Functions, extended where callers of a local run touch it differently from AWS.

`install()` (run once, when `datasync_workflow.local.runner` is imported) puts on moto's StepFunctionResponse:

- GetExecutionHistory as the API reference gives it: `reverseOrder` (newest first), pages of `maxResults`
  (100 by default, at most 1,000) with `nextToken`, and no states' input and output when `includeExecutionData`
  is false. moto gives every event, oldest first, whatever is asked.
- StopExecution as AWS does it: the execution ends ABORTED at once, keeping the stop's `error` and `cause`, even
  while a state waits for a task token (moto drops both, and its engine notices a stop only when the waiting
  state gets an answer: it is given one, `{}`, which the stopped execution never uses).
- The states:startExecution integration (`.sync:2` too) with the parameters and answers named as Step Functions
  names them (moto's engine passes ASL's StateMachineArn to botocore, which refuses it).
- A name made up (a UUID) for an execution started without one, through the API (as EventBridge Scheduler starts
  one) or the integration, as Step Functions does: moto names each such execution "None", so a second collides.
- The integration's failures named as Step Functions names them to the state (`integration_error_name`), so that a
  Task state's Retry and Catch, which moto's engine applies to every Task state as it does to Lambda's, match on the
  names they match on AWS; and `child_starts_failing`, with which a test makes the integration's next StartExecution
  calls (a batch's child starts) throttled, refused or timed out, as AWS's StartExecution quota and network do.
- A Distributed Map's ResultWriter writing the manifest and result files in the layout Step Functions documents, from
  the Map's iterations (their input, output or Error and Cause, and times), where moto writes an empty manifest.
- "Step Functions Execution Status Change": `subscribe` hands each execution's end (SUCCEEDED, FAILED, TIMED_OUT,
  ABORTED) to a listener, as EventBridge hands it to a rule's target, just before DescribeExecution shows it.

And it spares moto's engine work a local run repeats (a local batch runs the child definition once an item): it
parses a definition's text with ANTLR and preprocesses it into a program when the state machine is made, again to
analyse it, and again for every execution (about 70 ms of CPU each time, most of a short local run's), where one
program per text serves them all (`_parse` says why that is safe); it makes a new client, with its TLS context and
endpoint rules, for every state and every .sync poll, where one per region and service serves (boto3's clients may be
shared between threads); it parses every JSONPath of every state on every evaluation, where one parse serves; and its
.sync integration polls a child every half second (`SYNC_POLL_SECONDS` says what its replacement trades).
"""

import base64
import copy
import importlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

import botocore.session
from antlr4 import CommonTokenStream, InputStream
from botocore.exceptions import ClientError, ReadTimeoutError
from jsonpath_ng import JSONPath
from moto.core.exceptions import AWSError
from moto.core.models import botocore_stubber
from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import ValidationException
from moto.stepfunctions.parser.api import (
    ExecutionRedrivenEventDetails,
    ExecutionStatus,
    ExecutionTimedOutEventDetails,
    HistoryEventType,
    StateMachineType,
    TaskFailedEventDetails,
)
from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.flow.start_at import StartAt
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
    DistributedItemProcessorWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3 import (
    ResourceEvalS3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import ResultWriter
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext, EventManager
from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramError, ProgramStopped
from moto.stepfunctions.parser.asl.parse.asl_parser import (
    AmazonStateLanguageParser,
    ASLParserException,
    SyntaxErrorListener,
)
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

HISTORY_PAGE, MAX_HISTORY_PAGE = 100, 1000
# How long a stop keeps answering task tokens: a state's step may still be on its way to keeping its token.
STOP_SECONDS = 5
_MOTOS_HISTORY = StepFunctionResponse.get_execution_history
_MOTOS_STOP = StepFunctionResponse.stop_execution
_MOTOS_TERMINATED = BaseExecutionWorkerCommunication.terminated
_MOTOS_SFN_PARAMETERS = StateTaskServiceSfn._normalise_parameters
_MOTOS_SFN_RESPONSE = StateTaskServiceSfn._normalise_response
_MOTOS_SFN_ERROR = StateTaskServiceSfn._from_error
_MOTOS_SFN_TASK = StateTaskServiceSfn._eval_service_task
_MOTOS_START = StepFunctionsParserBackend.start_execution
_MOTOS_SYNC_RESOLVER = StateTaskServiceSfn._build_sync_resolver
_MOTOS_SYNC2_RESOLVER = StateTaskServiceSfn._build_sync2_resolver
_MOTOS_EVAL_SYNC = StateTaskServiceSfn._eval_sync
# How often a .sync state of the states:startExecution integration looks at its child while it runs, as moto's engine
# does (its _DELAY_SECONDS_SYNC_CONDITION_CHECK); it also looks the moment the child ends (`_sfn_eval_sync`).
SYNC_POLL_SECONDS = state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK

StatusListener = Callable[[dict], None]
_listeners: list[StatusListener] = []
_listeners_lock = threading.Lock()


def subscribe(listener: StatusListener) -> Callable[[], None]:
    """Send `listener` each execution's "Step Functions Execution Status Change" event when it ends; return the
    function that stops it."""
    with _listeners_lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _listeners_lock:
            _listeners.remove(listener)

    return unsubscribe


def _terminated(self: BaseExecutionWorkerCommunication) -> None:
    state = self.execution.exec_worker.env.program_state()  # type: ignore[union-attr]
    # A stopped execution is ABORTED however its states end: moto's engine fails an inline Map that a stop interrupts.
    stopped = getattr(self.execution, "stopped_by_request", False)
    status = (
        "SUCCEEDED"
        if isinstance(state, ProgramEnded)
        else "ABORTED"
        if isinstance(state, ProgramStopped) or stopped
        else "FAILED"
        if isinstance(state, ProgramError)
        else "TIMED_OUT"
    )
    error = (state.error or {}) if isinstance(state, ProgramError) and not stopped else {}
    execution_error = error.get("error") or getattr(self.execution, "error", None)
    execution_cause = error.get("cause") or getattr(self.execution, "cause", None)
    event = {
        "source": "aws.states",
        "detail-type": "Step Functions Execution Status Change",
        "region": self.execution.region_name,
        # As the event's detail has them (Step Functions' user guide, "EventBridge events"): the input and output as
        # JSON text, the error and cause of a failure (or a stop), null where there are none.
        "detail": {
            "executionArn": self.execution.exec_arn,
            "stateMachineArn": self.execution.state_machine.arn,
            "name": self.execution.name,
            "status": status,
            "input": json.dumps(self.execution.input_data),
            "output": json.dumps(self.execution.exec_worker.env.states.get_input()) if status == "SUCCEEDED" else None,  # type: ignore[union-attr]
            "error": execution_error,
            "cause": execution_cause,
        },
    }
    with _listeners_lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(event)
    _MOTOS_TERMINATED(self)
    if stopped:
        self.execution.exec_status = ExecutionStatus.ABORTED
        self.execution.error, self.execution.cause = execution_error, execution_cause
    with _waiters_lock:  # DescribeExecution shows the end now
        for ended in _waiters.get(self.execution.exec_arn, ()):
            ended.set()


# The .sync states waiting on each child execution (by its ARN), woken when it ends.
_waiters: dict[str, list[threading.Event]] = {}
_waiters_lock = threading.Lock()


class _ChildResolver:
    """moto's resolver of a .sync state (one DescribeExecution of the child), with the child's ARN."""

    def __init__(self, resolve: Callable[[], object] | None, execution_arn: str):
        assert resolve is not None, "moto's states:startExecution integration makes a resolver for .sync and .sync:2"
        self.resolve, self.execution_arn = resolve, execution_arn

    def __call__(self) -> object:
        return self.resolve()


def _knowing_the_child(build_resolver: Callable) -> Callable:
    """moto's builder of a .sync (or .sync:2) resolver, whose resolver also knows the child's ARN."""

    def build(self, env, resource_runtime_part, normalised_parameters: dict, state_credentials) -> _ChildResolver:
        arn = env.stack[-1]["ExecutionArn"]  # the StartExecution answer moto's resolver takes
        resolve = build_resolver(self, env, resource_runtime_part, normalised_parameters, state_credentials)
        return _ChildResolver(resolve, arn)

    return build


def _sfn_eval_sync(self, env, sync_resolver, timeout_seconds, callback_endpoint, heartbeat_endpoint):
    """moto's .sync wait on a child execution, which looks every SYNC_POLL_SECONDS and so notices the child's end a
    quarter of a second late on average (a batch slot idle that long after each of its items), woken as well the
    moment the child ends: no more DescribeExecution calls than moto's (one more at the end), no poll shortened at
    the cost of more CPU for every waiting state. A state waiting on a task token too is left to moto's."""
    if callback_endpoint is not None or not isinstance(sync_resolver, _ChildResolver):
        return _MOTOS_EVAL_SYNC(self, env, sync_resolver, timeout_seconds, callback_endpoint, heartbeat_endpoint)
    ended, arn = threading.Event(), sync_resolver.execution_arn
    with _waiters_lock:  # before the first look, so that no end goes unseen
        _waiters.setdefault(arn, []).append(ended)
    try:
        while env.is_running():
            result = sync_resolver()
            if result:
                return result
            ended.wait(SYNC_POLL_SECONDS)
        return None
    finally:
        with _waiters_lock:
            _waiters[arn].remove(ended)
            if not _waiters[arn]:
                del _waiters[arn]


def _stop_execution(self: StepFunctionResponse) -> ActionResult:
    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    worker = getattr(execution, "exec_worker", None)
    if worker is None or execution.status != "RUNNING":  # not run by moto's engine, or over: moto's own answer
        return _MOTOS_STOP(self)
    stopped = datetime.now(UTC)
    error, cause = self._get_param("error"), self._get_param("cause")
    execution.stop(stop_date=stopped, error=error, cause=cause)
    execution.error, execution.cause = error, cause
    execution.stopped_by_request = True  # type: ignore[attr-defined]  # read by _terminated
    threading.Thread(target=_answer_tokens_until_stopped, args=(execution, worker), daemon=True).start()
    return ActionResult({"stopDate": stopped})


def _answer_tokens_until_stopped(execution, worker) -> None:
    """Answer the tokens of the stopped attempt's states (`worker`'s), not those of a redrive that follows it."""
    deadline = time.monotonic() + STOP_SECONDS
    while execution.status == "RUNNING" and execution.exec_worker is worker and time.monotonic() < deadline:
        pool = worker.env.callback_pool_manager._pool
        for callback_id, endpoint in list(pool.items()):
            if endpoint.get_outcome() is None:
                endpoint.notify(CallbackOutcomeSuccess(callback_id=callback_id, output="{}"))
        time.sleep(0.02)


def _get_execution_history(self: StepFunctionResponse) -> ActionResult:
    events = list(self.stepfunction_backend.get_execution_history(self._get_param("executionArn"))["events"])
    if self._get_param("reverseOrder"):
        events.reverse()
    size = self._get_param("maxResults") or HISTORY_PAGE
    if not 0 < size <= MAX_HISTORY_PAGE:
        raise ValidationException(f"maxResults must be between 1 and {MAX_HISTORY_PAGE}, not {size}")
    token = self._get_param("nextToken")
    try:
        start = int(base64.urlsafe_b64decode(token).decode()) if token else 0
    except ValueError:
        raise ValidationException(f"Invalid nextToken {token!r}") from None
    page = events[start : start + size]
    if self._get_param("includeExecutionData") is False:
        page = [_without_data(event) for event in page]
    result: dict = {"events": page}
    if start + size < len(events):
        result["nextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return ActionResult(result)


def _without_data(event: dict) -> dict:
    bare = copy.copy(event)
    for key, details in event.items():
        if key.endswith("EventDetails") and isinstance(details, dict):
            data = ("input", "output", "inputDetails", "outputDetails")
            bare[key] = {name: value for name, value in details.items() if name not in data}
    return bare


def _parse_tree(definition: str):
    """What moto's AmazonStateLanguageParser.parse does before it preprocesses, for one definition text."""
    errors = SyntaxErrorListener()
    parser = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(errors)
    tree = parser.state_machine()
    if errors.errors:
        raise ASLParserException(errors=errors.errors)
    return tree


_MOTOS_CLIENT_FOR = boto_client.boto_client_for
# Every module of moto's engine that imported boto_client_for by name: each gets the shared clients.
_CLIENT_USERS = [lambda_eval_utils.__name__] + [
    f"moto.stepfunctions.parser.asl.component.state.{module}"
    for module in (
        "exec.state_task.service.state_task_service_aws_sdk",
        "exec.state_task.service.state_task_service_batch",
        "exec.state_task.service.state_task_service_dynamodb",
        "exec.state_task.service.state_task_service_ecs",
        "exec.state_task.service.state_task_service_events",
        "exec.state_task.service.state_task_service_glue",
        "exec.state_task.service.state_task_service_sfn",
        "exec.state_task.service.state_task_service_sns",
        "exec.state_task.service.state_task_service_sqs",
        "exec.state_task.service.state_task_service_unsupported",
        "exec.state_map.item_reader.eval.resource_eval_s3",
        "exec.state_map.result_writer.resource_eval.resource_eval_s3",
    )
]
_clients: dict[tuple[str, str, bool], object] = {}
_clients_lock = threading.Lock()


def _client_for(region: str, service: str, state_credentials=None):
    """The engine's client for `service`, one per region, where moto's makes one (its TLS context, endpoint rules and
    service model: about 10 ms of CPU) for every state and every .sync poll. boto3's clients may be shared between
    threads; moto 5.2.5's boto_client_for ignores `state_credentials` (every client is "ak"/"sk"), so the key leaves
    them out; whether moto intercepts the calls (or sends them to its server) is in the key."""
    key = (region, service, botocore_stubber.enabled)
    with _clients_lock:  # botocore's session is not safe to make clients with from several threads at once
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _MOTOS_CLIENT_FOR(region=region, service=service)
    return client


@lru_cache(maxsize=32)
def _parse(definition: str):
    """The program moto's engine runs for a definition text, preprocessed once: its components are made by the
    Preprocessor and never changed while they run (each execution's state is in its Environment, each Map's and
    Parallel's workers are made per evaluation; moto's inline Map already runs one program in many threads at once), so
    executions of the same text share it. The one value a component makes lazily, the heap key under which a Retry
    counts its attempts in the Environment, is made here, before the threads share it."""
    tree = _parse_tree(definition)
    program = Preprocessor().visit(tree)
    _make_heap_keys(program)
    return program, tree


def _make_heap_keys(root: Component) -> None:
    seen: set[int] = set()
    pending: list[object] = [root]
    while pending:
        value = pending.pop()
        if isinstance(value, (list, tuple, set, frozenset)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, Component) and id(value) not in seen:
            seen.add(id(value))
            if isinstance(value, EvalComponent):
                value.heap_key  # noqa: B018  # made on first read
            pending.extend(vars(value).values())


@lru_cache(maxsize=1024)
def _json_path(path: str) -> JSONPath:
    """jsonpath_ng's extended parser, which builds its PLY parser anew on every call (about 1 ms each, on every path
    of every state): a parsed expression is only read when it finds or updates (no JSONPath node sets anything on
    itself after __init__), so one serves every thread."""
    return _MOTOS_JSON_PATH(path)


@lru_cache(maxsize=1024)
def _result_path(path: str) -> JSONPath:
    """The same for ResultPath, which moto's engine parses with jsonpath_ng's base parser."""
    return _MOTOS_RESULT_PATH(path)


_MOTOS_JSON_PATH = json_path.parse
_MOTOS_RESULT_PATH = result_path.parse


def _sfn_parameters(self, parameters: dict, boto_service_name=None, service_action_name=None) -> None:
    """The states:startExecution integration's parameters as boto3 names them (moto's engine hands botocore ASL's
    StateMachineArn, Input, Name, which it refuses)."""
    _MOTOS_SFN_PARAMETERS(self, parameters, boto_service_name, service_action_name)
    for key in [key for key in parameters if key[:1].isupper()]:
        parameters[key[0].lower() + key[1:]] = parameters.pop(key)


def _sfn_response(self, response, boto_service_name=None, service_action_name=None) -> None:
    """...and its answers as the integration gives them to the state (ExecutionArn, Output, Status, ...)."""
    _MOTOS_SFN_RESPONSE(self, response, boto_service_name, service_action_name)
    if isinstance(response, dict):
        for key in [key for key in response if key[:1].islower()]:
            response[key[0].upper() + key[1:]] = response.pop(key)


def _start_execution(self, state_machine_arn: str, name=None, execution_input=None, trace_header=None):
    return _MOTOS_START(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)


@lru_cache(maxsize=1)
def _modeled_errors() -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("stepfunctions")
    return frozenset(shape.name for shape in model.error_shapes)


def integration_error_name(code: str) -> str:
    """The error a Task state of the optimized states:* integration fails with when Step Functions' API answers
    `code`: StepFunctions.<the exception's name>, as the integration names what AWS's SDK for Java raised, the way the
    Lambda integration's errors are Lambda.<exception> (developer guide, "Handle Lambda service exceptions",
    https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html). An error of the service
    model (ExecutionAlreadyExists, InvalidArn, ExecutionLimitExceeded, ...) is its own exception, named with an
    Exception suffix (StepFunctions.ExecutionAlreadyExistsException, as moto's engine and AWS's samples name it); any
    other (ThrottlingException, AccessDeniedException, a 5xx) is the service's catch-all AWSStepFunctionsException, as
    AWSLambdaException is Lambda's. Its Cause keeps the code: "... (Service: AWSStepFunctions; Status Code: 400; Error
    Code: ThrottlingException; ...)"."""
    if code not in _modeled_errors():
        return "StepFunctions.AWSStepFunctionsException"
    return f"StepFunctions.{code}" if code.endswith("Exception") else f"StepFunctions.{code}Exception"


def _sfn_error(self, env, ex: Exception) -> FailureEvent:
    """The integration's failure as `integration_error_name` names it; a call whose answer never came (a timeout, the
    connection lost) as StepFunctions.SdkClientException, as Lambda.SdkClientException is the Lambda integration's."""
    if isinstance(ex, ClientError):
        code, metadata = ex.response["Error"].get("Code", ""), ex.response.get("ResponseMetadata", {})
        error = integration_error_name(code)
        # The SDK's message, as AWS's Cause is (and moto's engine writes it).
        cause = (
            f"{ex.response['Error'].get('Message')} (Service: AWSStepFunctions; Status Code: "
            f"{metadata.get('HTTPStatusCode')}; Error Code: {code}; Request ID: {metadata.get('RequestId')}; "
            "Proxy: null)"
        )
    elif isinstance(ex, ReadTimeoutError):
        error, cause = "StepFunctions.SdkClientException", f"Unable to execute HTTP request: {ex}"
    else:
        return _MOTOS_SFN_ERROR(self, env, ex)
    details = TaskFailedEventDetails(
        error=error, cause=cause, resource=self._get_sfn_resource(), resourceType=self._get_sfn_resource_type()
    )
    return FailureEvent(
        env=env,
        error_name=CustomErrorName(error),
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(taskFailedEventDetails=details),  # type: ignore[typeddict-item]  # as moto's own
    )


# The HTTP status Step Functions' API answers each code with (its JSON protocol); 400 for the others.
_STATUS = {"InternalFailure": 500, "ServiceUnavailable": 503}
_MESSAGES = {"ThrottlingException": "Rate exceeded"}


@dataclass
class ChildStarts:
    """What `child_starts_failing` lets happen: `calls` holds each StartExecution call the integration made while it
    was in effect, as (the child's name, "started" or the error the state failed with), oldest first."""

    code: str
    after_start: bool
    remaining: int
    calls: list[tuple[str, str]] = field(default_factory=list)


_failing: list[ChildStarts] = []
_failing_lock = threading.Lock()


@contextmanager
def child_starts_failing(
    count: int, code: str = "ThrottlingException", *, after_start: bool = False
) -> Iterator[ChildStarts]:
    """Within it, the next `count` StartExecution calls of the states:startExecution integration (a batch's child
    starts; not the runner's own start of the batch) fail as AWS's fail them, each Task state then failing with the
    error `integration_error_name` gives:

    - answered `code` before anything starts: ThrottlingException ("Rate exceeded", what StartExecution answers once
      the account's token bucket, 800 calls and 150 more a second in most regions, is spent), or a refusal such as
      ExecutionAlreadyExists or InvalidArn;
    - with `after_start`, the child started and the answer lost on its way (a read timeout,
      StepFunctions.SdkClientException): a Retry of such a start, with the same name and input, gets the running
      child back, as StartExecution's idempotency gives it (API reference, StartExecution).

    It stands in for AWS's quota and network, which moto does not have; the Retry that answers them is moto's engine's
    own, as for every Task state."""
    failing = ChildStarts(code, after_start, count)
    with _failing_lock:
        _failing.append(failing)
    try:
        yield failing
    finally:
        with _failing_lock:
            _failing.remove(failing)


def _sfn_service_task(self, env, resource_runtime_part, normalised_parameters: dict, state_credentials) -> None:
    """The integration's call, failed as `child_starts_failing` says while it is in effect."""
    if self._get_boto_service_action() != "start_execution":
        return _MOTOS_SFN_TASK(self, env, resource_runtime_part, normalised_parameters, state_credentials)
    name = normalised_parameters.get("name") or ""
    with _failing_lock:
        failing = _failing[-1] if _failing else None  # the innermost
        if failing is not None:
            fails, call = failing.remaining > 0, len(failing.calls)
            failing.remaining -= 1 if fails else 0
            failing.calls.append((name, "calling"))  # in the order the calls were made
    if failing is None:
        return _MOTOS_SFN_TASK(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    def answered(outcome: str) -> None:
        with _failing_lock:
            failing.calls[call] = (name, outcome)

    if not fails or failing.after_start:
        try:
            _MOTOS_SFN_TASK(self, env, resource_runtime_part, normalised_parameters, state_credentials)
        except ClientError as error:
            answered(integration_error_name(error.response["Error"].get("Code", "")))
            raise
        if not fails:
            return answered("started")
        env.stack.pop()  # the answer, lost
        answered("StepFunctions.SdkClientException")
        raise ReadTimeoutError(endpoint_url=f"https://states.{resource_runtime_part.region}.amazonaws.com/")
    answered(integration_error_name(failing.code))
    raise ClientError(
        {
            "Error": {"Code": failing.code, "Message": _MESSAGES.get(failing.code, f"{failing.code} (emulated)")},
            "ResponseMetadata": {
                "HTTPStatusCode": _STATUS.get(failing.code, 400),
                "RequestId": str(uuid.uuid4()),
                "HTTPHeaders": {},
                "HostId": "",
                "RetryAttempts": 0,
            },
        },
        "StartExecution",
    )


# ResultWriter (a Distributed Map's results in S3). moto 5.2.5 writes only an empty manifest (its
# ResourceEvalS3._handle_put_object, a TODO); this stands in for what Step Functions writes, as the developer guide
# ("ResultWriter (Map)") describes it for the defaults (Transformation NONE, OutputType JSON): under
# <Prefix>/<map run id>/, a manifest.json naming the result files of each status, {"DestinationBucket", "MapRunArn",
# "ResultFiles": {"FAILED", "PENDING", "SUCCEEDED": [{"Key", "Size"}]}}, and SUCCEEDED_0.json, FAILED_0.json,
# PENDING_0.json, each a JSON array of the iterations' executions as DescribeExecution gives them (ExecutionArn, Name,
# StateMachineArn, Status, StartDate, StopDate, Input and Output as JSON text, with InputDetails and OutputDetails;
# Error and Cause instead of the Output of one that failed; RedriveCount, RedriveStatus). Step Functions starts a
# further file past some size; one file of each status is written here.
RESULT_FILE_STATUSES = ("FAILED", "PENDING", "SUCCEEDED")
_iterations: dict[str, list[dict]] = {}  # map run ARN -> its iterations' records, as they end
_iterations_lock = threading.Lock()
_iteration = threading.local()  # the record of the iteration a worker thread evaluates
_MOTOS_DISTRIBUTED_JOB = DistributedItemProcessorWorker._eval_job
_MOTOS_ITEM_INPUT = DistributedItemProcessorWorker._eval_input


def _distributed_job(self, env, job) -> None:
    """A Distributed Map iteration, kept for ResultWriter: its input (the ItemSelector's), output or error, times."""
    record = {"index": job.job_index, "start": datetime.now(UTC), "input": None}
    _iteration.record = record
    try:
        _MOTOS_DISTRIBUTED_JOB(self, env, job)
    finally:
        _iteration.record = None
        ended = env.program_state()
        record["stop"] = datetime.now(UTC)
        if job.job_output is not None:
            record |= {"status": "SUCCEEDED", "output": job.job_output}
        else:
            details = getattr(ended, "error", None) or {}
            record |= {"status": "FAILED", "error": details.get("error"), "cause": details.get("cause")}
        with _iterations_lock:
            _iterations.setdefault(self._map_run_record.map_run_arn, []).append(record)


def _distributed_item_input(self, env_frame) -> None:
    _MOTOS_ITEM_INPUT(self, env_frame)
    record = getattr(_iteration, "record", None)
    if record is not None:
        record["input"] = copy.deepcopy(env_frame.states.get_input())


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _result_entry(map_run_arn: str, record: dict) -> dict:
    """An iteration as ResultWriter writes it: its execution's description, named as a Map Run names its children
    (execution:<state machine>/<label>:<id>)."""
    name = str(uuid.uuid4())
    machine, label = map_run_arn.split(":mapRun:", 1)[1].rsplit(":", 1)[0].split("/", 1)
    prefix = map_run_arn.split(":mapRun:", 1)[0]
    entry = {
        "ExecutionArn": f"{prefix}:execution:{machine}/{label}:{name}",
        "Input": json.dumps(record["input"], separators=(",", ":")),
        "InputDetails": {"Included": True},
        "Name": name,
    }
    if record["status"] == "SUCCEEDED":
        entry |= {"Output": json.dumps(record["output"], separators=(",", ":")), "OutputDetails": {"Included": True}}
    else:
        entry |= {key: record[key.lower()] for key in ("Error", "Cause") if record.get(key.lower()) is not None}
    return entry | {
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE" if record["status"] == "SUCCEEDED" else "REDRIVABLE",
        "StartDate": _timestamp(record["start"]),
        "StateMachineArn": f"{prefix}:stateMachine:{machine}/{label}",
        "Status": record["status"],
        "StopDate": _timestamp(record["stop"]),
    }


def _result_writer_eval(self, env) -> None:
    """ResultWriter's Parameters read the Map state's input, as its other fields do (moto's read the Map's results)."""
    results = env.stack.pop()
    env.stack.append(env.states.get_input())
    self.parargs.eval(env=env)
    parameters = env.stack.pop()
    env.stack.pop()
    env.stack.extend([results, parameters])
    self.resource_eval.eval_resource(env=env)


def _result_writer_put_object(env, resource_runtime_part, state_credentials) -> None:
    """ResultWriter's arn:aws:states:::s3:putObject: the manifest and the result files, then the Map's output."""
    parameters = env.stack.pop()
    env.stack.pop()  # the Map's results, as moto's engine hands them (the iterations' records hold more)
    map_run_arn = env.map_run_record_pool_manager.get_all()[-1].map_run_arn
    with _iterations_lock:
        records = sorted(_iterations.pop(map_run_arn, []), key=lambda record: record["index"])
    s3 = _client_for(resource_runtime_part.region, "s3")
    bucket, prefix = parameters["Bucket"], parameters.get("Prefix") or ""
    place = f"{prefix.rstrip('/')}/{map_run_arn.rsplit(':', 1)[1]}/" if prefix else f"{map_run_arn.rsplit(':', 1)[1]}/"
    files: dict[str, list[dict]] = {status: [] for status in RESULT_FILE_STATUSES}
    for status in RESULT_FILE_STATUSES:
        entries = [_result_entry(map_run_arn, record) for record in records if record["status"] == status]
        if entries:
            body = json.dumps(entries).encode()
            key = f"{place}{status}_0.json"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    s3.put_object(Bucket=bucket, Key=f"{place}manifest.json", Body=json.dumps(manifest).encode())
    env.stack.append(
        {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": f"{place}manifest.json"}}
    )


# RedriveExecution, which moto 5.2.5 does not have, as the API reference (RedriveExecution, DescribeExecution) and the
# developer guide ("Restarting state machine executions with redrive in Step Functions",
# https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html; "Redriving Map Runs",
# https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html; "Context object") describe it:
#
# - Only a Standard execution that did not succeed (FAILED, TIMED_OUT, ABORTED) is redrivable; any other is refused
#   ExecutionNotRedrivable with DescribeExecution's redriveStatusReason ("Execution is RUNNING and cannot be redriven",
#   "Execution is SUCCEEDED and cannot be redriven", "Execution history event limit exceeded": a redrive needs room for
#   its ExecutionRedriven event and one more in the 25,000, "Execution redrivable period exceeded": 14 days after it
#   ended).
# - The execution keeps its ARN, input and state machine definition (the one it started with: moto's execution holds
#   its own copy); it is RUNNING again, its redriveCount one more, its redriveDate now, and its history goes on (the
#   same events, their ids continuing) from an ExecutionRedriven event (executionRedrivenEventDetails {redriveCount}).
# - It continues from its unsuccessful state: the top-level state whose last <type>StateEntered event has no
#   <type>StateExited after it (the parent workflow "redrives unsuccessful states if there's no <stateType>Exited event
#   corresponding to the <stateType>Entered event"), with the input that event gives; the states that succeeded are not
#   run again. A Fail state is such a state too: it is entered again and fails again.
# - The state machine's TimeoutSeconds counts from the redrive ("reset to 0"); the context object's
#   Execution.RedriveCount is the redrive count (0 before any) and Execution.RedriveTime the redrive's time (only once
#   redriven), in every state evaluated after it.
# - When it ends, it ends as any execution does here (`subscribe`'s listeners hear of it again), with the redriven
#   attempt's status, stop date, output or error and cause.
# - clientToken: the answer to one of the last 10 tokens used, within 15 minutes, is the same answer, and nothing is
#   redriven again.
#
# Not emulated: AWS reruns only the failed or aborted iterations and branches of a Map or Parallel state (and redrives a
# failed Map Run's child executions); the emulation refuses to redrive an execution whose unsuccessful state is a Map or
# a Parallel (NotImplementedError, saying so) rather than run again iterations that succeeded. Nor the Map Run's
# REDRIVABLE_BY_MAP_RUN, Express executions' redrive through their Map Run, or ListExecutions' redriveCount.
REDRIVABLE_STATUSES = ("FAILED", "TIMED_OUT", "ABORTED")
REDRIVE_HISTORY_LIMIT = 24_999  # a redriven execution's history must be shorter (API reference, RedriveExecution)
REDRIVABLE_DAYS = 14
REDRIVE_TOKENS_KEPT, REDRIVE_TOKEN_SECONDS = 10, 15 * 60
NOT_REDRIVEN_STATE_TYPES = ("Map", "Parallel")
_redrive_lock = threading.Lock()
_MOTOS_ENVIRONMENT = ExecutionWorker._get_evaluation_environment


class ExecutionNotRedrivable(AWSError):
    """RedriveExecution's refusal (moto's own class of that name has no error code for its serializer)."""

    TYPE = "ExecutionNotRedrivable"


@dataclass
class _Redrive:
    """What an execution's redrives left on it: how many, the last one's time, and the answers to recent tokens."""

    count: int = 0
    date: datetime | None = None
    tokens: dict[str, tuple[float, datetime]] = field(default_factory=dict)  # token -> (monotonic time, redriveDate)


def _redrives(execution) -> _Redrive:
    redrives = getattr(execution, "redrives", None)
    if redrives is None:
        redrives = execution.redrives = _Redrive()
    return redrives


def not_redrivable_because(execution) -> str | None:
    """Why RedriveExecution would refuse the execution now (DescribeExecution's redriveStatusReason), or None."""
    status = execution.status
    if status not in REDRIVABLE_STATUSES:
        return f"Execution is {status} and cannot be redriven"
    env = getattr(getattr(execution, "exec_worker", None), "env", None)
    if env is not None and len(env.event_manager._history_event_list) >= REDRIVE_HISTORY_LIMIT:
        return "Execution history event limit exceeded"
    stopped = execution.stop_date  # aware in moto's engine, naive (UTC) in its backend without the engine
    if isinstance(stopped, datetime):
        ended = stopped if stopped.tzinfo else stopped.replace(tzinfo=UTC)
        if datetime.now(UTC) - ended > timedelta(days=REDRIVABLE_DAYS):
            return "Execution redrivable period exceeded"
    return None


def _evaluation_environment(self: ExecutionWorker) -> Environment:
    """moto's environment of a new execution, its context object's Execution.RedriveCount 0 (developer guide, "Context
    object": "The value of the RedriveCount context object is 0, if you've not yet redriven an execution")."""
    env = _MOTOS_ENVIRONMENT(self)
    env.states.context_object.context_object_data["Execution"]["RedriveCount"] = 0  # type: ignore[typeddict-unknown-key]
    return env


def _unsuccessful_state(definition: dict, history: list[dict]) -> tuple[str, object]:
    """The top-level state a redrive continues from, and the input it is entered with: the state whose last entry has
    no exit after it; or, when the execution ended between two states (a stop), the next state of the last one that
    exited, with that one's output; or the first state, with the execution's input, when none was entered."""
    states = definition["States"]
    unfinished: tuple[str, object] | None = None
    last_exited: tuple[str, object] | None = None
    inside: str | None = None  # a top-level Map or Parallel whose iterations' and branches' events come now
    execution_input = None
    for event in history:
        kind = event["type"]
        if kind == "ExecutionStarted":
            execution_input = json.loads(event["executionStartedEventDetails"]["input"])
        entered = event.get("stateEnteredEventDetails") if kind.endswith("StateEntered") else None
        exited = event.get("stateExitedEventDetails") if kind.endswith("StateExited") else None
        if inside is not None:
            if exited is not None and exited["name"] == inside:
                inside, unfinished, last_exited = None, None, (exited["name"], json.loads(exited["output"]))
            continue
        if entered is not None and entered["name"] in states:
            unfinished = (entered["name"], json.loads(entered["input"]))
            if states[entered["name"]]["Type"] in NOT_REDRIVEN_STATE_TYPES:
                inside = entered["name"]
        elif exited is not None and unfinished is not None and exited["name"] == unfinished[0]:
            unfinished, last_exited = None, (exited["name"], json.loads(exited["output"]))
    if unfinished is not None:
        return unfinished
    if last_exited is None:
        return definition["StartAt"], execution_input
    name, output = last_exited
    following = states[name].get("Next")
    if following is None:  # a Choice's branch taken is in no event
        raise NotImplementedError(
            f"RedriveExecution (emulated): the execution ended after its state {name!r} exited, and the emulation "
            "cannot tell which state would have followed; start a new execution"
        )
    return following, output


class _RedrivenWorker(ExecutionWorker):
    """An execution's worker for its redriven attempt: its program is the definition's, started at the unsuccessful
    state (every Next still names the definition's states); its environment's history and Map Runs are the
    execution's, its context object the execution's with RedriveCount and RedriveTime. The environment is made, and the
    ExecutionRedriven event added, before RedriveExecution answers, so that what the caller reads next shows them."""

    def __init__(
        self, previous: ExecutionWorker, state_name: str, state_input, redrive: _Redrive, timed_out: bool
    ) -> None:
        super().__init__(
            evaluation_details=previous._evaluation_details,
            exec_comm=previous._execution_communication,
            cloud_watch_logging_session=previous._cloud_watch_logging_session,
            activity_store=previous._activity_store,
            mock_test_case=previous._mock_test_case,
        )
        self._state_name = state_name
        old = previous.env
        assert old is not None, "an execution that ended was run"
        env = self._get_evaluation_environment()
        context = env.states.context_object.context_object_data["Execution"]
        context["RedriveCount"] = redrive.count  # type: ignore[typeddict-unknown-key]
        context["RedriveTime"] = _timestamp(redrive.date)  # type: ignore[typeddict-unknown-key,arg-type]
        # The history goes on in a copy, so that a state of the attempt before that has not noticed its end yet (a
        # timed-out execution's, which moto's engine leaves to run out) adds nothing to it.
        events = EventManager(cloud_watch_logging_session=self._cloud_watch_logging_session)
        with old.event_manager._mutex:
            events._history_event_list.extend(copy.deepcopy(old.event_manager._history_event_list))
            events._event_id_gen._next_id = old.event_manager._event_id_gen._next_id
        last = events._history_event_list[-1] if events._history_event_list else None
        if timed_out and (last is None or last["type"] != HistoryEventType.ExecutionTimedOut):
            # moto's engine writes a timed-out execution's ExecutionTimedOut only once the state it was in ends.
            events.add_event(
                context=EventHistoryContext(previous_event_id=last["id"] if last else 0),
                event_type=HistoryEventType.ExecutionTimedOut,
                event_details=cast(EventDetails, {"executionTimedOutEventDetails": ExecutionTimedOutEventDetails()}),
            )
        env.event_manager = events
        env.map_run_record_pool_manager = old.map_run_record_pool_manager
        env.variable_store = old.variable_store  # type: ignore[misc]  # the variables the states that succeeded set
        redriven_id = events.add_event(
            context=EventHistoryContext(previous_event_id=events._event_id_gen._next_id - 1),
            event_type=HistoryEventType.ExecutionRedriven,
            event_details=cast(
                EventDetails,
                {"executionRedrivenEventDetails": ExecutionRedrivenEventDetails(redriveCount=redrive.count)},
            ),
        )
        env.event_history_context = EventHistoryContext(previous_event_id=redriven_id)  # type: ignore[misc]
        env.states.reset(input_value=state_input)
        self.env = env

    def _get_evaluation_entrypoint(self) -> EvalComponent:
        program = copy.copy(cast(Program, super()._get_evaluation_entrypoint()))  # the shared program is not changed
        program.start_at = StartAt(start_at_name=self._state_name)  # type: ignore[misc]
        return program

    def _execution_logic(self) -> None:
        program = self._get_evaluation_entrypoint()
        assert self.env is not None
        program.eval(self.env)
        self._execution_communication.terminated()


def _redrive_execution(self: StepFunctionResponse) -> ActionResult:
    execution: Any = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))  # the engine's
    token = self._get_param("clientToken")
    worker = getattr(execution, "exec_worker", None)
    if worker is None:
        raise NotImplementedError(
            "RedriveExecution is emulated for executions that moto's engine runs, in "
            "mock_aws(config={'stepfunctions': {'execute_state_machine': True}}) (as a local run's are)"
        )
    with _redrive_lock:
        redrive, now = _redrives(execution), time.monotonic()
        for used in [used for used, (when, _) in redrive.tokens.items() if now - when > REDRIVE_TOKEN_SECONDS]:
            del redrive.tokens[used]
        if token in redrive.tokens:  # the same request again: the same answer
            return ActionResult({"redriveDate": redrive.tokens[token][1]})
        if execution.sm_type == StateMachineType.EXPRESS:
            raise ExecutionNotRedrivable("Execution of an EXPRESS state machine cannot be redriven")
        reason = not_redrivable_because(execution)
        if reason is not None:
            raise ExecutionNotRedrivable(reason)
        definition = json.loads(execution.state_machine.definition)
        state_name, state_input = _unsuccessful_state(definition, worker.env.event_manager.get_event_history())
        state_type = definition["States"][state_name]["Type"]
        if state_type in NOT_REDRIVEN_STATE_TYPES:
            raise NotImplementedError(
                f"RedriveExecution (emulated): the execution did not finish its {state_type} state {state_name!r}. "
                f"Step Functions would run again only the {state_type} state's iterations and branches that failed or "
                "were aborted; the emulation does not, and does not run again those that succeeded: start a new "
                "execution"
            )
        redrive.count, redrive.date = redrive.count + 1, datetime.now(UTC)
        redriven = _RedrivenWorker(worker, state_name, state_input, redrive, execution.status == "TIMED_OUT")
        execution.exec_worker = redriven
        execution.exec_status = ExecutionStatus.RUNNING
        execution.stop_date = execution.output = execution.error = execution.cause = None
        execution.stopped_by_request = False
        if token:
            redrive.tokens[token] = (now, redrive.date)
            while len(redrive.tokens) > REDRIVE_TOKENS_KEPT:
                del redrive.tokens[next(iter(redrive.tokens))]
        redriven.start()
        return ActionResult({"redriveDate": redrive.date})


def _describe_execution(self: StepFunctionResponse) -> ActionResult:
    """moto's DescribeExecution (from one look-up), with the stopDate of a TIMED_OUT execution too (moto gives none; the
    API reference: the date it stopped, if it ended) and the redrive's members: redriveCount, redriveDate once
    redriven, redriveStatus and, when NOT_REDRIVABLE, redriveStatusReason."""
    arn = self._get_param("executionArn")
    execution = self.stepfunction_backend.describe_execution(arn)
    response = {
        "executionArn": arn,
        "input": execution.execution_input,
        "name": execution.name,
        "startDate": execution.start_date,
        "stateMachineArn": execution.state_machine_arn,
        "status": execution.status,
    }
    if execution.status != "RUNNING":
        response["stopDate"] = execution.stop_date
    if execution.status == "SUCCEEDED":
        if isinstance(execution.output, str):
            response["output"] = execution.output
        elif execution.output is not None:
            response["output"] = json.dumps(execution.output)
        response["outputDetails"] = execution.output_details
    if execution.error is not None:
        response["error"] = execution.error
    if execution.cause is not None:
        response["cause"] = execution.cause
    redrive = getattr(execution, "redrives", None) or _Redrive()
    response["redriveCount"] = redrive.count
    if redrive.date is not None:
        response["redriveDate"] = redrive.date
    reason = not_redrivable_because(execution)
    response["redriveStatus"] = "REDRIVABLE" if reason is None else "NOT_REDRIVABLE"
    if reason is not None:
        response["redriveStatusReason"] = reason
    return ActionResult(response)


def _send_task_failure(self: StepFunctionResponse) -> ActionResult:
    """SendTaskFailure with its cause, which moto's response drops (the engine's backend takes it): the task fails with
    the Error and Cause it was sent, as Step Functions' does (API reference, SendTaskFailure)."""
    backend = cast(StepFunctionsParserBackend, self.stepfunction_backend)  # the engine's, which runs the tasks
    backend.send_task_failure(
        self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause")
    )
    return ActionResult({})


def install() -> None:
    """Extend moto's Step Functions in place, once."""
    if StepFunctionResponse.get_execution_history is _MOTOS_HISTORY:
        StepFunctionResponse.get_execution_history = _get_execution_history  # type: ignore[method-assign]
        StepFunctionResponse.stop_execution = _stop_execution  # type: ignore[method-assign]
        BaseExecutionWorkerCommunication.terminated = _terminated  # type: ignore[method-assign]
        # One parse and one program per definition text, not one per execution (a batch's every child).
        AmazonStateLanguageParser.parse = staticmethod(_parse)  # type: ignore[method-assign]
        # One client per region and service for the engine's calls (a state's, a .sync poll's), not one per call.
        for module in _CLIENT_USERS:
            importlib.import_module(module).boto_client_for = _client_for  # type: ignore[attr-defined]
        # Each JSONPath parsed once, not on every state that reads it.
        json_path.parse = _json_path
        result_path.parse = _result_path
        StateTaskServiceSfn._normalise_parameters = _sfn_parameters  # type: ignore[method-assign]
        StateTaskServiceSfn._normalise_response = _sfn_response  # type: ignore[method-assign]
        StepFunctionsParserBackend.start_execution = _start_execution  # type: ignore[method-assign]
        StateTaskServiceSfn._from_error = _sfn_error  # type: ignore[method-assign]
        StateTaskServiceSfn._eval_service_task = _sfn_service_task  # type: ignore[method-assign]
        # A .sync state notices its child's end at once, not up to half a second later.
        StateTaskServiceSfn._build_sync_resolver = _knowing_the_child(_MOTOS_SYNC_RESOLVER)  # type: ignore[method-assign]
        StateTaskServiceSfn._build_sync2_resolver = _knowing_the_child(_MOTOS_SYNC2_RESOLVER)  # type: ignore[method-assign]
        StateTaskServiceSfn._eval_sync = _sfn_eval_sync  # type: ignore[method-assign]
        # A Distributed Map's ResultWriter writes its manifest and result files as Step Functions does.
        DistributedItemProcessorWorker._eval_job = _distributed_job  # type: ignore[method-assign]
        DistributedItemProcessorWorker._eval_input = _distributed_item_input  # type: ignore[method-assign]
        ResourceEvalS3._handle_put_object = staticmethod(_result_writer_put_object)  # type: ignore[method-assign]
        ResultWriter._eval_body = _result_writer_eval  # type: ignore[method-assign]
        StepFunctionResponse.send_task_failure = _send_task_failure  # type: ignore[method-assign]
        # RedriveExecution, and DescribeExecution's redrive members.
        StepFunctionResponse.redrive_execution = _redrive_execution  # type: ignore[attr-defined]
        StepFunctionResponse.describe_execution = _describe_execution  # type: ignore[method-assign]
        ExecutionWorker._get_evaluation_environment = _evaluation_environment  # type: ignore[method-assign]
