"""Measure what one run of the workflow costs, waiting for DataSync's event or polling, and how soon it notices
that a transfer ended.

Runs the real definition locally (moto, with the emulated DataSync), and a polling variant of it whose wait is a
Wait state before each status check (what the workflow did before it waited for DataSync's event, and what
Airflow's operator and the public Step Functions samples do). From the histories it counts the state
transitions, history events and Lambda invocations of the setup and end of a run and of each status check, then
prices transfers of a few lengths. Prices are list prices passed as options (defaults: us-east-1, Standard
workflows, arm64 Lambda, DynamoDB on demand); check your region's. DataSync's events reach EventBridge at no
charge.

    .venv/bin/python scripts/benchmark.py [--runs 5] [--transition-price 0.000025] ...
    .venv/bin/python scripts/benchmark.py --imports-only --import-rounds 5 [--instructions]
"""

import argparse
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import datetime
from typing import cast
from unittest.mock import patch

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
# datasync_workflow.cdk (the steps' code as the stack ships it) imports aws-cdk-lib, whose jsii warns of Node 20.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.datasync.models import datasync_backends

from datasync_steps.datasync import datasync_client
from datasync_steps.limits import HISTORY_LIMIT
from datasync_steps.names import CHECK_STATE, DESCRIBE_STATE, ITEM_STATES_PASSED, WAIT_STATE
from datasync_steps.observability import FUNCTION_ENVIRONMENT
from datasync_steps.resolve import resolve
from datasync_workflow.cdk.assets import step_code
from datasync_workflow.definition.steps import STEPS, definition_text
from datasync_workflow.local import BATCH_BUCKET, EmulatedTransfer, create_batch_bucket, emulated_transfers, run_local
from datasync_workflow.local.emulated_datasync import EmulatedDataSyncBackend, EmulatedTask

MEMORY_GB = 0.25
ROLE = "arn:aws:iam::111122223333:role/bucket-access"
AGENT = "arn:aws:datasync:us-east-1:123456789012:agent/agent-0123456789abcdef0"
TRANSFERS = {"1 h": 3600, "24 h": 86_400, "7 days": 7 * 86_400}


def polling_definition() -> str:
    """The definition with the wait for DataSync's event replaced by a plain Wait state before each check."""
    definition = json.loads(definition_text())
    definition["States"][WAIT_STATE] = {
        "Type": "Wait",
        "SecondsPath": "$.config.wait_interval_seconds",
        "Next": CHECK_STATE,
    }
    return json.dumps(definition)


def one_run(
    execution_input: dict, definition: str | None = None, events: bool = True, transfer_seconds: float = 1.5
) -> list[dict]:
    no_events = patch.object(EmulatedDataSyncBackend, "subscribe", lambda self, listener: lambda: None)
    with mock_aws(), no_events if not events else nullcontext(), emulated_transfers(EmulatedTransfer(transfer_seconds)):
        datasync = boto3.client("datasync", region_name="us-east-1")
        source, destination = (
            datasync.create_location_s3(S3BucketArn=f"arn:aws:s3:::{bucket}", S3Config={"BucketAccessRoleArn": ROLE})[
                "LocationArn"
            ]
            for bucket in ("source", "destination")
        )
        task = task_made_beforehand(datasync, source, destination)
        execution = run_local({"task_arn": task, **execution_input}, definition=definition)
    assert execution.status == "SUCCEEDED", execution.cause
    return execution.history


def task_made_beforehand(datasync, source: str, destination: str) -> str:
    """A task that is AVAILABLE already (one just made is CREATING for a moment, which the start would wait out)."""
    task = datasync.create_task(SourceLocationArn=source, DestinationLocationArn=destination)["TaskArn"]
    cast(EmulatedTask, datasync_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tasks[task]).available_at = 0.0
    return task


# Each item's emulated transfer, and what a local batch of 1,000 should take at most on a 2-core machine (issue 28).
BATCH_TRANSFER_SECONDS, BATCH_TARGET_SECONDS = 0.5, 150


