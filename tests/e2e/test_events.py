"""The workflow's events: the "DataSync Workflow Run Finished" event a rule of the user's receives (docs/reference/
output.md), forged events sent straight to the functions EventBridge runs (docs/security.md, "Steps that trust only
AWS"), and an event a rule's function fails on (the failed-events queue, datasync_workflow/cdk/core.py's
rule_target). What each proves on AWS is in docs/reference/proven.md."""

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from datasync_steps.names import EVENT_SOURCE
from datasync_workflow.definition.steps import STEPS
from tests.e2e.target import Target, stack_outputs, started_transfers

DETAIL_TYPE = "DataSync Workflow Run Finished"  # datasync_steps/announce.py
WAIT_STATE = "Wait for DataSync's event"
MADE_UP_TASK_EXECUTION = "/execution/exec-0123456789abcdef0"
# How long an emulated transfer takes in the scenarios that act while it runs; on AWS DataSync takes a minute or more
# to launch and copy two objects between buckets, so nothing is slowed down there.
EMULATED_TRANSFER_SECONDS = 8


# The step functions, as a rule or anyone allowed to invoke them would call them.


def invoke(target: Target, step: str, event: dict) -> Any:
    """The step's answer to `event`. Branches on `target.emulated`: the emulation runs the step's handler in this
    process (datasync_workflow.local.runner._invoke, as its Lambda hook does); a deployed stack's function is found
    from the stack (its logical ID, Workflow<Step>Function<hash>) and called with Lambda's Invoke. A function error
    is raised either way."""
    if target.emulated:
        from datasync_workflow.local.runner import _invoke

        return _invoke(step, event)
    answer = target.client("lambda").invoke(FunctionName=target.function_name(step), Payload=json.dumps(event))
    payload = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        raise StepFailed(payload.get("errorType", "") if isinstance(payload, dict) else "", json.dumps(payload))
    return payload


class StepFailed(Exception):
    def __init__(self, error_type: str, message: str):
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


def invoke_as_eventbridge(target: Target, step: str, event: dict) -> None:
    """Invoke the deployed step's function asynchronously, as EventBridge invokes a rule's target: a failure is
    retried by Lambda, then kept by the function's on-failure destination. The emulation has neither."""
    assert not target.emulated, "the emulation has no asynchronous invocation"
    answer = target.client("lambda").invoke(
        FunctionName=target.function_name(step), InvocationType="Event", Payload=json.dumps(event)
    )
    assert answer["StatusCode"] == 202, answer


# What a user's rule on the "Run Finished" event receives.


@dataclass
class FinishedRuns:
    """An SQS queue behind a rule on the default bus that matches this workflow's "Run Finished" events (or its
    batches' "Batch Finished" events, whose detail names the execution by `arn_key`)."""

    target: Target
    queue_url: str
    received: list[dict] = field(default_factory=list)
    detail_type: str = DETAIL_TYPE
    arn_key: str = "WorkflowExecutionArn"

    def receive(self, seconds: float) -> None:
        sqs, deadline = self.target.client("sqs"), time.monotonic() + seconds
        while True:
            wait = 0 if self.target.emulated else max(0, min(20, int(deadline - time.monotonic())))
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
            for message in messages.get("Messages", []):
                self.received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            if time.monotonic() >= deadline:
                return
            time.sleep(0.1 if self.target.emulated else 0)

    def of(self, execution_arn: str) -> list[dict]:
        return [event for event in self.received if event["detail"].get(self.arn_key) == execution_arn]

    def event_of(self, execution_arn: str) -> dict:
        """The one event of the execution, waiting for it as long as a run may take; then a few seconds more, so
        that a second one would be seen."""
        deadline = time.monotonic() + self.target.run_seconds
        while not self.of(execution_arn) and time.monotonic() < deadline:
            self.receive(1 if self.target.emulated else 20)
        self.receive(1 if self.target.emulated else 10)
        events = self.of(execution_arn)
        assert len(events) == 1, f"{len(events)} {self.detail_type} events of {execution_arn}: {events}"
        return events[0]


