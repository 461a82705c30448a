"""`datasync-workflow`: run the workflow on this machine or on a deployed stack and follow it, or check an input.

datasync-workflow run --local INPUT.json [--secret NAME]
datasync-workflow run INPUT.json --stack NAME | --state-machine-arn ARN [--no-wait]
datasync-workflow redrive EXECUTION_ARN [--no-wait]
datasync-workflow validate INPUT.json [--passable-role-arn ARN] [--allow-secrets-in-input] [--allow-task-schedule]
                             [--scope-tag KEY=VALUE]
datasync-workflow backfill INPUT.json --start-date D --end-date D [--schedule EXPR] (--local | --stack NAME |
    --state-machine-arn ARN) [--max-active-runs N] [--yes]
datasync-workflow from-airflow DAG.py [--index N | --task-id ID | --out DIR [--force]]
"""

import argparse
import codecs
import json
import logging
import os
import sys
import uuid
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoRegionError

from datasync_steps.names import PREPARE_BATCH_STATE, is_batch
from datasync_workflow.cli.progress import BatchTable, Progress
from datasync_workflow.history import MAX_HISTORY_PAGE, follow

# How often a deployed execution's history is read while it is followed.
POLL_SECONDS = 2
# A batch's children are listed this often (ListExecutions, a page per 1,000 runs of the workflow).
BATCH_REFRESH_SECONDS = 10
INTERRUPTED = 130  # the shell's status for a command ended by Ctrl-C
USAGE_ERROR = 2
# An input file is read up to this size: an execution input is at most 256 KiB of JSON, with room for indentation.
MAX_FILE_BYTES = 1024**2
MAX_PRINTED_CHARACTERS = 32_768  # as much as Step Functions keeps of a Cause
SHOWN_PROBLEMS = 20  # of a backfill's dates, the first ones
# The emulated DataSync's EmulatedTransfer.seconds, said here so that --help does not import moto (a test compares).
TRANSFER_SECONDS = 1.5
LOCAL_RUN_INTERRUPTED = "a local run ends with this command, its emulated DataSync with it"
REDRIVE_DESCRIPTION = """\
Redrive a deployed execution of the workflow or of a batch that failed, timed out or was stopped (Step Functions'
RedriveExecution, with your AWS credentials: it continues from the state it did not finish, with the same input), and
follow it to its end as `run` does.

A local execution lives only in the process that ran it, its emulated AWS with it, so there is no --local: redrive one
from Python with datasync_workflow.local.redrive_local, inside the mock where it ran."""


class UnreadableInput(Exception):
    """The input file is not one JSON document of a size an execution could take; the message says why."""


def main(argv: list[str] | None = None) -> int:
    """The command line: its exit status (0 done, 1 failed, 2 a usage error, 130 interrupted by Ctrl-C)."""
    parser = command_line()
    args = parser.parse_args(argv)
    try:
        return run_command(args, parser)
    except KeyboardInterrupt:
        # Whatever was under way (an emulation's threads, a page of history) ends with the process: one line, no
        # traceback, the shell's status for Ctrl-C.
        print(f"{interrupted_line_start()}Interrupted: {interrupted_what(args)}", file=sys.stderr)
        return INTERRUPTED


def interrupted_line_start() -> str:
    """A new line after the ^C a terminal shows, so the message has its own line; nothing when stderr is a file."""
    return "\n" if sys.stderr.isatty() else ""


def interrupted_what(args: argparse.Namespace) -> str:
    """What a Ctrl-C left, by command."""
    if args.command == "backfill" and args.local:
        return "a local backfill ends with this command, its runs and emulated DataSync with it"
    if args.command == "backfill":
        return "the runs started go on; the same backfill again follows them, and starts no date twice"
    if args.command == "run" and args.local:
        return LOCAL_RUN_INTERRUPTED
    if args.command == "run":
        return "a run already started goes on (see the Step Functions console)"
    if args.command == "redrive":
        return "a redriven execution goes on (see the Step Functions console)"
    return "nothing was started"


