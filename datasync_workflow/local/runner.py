"""Run the state machine on this machine: moto emulates Step Functions and DataSync, the steps run in-process.

The definition is statemachine/datasync_workflow.asl.json, the file CDK deploys. moto's Step Functions
engine calls lambda:Invoke for each Task state; a botocore hook answers those calls by running the step's
Python handler here, the way Lambda would (JSON in, JSON out, an exception reported as a function error).
DataSync and Step Functions are moto's, extended by `emulated_datasync` and `emulated_stepfunctions` (installed
when this module is imported) to behave like the real services where the workflow and its callers can see it. What
the deployed stack adds (the in-process functions, their environment, the waiting table, the rules that run resume
and cleanup) is set up by `local_deployment`, which several threads may use at once inside one mock.
"""

import contextvars
import copy
import fnmatch
import importlib
import io
import json
import logging
import os
import queue
import threading
import time
import traceback
import types
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, cast
from unittest.mock import patch
from urllib.parse import unquote

import boto3
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError
from botocore.response import StreamingBody
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.models import MockAWS
from moto.datasync.models import datasync_backends
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.exceptions import MockValidationException, TransactionCanceledException
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import EventMessageType, EventPattern

from datasync_steps import waiting
from datasync_steps.announce import FINISHED_STATUSES
from datasync_steps.deployment import (
    BATCH_BUCKET_VARIABLE,
    BATCH_STATE_MACHINE_VARIABLE,
    WORKFLOW_STATE_MACHINE_VARIABLE,
    Deployment,
)
from datasync_steps.names import STOPPED_STATUSES, is_batch
from datasync_steps.observability import metrics
from datasync_steps.resume import COMPLETION_EVENTS
from datasync_workflow.definition.steps import (
    WORKFLOW_ARN_PLACEHOLDER,
    Step,
    batch_definition_text,
    render_definition,
    step_named,
    workflow_steps,
)
from datasync_workflow.history import follow
from datasync_workflow.local import emulated_datasync, emulated_iam, emulated_scheduler, emulated_stepfunctions

FUNCTION_PREFIX = "datasync-workflow-"
WAITING_TABLE_NAME = "datasync-workflow-waiting"
# The deployed stack's BatchBucket: where a batch's transfers_from objects are put, in moto's S3.
BATCH_BUCKET = "datasync-workflow-batches"
# About what a warm Lambda invocation through Step Functions takes. Without it an in-process step answers in a
# few milliseconds, and a wait loop with wait_interval_seconds 0 would spend max_iterations checks in less
# time than an emulated transfer takes, which AWS never does.
INVOKE_SECONDS = 0.04
# What the deployed stack's rules give cleanup and announce of Step Functions' status-change event (their input
# transformer): which execution of which state machine ended, and how; not its input, output, error or cause.
RULE_DETAIL_KEYS = ("executionArn", "stateMachineArn", "status")
# The state machines of every local deployment in the process (datasync-workflow-<8 hex>; a batch's are named
# datasync-workflow-batch-<8 hex>): the steps' "this workflow's".
LOCAL_WORKFLOW_STATE_MACHINES = f"arn:aws:states:*:{DEFAULT_ACCOUNT_ID}:stateMachine:datasync-workflow-{'[0-9a-f]' * 8}"
LOCAL_BATCH_STATE_MACHINES = LOCAL_WORKFLOW_STATE_MACHINES.replace("datasync-workflow-", "datasync-workflow-batch-")
# How often a run is looked at while its states follow each other, and at the least while nothing happens (a retry's
# delay, a long transfer): in between, the longer the quiet the rarer the looks (follow's idle_poll_seconds), so a run
# that only waits takes almost no CPU and its end is noticed within an eighth of the quiet before it.
POLL_SECONDS = 0.1
IDLE_POLL_SECONDS = 1.0
# moto's Step Functions engine logs, as errors of its own, each failure a state catches or a path that is absent
# (`Exception=NoSuchJsonPathError at ...`), successful runs too: a run's Error and Cause say what failed. Unless the
# caller gave these loggers a level, they are quiet; `logging.getLogger(MOTO_ENGINE_LOGGER).setLevel(logging.INFO)`
# shows them.
MOTO_ENGINE_LOGGER = "moto.stepfunctions.parser"

