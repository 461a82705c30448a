"""Measure what one run of the workflow costs: state transitions, Lambda invocations, history events.

Runs the real definition locally (moto, with the emulated DataSync), counts what the history shows for the
setup, each status check and the end, then prices runs of a few lengths and polling intervals. Prices are
list prices passed as options (defaults: us-east-1, Standard workflows, arm64 Lambda); check your region's.

    .venv/bin/python scripts/benchmark.py [--runs 5] [--transition-price 0.000025] ...
"""

import argparse
import math
import os
import statistics
import time

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

import boto3
from moto import mock_aws

from datasync_workflow.cli import CHECK_STATE
from datasync_workflow.emulated_datasync import EmulatedTransfer
from datasync_workflow.local import run_local

MEMORY_GB = 0.25


def one_run() -> tuple[float, list[dict]]:
    with mock_aws():
        datasync = boto3.client("datasync", region_name="us-east-1")
        source = datasync.create_location_s3(
            S3BucketArn="arn:aws:s3:::source", S3Config={"BucketAccessRoleArn": "arn:aws:iam::111122223333:role/r"}
        )["LocationArn"]
        destination = datasync.create_location_s3(
            S3BucketArn="arn:aws:s3:::destination", S3Config={"BucketAccessRoleArn": "arn:aws:iam::111122223333:role/r"}
        )["LocationArn"]
        task = datasync.create_task(SourceLocationArn=source, DestinationLocationArn=destination)["TaskArn"]
        started = time.perf_counter()
        execution = run_local({"task_arn": task, "wait_interval_seconds": 0})
        elapsed = time.perf_counter() - started
    assert execution.status == "SUCCEEDED", execution.cause
    return elapsed, execution.history


def shape(history: list[dict]) -> dict:
    """Transitions and invocations before the first check, per check, and after the last one."""
    entered = [i for i, e in enumerate(history) if e["type"].endswith("StateEntered")]
    checks = [i for i in entered if history[i]["stateEnteredEventDetails"]["name"] == CHECK_STATE]
    invoked = [i for i, e in enumerate(history) if e["type"] == "LambdaFunctionScheduled"]

    def count(indexes, start, stop):
        return sum(start <= i < stop for i in indexes)

    per_check_transitions = count(entered, checks[1], checks[2])
    per_check_events = checks[2] - checks[1]
    # The loop is entered once through its Wait state; everything else is setup or end.
    fixed_transitions = len(entered) - per_check_transitions * len(checks)
    fixed_invocations = len(invoked) - len(checks)
    return {
        "checks": len(checks),
        "events": len(history),
        "transitions": len(entered),
        "invocations": len(invoked),
        "per_check_transitions": per_check_transitions,
        "per_check_events": per_check_events,
        "fixed_transitions": fixed_transitions,
        "fixed_invocations": fixed_invocations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--transition-price", type=float, default=0.000025, help="USD per state transition")
    parser.add_argument("--request-price", type=float, default=0.0000002, help="USD per Lambda request")
    parser.add_argument("--gb-second-price", type=float, default=0.0000133334, help="USD per GB-second, arm64")
    parser.add_argument("--invocation-seconds", type=float, default=0.3, help="billed seconds per step invocation")
    args = parser.parse_args()

    one_run()  # warm up imports
    timings, shapes = [], []
    for _ in range(args.runs):
        elapsed, history = one_run()
        timings.append(elapsed)
        shapes.append(shape(history))
    measured = shapes[-1]
    # How many checks a run makes depends on timing; what each check and the rest of a run cost does not.
    invariant = ("per_check_transitions", "per_check_events", "fixed_transitions", "fixed_invocations")
    assert all(s[key] == measured[key] for s in shapes for key in invariant), "runs differ in shape"

    checks = sorted(s["checks"] for s in shapes)
    print(
        f"Local runs of {{task_arn}} with no wait between status checks, {args.runs} runs "
        f"(the emulated transfer takes {EmulatedTransfer.seconds} s; {checks[0]} to {checks[-1]} checks):"
    )
    median, fastest, slowest = statistics.median(timings), min(timings), max(timings)
    print(f"  wall time per run: median {median:.2f} s, min {fastest:.2f} s, max {slowest:.2f} s")
    print(
        f"  history events: {measured['events']}, state transitions: {measured['transitions']}, "
        f"Lambda invocations: {measured['invocations']}"
    )
    print(
        f"  per status check: {measured['per_check_transitions']} transitions, {measured['per_check_events']} "
        f"history events, 1 invocation"
    )
    print(
        f"  outside the loop: {measured['fixed_transitions']} transitions, {measured['fixed_invocations']} invocations"
    )
    most_checks = (25_000 - measured["events"]) // measured["per_check_events"] + measured["checks"]
    print(f"  most status checks before the 25,000-event history limit: ~{most_checks}")
    print()
    print("Cost of one deployed run (Step Functions transitions + Lambda requests and GB-seconds):")
    print(f"  {'transfer':>9} {'interval':>9} {'checks':>7} {'transitions':>12} {'invocations':>12} {'USD':>10}")
    for hours in (0.25, 1, 6, 24):
        for interval in (30, 60, 300):
            checks = math.ceil(hours * 3600 / interval)
            transitions = measured["fixed_transitions"] + checks * measured["per_check_transitions"]
            invocations = measured["fixed_invocations"] + checks
            usd = (
                transitions * args.transition_price
                + invocations * args.request_price
                + invocations * args.invocation_seconds * MEMORY_GB * args.gb_second_price
            )
            events = measured["events"] + (checks - measured["checks"]) * measured["per_check_events"]
            note = "  (over the history limit: raise the interval)" if events > 25_000 else ""
            print(f"  {hours:>8}h {interval:>8}s {checks:>7} {transitions:>12} {invocations:>12} {usd:>10.4f}{note}")


if __name__ == "__main__":
    main()