def package_version() -> str:
    try:
        return version("datasync-workflow")
    except PackageNotFoundError:  # run from a checkout that was not installed
        return "unknown (not installed)"


def command_line() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="datasync-workflow", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run one execution of the workflow and follow it to its end")
    run.add_argument("input", help="the execution input, a JSON file, or - for standard input")
    where = run.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--local", action="store_true", help="run on this machine, with DataSync and Step Functions emulated by moto"
    )
    where.add_argument(
        "--stack", metavar="NAME", help="a deployed stack: the state machine of its StateMachineArn output"
    )
    where.add_argument("--state-machine-arn", metavar="ARN", help="a deployed state machine")
    run.add_argument("--no-wait", action="store_true", help="start a deployed run, print its execution ARN and exit")
    run.add_argument("--region", help="default: your AWS configuration's; us-east-1 for a --local run")
    run.add_argument(
        "--timeout",
        type=float,
        default=900,
        metavar="SECONDS",
        help="seconds before a --local run is stopped (default: %(default)s)",
    )
    run.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="--local: also print the steps' own logs; twice (-vv), moto's too (its Step Functions engine logs each "
        "failure a state catches, successful runs' too, as Exception=... at ...)",
    )
    emulated = run.add_argument_group("the emulated DataSync of a --local run")
    emulated.add_argument(
        "--transfer-seconds",
        type=float,
        help=f"how long each execution takes from launch to its end (default: {TRANSFER_SECONDS})",
    )
    emulated.add_argument(
        "--fail-with",
        metavar="CODE[:DETAIL]",
        help="each execution ends in ERROR with this Result.ErrorCode and ErrorDetail",
    )
    emulated.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="NAME",
        help="make a secret of this name in the emulated Secrets Manager first, for a location's CustomSecretConfig "
        "to name (as arn:aws:secretsmanager:REGION:123456789012:secret:NAME); repeat for each",
    )
    redrive = commands.add_parser(
        "redrive",
        help="redrive a deployed execution that failed, timed out or was stopped, and follow it to its end",
        description=REDRIVE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    redrive.add_argument(
        "execution_arn",
        metavar="EXECUTION_ARN",
        help="the execution (of the workflow or of a batch); its region is used",
    )
    redrive.add_argument("--no-wait", action="store_true", help="redrive it, print its execution ARN and exit")
    validate = commands.add_parser("validate", help="check an execution input offline, as the workflow would")
    validate.add_argument("input", help="the execution input, a JSON file, or - for standard input")
    validate.add_argument(
        "--passable-role-arn",
        action="append",
        metavar="ARN",
        help="a role the deployment may pass to DataSync (its passable_role_arns; repeat for each). Without it, "
        "roles are not checked",
    )
    validate.add_argument(
        "--allow-secrets-in-input",
        action="store_true",
        help="as a deployment with allow_secrets_in_input set: a plaintext secret in the kwargs passes",
    )
    validate.add_argument(
        "--allow-task-schedule",
        action="store_true",
        help="as a deployment with allow_task_schedule set: DataSync's own Schedule in the task kwargs passes",
    )
    validate.add_argument(
        "--scope-tag", metavar="KEY=VALUE", help="as a deployment with this scope_tag: its key is reserved in Tags"
    )
    validate.add_argument(
        "--logical-date",
        metavar="DATE",
        help="render the templates for a run of this logical date (ISO 8601), unless the input gives its own; "
        "default: now, as a run started now",
    )
    backfill = commands.add_parser("backfill", help="one run per logical date of a schedule, as airflow dags backfill")
    backfill.add_argument("input", help="the execution input, a JSON file, or - for standard input")
    backfill.add_argument("--start-date", required=True, metavar="D", help="the first logical date (ISO 8601)")
    backfill.add_argument("--end-date", required=True, metavar="D", help="the last logical date (ISO 8601)")
    backfill.add_argument(
        "--schedule",
        default="@daily",
        metavar="EXPR",
        help="an Airflow preset or cron expression, or an EventBridge Scheduler one (default: %(default)s)",
    )
    where = backfill.add_mutually_exclusive_group(required=True)
    where.add_argument("--local", action="store_true", help="run on this machine, in one emulation for all dates")
    where.add_argument("--stack", metavar="NAME", help="a deployed stack")
    where.add_argument("--state-machine-arn", metavar="ARN", help="a deployed state machine")
    backfill.add_argument(
        "--max-active-runs",
        type=int,
        default=16,
        metavar="N",
        help="runs at once (default: %(default)s, as Airflow's)",
    )
    backfill.add_argument(
        "--yes", action="store_true", help="start the runs even when they are more than 1,000 (counted first)"
    )
    backfill.add_argument("--region", help="default: your AWS configuration's; us-east-1 for --local")
    backfill.add_argument("--secret", action="append", default=[], metavar="NAME", help="as for run --local")
    convert = commands.add_parser("from-airflow", help="print each DataSyncOperator call of a DAG file as an input")
    convert.add_argument("dag", help="the DAG's Python file (read, never run)")
    one = convert.add_mutually_exclusive_group()
    one.add_argument(
        "--index",
        type=int,
        metavar="N",
        help="print only the input of the N-th call (from 0, as the array lists them), as the JSON object that "
        "validate and run take",
    )
    one.add_argument(
        "--task-id",
        metavar="ID",
        help="print only the input of the task with this id (or DAG_ID.TASK_ID), as the JSON object that validate "
        "and run take",
    )
    one.add_argument(
        "--out",
        metavar="DIR",
        help="write each input to DIR/<dag_id>.<task_id>.json (and the schedule entries to DIR/schedules.json) and "
        "print the files' names; a file there already stops it before anything is written",
    )
    convert.add_argument("--force", action="store_true", help="with --out: replace the files that are there")
    return parser


def run_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.command == "from-airflow":
        from datasync_workflow.cli.from_airflow import convert_file

        if args.force and args.out is None:
            parser.error("--force is for --out")
        return convert_file(args.dag, index=args.index, task_id=args.task_id, out=args.out, force=args.force)
    if args.command == "redrive":
        return redrive_deployed(args.execution_arn, args.no_wait, parser)
    if args.command in ("run", "backfill") and not args.local:
        for option, given in (
            ("--transfer-seconds", getattr(args, "transfer_seconds", None)),
            ("--fail-with", getattr(args, "fail_with", None)),
            ("--secret", args.secret or None),
        ):
            if given is not None:
                parser.error(f"{option} is for --local runs")
    if args.command == "run" and args.local and args.no_wait:
        parser.error("--no-wait is for deployed runs: a --local run ends with this command")
    try:
        execution_input = read_json(args.input)
    except UnreadableInput as error:
        # One line, whatever the file held.
        parser.exit(USAGE_ERROR, f"{parser.prog}: error: cannot read the input {printable(args.input, 200)}: {error}\n")
    if args.command == "validate":
        return validate_input(execution_input, args, parser)
    if args.command == "backfill":
        return run_backfill(args, execution_input, parser)
    if args.local:
        return run_locally(args, execution_input, parser)
    session = aws_session(args)
    try:
        sfn = session.client("stepfunctions")
        output = "BatchStateMachineArn" if is_batch(execution_input) else "StateMachineArn"
        machine_arn = args.state_machine_arn or stack_output(session.client("cloudformation"), args.stack, output)
        execution_arn = sfn.start_execution(
            stateMachineArn=machine_arn,
            name=f"cli-{uuid.uuid4()}",
            # Compact, as validate counts it against Step Functions' 256 KiB.
            input=json.dumps(execution_input, separators=(",", ":"), ensure_ascii=False),
        )["executionArn"]
    except NoRegionError:
        parser.error(
            "no AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION, or your profile's region)"
        )
    except (BotoCoreError, ClientError) as error:
        parser.error(f"cannot start the execution: {error}")
    if args.no_wait:
        print(execution_arn)
        return 0
    return follow_deployed(sfn, execution_arn, task_id_of(execution_input), is_batch(execution_input))


def redrive_deployed(execution_arn: str, no_wait: bool, parser: argparse.ArgumentParser) -> int:
    """RedriveExecution of a deployed execution, in its ARN's region, then the run's follow: the progress lines from
    the redrive on, the output or the Error and Cause of how the redriven execution ends. AWS's refusal (a SUCCEEDED
    or RUNNING execution is ExecutionNotRedrivable) is one line and exit 2, as a refused start is."""
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[0] != "arn" or parts[2] != "states" or parts[5] != "execution":
        parser.error(
            f"{printable(execution_arn, 300)} is no execution ARN "
            "(arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME)"
        )
    try:
        sfn = boto3.session.Session(region_name=parts[3]).client("stepfunctions")
        described = sfn.describe_execution(executionArn=execution_arn)
        newest = sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=1)["events"]
        sfn.redrive_execution(executionArn=execution_arn)
    except (BotoCoreError, ClientError) as error:
        parser.error(printable(f"cannot redrive {execution_arn}: {error}", 2_000))
    if no_wait:
        print(execution_arn)
        return 0
    try:
        execution_input = json.loads(described.get("input") or "{}")
    except ValueError:  # DescribeExecution gives the input it was started with: JSON
        execution_input = None
    redriven = (newest[0]["id"] if newest else 0, described.get("redriveCount", 0) + 1)
    return follow_deployed(
        sfn, execution_arn, task_id_of(execution_input), is_batch(execution_input), redriven=redriven
    )