emulated_datasync.install()
emulated_stepfunctions.install()
if logging.getLogger(MOTO_ENGINE_LOGGER).level == logging.NOTSET:
    logging.getLogger(MOTO_ENGINE_LOGGER).setLevel(logging.CRITICAL)
# Metrics are not published locally (see _invoke); Powertools would warn on stderr after every step that adds none.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


@dataclass
class LocalExecution:
    execution_arn: str
    status: str
    output: dict | None = None
    error: str | None = None
    cause: str | None = None
    history: list[dict] = field(default_factory=list)


def function_arn(region: str, step_name: str) -> str:
    return f"arn:aws:lambda:{region}:{DEFAULT_ACCOUNT_ID}:function:{FUNCTION_PREFIX}{step_name}"


def run_local(
    execution_input: dict,
    region: str = "us-east-1",
    timeout: float = 120,
    on_event: Callable[[dict], None] | None = None,
    definition: str | None = None,
    stop_when: Callable[[dict], bool] | None = None,
    on_poll: Callable[[], None] | None = None,
) -> LocalExecution:
    """Run one execution of the workflow locally and return how it ended.

    Inside an active `moto.mock_aws()` the caller's emulated DataSync is used; otherwise a fresh one is
    started for this call. `on_event` sees each history event as it happens. An execution still running
    after `timeout` seconds is stopped (ABORTED) and its DataSync execution cancelled, as the deployed
    stack's clean-up rule does; so is one as soon as `stop_when` is true of a history event. `definition`
    replaces the definition file's text (the benchmark compares variants with it). `on_poll` is called each time
    the execution is looked at while it runs.
    """
    (execution,) = run_local_together([execution_input], region, timeout, on_event, definition, stop_when, on_poll)
    return execution


def run_local_together(
    execution_inputs: list,
    region: str = "us-east-1",
    timeout: float = 120,
    on_event: Callable[[dict], None] | None = None,
    definition: str | None = None,
    stop_when: Callable[[dict], bool] | None = None,
    on_poll: Callable[[], None] | None = None,
) -> list[LocalExecution]:
    """Start one execution per input at once, as overlapping schedules or a double click would, and return
    how each ended; `timeout` is for them all. ValueError, before anything runs, for deployment settings in the
    environment (PASSABLE_ROLE_ARNS, ALLOW_SECRETS_IN_INPUT, SCOPE_TAG) that are not as documented."""
    Deployment.from_environment()
    with local_deployment(region, definition) as machine_arn, ExitStack() as stack:
        sfn = boto3.client("stepfunctions", region_name=region)
        batches = (
            stack.enter_context(local_batches(region, machine_arn)) if any(map(is_batch, execution_inputs)) else None
        )
        execution_arns = [
            sfn.start_execution(
                stateMachineArn=batches if batches and is_batch(execution_input) else machine_arn,
                name=uuid.uuid4().hex,
                input=json.dumps(execution_input),
            )["executionArn"]
            for execution_input in execution_inputs
        ]
        deadline = time.monotonic() + timeout
        return [_finish(sfn, arn, deadline, on_event, stop_when, on_poll, timeout) for arn in execution_arns]


# moto's mock as a local deployment needs it: its Step Functions runs the definitions.
ENGINE_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}}


@contextmanager
def local_deployment(region: str = "us-east-1", definition: str | None = None) -> Iterator[str]:
    """The workflow as the stack deploys it, in moto, with its steps run in-process, DataSync's events delivered
    and the clean-up rule in place: yields the state machine's ARN, for executions started, followed and stopped
    as on AWS."""
    with mock_aws(config=ENGINE_CONFIG):
        values = {str(step.placeholder): function_arn(region, step.name) for step in workflow_steps()}
        machine_arn = boto3.client("stepfunctions", region_name=region).create_state_machine(
            name=f"datasync-workflow-{uuid.uuid4().hex[:8]}",
            definition=render_definition(values, definition),
            roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/datasync-workflow-local",
        )["stateMachineArn"]
        with _deployed(region, machine_arn):
            yield machine_arn