def finished_runs(
    target: Target,
    detail_type: str = DETAIL_TYPE,
    arn_key: str = "WorkflowExecutionArn",
    machine_arn: str | None = None,
) -> FinishedRuns:
    """A queue and a rule on the default bus catching the Run Finished events of this workflow's executions (or the
    `detail_type` events whose `arn_key` names an execution of `machine_arn`), the queue's policy letting the rule send
    (as AWS needs); all removed at the scenario's end."""
    sqs, events, name = target.client("sqs"), target.client("events"), f"datasync-workflow-e2e-{uuid.uuid4().hex[:12]}"
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    target.remember(lambda: sqs.delete_queue(QueueUrl=queue_url))
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {
        "source": [EVENT_SOURCE],
        "detail-type": [detail_type],
        "detail": {arn_key: [{"prefix": executions_prefix(machine_arn or target.state_machine_arn)}]},
    }
    rule_arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")["RuleArn"]
    target.remember(lambda: events.delete_rule(Name=name))
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    events.put_targets(Rule=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    target.remember(lambda: events.remove_targets(Rule=name, Ids=["queue"]))
    return FinishedRuns(target, queue_url, detail_type=detail_type, arn_key=arn_key)


def executions_prefix(machine_arn: str) -> str:
    return machine_arn.replace(":stateMachine:", ":execution:") + ":"


# Runs that are still going when the scenario acts.


def waiting_run(target: Target) -> tuple[str, str]:
    """Start a transfer between two new buckets and give, once the run waits for DataSync's event (the wait's
    function has answered), its execution ARN and its DataSync execution's ARN."""
    with target.long_transfers(EMULATED_TRANSFER_SECONDS):
        # An hour between checks: the run ends in time only if DataSync's own event wakes it.
        arn = target.start({**target.s3_to_s3(), "wait_interval_seconds": 3600})
        history = history_until_waiting(target, arn)
    (started,) = started_transfers(history)
    return arn, started


def history_until_waiting(target: Target, execution_arn: str) -> list[dict]:
    sfn, deadline = target.client("stepfunctions"), time.monotonic() + target.run_seconds
    while time.monotonic() < deadline:
        history = target.history(execution_arn)
        entered = [
            i for i, e in enumerate(history) if (e.get("stateEnteredEventDetails") or {}).get("name") == WAIT_STATE
        ]
        if entered and any(e["type"] == "TaskSubmitted" for e in history[entered[-1] :]):
            return history
        assert sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING", "the run ended first"
        time.sleep(0.1 if target.emulated else 3)
    raise AssertionError(f"{execution_arn} did not wait for DataSync's event in time")


def status_change(execution_arn: str, machine_arn: str, status: str) -> dict:
    """What the rules on Step Functions' status change hand cleanup and announce (datasync_workflow/cdk/
    operations.py)."""
    return {"detail": {"executionArn": execution_arn, "stateMachineArn": machine_arn, "status": status}}


def datasync_state_change(task_execution_arn: str, state: str) -> dict:
    """DataSync's "Task Execution State Change" event, as the resume rule hands it on."""
    _, _, _, region, account, _ = task_execution_arn.split(":", 5)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "DataSync Task Execution State Change",
        "source": "aws.datasync",
        "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [task_execution_arn],
        "detail": {"State": state},
    }


# The scenarios.