def aws_session(args: argparse.Namespace) -> boto3.session.Session:
    # As the AWS CLI does, AWS_REGION counts (boto3 reads only AWS_DEFAULT_REGION and the profile).
    return boto3.session.Session(region_name=args.region or os.environ.get("AWS_REGION") or None)


def run_backfill(args: argparse.Namespace, execution_input, parser: argparse.ArgumentParser) -> int:
    from datasync_steps.input_checks import input_problems
    from datasync_steps.input_model import DATE_FIELDS, StartedInput, aware
    from datasync_steps.timetable import count_fire_times, from_airflow
    from datasync_workflow.cli.backfill import MAX_UNASKED_RUNS, backfill, planned_runs, table

    if not isinstance(execution_input, dict) or {*DATE_FIELDS, "schedule"} & execution_input.keys():
        parser.error(
            "a backfill's input is a JSON object without logical_date, data_interval_start, data_interval_end or "
            "schedule: each run gets its own dates"
        )
    try:
        schedule = from_airflow(args.schedule)
        start, end = aware(args.start_date), aware(args.end_date)
    except ValueError as error:
        parser.error(printable(str(error), 500))
    if args.max_active_runs < 1:
        parser.error("--max-active-runs: at least 1")
    count = count_fire_times(schedule, start, end)
    if not count:
        parser.error(f"{schedule} fires no time from {start.isoformat()} to {end.isoformat()}")
    print(f"{count:,} runs, {schedule}, at most {args.max_active_runs} at once", file=sys.stderr)
    if count > MAX_UNASKED_RUNS and not args.yes:
        parser.error(f"{count:,} runs are more than {MAX_UNASKED_RUNS:,}: add --yes to start them")
    problems: list[str] = []
    try:
        for run in planned_runs(execution_input, schedule, start, end):
            started = StartedInput(raw=None, started_at=run.logical_date, run_id=run.name)
            problems += [
                f"{run.logical_date.isoformat()}: {p}"
                for p in input_problems(run.execution_input(execution_input), None, started)
            ]
            if len(problems) >= SHOWN_PROBLEMS:
                break
    except ValueError as error:  # the last date has no data interval: the schedule fires no more
        parser.error(printable(str(error), 500))
    if problems:
        print("\n".join(printable(problem) for problem in problems[:SHOWN_PROBLEMS]), file=sys.stderr)
        return 1
    planned = planned_runs(execution_input, schedule, start, end)
    if args.local:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        from moto import mock_aws

        from datasync_workflow.local.runner import local_deployment

        region = args.region or "us-east-1"
        with mock_aws(), local_deployment(region) as machine_arn:
            secrets = boto3.client("secretsmanager", region_name=region)
            for name in args.secret:
                secrets.create_secret(Name=name, SecretString="emulated: no data moves, so it is never used")
            sfn = boto3.client("stepfunctions", region_name=region)
            runs = backfill(sfn, machine_arn, execution_input, planned, args.max_active_runs)
    else:
        session = aws_session(args)
        try:
            sfn = session.client("stepfunctions")
            machine_arn = args.state_machine_arn or stack_output(session.client("cloudformation"), args.stack)
            runs = backfill(sfn, machine_arn, execution_input, planned, args.max_active_runs, poll=POLL_SECONDS)
        except (BotoCoreError, ClientError) as error:
            parser.error(printable(f"cannot backfill: {error}", 2_000))
    print(table(runs))
    return 0 if all(run.status == "SUCCEEDED" for run in runs) else 1