@contextmanager
def _deployed(region: str, machine_arn: str) -> Iterator[None]:
    """What the deployed stack has around the workflow's state machine `machine_arn` (in the active mock): the
    functions, run in-process, the waiting table, DataSync's events delivered, the rules on the executions' ends, the
    schedules firing."""
    with ExitStack() as stack:
        stack.enter_context(_the_functions(region))
        _create_waiting_table(region)
        stack.enter_context(_datasync_events_reach_the_workflow(region))
        stack.enter_context(_clean_up_stopped_executions_of(machine_arn, region))
        stack.enter_context(emulated_scheduler.one_time_schedules_fire(region))
        yield


# Each local batch state machine made in this process, and the workflow's whose executions are its children.
_batch_workflows: dict[str, str] = {}


@contextmanager
def local_batches(region: str, workflow_arn: str) -> Iterator[str]:
    """The batch's state machine beside the workflow's `workflow_arn` (in the active mock of a local_deployment), its
    bucket, and what the deployed stack's rules on its executions do (the stop of a stopped batch's children, the
    announce-batch step at every batch's end, whose event reaches moto's default bus): yields its ARN."""
    values = {str(step.placeholder): function_arn(region, step.name) for step in workflow_steps(batch=True)}
    create_batch_bucket(region)
    batch_arn = boto3.client("stepfunctions", region_name=region).create_state_machine(
        name=f"datasync-workflow-batch-{uuid.uuid4().hex[:8]}",
        definition=render_definition({**values, WORKFLOW_ARN_PLACEHOLDER: workflow_arn}, batch_definition_text()),
        roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/datasync-workflow-local",
    )["stateMachineArn"]
    _batch_workflows[batch_arn] = workflow_arn
    with _batch_rules(region, batch_arn, workflow_arn):
        yield batch_arn


@contextmanager
def _batch_rules(region: str, batch_arn: str, workflow_arn: str) -> Iterator[None]:
    """What the deployed stack's rules on the batch state machine's executions do."""
    sfn = boto3.client("stepfunctions", region_name=region)  # one for every delivery (boto3's clients are thread-safe)

    def stop_children(event: dict) -> None:
        # EventBridge delivers the event once Step Functions shows the status; moto's engine tells of it just before.
        batch = event["detail"]["executionArn"]
        if not _ends_within(sfn, [batch], seconds=5):
            return
        stopped = _run_target("stop-batch", {**event, "workflow_state_machine_arn": workflow_arn}, batch)
        # The children's own ends run their clean-up, which this deployment must still be here for.
        _ends_within(sfn, (stopped or {}).get("Stopped", []), seconds=10)

    def announce(event: dict) -> None:
        detail = event["detail"]
        if _ends_within(sfn, [detail["executionArn"]], seconds=5):
            trimmed = {"detail": {key: detail[key] for key in RULE_DETAIL_KEYS}}
            _run_target("announce-batch", trimmed, detail["executionArn"])

    def on_end(event: dict) -> None:
        detail = event["detail"]
        if detail["stateMachineArn"] != batch_arn:
            return
        if detail["status"] in STOPPED_STATUSES:
            delivering.append(threading.Thread(target=stop_children, args=(event,), daemon=True))
            delivering[-1].start()
        if detail["status"] in FINISHED_STATUSES:
            delivering.append(threading.Thread(target=announce, args=(event,), daemon=True))
            delivering[-1].start()

    delivering: list[threading.Thread] = []
    unsubscribe = emulated_stepfunctions.subscribe(on_end)
    try:
        yield
    finally:
        for thread in delivering:
            thread.join(timeout=20)
        unsubscribe()


def _ends_within(sfn, execution_arns: list[str], seconds: float) -> bool:
    """Whether every one of the executions shows an end within `seconds`."""
    deadline = time.monotonic() + seconds
    while any(sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" for arn in execution_arns):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def create_batch_bucket(region: str = "us-east-1") -> None:
    """The deployed stack's batch bucket, in moto's S3 (made once per mock)."""
    s3 = boto3.client("s3", region_name=region)
    with suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(
            Bucket=BATCH_BUCKET,
            **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}),
        )


