"""The local runner where users touch it as they would touch AWS: Step Functions' own API on a local deployment
(StopExecution, GetExecutionHistory's pages), several runs at once in one mock, and the rules' targets failing."""

import ast
import json
import logging
import re
import resource
import threading
import time
from pathlib import Path

import boto3
import pytest

from datasync_steps.names import WAIT_STATE
from datasync_steps.waiting import PARTITION_KEY, SORT_KEY
from datasync_workflow.local import EmulatedTransfer, emulated_transfers, local_deployment, run_local
from datasync_workflow.local import runner as local
from tests import fakes
from tests.conftest import REGION, make_s3_location, make_smb_location, make_task, s3_kwargs, smb_kwargs, task_arns


@pytest.fixture
def task(datasync):
    return make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))


def started_and_waiting(sfn, machine_arn: str, execution_input: dict) -> str:
    arn = sfn.start_execution(stateMachineArn=machine_arn, name="waits", input=json.dumps(execution_input))[
        "executionArn"
    ]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        if any(e["type"] == "TaskSubmitted" for e in events):
            return arn
        time.sleep(0.05)
    pytest.fail("the execution never waited for DataSync's event")


def test_stop_execution_aborts_a_waiting_run_keeps_its_error_and_cause_and_the_clean_up_cancels(datasync, task):
    with local_deployment(REGION) as machine_arn, emulated_transfers(EmulatedTransfer(seconds=60)):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = started_and_waiting(sfn, machine_arn, {"task_arn": task, "wait_interval_seconds": 3600})
        sfn.stop_execution(executionArn=arn, error="Operator.Stop", cause="stopped from the console")
        described = sfn.describe_execution(executionArn=arn)
        for _ in range(100):
            if described["status"] != "RUNNING":
                break
            time.sleep(0.05)
            described = sfn.describe_execution(executionArn=arn)
        assert (described["status"], described["error"], described["cause"]) == (
            "ABORTED",
            "Operator.Stop",
            "stopped from the console",
        )
        (last,) = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)["events"]
        assert last["executionAbortedEventDetails"] == {"error": "Operator.Stop", "cause": "stopped from the console"}
    # The clean-up rule ran once Step Functions showed the stop (the deployment waits for it as it ends): the DataSync
    # execution is being cancelled.
    (execution,) = datasync.list_task_executions(TaskArn=task)["TaskExecutions"]
    assert execution["Status"] in ("CANCELLING", "ERROR")


def test_the_history_pages_as_the_api_says_newest_first_when_asked(datasync, task):
    execution = run_local({"task_arn": task, "wait_interval_seconds": 0})
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = execution.execution_arn
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=arn, reverseOrder=True, PaginationConfig={"PageSize": 7}
    )
    newest_first = [event for page in pages for event in page["events"]]
    assert [e["id"] for e in newest_first] == [e["id"] for e in reversed(execution.history)]
    assert len(sfn.get_execution_history(executionArn=arn)["events"]) == min(100, len(execution.history))
    bare = sfn.get_execution_history(executionArn=arn, includeExecutionData=False, maxResults=1000)["events"]
    assert not any("input" in e.get("stateEnteredEventDetails", {}) for e in bare)
    assert any("input" in e.get("stateEnteredEventDetails", {}) for e in execution.history)