def read_json(source: str):
    """The one JSON document in the file `source` (standard input for -), read up to MAX_FILE_BYTES."""
    try:
        if source == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with Path(source).open("rb") as file:
                data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise UnreadableInput(error.strerror or type(error).__name__) from None
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableInput(f"it is over {MAX_FILE_BYTES:,} bytes, and an execution input is at most 262,144")
    # A byte-order mark, as some Windows editors write first, is no part of the text.
    skipped = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        document = json.loads(data[skipped:].decode("utf-8"), parse_constant=_not_json)
    except UnicodeDecodeError as error:
        offset = skipped + error.start
        raise UnreadableInput(f"it is not UTF-8 text (byte 0x{data[offset]:02x} at offset {offset})") from None
    except json.JSONDecodeError as error:
        raise UnreadableInput(f"it is not JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
    except RecursionError:
        raise UnreadableInput("its JSON is nested deeper than can be read") from None
    except ValueError:  # an integer of more digits than Python converts (NaN and Infinity: _not_json)
        raise UnreadableInput("it holds a number too long to read") from None
    if not isinstance(document, dict):
        raise UnreadableInput(not_an_object(document))
    return document


def not_an_object(document) -> str:
    """Why a JSON document that is not an object is no input."""
    kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(document), "a number")
    said = f"it is {kind}, and an input is one JSON object"
    if isinstance(document, list):
        return (
            f"{said} (from-airflow prints an array of a DAG's calls: from-airflow DAG.py --index N prints the input "
            "of call N, from 0, as an object)"
        )
    return said