def redrive_local(
    execution_arn: str, timeout: float = 120, on_event: Callable[[dict], None] | None = None
) -> LocalExecution:
    """Redrive a local execution that ended FAILED, TIMED_OUT or ABORTED (a run or a batch of `run_local`, or an
    execution of a `local_deployment`'s state machine), as Step Functions' RedriveExecution does, and follow it to its
    end as `run_local` does: stopped after `timeout` seconds, its end running the deployed stack's rules again.

    It must be called inside the active `moto.mock_aws()` where the execution ran (a local execution lives in that
    mock only), and redrives it through boto3's `redrive_execution`, which the emulation answers. The result's
    `history` is the whole execution's, the first attempt's events too; `on_event` sees the redrive's own, from its
    `ExecutionRedriven` event. RuntimeError with no active mock; ValueError for an ARN of no execution there, or of an
    execution of another state machine than a local deployment's; RedriveExecution's refusal of an execution that
    SUCCEEDED or still runs as boto3 raises it (ClientError, ExecutionNotRedrivable); NotImplementedError for one
    whose unfinished state is a Map or Parallel (whose failed iterations alone Step Functions would run again)."""
    if not MockAWS._nested_count:
        raise RuntimeError(
            "redrive_local redrives an execution inside the active moto mock_aws() where it ran (a local execution "
            "lives in that mock only): call it within the same `with mock_aws():` as the run_local that ran it"
        )
    parts = execution_arn.split(":")
    region = parts[3] if len(parts) >= 8 and parts[:3] == ["arn", "aws", "states"] else ""
    if not region:
        raise ValueError(f"{execution_arn!r} is no Step Functions execution ARN")
    Deployment.from_environment()
    with mock_aws(config=ENGINE_CONFIG), ExitStack() as stack:
        sfn = boto3.client("stepfunctions", region_name=region)
        try:
            machine_arn = sfn.describe_execution(executionArn=execution_arn)["stateMachineArn"]
        except ClientError as error:
            if error.response["Error"].get("Code") not in ("ExecutionDoesNotExist", "InvalidArn"):
                raise
            raise ValueError(
                f"No execution {execution_arn} in this mock: redrive_local redrives an execution in the mock where it "
                "ran"
            ) from None
        workflow_arn = _batch_workflows.get(machine_arn, machine_arn)
        if not fnmatch.fnmatchcase(workflow_arn, LOCAL_WORKFLOW_STATE_MACHINES):
            raise ValueError(
                f"{execution_arn} is an execution of {machine_arn}, not of a local deployment's workflow or batch "
                "state machine: redrive it with boto3's redrive_execution"
            )
        stack.enter_context(_deployed(region, workflow_arn))
        if workflow_arn != machine_arn:
            stack.enter_context(_batch_rules(region, machine_arn, workflow_arn))
        newest = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=1)["events"]
        sfn.redrive_execution(executionArn=execution_arn)
        deadline = time.monotonic() + timeout
        seen = newest[0]["id"] if newest else 0
        return _finish(sfn, execution_arn, deadline, on_event, None, timeout=timeout, seen=seen)