def test_runs_in_threads_inside_one_mock_each_see_their_own_outcome(datasync):
    create_all = {
        "source_location_uri": "smb://hostname/directory/",
        "destination_location_uri": "s3://mybucket/prefix",
        "wait_interval_seconds": 0,
        "create_task_kwargs": {"Name": "t"},
        "create_source_location_kwargs": smb_kwargs(),
        "create_destination_location_kwargs": s3_kwargs(),
    }
    outcomes: dict[int, object] = {}

    def run(number: int) -> None:
        outcomes[number] = run_local(create_all, timeout=90)

    with emulated_transfers(EmulatedTransfer(seconds=0.5)):
        threads = [threading.Thread(target=run, args=(number,)) for number in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [outcomes[number].status for number in range(3)] == ["SUCCEEDED"] * 3, [
        (outcomes[n].error, outcomes[n].cause) for n in range(3)
    ]
    assert {outcomes[number].output["TaskArn"] for number in range(3)} == set(task_arns(datasync))
    assert len(task_arns(datasync)) == 1


def test_the_steps_dynamodb_requests_are_answered_one_at_a_time(monkeypatch):
    # moto's DynamoDB is not thread-safe: its TransactWriteItems (each run's registration on its task) deep-copies
    # the table while other runs' threads write to it, and a 100-item local batch lost a dozen children to "dictionary
    # changed size during iteration". Here each write lingers, so that without the runner's lock they would overlap.
    from moto.dynamodb.models import DynamoDBBackend

    inside, most_inside, counting = [0], [0], threading.Lock()
    put_item = DynamoDBBackend.put_item

    def lingering_put_item(backend, *args, **kwargs):
        with counting:
            inside[0] += 1
            most_inside[0] = max(most_inside[0], inside[0])
        time.sleep(0.02)
        try:
            return put_item(backend, *args, **kwargs)
        finally:
            with counting:
                inside[0] -= 1

    monkeypatch.setattr(DynamoDBBackend, "put_item", lingering_put_item)
    with local_deployment(REGION):
        table = boto3.resource("dynamodb", region_name=REGION).Table(local.WAITING_TABLE_NAME)
        writers = [
            threading.Thread(target=table.put_item, kwargs={"Item": {PARTITION_KEY: f"p{n}", SORT_KEY: "s"}})
            for n in range(10)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        assert table.scan()["Count"] == 10
    assert most_inside[0] == 1


def test_a_failing_clean_up_is_a_warning_naming_the_step_and_the_execution(datasync, task, monkeypatch, caplog):
    fakes.fail_calls(monkeypatch, "cancel_task_execution", fakes.refused("Cancel refused"), step="cleanup")
    with emulated_transfers(EmulatedTransfer(seconds=60)), caplog.at_level(logging.WARNING, logger=local.__name__):
        execution = run_local(
            {"task_arn": task, "wait_interval_seconds": 3600},
            timeout=30,
            stop_when=lambda event: event["type"] == "TaskSubmitted",
        )
    assert execution.status == "ABORTED"
    (warning,) = [record.getMessage() for record in caplog.records if record.name == local.__name__]
    assert warning.startswith(f"The cleanup step failed for {execution.execution_arn}: DataSyncRequestError: ")
    assert WAIT_STATE in [
        e["stateEnteredEventDetails"]["name"] for e in execution.history if "stateEnteredEventDetails" in e
    ]


def test_the_docs_python_example_runs_as_written():
    readme = (Path(__file__).resolve().parents[2] / "docs" / "local.md").read_text()
    start = readme.index("```python\nimport boto3\nfrom moto import mock_aws\n") + len("```python\n")
    example = readme[start : readme.index("```", start)]
    namespace: dict = {}
    exec(compile(example, "docs/local.md", "exec"), namespace)
    execution = namespace["execution"]
    assert (execution.status, execution.output["TaskArn"]) == ("SUCCEEDED", namespace["arn"])


def test_the_docs_python_blocks_import_only_the_local_runners_module():
    page = (Path(__file__).resolve().parents[2] / "docs" / "local.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", page, re.MULTILINE | re.DOTALL)
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for block in blocks
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert len(blocks) >= 2
    assert {name for name in imported if name and name.startswith("datasync_workflow")} == {"datasync_workflow.local"}


def test_a_map_of_child_executions_runs_locally_as_step_functions_runs_it():
    """What a batch rests on: moto's engine runs states:startExecution.sync:2 under a Map (emulated_stepfunctions
    names its parameters and answers as Step Functions does, and names the children)."""
    import boto3
    from moto import mock_aws

    wait = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        role = "arn:aws:iam::123456789012:role/local"
        child = sfn.create_state_machine(name="child", roleArn=role, definition=json.dumps(wait))["stateMachineArn"]
        run = {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": child, "Input.$": "$"},
            "ResultSelector": {"Status.$": "$.Status", "Output.$": "$.Output"},
            "End": True,
        }
        each = {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Run", "States": {"Run": run}}
        parent_definition = {
            "StartAt": "M",
            "States": {"M": {"Type": "Map", "MaxConcurrency": 2, "ItemProcessor": each, "End": True}},
        }
        parent = sfn.create_state_machine(name="parent", roleArn=role, definition=json.dumps(parent_definition))
        arn = sfn.start_execution(stateMachineArn=parent["stateMachineArn"], input=json.dumps([{}, {}, {}]))[
            "executionArn"
        ]
        deadline = time.monotonic() + 20
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (
            json.loads(sfn.describe_execution(executionArn=arn)["output"])
            == [{"Status": "SUCCEEDED", "Output": {}}] * 3
        )
        assert len(sfn.list_executions(stateMachineArn=child)["executions"]) == 3


def test_motos_engine_logs_are_quiet_unless_asked_for(task, capfd, caplog):
    # moto's Step Functions engine logs an error for each path a state finds absent, in successful runs too.
    with caplog.at_level(logging.INFO):  # a caller's own logging, at INFO
        assert run_local({"task_arn": task, "wait_interval_seconds": 0}).status == "SUCCEEDED"
    assert [r.getMessage() for r in caplog.records if r.name.startswith(local.MOTO_ENGINE_LOGGER)] == []
    assert "Exception=" not in capfd.readouterr().err
    # Asked for: the logger's level.
    with caplog.at_level(logging.INFO, logger=local.MOTO_ENGINE_LOGGER):
        assert run_local({"task_arn": task, "wait_interval_seconds": 0}).status == "SUCCEEDED"
    assert any(r.getMessage().startswith("Exception=NoSuchJsonPathError") for r in caplog.records)


def process_cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def test_a_run_that_only_waits_takes_almost_no_cpu(datasync):
    """While a retry's delay passes, the local runner looks at the run less and less often (its end is still noticed
    within a second): from 1 s after the Wait state is entered to 1 s before it ends, the process takes under 5 % of a
    core (polling every 0.1 s took 13 %)."""
    delay, measured = 10, []

    def measure() -> None:
        time.sleep(1)
        measured.append((time.monotonic(), process_cpu_seconds()))
        time.sleep(delay - 2)
        measured.append((time.monotonic(), process_cpu_seconds()))

    def on_event(event: dict) -> None:
        if (event.get("stateEnteredEventDetails") or {}).get("name") == "Wait before the next try":
            threading.Thread(target=measure).start()

    missing = {"source_location_uri": "smb://h/d/", "destination_location_uri": "s3://b/p"}
    began = time.monotonic()
    execution = run_local({**missing, "retries": 1, "retry_delay": delay}, on_event=on_event)
    assert execution.error == "DataSyncTaskNotFoundError" and len(measured) == 2
    (start, cpu_before), (end, cpu_after) = measured
    assert (cpu_after - cpu_before) / (end - start) < 0.05, (
        f"{cpu_after - cpu_before:.2f} s of CPU in {end - start:.1f} s"
    )
    # The second try and the end were noticed promptly.
    assert time.monotonic() - began < delay + 8


def test_a_run_stopped_at_its_timeout_says_which_timeout_stopped_it(datasync, task):
    with emulated_transfers(EmulatedTransfer(seconds=60)):
        execution = run_local({"task_arn": task}, timeout=2)
    assert (execution.status, execution.error) == ("ABORTED", "LocalStop")
    assert (
        execution.cause
        == "stopped by the local runner at its timeout, 2 s (--timeout on the command line, timeout= from Python)"
    )
    # ...and its DataSync execution was cancelled, as the stack's clean-up rule does.
    assert {e.status for e in fakes.backend().task_executions.values()} <= {"CANCELLING", "ERROR"}


def test_a_refused_transaction_leaves_the_items_it_wrote_as_they_were(aws):
    # The emulation backs up only the items a transaction writes, not moto's deep copy of every table it names.
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "kept"}, "v": {"N": "1"}})
    refused = [
        {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}},
        {
            "Update": {
                "TableName": "t",
                "Key": {"pk": {"S": "kept"}},
                "UpdateExpression": "SET v = :two",
                "ExpressionAttributeValues": {":two": {"N": "2"}},
            }
        },
        {
            "ConditionCheck": {
                "TableName": "t",
                "Key": {"pk": {"S": "none"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
    ]
    with local._dynamodb_answers_one_request_at_a_time():
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(TransactItems=refused)
        assert dynamodb.scan(TableName="t")["Items"] == [{"pk": {"S": "kept"}, "v": {"N": "1"}}]
        dynamodb.transact_write_items(TransactItems=refused[:2])
    assert sorted(item["pk"]["S"] for item in dynamodb.scan(TableName="t")["Items"]) == ["kept", "new"]