def _not_json(constant: str):
    raise UnreadableInput(f"it is not JSON: {constant} is not a JSON number")


def printable(text: str, limit: int = MAX_PRINTED_CHARACTERS) -> str:
    """`text` to print: control characters escaped (but new lines and tabs), cut after `limit` characters."""
    escaped = "".join(c if c.isprintable() or c in "\n\t" else repr(c)[1:-1] for c in text[: limit + 1])
    return escaped if len(text) <= limit else f"{escaped[:limit]}… ({len(text):,} characters in all)"


def validate_input(execution_input, args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from datasync_steps.batch import batch_problems
    from datasync_steps.deployment import Deployment, scope_tag_from
    from datasync_steps.input_checks import input_problems, unused_keys
    from datasync_steps.input_model import StartedInput, aware
    from datasync_steps.input_parsing import parse_workflow_input

    try:
        scope = scope_tag_from(args.scope_tag, "--scope-tag")
    except ValueError as error:
        parser.error(printable(str(error), 500))
    try:
        started_at = aware(args.logical_date) if args.logical_date else datetime.now(UTC)
    except ValueError as error:
        parser.error(printable(f"--logical-date {args.logical_date!r} {error}", 500))
    deployment = Deployment(
        passable_role_arns=args.passable_role_arn,
        allow_secrets_in_input=args.allow_secrets_in_input,
        allow_task_schedule=args.allow_task_schedule,
        scope_tag=scope,
    )
    started = StartedInput(raw=execution_input, started_at=started_at, run_id="manual")
    if is_batch(execution_input):
        problems = batch_problems(execution_input, deployment, started)
    else:
        problems = input_problems(execution_input, deployment, started)
    for problem in problems:
        print(printable(problem))
    if problems:
        return 1
    print("valid")
    if isinstance(execution_input, dict) and "transfers_from" in execution_input:
        print(printable(f"  the transfers of {execution_input['transfers_from']} are checked when the batch starts"))
    if not is_batch(execution_input):
        for where, rendered in parse_workflow_input(execution_input, deployment, started).rendered.items():
            print(printable(f"  {where}: {rendered}"))
        for key in unused_keys(execution_input):
            print(f"  {key}: not used, task_arn names the task")
    return 0


def run_locally(args: argparse.Namespace, execution_input, parser: argparse.ArgumentParser) -> int:
    from datasync_steps.deployment import Deployment

    try:
        Deployment.from_environment()  # as the steps will read it: a mistake there is the user's to fix
    except ValueError as error:
        parser.error(printable(str(error), 500))
    # Before the steps are imported: their logs go to stderr and would bury the progress lines.
    if args.verbose:  # asked for here, whatever the environment says (unless it asks for more)
        debug = os.environ.get("POWERTOOLS_LOG_LEVEL", "").upper() == "DEBUG"
        os.environ["POWERTOOLS_LOG_LEVEL"] = "DEBUG" if debug else "INFO"
    else:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    if args.verbose < 2:
        # moto's Step Functions engine logs each failure with its internals; the Error and Cause follow below.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
    from moto import mock_aws

    from datasync_workflow.local.emulated_datasync_executions import EmulatedTransfer, emulated_transfers
    from datasync_workflow.local.runner import MOTO_ENGINE_LOGGER, run_local

    if args.verbose >= 2:  # the local runner keeps them quiet unless asked
        logging.getLogger(MOTO_ENGINE_LOGGER).setLevel(logging.WARNING)

    error_code, _, error_detail = (args.fail_with or "").partition(":")
    transfer = EmulatedTransfer(
        seconds=EmulatedTransfer.seconds if args.transfer_seconds is None else args.transfer_seconds,
        error_code=error_code.strip() or None,
        error_detail=error_detail.strip() or EmulatedTransfer.error_detail,
    )
    region = args.region or "us-east-1"
    try:
        with mock_aws(), emulated_transfers(transfer):
            secrets = boto3.client("secretsmanager", region_name=region)
            for name in args.secret:
                secrets.create_secret(Name=name, SecretString="emulated: no data moves, so it is never used")
            progress = Progress(task_id_of(execution_input))
            sfn = boto3.client("stepfunctions", region_name=region)
            # Locally the listing costs nothing: often enough to see a short transfer run.
            table = BatchTable(sfn, progress, refresh_seconds=0.5) if is_batch(execution_input) else None
            execution = run_local(
                execution_input,
                region=region,
                timeout=args.timeout,
                on_event=table or progress,
                on_poll=table.refresh if table else None,
            )
    except KeyboardInterrupt:
        print(f"{interrupted_line_start()}Interrupted: {LOCAL_RUN_INTERRUPTED}", file=sys.stderr)
        return INTERRUPTED
    described = {"status": execution.status, "error": execution.error, "cause": execution.cause}
    return report(described, execution.output)


def task_id_of(execution_input) -> str | None:
    """The input's task_id, which labels its progress lines."""
    task_id = execution_input.get("task_id") if isinstance(execution_input, dict) else None
    return printable(task_id, 250) if isinstance(task_id, str) else None


def follow_deployed(
    sfn, execution_arn: str, label: str | None = None, batch: bool = False, redriven: tuple[int, int] | None = None
) -> int:
    """Follow a deployed execution to its end and report it; `redriven` (the newest event's id before the redrive, and
    the redrive's count) shows only what happens from the redrive on."""
    progress = Progress(label)
    table = BatchTable(sfn, progress, refresh_seconds=BATCH_REFRESH_SECONDS) if batch else None
    if redriven is None:
        print(f"Started {execution_arn}", file=sys.stderr)
    else:
        print(f"Redriven {execution_arn} (redrive {redriven[1]})", file=sys.stderr)
        try:
            prepared = batch_prepared(sfn, execution_arn) if table else None
        except (BotoCoreError, ClientError) as error:
            return lost_sight_of(execution_arn, error)
        if table and prepared:  # what the batch's table of items reads: its count and its children's names
            table(prepared)
        progress.shown = redriven[0]
    while True:
        try:
            described, history = follow(
                sfn,
                execution_arn,
                table or progress,
                poll_seconds=POLL_SECONDS,
                seen=progress.shown,
                page_size=MAX_HISTORY_PAGE,
                on_poll=table.refresh if table else None,
            )
            break
        except KeyboardInterrupt:
            if not stop_asked():
                print(f"Left running: {execution_arn}\n{console_url(execution_arn)}", file=sys.stderr)
                return INTERRUPTED
            try:
                sfn.stop_execution(
                    executionArn=execution_arn, error="StoppedFromCommandLine", cause="stopped with Ctrl-C"
                )
            except (BotoCoreError, ClientError) as error:
                return lost_sight_of(execution_arn, error)
            # The stack's clean-up rule cancels the DataSync execution; follow the history to the end.
        except (BotoCoreError, ClientError) as error:
            return lost_sight_of(execution_arn, error)
    output = json.loads(described["output"]) if described["status"] == "SUCCEEDED" else None
    # DescribeExecution may leave out the Error and Cause of a stopped execution; its last history event has them.
    ending: dict = next((v for k, v in history[-1].items() if k.endswith("EventDetails")), {}) if history else {}
    return report({**ending, **described}, output)


def batch_prepared(sfn, execution_arn: str) -> dict | None:
    """A batch's exit from preparing it, near the start of its history (oldest first, read as far as it)."""
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, PaginationConfig={"PageSize": 100}
    )
    for page in pages:
        for event in page["events"]:
            if (event.get("stateExitedEventDetails") or {}).get("name") == PREPARE_BATCH_STATE:
                return event
    return None