def _finish(
    sfn, execution_arn: str, deadline: float, on_event, stop_when, on_poll=None, timeout: float = 0, seen: int = 0
) -> LocalExecution:
    """Follow the execution to its end, stopping it at `deadline` (`timeout` seconds after the start) or when asked
    (the clean-up rule then cancels its DataSync execution); `on_event` sees the events after the `seen`th."""
    remaining = max(0.0, deadline - time.monotonic())
    # Watched even with no on_event, so that the polls slow down while nothing happens (a retry's delay, a transfer).
    watched = on_event or _unseen
    described, history = follow(
        sfn,
        execution_arn,
        watched,
        timeout=remaining,
        stop_when=stop_when,
        on_poll=on_poll,
        poll_seconds=POLL_SECONDS,
        idle_poll_seconds=IDLE_POLL_SECONDS,
        seen=seen,
    )
    if described["status"] == "RUNNING":
        cause = (
            f"stopped by the local runner at its timeout, {timeout:g} s (--timeout on the command line, timeout= "
            "from Python)"
            if time.monotonic() >= deadline
            else "stopped by the local runner: stop_when was true of an event"
        )
        sfn.stop_execution(executionArn=execution_arn, error="LocalStop", cause=cause)
        described, history = follow(
            sfn,
            execution_arn,
            watched,
            timeout=10,
            seen=history[-1]["id"] if history else seen,
            poll_seconds=POLL_SECONDS,
            idle_poll_seconds=IDLE_POLL_SECONDS,
        )
    return LocalExecution(
        execution_arn=execution_arn,
        status=described["status"],
        output=json.loads(described["output"]) if described["status"] == "SUCCEEDED" else None,
        error=described.get("error"),
        cause=described.get("cause"),
        history=history,
    )


def _unseen(event: dict) -> None:
    pass


@contextmanager
def _clean_up_stopped_executions_of(machine_arn: str, region: str) -> Iterator[None]:
    """What the deployed stack's rules on the state machine's status changes do: an execution that ended without
    success runs the clean-up step, and every execution's end the announce step (which puts its event on moto's
    default event bus, where a test's rule can catch it). Each is given what the rules' input transformer keeps of
    the event, and no more."""
    sfn = boto3.client("stepfunctions", region_name=region)  # one for every delivery (boto3's clients are thread-safe)

    def deliver(event: dict) -> None:
        # EventBridge delivers the event once Step Functions shows the status; moto's engine tells of it just before.
        detail = event["detail"]
        if not _ends_within(sfn, [detail["executionArn"]], seconds=5):
            return
        trimmed = {"detail": {key: detail[key] for key in RULE_DETAIL_KEYS}}
        if detail["status"] in STOPPED_STATUSES:
            _run_target("cleanup", trimmed, detail["executionArn"])
        _run_target("announce", trimmed, detail["executionArn"])

    def on_end(event: dict) -> None:
        if event["detail"]["stateMachineArn"] == machine_arn:
            delivering.append(threading.Thread(target=deliver, args=(event,), daemon=True))
            delivering[-1].start()

    delivering: list[threading.Thread] = []
    unsubscribe = emulated_stepfunctions.subscribe(on_end)
    try:
        yield
    finally:
        for thread in delivering:
            thread.join(timeout=20)
        unsubscribe()


def _run_target(step_name: str, event: dict, about: str) -> Any:
    """Run a rule's target step and return its answer; its failure, as the deployed stack's on-failure destination
    would keep it, is a warning naming the step and what the event was about (and None), and changes nothing else."""
    try:
        return _invoke(step_name, event)
    except Exception as error:
        logging.getLogger(__name__).warning(
            "The %s step failed for %s: %s: %s", step_name, about, type(error).__name__, error
        )
        return None


