"""`datasync-workflow run --local INPUT.json`: run the workflow on this machine and print how it goes."""

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from datasync_workflow.emulated_datasync import EmulatedTransfer, emulated_transfers

CHECK_STATE = "Check execution status"
WAIT_STATE = "Wait for DataSync's event"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="datasync-workflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one execution of the workflow")
    run.add_argument("input", help="the execution input, a JSON file, or - for standard input")
    run.add_argument(
        "--local", action="store_true", help="run on this machine, with DataSync and Step Functions emulated by moto"
    )
    run.add_argument("--region", default="us-east-1")
    run.add_argument("--timeout", type=float, default=900, help="seconds before the execution is stopped")
    run.add_argument("--verbose", action="store_true", help="also print the steps' own logs")
    emulated = run.add_argument_group("the emulated DataSync of a --local run")
    emulated.add_argument(
        "--transfer-seconds",
        type=float,
        default=EmulatedTransfer.seconds,
        help="how long each execution takes from launch to its end (default: %(default)s)",
    )
    emulated.add_argument(
        "--fail-with",
        metavar="CODE[:DETAIL]",
        help="each execution ends in ERROR with this Result.ErrorCode and ErrorDetail",
    )
    args = parser.parse_args(argv)
    if not args.local:
        parser.error("only --local runs are supported here; start a deployed state machine with the AWS CLI")
    error_code, _, error_detail = (args.fail_with or "").partition(":")
    transfer = EmulatedTransfer(
        seconds=args.transfer_seconds,
        error_code=error_code.strip() or None,
        error_detail=error_detail.strip() or EmulatedTransfer.error_detail,
    )
    try:
        text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text()
        execution_input = json.loads(text)
    except (OSError, json.JSONDecodeError) as error:
        parser.error(f"cannot read the input {args.input}: {error}")

    # Before the steps are imported: their logs go to stderr and would bury the progress lines.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO" if args.verbose else "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    if not args.verbose:
        # moto's Step Functions engine logs each failure with its internals; the Error and Cause follow below.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
    from datasync_workflow.local import run_local

    with emulated_transfers(transfer):
        execution = run_local(execution_input, region=args.region, timeout=args.timeout, on_event=print_progress)
    print(f"Execution {execution.status}", file=sys.stderr)
    if execution.status == "SUCCEEDED":
        print(json.dumps(execution.output, indent=2))
        return 0
    print(f"Error: {execution.error}\nCause: {execution.cause}", file=sys.stderr)
    return 1


def print_progress(event: dict) -> None:
    entered = event.get("stateEnteredEventDetails")
    if entered:
        print(f"-> {entered['name']}", file=sys.stderr)
    exited = event.get("stateExitedEventDetails")
    if exited and exited["name"] == WAIT_STATE:
        woken_by = json.loads(exited["output"])["execution"].get("event")  # absent when the wait timed out
        if woken_by:
            print(f"   DataSync status: {woken_by['Status']} (DataSync's event)", file=sys.stderr)
    if exited and exited["name"] == CHECK_STATE:
        check = json.loads(exited["output"])["execution"]["check"]
        progress = ""
        if "FilesTransferred" in check:
            files, mebibytes = check["FilesTransferred"], check["BytesTransferred"] / 2**20
            progress = f", {files:,} files and {mebibytes:,.1f} MiB transferred"
        print(f"   DataSync status: {check['Status']}{progress} (check {check['checks_done']})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