def batch_run(items: int, max_concurrency: int) -> dict:
    """A local batch of `items` short emulated transfers (0.5 s each), each on a task of its own, read from S3 (a
    Distributed Map): its wall time, and the histories of the batch and of every child execution."""
    with mock_aws(), emulated_transfers(EmulatedTransfer(BATCH_TRANSFER_SECONDS)):
        datasync = boto3.client("datasync", region_name="us-east-1")
        source, destination = (
            datasync.create_location_s3(S3BucketArn=f"arn:aws:s3:::{bucket}", S3Config={"BucketAccessRoleArn": ROLE})[
                "LocationArn"
            ]
            for bucket in ("source", "destination")
        )
        tasks = [task_made_beforehand(datasync, source, destination) for _ in range(items)]
        create_batch_bucket()
        boto3.client("s3", region_name="us-east-1").put_object(
            Bucket=BATCH_BUCKET,
            Key="transfers/bench.jsonl",
            Body="".join(json.dumps({"task_arn": task}) + "\n" for task in tasks).encode(),
        )
        batch = {
            "defaults": {"wait_interval_seconds": 3600},
            "transfers_from": f"s3://{BATCH_BUCKET}/transfers/bench.jsonl",
            "max_concurrency": max_concurrency,
        }
        began = time.monotonic()
        execution = run_local(batch, timeout=3600)
        seconds = time.monotonic() - began
        assert execution.status == "SUCCEEDED", execution.cause
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        children = [
            e["executionArn"]
            for machine in sfn.list_state_machines()["stateMachines"]
            if "-batch-" not in machine["name"]
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"])
            for e in page["executions"]
        ]
        histories = [
            [
                e
                for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
                for e in page["events"]
            ]
            for arn in children
        ]
    return {"seconds": seconds, "batch": execution.history, "children": histories}


def counts(history: list[dict]) -> dict:
    """Transitions, history events, step invocations, and the status checks among them."""
    return {
        "transitions": sum(e["type"].endswith("StateEntered") for e in history),
        "events": len(history),
        "invocations": sum(e["type"] in ("LambdaFunctionScheduled", "TaskScheduled") for e in history),
        "checks": sum(e.get("stateEnteredEventDetails", {}).get("name") == CHECK_STATE for e in history),
    }


def per_check(more: dict, fewer: dict) -> dict:
    """What one status check adds, from two runs that differ only in how many they made."""
    assert more["checks"] > fewer["checks"], (more, fewer)
    extra = more["checks"] - fewer["checks"]
    cost = {key: (more[key] - fewer[key]) / extra for key in ("transitions", "events", "invocations")}
    assert all(value.is_integer() for value in cost.values()), cost
    return {key: int(value) for key, value in cost.items()}


def fixed(run: dict, check: dict) -> dict:
    return {key: run[key] - run["checks"] * check[key] for key in ("transitions", "events", "invocations")}


def seconds_to_notice(history: list[dict]) -> float:
    """From the DataSync execution's EndTime to the workflow entering the state that describes it."""
    ended = datetime.fromisoformat(
        json.loads(history[-1]["executionSucceededEventDetails"]["output"])["TaskExecution"]["EndTime"]
    )
    (described,) = [e for e in history if e.get("stateEnteredEventDetails", {}).get("name") == DESCRIBE_STATE]
    return (described["timestamp"] - ended).total_seconds()