def _create_waiting_table(region: str) -> None:
    """The deployed stack's table of waiting task tokens, in moto's DynamoDB."""
    dynamodb = boto3.client("dynamodb", region_name=region)
    with suppress(dynamodb.exceptions.ResourceInUseException):  # made by an earlier run in the same mock
        dynamodb.create_table(
            TableName=WAITING_TABLE_NAME,
            KeySchema=[
                {"AttributeName": waiting.PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": waiting.SORT_KEY, "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": waiting.PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": waiting.SORT_KEY, "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )


@contextmanager
def _datasync_events_reach_the_workflow(region: str) -> Iterator[None]:
    """What the deployed stack's EventBridge rule does: DataSync's completion events run the resume step."""
    rule = EventPattern.load(json.dumps(COMPLETION_EVENTS))

    def deliver(event: dict) -> None:
        if rule.matches_event(cast(EventMessageType, event)):
            _run_target("resume", event, ", ".join(event["resources"]))

    backend = cast(emulated_datasync.EmulatedDataSyncBackend, datasync_backends[DEFAULT_ACCOUNT_ID][region])
    unsubscribe = backend.subscribe(deliver)
    try:
        yield
    finally:
        unsubscribe()


# The functions of every local deployment in the process: the in-process Lambda and its environment, set up by the
# first deployment to start and taken down by the last to end.
_functions_lock = threading.Lock()
_functions_users: list[ExitStack] = []


@contextmanager
def _the_functions(region: str) -> Iterator[None]:
    with _functions_lock:
        if not _functions_users:
            shared = ExitStack()
            shared.enter_context(_steps_run_in_process())
            shared.enter_context(_dynamodb_answers_one_request_at_a_time())
            # What Lambda's environment gives a function; metrics would print to stdout, so they are off.
            local_environment = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}
            local_environment["POWERTOOLS_METRICS_DISABLED"] = os.environ.get("POWERTOOLS_METRICS_DISABLED", "true")
            local_environment[waiting.TABLE_NAME_VARIABLE] = WAITING_TABLE_NAME
            local_environment[BATCH_BUCKET_VARIABLE] = BATCH_BUCKET
            local_environment[WORKFLOW_STATE_MACHINE_VARIABLE] = LOCAL_WORKFLOW_STATE_MACHINES
            local_environment[BATCH_STATE_MACHINE_VARIABLE] = LOCAL_BATCH_STATE_MACHINES
            shared.enter_context(patch.dict(os.environ, local_environment))
        else:
            shared = _functions_users[0]
        _functions_users.append(shared)
    try:
        yield
    finally:
        with _functions_lock:
            _functions_users.pop()
            if not _functions_users:
                shared.close()


# moto's DynamoDB is not thread-safe: its TransactWriteItems deep-copies the table while another step's thread may be
# writing to it (a local batch's children failed with "dictionary changed size during iteration"). DynamoDB applies
# each request atomically; the emulation answers one DynamoDB request at a time to the same end.
_dynamodb_lock = threading.Lock()


@contextmanager
def _dynamodb_answers_one_request_at_a_time() -> Iterator[None]:
    answer = DynamoHandler.call_action

    def one_at_a_time(handler: DynamoHandler) -> Any:
        with _dynamodb_lock:
            return answer(handler)

    with (
        patch.object(DynamoHandler, "call_action", one_at_a_time),
        patch.object(dynamodb_models.DynamoDBBackend, "transact_write_items", _transact_write_items),
        patch.object(dynamodb_models, "copy", _TABLES_KEPT_IN_A_TRANSACTION),
    ):
        yield


_MOTOS_TRANSACT_WRITE_ITEMS = dynamodb_models.DynamoDBBackend.transact_write_items
_in_transaction = threading.local()
# moto's TransactWriteItems backs up every table it names with copy.deepcopy, to put back if the transaction fails: the
# whole table on every transaction (a local batch's task registrations grew the waiting table by two items an item, so
# the copies took time by the square of the items). Within the transaction below, the copy is the table itself.
_TABLES_KEPT_IN_A_TRANSACTION = types.SimpleNamespace(
    copy=copy.copy,
    deepcopy=lambda value, memo=None: (
        value if isinstance(value, Table) and getattr(_in_transaction, "on", False) else copy.deepcopy(value, memo)
    ),
)


def _transact_write_items(self: dynamodb_models.DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, its backup the items it writes instead of the whole tables: with one DynamoDB request
    answered at a time, nothing else writes between the backup and the undo. Undone when moto's would roll back."""
    before: dict[tuple[str, str], tuple[dict, Any]] = {}
    for operation in transact_items:
        for op in operation.values():
            try:
                table = self.get_table(op["TableName"])
                attrs = op["Item"] if "Item" in op else op["Key"]
                key = {name: attrs[name] for name in (table.hash_key_attr, table.range_key_attr) if name is not None}
                item = self.get_item(op["TableName"], key)
            except Exception:  # moto's own transaction refuses it, before it writes anything
                continue
            before.setdefault((op["TableName"], json.dumps(key, sort_keys=True)), (key, copy.deepcopy(item)))
    _in_transaction.on = True
    try:
        _MOTOS_TRANSACT_WRITE_ITEMS(self, transact_items)
    except (MockValidationException, TransactionCanceledException):  # MultipleTransactionsException is a validation
        for (table_name, _), (key, item) in before.items():
            if item is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, item.to_json()["Attributes"])
        raise
    finally:
        _in_transaction.on = False


@contextmanager
def _steps_run_in_process() -> Iterator[None]:
    events = boto3._get_default_session().events
    # botocore's stubs type handlers as returning None; a before-call handler's answer replaces the request.
    events.register("before-call.lambda.Invoke", _answer_invoke, unique_id="datasync-workflow-local")  # type: ignore[arg-type]
    try:
        yield
    finally:
        events.unregister("before-call.lambda.Invoke", unique_id="datasync-workflow-local")


def _answer_invoke(params: dict, **_) -> tuple[AWSResponse, dict]:
    function_name = unquote(params["url_path"]).split("/functions/", 1)[1].split("/", 1)[0]
    step_name = function_name.rsplit(":", 1)[-1].removeprefix(FUNCTION_PREFIX)
    body = params["body"]
    event = json.loads(body or b"{}")
    response = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    invoked = time.monotonic()
    try:
        result = _invoke(step_name, event)
    except Exception as error:  # Lambda reports any exception as an unhandled function error
        result = {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": traceback.format_exception(error),
        }
        response["FunctionError"] = "Unhandled"
    time.sleep(max(0.0, INVOKE_SECONDS - (time.monotonic() - invoked)))
    payload = json.dumps(result).encode()
    response["Payload"] = StreamingBody(io.BytesIO(payload), len(payload))
    return AWSResponse(params.get("url", ""), 200, HTTPHeaders(), None), response


def _invoke(step_name: str, event: dict) -> Any:
    """The step's handler run on `event`, in one of the warm environments, in the caller's context."""
    return _warm.run(contextvars.copy_context().run, _invoke_here, step_name, event)


class _WarmEnvironments:
    """Lambda's execution environments: each runs one invocation at a time, on one thread, and is kept for the next, so
    what a step keeps between invocations (waiting.py's table, once per thread) is kept as a warm function keeps it;
    moto's engine would run every invocation on a thread of its own. One is added whenever all are busy."""

    def __init__(self) -> None:
        self._idle: list[queue.SimpleQueue] = []
        self._lock = threading.Lock()

    def run(self, function: Callable[..., Any], *args: Any) -> Any:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None  # the most recently used, as Lambda's routing tends to
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox,), name="lambda-environment", daemon=True).start()
        answer: queue.SimpleQueue = queue.SimpleQueue()
        inbox.put((function, args, answer))
        ok, value = answer.get()
        if not ok:
            raise value
        return value

    def _serve(self, inbox: queue.SimpleQueue) -> None:
        while True:
            function, args, answer = inbox.get()
            try:
                outcome = (True, function(*args))
            except BaseException as error:  # handed to the caller, who raises it
                outcome = (False, error)
            with self._lock:
                self._idle.append(inbox)
            answer.put(outcome)
            del outcome, function, args, answer


_warm = _WarmEnvironments()


def _invoke_here(step_name: str, event: dict) -> Any:
    step = step_named(step_name)
    handler = importlib.import_module(step.module).handler
    try:
        # A JSON round trip, as Lambda does: the handler gets and gives plain JSON. The step may do in DataSync what
        # the stack's role would let it, under the deployment settings of this environment.
        with emulated_iam.acting_as(step, Deployment.from_environment()):
            return json.loads(json.dumps(handler(event, _LambdaContext(step))))
    finally:
        # Powertools keeps the metrics it does not publish while disabled, and prints a metric to stdout once it
        # holds 100 values; dropped after each invocation, they never reach the command line's output.
        metrics.clear_metrics()


class _LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    def __init__(self, step: Step):
        self.timeout_seconds = step.timeout_seconds
        self.function_name = FUNCTION_PREFIX + step.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn(os.environ.get("AWS_REGION", "us-east-1"), step.name)
        self.memory_limit_in_mb = 256
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000