@pytest.mark.proves(
    "a rule of the user's on the default bus (source datasync-workflow, detail-type DataSync Workflow Run Finished) "
    "receives one event per run in an SQS queue, with the run's status, task and executions, and no input",
    emulation="the local announce rule runs the step in-process; its PutEvents reaches moto's default bus, whose "
    "rule sends it to moto's SQS",
)
def test_a_rule_on_the_default_bus_receives_the_run_finished_event(target: Target):
    runs = finished_runs(target)
    transfer = target.s3_to_s3()
    run = target.run(transfer)
    assert run.status == "SUCCEEDED", run.cause
    event = runs.event_of(run.execution_arn)
    assert (event["source"], event["detail-type"], event["resources"]) == (
        EVENT_SOURCE,
        DETAIL_TYPE,
        [run.execution_arn],
    )
    detail = event["detail"]
    assert detail["Status"] == "SUCCEEDED" and "Error" not in detail and "Cause" not in detail
    assert (detail["TaskArn"], detail["TaskExecutionArn"]) == (run.output["TaskArn"], run.output["TaskExecutionArn"])
    assert detail["Attempts"] == 1 and "FilesTransferred" in detail["Counters"]
    assert detail["ConsoleUrl"].endswith(run.execution_arn)
    # No input: neither bucket is named in it.
    buckets = [transfer["source_location_uri"][5:-1], transfer["destination_location_uri"].split("/")[2]]
    assert not [bucket for bucket in buckets if bucket in json.dumps(event)], event


@pytest.mark.proves(
    "the events:source condition on the PutEvents grant of announce and announce-batch: their roles may put the "
    "workflow's events on the default bus and no event of another source, and no other role of the stack may put the "
    "workflow's",
    emulation="the emulated IAM evaluates the grants the stack writes (ForAllValues:StringEquals on events:source)",
)
def test_only_the_announce_roles_may_put_the_workflows_events(target: Target):
    account = target.client("sts").get_caller_identity()["Account"]
    bus = f"arn:aws:events:{target.region}:{account}:event-bus/default"

    def may_put(step: str, *sources: str) -> bool:
        return target.may(step, "events:PutEvents", bus, {"events:source": list(sources)})

    announcers = ("announce", "announce-batch")
    for announcer in announcers:
        assert may_put(announcer, EVENT_SOURCE)
        assert not may_put(announcer, "aws.datasync")  # a forged DataSync event, say
        assert not may_put(announcer, EVENT_SOURCE, "another-source")
    others = [step.name for step in STEPS if step.name not in announcers]
    assert [step for step in others if may_put(step, EVENT_SOURCE)] == []


@pytest.mark.proves(
    "a forged status change or DataSync event sent straight to the resume, cleanup, announce and announce-batch "
    "functions (Lambda Invoke) wakes no run, cancels no DataSync execution and puts no event: each asks Step Functions "
    "or DataSync",
    emulation="the steps' handlers run in-process against moto's Step Functions and the emulated DataSync",
)
def test_forged_events_sent_to_the_functions_change_nothing(target: Target):
    runs = finished_runs(target)
    sfn, datasync = target.client("stepfunctions"), target.client("datasync")
    arn, transfer = waiting_run(target)
    never_ran = executions_prefix(target.state_machine_arn) + f"e2e-never-ran-{uuid.uuid4().hex[:8]}"
    made_up = transfer.split("/execution/")[0] + MADE_UP_TASK_EXECUTION

    # The run still goes on, and its transfer with it.
    assert invoke(target, "resume", datasync_state_change(transfer, "SUCCESS")) == {"Resumed": 0}
    assert invoke(target, "resume", datasync_state_change(made_up, "SUCCESS")) == {"Resumed": 0}
    for status in ("ABORTED", "FAILED", "TIMED_OUT"):
        assert invoke(target, "cleanup", status_change(arn, target.state_machine_arn, status)) == {"Cancelled": False}
    assert invoke(target, "cleanup", status_change(never_ran, target.state_machine_arn, "ABORTED")) == {
        "Cancelled": False
    }
    assert invoke(target, "announce", status_change(arn, target.state_machine_arn, "SUCCEEDED")) == {}
    assert invoke(target, "announce", status_change(never_ran, target.state_machine_arn, "FAILED")) == {}
    never_ran_batch = executions_prefix(target.batch_state_machine_arn) + f"e2e-never-ran-{uuid.uuid4().hex[:8]}"
    forged_batch_end = status_change(never_ran_batch, target.batch_state_machine_arn, "SUCCEEDED")
    assert invoke(target, "announce-batch", forged_batch_end) == {}
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    assert datasync.describe_task_execution(TaskExecutionArn=transfer)["Status"] not in ("ERROR", "SUCCESS")

    run = target.finish(arn)
    assert run.status == "SUCCEEDED", run.cause
    assert run.output["TaskExecutionArn"] == transfer and run.output["TaskExecution"]["Status"] == "SUCCESS"
    # Announced once, by the run's own end; nothing for the forged ones.
    assert runs.event_of(arn)["detail"]["Status"] == "SUCCEEDED"
    assert runs.of(never_ran) == []