def lookup_calls(tasks: int) -> dict[str, int]:
    """The DataSync calls the resolve step makes to find a task by its URIs in an account of `tasks` tasks, each
    linking its own SMB share to its own S3 prefix; the most over a sample of the tasks."""
    calls = {}
    with mock_aws():
        datasync = boto3.client("datasync", region_name="us-east-1")
        for i in range(tasks):
            source = datasync.create_location_smb(
                ServerHostname=f"host{i}", Subdirectory="share", User="u", Password="p", AgentArns=[AGENT]
            )["LocationArn"]
            destination = datasync.create_location_s3(
                S3BucketArn=f"arn:aws:s3:::bucket{i}", Subdirectory="dir", S3Config={"BucketAccessRoleArn": ROLE}
            )["LocationArn"]
            datasync.create_task(SourceLocationArn=source, DestinationLocationArn=destination)
        for i in sorted({0, 5, 50, tasks // 2, tasks - 1}):
            client, made = datasync_client(), list[str]()
            client.meta.events.register("before-call.datasync", lambda model, made=made, **_: made.append(model.name))
            uris = {"source_location_uri": f"smb://host{i}/share", "destination_location_uri": f"s3://bucket{i}/dir"}
            assert resolve(client, uris).plan.route == "run"
            calls[f"smb://host{i}/share"] = len(made)
    return calls


FLOOR = (
    "import boto3; from aws_lambda_powertools import Logger, Tracer, Metrics; "
    "from aws_lambda_powertools.utilities.parser import event_parser"
)


def step_imports() -> dict[tuple[str, str], tuple[str, dict[str, str]]]:
    """The statement and environment of each import measured, by (step, kind): a fresh interpreter as Lambda starts one
    (its environment variables, so X-Ray's SDK takes its Lambda path, and those the stack sets) imports the step's
    module from the code the stack ships, writing no bytecode (Lambda's code directory is read-only), as "source"
    alone and as "bytecode" with the bytecode that ships where the app finds a Python of the runtime's version (this
    interpreter stands in for it); ("floor", "source") is boto3 and Powertools alone."""
    lambda_like = {
        **os.environ,
        "LAMBDA_TASK_ROOT": tempfile.gettempdir(),
        "AWS_LAMBDA_FUNCTION_NAME": "datasync-workflow-step",
        "AWS_REGION": "us-east-1",
        **FUNCTION_ENVIRONMENT,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    code = {"source": step_code(), "bytecode": step_code(sys.executable)}
    imports = {("floor", "source"): (FLOOR, {**lambda_like, "PYTHONPATH": code["source"]})}
    for step in STEPS:
        for kind, directory in code.items():
            imports[step.name, kind] = (f"import {step.module}", {**lambda_like, "PYTHONPATH": directory})
    return imports


def import_times(rounds: int) -> dict[str, dict[str, float]]:
    """Seconds each of step_imports() takes, best of `rounds`. The rounds go through every import in turn, so the
    machine's noise falls on all alike."""
    imports = step_imports()
    best: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for (name, kind), (statement, environment) in imports.items():
            timed = f"import time; began = time.perf_counter(); {statement}; print(time.perf_counter() - began)"
            done = subprocess.run(
                [sys.executable, "-c", timed], env=environment, capture_output=True, text=True, check=True
            )
            kinds = best.setdefault(name, {})
            kinds[kind] = min(kinds.get(kind, math.inf), float(done.stdout))
    return best


def import_instructions() -> dict[str, dict[str, float]]:
    """The CPU instructions each of step_imports() runs, as valgrind's callgrind counts them, less those of the
    interpreter's own start: the same from one run to the next, where wall time varies by about 0.1x the floor on a
    shared machine. Two at a time; each takes about 20 s."""

    def instructions(statement: str, environment: dict[str, str]) -> int:
        counted = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", statement]
        done = subprocess.run(counted, env=environment, capture_output=True, text=True, check=True)
        return int(done.stderr.rpartition("Collected : ")[2].split()[0])

    imports = step_imports()
    with ThreadPoolExecutor(2) as pool:
        start = pool.submit(instructions, "pass", imports["floor", "source"][1])
        counts = {key: pool.submit(instructions, *command) for key, command in imports.items()}
    counted: dict[str, dict[str, float]] = {}
    for (name, kind), count in counts.items():
        counted.setdefault(name, {})[kind] = count.result() - start.result()
    return counted


def print_import_figures(figures: dict[str, dict[str, float]], unit: str, scale: float) -> None:
    floor = figures.pop("floor")["source"]
    print(f"  {'':18} {'its source alone':>20} {'with its bytecode':>20}")
    print(f"  {'boto3 + Powertools (the floor)':34} {floor * scale:6.0f} {unit}")
    for name, kinds in figures.items():
        shown = (f"{kinds[kind] * scale:9.0f} {unit} {kinds[kind] / floor:5.2f}x" for kind in ("source", "bytecode"))
        print(f"  {name:18}{''.join(shown)}")


def summary_from_result_files(items: int) -> float:
    """Seconds summarize-batch's function alone takes for a batch of `items` read from S3, from a Distributed Map's
    results in moto's S3: a manifest and a SUCCEEDED_0.json of `items` entries in ResultWriter's layout (each with its
    iteration's input and row's source), every tenth item a failed child (its Cause the child's description)."""
    from datasync_steps.batch_children import child_name, child_prefix
    from datasync_steps.summarize_batch import SummarizeEvent, WrittenResults, summarize

    task = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"
    workflow = f"arn:aws:states:us-east-1:{DEFAULT_ACCOUNT_ID}:stateMachine:datasync-workflow"
    with mock_aws():
        create_batch_bucket()
        s3, sfn = boto3.client("s3"), boto3.client("stepfunctions")
        machine = sfn.create_state_machine(
            name="datasync-workflow-batch",
            definition=json.dumps(
                {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}}
            ),
            roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/batch",
        )["stateMachineArn"]
        batch_input = {"transfers_from": f"s3://{BATCH_BUCKET}/transfers/nightly.jsonl"}
        batch = sfn.start_execution(stateMachineArn=machine, name="nightly", input=json.dumps(batch_input))
        prefix = child_prefix(
            batch["executionArn"], sfn.describe_execution(executionArn=batch["executionArn"])["startDate"]
        )
        entries = []
        for index in range(items):
            given = {"input": {"task_arn": task, "task_id": f"copy_{index}"}, "name": child_name(prefix, index)}
            output: dict[str, object]
            if index % 10 == 9:
                child = {"Status": "FAILED", "Error": "DataSyncTaskNotFoundError", "Cause": "DataSync has no task " * 5}
                output = {"Error": "States.TaskFailed", "Cause": json.dumps(child | {"Input": given["input"]})}
            else:
                execution = f"{task}/execution/exec-{index:017x}"
                output = {"Status": "SUCCEEDED", "TaskArn": task, "TaskExecutionArn": execution}
                output |= {"BytesTransferred": 2 * 1024**3, "FilesTransferred": 1000}
            entries.append(
                {
                    "ExecutionArn": f"{machine.replace(':stateMachine:', ':execution:')}/Transfers:{index}",
                    "Input": json.dumps(given),
                    "InputDetails": {"Included": True},
                    "Name": str(index),
                    "Output": json.dumps(output),
                    "OutputDetails": {"Included": True},
                    "Status": "SUCCEEDED",
                }
            )
        place = f"batches/{prefix}/map-run"
        body = json.dumps(entries).encode()
        s3.put_object(Bucket=BATCH_BUCKET, Key=f"{place}/SUCCEEDED_0.json", Body=body)
        files = {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": f"{place}/SUCCEEDED_0.json", "Size": len(body)}]}
        manifest = {"DestinationBucket": BATCH_BUCKET, "MapRunArn": f"{machine}:map-run", "ResultFiles": files}
        s3.put_object(Bucket=BATCH_BUCKET, Key=f"{place}/manifest.json", Body=json.dumps(manifest).encode())
        written = {
            "MapRunArn": manifest["MapRunArn"],
            "ResultWriterDetails": {"Bucket": BATCH_BUCKET, "Key": f"{place}/manifest.json"},
        }
        event = SummarizeEvent(
            execution_id=batch["executionArn"],
            count=items,
            tolerated_failures=items,
            state_machine_arn=workflow,
            token="the-batch-summary-task-token",  # summarize, timed here, answers no token
            results=WrittenResults.model_validate(written),
        )
        described: list[dict] = []
        sfn.meta.events.register("before-call.stepfunctions.DescribeExecution", lambda **call: described.append(call))
        started = time.perf_counter()
        summary = summarize(sfn, event, s3, BATCH_BUCKET)
        seconds = time.perf_counter() - started
        assert summary.Totals["Items"] == items and summary.Totals["Failed"] == items // 10, summary.Totals
        assert len(described) == 1, f"{len(described)} DescribeExecution calls: the batch's, and children's"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--transition-price", type=float, default=0.000025, help="USD per state transition")
    parser.add_argument("--request-price", type=float, default=0.0000002, help="USD per Lambda request")
    parser.add_argument("--gb-second-price", type=float, default=0.0000133334, help="USD per GB-second, arm64")
    parser.add_argument("--invocation-seconds", type=float, default=0.3, help="billed seconds per step invocation")
    parser.add_argument("--write-price", type=float, default=0.000000625, help="USD per DynamoDB write request")
    parser.add_argument("--read-price", type=float, default=0.000000125, help="USD per DynamoDB read request")
    parser.add_argument("--import-rounds", type=int, default=15, help="fresh interpreters per module timed")
    parser.add_argument("--imports-only", action="store_true", help="print the import times and stop")
    parser.add_argument("--instructions", action="store_true", help="count the imports' instructions too (valgrind)")
    parser.add_argument("--batch-items", type=int, default=1000, help="transfers of the local batch measured")
    parser.add_argument("--batch-concurrency", type=int, default=10, help="its max_concurrency")
    parser.add_argument("--summary-items", type=int, default=5000, help="items of the summary timed from result files")
    parser.add_argument("--summary-only", action="store_true", help="print the summary's time and stop")
    args = parser.parse_args()
    if args.summary_only:
        print_summary_time(args.summary_items)
        return
    # moto's engine logs each Choice rule on a field a state lacks; the figures below are what to read.
    logging.getLogger("moto").setLevel(logging.CRITICAL)

    print(f"Import time of each step, best of {args.import_rounds} fresh interpreters, from the code the stack ships:")
    print_import_figures(import_times(args.import_rounds), "ms", 1000)
    if args.instructions:
        print("The same imports' CPU instructions (valgrind), in millions:")
        print_import_figures(import_instructions(), "M", 1e-6)
    if args.imports_only:
        return
    print()

    one_run({"wait_interval_seconds": 3600})  # warm up imports
    by_event = [one_run({"wait_interval_seconds": 3600}) for _ in range(args.runs)]
    polled = [one_run({"wait_interval_seconds": 1}, polling_definition()) for _ in range(args.runs)]
    event_run, polling_run = counts(by_event[-1]), counts(polled[-1])
    assert event_run["checks"] == 0, "the event ended the wait"
    # Without the event, the safety net's checks find the end: two runs of different lengths give one check's cost.
    short, long = (counts(one_run({"wait_interval_seconds": 1}, events=False, transfer_seconds=s)) for s in (1.5, 4))
    event_check = per_check(long, short)
    polling_check = per_check(counts(one_run({"wait_interval_seconds": 0}, polling_definition())), polling_run)
    event_fixed, polling_fixed = fixed(event_run, event_check), fixed(polling_run, polling_check)
    # Besides what the history shows, a run woken by the event runs the resume step once (EventBridge starts it).
    event_fixed["invocations"] += 1

    for tasks in (100, 1000):
        calls = lookup_calls(tasks)
        print(
            f"Finding a task by its URIs among {tasks:,} tasks: at most {max(calls.values())} DataSync calls "
            f"({', '.join(f'{uri} {n}' for uri, n in calls.items())})"
        )
    print()
    print(f"Measured on {args.runs} local runs each (the emulated transfer takes about 1.5 s):")
    print(f"  {'':34} {'transitions':>11} {'events':>7} {'invocations':>11}")
    for label, numbers in (
        ("waiting for the event, setup + end", event_fixed),
        ("  + each status check (safety net)", event_check),
        ("polling, setup + end", polling_fixed),
        ("  + each status check", polling_check),
    ):
        print(f"  {label:34} {numbers['transitions']:>11} {numbers['events']:>7} {numbers['invocations']:>11}")
    noticed_by_event = [seconds_to_notice(history) for history in by_event]
    noticed_by_polling = [seconds_to_notice(history) for history in polled]
    print(
        "  from DataSync's final state to the workflow moving on: "
        f"by the event median {statistics.median(noticed_by_event):.2f} s (max {max(noticed_by_event):.2f} s); "
        f"polling every 1 s median {statistics.median(noticed_by_polling):.2f} s (max {max(noticed_by_polling):.2f} s)"
    )
    print()

    def cost(numbers: dict, checks: int, per_check_numbers: dict, writes: int, reads: int) -> dict:
        total = {key: numbers[key] + checks * per_check_numbers[key] for key in numbers}
        total["usd"] = (
            total["transitions"] * args.transition_price
            + total["invocations"] * (args.request_price + args.invocation_seconds * MEMORY_GB * args.gb_second_price)
            + writes * args.write_price
            + reads * args.read_price
        )
        return total

    print("One run, deployed (Step Functions transitions + Lambda requests and GB-seconds + DynamoDB requests):")
    columns = f"{'transitions':>11} {'events':>7} {'invocations':>11} {'USD':>9}"
    print(f"  {'transfer':>8}  {'how it learns of the end':<38} {columns}")
    for name, seconds in TRANSFERS.items():
        rows = []
        for interval in (3600, 86_400):
            rounds = seconds // interval  # safety-net checks before the event arrives
            # Each wait stores a token and one claim deletes it; the event reads the table once.
            total = cost(event_fixed, rounds, event_check, writes=(rounds + 1) + 1, reads=1)
            rows.append((f"DataSync's event, checks every {interval // 3600} h", total))
        for interval in (30, 300):
            checks = math.ceil(seconds / interval)
            rows.append((f"polling every {interval} s", cost(polling_fixed, checks, polling_check, 0, 0)))
        for label, total in rows:
            over = "  over the history limit: fails" if total["events"] > HISTORY_LIMIT else ""
            print(
                f"  {name:>8}  {label:<38} {total['transitions']:>11,} {total['events']:>7,} "
                f"{total['invocations']:>11,} {total['usd']:>9.4f}{over}"
            )

    print()
    measured = batch_run(args.batch_items, args.batch_concurrency)
    items = args.batch_items
    batch_counts = counts(measured["batch"])
    children = [counts(history) for history in measured["children"]]
    # A Distributed Map's iterations are child executions of the batch, billed as Standard transitions: moto keeps no
    # history of them, so they are counted from the definition (each item's states).
    transitions = batch_counts["transitions"] + sum(c["transitions"] for c in children) + items * ITEM_STATES_PASSED
    invocations = batch_counts["invocations"] + sum(c["invocations"] for c in children) + items  # + resume each
    usd = transitions * args.transition_price + invocations * (
        args.request_price + args.invocation_seconds * MEMORY_GB * args.gb_second_price
    )
    largest = max(len(measured["batch"]), *(len(history) for history in measured["children"]))
    print(f"A local batch of {items:,} transfers (0.5 s each, emulated), max_concurrency {args.batch_concurrency}:")
    # The floor: the transfers alone, max_concurrency of them at a time.
    floor = items * BATCH_TRANSFER_SECONDS / args.batch_concurrency
    print(
        f"  wall time {measured['seconds']:,.0f} s; the transfers alone {floor:,.0f} s ({items:,} x "
        f"{BATCH_TRANSFER_SECONDS} s / {args.batch_concurrency}); the target for 1,000 at most {BATCH_TARGET_SECONDS} s"
    )
    print(f"  {len(children):,} child executions")
    print(
        f"  per item: {transitions / items:.1f} transitions, {invocations / items:.1f} invocations, "
        f"USD {usd / items:.5f} deployed (the batch's own: "
        f"{(batch_counts['transitions'] + items * ITEM_STATES_PASSED) / items:.1f} transitions)"
    )
    print(f"  the batch's history {len(measured['batch']):,} events; the largest history {largest:,} events")
    print()
    print_summary_time(args.summary_items)


def print_summary_time(items: int) -> None:
    seconds = summary_from_result_files(items)
    print(f"The summary of a batch of {items:,} items from S3, from the Distributed Map's result files in moto's S3:")
    print(f"  summarize-batch's function alone {seconds:,.1f} s, no child described; the target under 60 s")


if __name__ == "__main__":
    main()