def lost_sight_of(execution_arn: str, error: Exception) -> int:
    """AWS would not say how the execution goes on: say which it is and where to look, and exit 1."""
    print(
        f"Could not follow {execution_arn}: {printable(str(error), 2_000)}\nIt may still run: "
        f"{console_url(execution_arn)}",
        file=sys.stderr,
    )
    return 1


def stack_output(cloudformation, stack_name: str, key: str = "StateMachineArn") -> str:
    """The stack's output `key`: its workflow's state machine, or BatchStateMachineArn for a batch."""
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    if key not in outputs:
        raise ClientError(
            {"Error": {"Code": f"No{key}Output", "Message": f"stack {stack_name} has no {key} output"}},
            "DescribeStacks",
        )
    return outputs[key]


def stop_asked() -> bool:
    print("\nStop the execution? It keeps running otherwise. [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() in ("y", "yes")
    except (EOFError, KeyboardInterrupt):
        return False


def console_url(execution_arn: str) -> str:
    # Imported here: the steps' Logger takes its level when first imported, which a local run sets before.
    from datasync_steps.names import workflow_console_url

    return workflow_console_url(execution_arn)


def report(described: dict, output: dict | None) -> int:
    """The end of a run: the output JSON on stdout, or the Error and Cause on stderr; the exit status."""
    print(f"Execution {described['status']}", file=sys.stderr)
    if described["status"] == "SUCCEEDED":
        print(json.dumps(output, indent=2))
        return 0
    for name in ("error", "cause"):
        if described.get(name):
            print(f"{name.capitalize()}: {printable(described[name])}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