@pytest.mark.proves(
    "a stopped run is announced ABORTED with its task, DataSync execution, Error and Cause, and the clean-up rule "
    "cancels its DataSync execution",
    emulation="StopExecution as on AWS; the local clean-up and announce rules run the steps on moto's status change",
)
def test_a_stopped_run_is_announced_and_its_transfer_cancelled(target: Target):
    runs = finished_runs(target)
    arn, transfer = waiting_run(target)
    target.client("stepfunctions").stop_execution(executionArn=arn, error="E2EStop", cause="stopped by the scenario")
    run = target.finish(arn)
    assert run.status == "ABORTED"
    detail = runs.event_of(arn)["detail"]
    assert (detail["Status"], detail["TaskExecutionArn"], detail["Error"], detail["Cause"]) == (
        "ABORTED",
        transfer,
        "E2EStop",
        "stopped by the scenario",
    )
    assert transfer.startswith(detail["TaskArn"] + "/execution/")
    datasync, deadline = target.client("datasync"), time.monotonic() + target.run_seconds
    while (status := datasync.describe_task_execution(TaskExecutionArn=transfer)["Status"]) != "ERROR":
        assert status != "SUCCESS" and time.monotonic() < deadline, f"the stopped run's transfer went on: {status}"
        time.sleep(0.2 if target.emulated else 5)


@pytest.mark.proves(
    "the Run Finished event of a run refused at its input carries Error and Cause as Step Functions keeps them, "
    "no task, and a refused password's field but never its value",
    emulation="moto's Step Functions engine runs the same definition; the local announce rule puts the event",
)
def test_a_refused_runs_event_carries_its_error_and_no_secret(target: Target):
    runs = finished_runs(target)
    bad = target.run({"task_arn": "not-an-arn", "max_iterations": 0})
    password = f"e2e-not-a-real-password-{uuid.uuid4().hex[:8]}"
    smb = {"ServerHostname": "h", "Subdirectory": "/s", "User": "u", "Password": password, "AgentArns": []}
    secret = target.run(
        {
            "source_location_uri": "smb://h/s",
            "destination_location_uri": "s3://b/p",
            "create_source_location_kwargs": smb,
        }
    )
    assert (bad.error, secret.error) == ("DataSyncInvalidInputError", "DataSyncInvalidInputError")

    detail = runs.event_of(bad.execution_arn)["detail"]
    assert (detail["Status"], detail["Error"], detail["Cause"]) == ("FAILED", bad.error, bad.cause)
    assert "task_arn" in detail["Cause"] and "max_iterations" in detail["Cause"]
    assert not {"TaskArn", "TaskExecutionArn", "Counters"} & set(detail), detail

    event = runs.event_of(secret.execution_arn)
    assert event["detail"]["Error"] == "DataSyncInvalidInputError" and "Password" in event["detail"]["Cause"]
    assert password not in json.dumps(event)


@pytest.mark.proves(
    "an event a rule's function fails on (here cleanup's, invoked asynchronously as EventBridge invokes it) is kept, "
    "after Lambda's two retries, in the stack's FailedEvents queue with the event and the error, whose alarm goes to "
    "ALARM while it is kept, and changes nothing",
    emulation="no asynchronous invocation, no failed-events queue and no alarm: the step runs at once and its "
    "function error is checked, with what it left unchanged; the queue and its alarm are checked on AWS only",
)
def test_an_event_a_rules_function_fails_on_is_kept_in_the_failed_events_queue(target: Target):
    runs = finished_runs(target)
    run = target.run(target.s3_to_s3())
    assert run.status == "SUCCEEDED", run.cause
    runs.event_of(run.execution_arn)
    marker = f"e2e-unreadable-{uuid.uuid4().hex[:12]}"
    # No executionArn: the step cannot read the event, whoever sent it.
    unreadable = {"detail": {"stateMachineArn": target.state_machine_arn, "status": "ABORTED"}, "e2e": marker}

    # Called synchronously, on both targets, the step fails loudly (a function error), not with a quiet answer.
    with pytest.raises(Exception, match="executionArn"):
        invoke(target, "cleanup", unreadable)
    if not target.emulated:
        # On AWS only (the emulation has no asynchronous invocation and no such queue): the event an invocation as
        # EventBridge makes failed on is in the FailedEvents queue after Lambda's two retries (about 3 minutes), and
        # is taken out of it once its alarm has gone to ALARM (and notified the stack's alarm_emails).
        invoke_as_eventbridge(target, "cleanup", unreadable)
        alarm_raised_by_failed_events(target)
        kept = kept_failed_event(target, marker)
        assert kept["requestPayload"] == unreadable
        assert kept["requestContext"]["condition"] == "RetriesExhausted"
        assert kept["responseContext"]["functionError"] and "executionArn" in json.dumps(kept["responsePayload"])

    # Nothing else changed: the finished run, its transfer, and no further event.
    assert target.client("stepfunctions").describe_execution(executionArn=run.execution_arn)["status"] == "SUCCEEDED"
    described = target.client("datasync").describe_task_execution(TaskExecutionArn=run.output["TaskExecutionArn"])
    assert described["Status"] == "SUCCESS"
    runs.receive(1 if target.emulated else 10)
    assert len(runs.of(run.execution_arn)) == 1


def alarm_raised_by_failed_events(target: Target) -> str:
    """The name of the alarm on the FailedEvents queue's visible messages, once it is in ALARM (SQS sends its
    metrics every minute; the alarm's period is 5 minutes), waiting as long as a run may take."""
    queue_url = stack_outputs(target.client("cloudformation"), target.name)["FailedEventsQueueUrl"]
    cloudwatch, deadline = target.client("cloudwatch"), time.monotonic() + target.run_seconds
    while time.monotonic() < deadline:
        (alarm,) = cloudwatch.describe_alarms_for_metric(
            MetricName="ApproximateNumberOfMessagesVisible",
            Namespace="AWS/SQS",
            Dimensions=[{"Name": "QueueName", "Value": queue_url.rsplit("/", 1)[1]}],
        )["MetricAlarms"]
        if alarm["StateValue"] == "ALARM":
            return alarm["AlarmName"]
        time.sleep(15)
    raise AssertionError(f"the alarm on {queue_url} did not go to ALARM in {target.run_seconds} s")


def kept_failed_event(target: Target, marker: str) -> dict:
    """The on-failure record holding `marker` in the stack's FailedEvents queue (deleted from it), waiting as long
    as a run may take."""
    queue_url = stack_outputs(target.client("cloudformation"), target.name)["FailedEventsQueueUrl"]
    sqs, deadline = target.client("sqs"), time.monotonic() + target.run_seconds
    while time.monotonic() < deadline:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=20)
        for message in answer.get("Messages", []):
            if marker in message["Body"]:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                return json.loads(message["Body"])
            # Another failure's record: back in the queue at once, for whoever looks after it.
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    raise AssertionError(f"no record of the failed event {marker} in {queue_url}")
