"""`datasync-workflow run` (--local, and deployed: against moto's Step Functions running the definition) and
`datasync-workflow validate`: progress on stderr, output on stdout, exit status."""

import json
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from datasync_steps.names import PLAN_RETRY_STATE
from datasync_workflow.cli import commands as cli
from datasync_workflow.cli.commands import main, printable
from datasync_workflow.cli.progress import SHORT_CAUSE_CHARACTERS, Progress
from datasync_workflow.history import follow
from datasync_workflow.local import EmulatedTransfer, emulated_transfers, local_deployment
from datasync_workflow.local.runner import _invoke, local_batches
from tests.conftest import PLAN, REGION, make_s3_location, make_secret, make_smb_location, make_task, stubbed_client

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_installed_command(example: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "datasync-workflow"), "run", "--local", "-", *options],
        input=(EXAMPLES / example).read_text().replace('"wait_interval_seconds": 1', '"wait_interval_seconds": 0'),
        capture_output=True,
        text=True,
        timeout=120,
    )


DEMO_SECRET = ("--secret", "datasync-workflow/smb-password")  # as make demo runs it


def test_the_installed_command_runs_the_demo_example_from_an_empty_account():
    done = run_installed_command("find_or_create_update_run_delete.json", *DEMO_SECRET)
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)  # stdout holds the output JSON and nothing else
    assert output["TaskCreated"] is True and len(output["CreatedLocationArns"]) == 2 and output["TaskDeleted"] is True
    assert output["TaskExecution"]["FilesTransferred"] > 0 and output["TaskExecution"]["BytesTransferred"] > 0
    for line in ("-> Create missing locations", "-> Update task", "DataSync status: SUCCESS", "Execution SUCCEEDED"):
        assert line in done.stderr
    # Progress only, with no log lines, and only statuses DataSync has.
    statuses = {"LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "SUCCESS"}
    for line in done.stderr.splitlines():
        if line.startswith("   DataSync status: "):
            assert line.removeprefix("   DataSync status: ").split(",")[0].split(" ")[0] in statuses, line
        else:
            assert line.startswith("-> ") or line == "Execution SUCCEEDED", line


def test_a_local_run_can_be_made_to_fail_as_datasync_would():
    done = run_installed_command(
        "find_or_create_update_run_delete.json",
        *DEMO_SECRET,
        "--transfer-seconds",
        "0.5",
        "--fail-with",
        "SockTimeout: Gone",
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert "Error: DataSyncTaskExecutionFailedError" in done.stderr
    assert "ended in ERROR: SockTimeout: Gone." in done.stderr
    # Progress, then the ending, and no log or warning lines from the steps or the clean-up.
    ending = ("Execution FAILED", "Error: ", "Cause: ")
    assert all(line.startswith(("-> ", "   DataSync status: ", *ending)) for line in done.stderr.splitlines())


def test_a_failed_run_exits_1_with_error_and_cause(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    (tmp_path / "input.json").write_text((EXAMPLES / "find_task_by_uris.json").read_text())
    assert main(["run", "--local", str(tmp_path / "input.json")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Error: DataSyncTaskNotFoundError" in captured.err
    assert "Cause: No DataSync task links smb://hostname/directory/ to s3://mybucket/prefix" in captured.err


def test_a_task_id_labels_the_progress_lines_and_a_retry_is_said(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    labelled = {**json.loads((EXAMPLES / "find_task_by_uris.json").read_text()), "task_id": "nightly_copy"}
    (tmp_path / "input.json").write_text(json.dumps({**labelled, "retries": 1, "retry_delay": 0}))
    assert main(["run", "--local", str(tmp_path / "input.json")]) == 1
    progress = capsys.readouterr().err.split("Execution FAILED")[0].splitlines()
    assert progress and all(line.startswith("[nightly_copy] ") for line in progress)
    assert "[nightly_copy]    Try 1 failed (DataSyncTaskNotFoundError); trying again in 0 s" in progress


def test_a_batch_item_waiting_for_its_next_try_says_why_its_try_failed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    item = {**json.loads((EXAMPLES / "find_task_by_uris.json").read_text()), "retries": 1, "retry_delay": 4}
    (tmp_path / "batch.json").write_text(json.dumps({"transfers": [item]}))
    assert main(["run", "--local", str(tmp_path / "batch.json")]) == 1
    shown = capsys.readouterr().err.splitlines()
    (waiting,) = [line for line in shown if line.startswith("   item 0: RUNNING; ")]
    assert "Try 1 failed (DataSyncTaskNotFoundError); trying again in 4 s; Cause: No DataSync task links" in waiting
    assert "; The next try starts at " in waiting
    assert shown.index(waiting) < next(i for i, line in enumerate(shown) if line.startswith("   item 0: FAILED"))


def test_steps_run_locally_never_print_their_metrics_on_stdout(datasync, capsys):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    execution_arn = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    # More status checks than the 100 values of one metric that Powertools keeps before printing them.
    for checks_done in range(101):
        event = {
            "execution_id": "e",
            "TaskExecutionArn": execution_arn,
            "checks_done": checks_done,
            "plan": PLAN.model_dump(),
        }
        _invoke("check-status", event)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "examples/run_task_arn.json"], "one of the arguments --local --stack --state-machine-arn is required"),
        (["run", "--local", "--stack", "s", "examples/run_task_arn.json"], "not allowed with argument"),
        (["run", "--local", "--no-wait", "examples/run_task_arn.json"], "--no-wait is for deployed runs"),
        (["run", "--stack", "s", "--fail-with", "X", "examples/run_task_arn.json"], "--fail-with is for --local"),
        (["run", "--local", "no-such-file.json"], "cannot read the input no-such-file.json"),
        (["validate", "no-such-file.json"], "cannot read the input no-such-file.json"),
        (["launch"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


# Deployed runs: the state machine as the stack deploys it, in moto, its steps answered in-process.


@pytest.fixture
def deployed(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "POLL_SECONDS", 0.1)
    with local_deployment(REGION) as machine_arn, emulated_transfers(EmulatedTransfer(seconds=1)):
        make_secret()
        datasync = boto3.client("datasync", region_name=REGION)
        task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
        (tmp_path / "input.json").write_text(json.dumps({"task_arn": task, "wait_interval_seconds": 30}))
        yield machine_arn, str(tmp_path / "input.json")


def test_a_deployed_run_is_followed_to_its_end(deployed, capsys):
    machine_arn, input_file = deployed
    assert main(["run", input_file, "--state-machine-arn", machine_arn]) == 0
    captured = capsys.readouterr()
    output = json.loads(captured.out)
    assert output["TaskExecution"]["Status"] == "SUCCESS" and output["ExecutionStarted"] is True
    lines = captured.err.splitlines()
    assert lines[0].startswith(f"Started {machine_arn.replace(':stateMachine:', ':execution:')}:cli-")
    assert any(line.startswith("-> Start execution [") and line.endswith(" s]") for line in lines)
    assert "   DataSync status: SUCCESS (DataSync's event)" in lines
    assert lines[-1] == "Execution SUCCEEDED"


def stack_with_outputs(monkeypatch, outputs: dict) -> Stubber:
    """CloudFormation describing one stack, by Stubber: moto's CloudFormation needs packages this project does not
    install. Stubber checks the request and the answer against CloudFormation's API model."""
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    stubbed = Stubber(cloudformation)
    stack = {
        "StackName": "datasync-workflow",
        "CreationTime": datetime.now(UTC),
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in outputs.items()],
    }
    stubbed.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "datasync-workflow"})
    stubbed.activate()
    make_client = boto3.session.Session.client

    def client(self, *args, **kwargs):
        service = kwargs.get("service_name") or args[0]
        return cloudformation if service == "cloudformation" else make_client(self, *args, **kwargs)

    monkeypatch.setattr(boto3.session.Session, "client", client)
    return stubbed


def test_a_deployed_run_is_found_by_its_stack_and_started_without_waiting(deployed, monkeypatch, capsys):
    machine_arn, input_file = deployed
    stubbed = stack_with_outputs(monkeypatch, {"AlarmName": "alarm", "StateMachineArn": machine_arn})
    assert main(["run", input_file, "--stack", "datasync-workflow", "--no-wait", "--region", REGION]) == 0
    stubbed.assert_no_pending_responses()
    execution_arn = capsys.readouterr().out.strip()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert sfn.describe_execution(executionArn=execution_arn)["stateMachineArn"] == machine_arn
    described, _ = follow(sfn, execution_arn, lambda event: None, timeout=30)
    assert described["status"] == "SUCCEEDED", described


def test_a_deployed_batch_starts_on_the_stacks_batch_machine_and_shows_its_items(deployed, monkeypatch, capsys):
    machine_arn, input_file = deployed
    monkeypatch.setattr(cli, "BATCH_REFRESH_SECONDS", 0.2)
    with local_batches(REGION, machine_arn) as batch_arn:
        outputs = {"StateMachineArn": machine_arn, "BatchStateMachineArn": batch_arn}
        stubbed = stack_with_outputs(monkeypatch, outputs)
        task_input = json.loads(Path(input_file).read_text())
        Path(input_file).write_text(json.dumps({"transfers": [{**task_input, "task_id": "copy_finance"}]}))
        assert main(["run", input_file, "--stack", "datasync-workflow", "--region", REGION]) == 0
    stubbed.assert_no_pending_responses()
    captured = capsys.readouterr()
    assert json.loads(captured.out)["Totals"]["Succeeded"] == 1
    assert captured.err.startswith(f"Started {batch_arn.replace(':stateMachine:', ':execution:')}:cli-")
    assert "   item 0: [copy_finance] SUCCEEDED, 1,000 files and 2,048.0 MiB\n" in captured.err
    assert "   items: 1 succeeded\n" in captured.err


def test_a_stack_without_the_output_is_a_usage_error(deployed, monkeypatch, capsys):
    _, input_file = deployed
    stack_with_outputs(monkeypatch, {"AlarmName": "alarm"})
    with pytest.raises(SystemExit) as exited:
        main(["run", input_file, "--stack", "datasync-workflow"])
    assert exited.value.code == 2
    assert "stack datasync-workflow has no StateMachineArn output" in capsys.readouterr().err


def interrupted_once(monkeypatch):
    """Ctrl-C once the run waits for DataSync's event, the first time only."""
    calls = []

    def follow_or_interrupt(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            return follow(*args, **kwargs)
        follow(*args, stop_when=lambda event: event["type"] == "TaskSubmitted", **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "follow", follow_or_interrupt)


def test_ctrl_c_leaves_the_execution_running_by_default(deployed, monkeypatch, capsys):
    machine_arn, input_file = deployed
    interrupted_once(monkeypatch)
    monkeypatch.setattr("builtins.input", lambda: "")
    assert main(["run", input_file, "--state-machine-arn", machine_arn]) == cli.INTERRUPTED
    err = capsys.readouterr().err
    execution_arn = err.split("Left running: ")[1].splitlines()[0]
    assert f"https://console.aws.amazon.com/states/home?region={REGION}#/v2/executions/details/{execution_arn}" in err
    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING"
    assert follow(sfn, execution_arn, lambda event: None, timeout=30)[0]["status"] == "SUCCEEDED"


def test_ctrl_c_stops_the_execution_when_asked_to(deployed, monkeypatch, capsys):
    machine_arn, input_file = deployed
    interrupted_once(monkeypatch)
    monkeypatch.setattr("builtins.input", lambda: "y")
    stops, make_call = [], BaseClient._make_api_call

    def recorded(client, operation, params):
        if operation == "StopExecution":
            stops.append(params)
        return make_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    assert main(["run", input_file, "--state-machine-arn", machine_arn]) == 1
    assert "Execution ABORTED" in capsys.readouterr().err
    # moto's StopExecution drops the error and cause, which AWS keeps: the request carries them.
    ((stop,),) = [stops]
    assert (stop["error"], stop["cause"]) == ("StoppedFromCommandLine", "stopped with Ctrl-C")


# validate: the resolve step's own checks, offline.


def test_validate_says_valid_and_exits_0(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(boto3.session.Session, "client", lambda *args, **kwargs: pytest.fail("validate used AWS"))
    assert main(["validate", str(EXAMPLES / "find_or_create_update_run_delete.json")]) == 0
    assert capsys.readouterr().out == "valid\n"


TASK_ARN_FOR_VALIDATE = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


def test_validate_renders_the_templates_for_a_logical_date(tmp_path, capsys):
    templated = {"task_arn": TASK_ARN_FOR_VALIDATE, "update_task_kwargs": {"Name": "nightly-{{ ds_nodash }}"}}
    (tmp_path / "input.json").write_text(json.dumps(templated))
    assert main(["validate", str(tmp_path / "input.json"), "--logical-date", "2026-11-28T02:00:00Z"]) == 0
    assert capsys.readouterr().out == "valid\n  update_task_kwargs.Name: nightly-20261128\n"
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(tmp_path / "input.json"), "--logical-date", "yesterday"])
    assert exited.value.code == 2
    assert "--logical-date 'yesterday' is not an ISO 8601 date and time" in capsys.readouterr().err


def test_validate_says_which_keys_a_task_arn_makes_unused(tmp_path, capsys):
    named = {"task_arn": TASK_ARN_FOR_VALIDATE, "create_task_kwargs": {"Name": "x"}, "source_location_uri": "s3://b/"}
    (tmp_path / "input.json").write_text(json.dumps(named))
    assert main(["validate", str(tmp_path / "input.json")]) == 0
    assert capsys.readouterr().out == (
        "valid\n  source_location_uri: not used, task_arn names the task\n"
        "  create_task_kwargs: not used, task_arn names the task\n"
    )


def test_validate_prints_every_problem_and_exits_1(tmp_path, capsys):
    (tmp_path / "input.json").write_text(
        json.dumps(
            {
                "source_location_uri": "ftp://host/path",
                "max_iterations": 0,
                "if_task_running": "wait",
                "create_destination_location_kwargs": {"S3Config": {"BucketAccessRoleArn": "arn:aws:iam::1:role/r"}},
            }
        )
    )
    assert main(["validate", str(tmp_path / "input.json"), "--passable-role-arn", "arn:aws:iam::1:role/other"]) == 1
    problems = capsys.readouterr().out.splitlines()
    assert problems[0] == "give task_arn, or both source_location_uri and destination_location_uri"
    for field in ("source_location_uri", "max_iterations", "if_task_running"):
        assert sum(problem.startswith(field) for problem in problems) == 1, problems


def test_validate_checks_roles_against_the_deployments_setting(tmp_path, capsys):
    example = json.loads((EXAMPLES / "find_or_create_update_run_delete.json").read_text())
    bucket_role = example["create_destination_location_kwargs"]["S3Config"]["BucketAccessRoleArn"]
    secret_role = example["create_source_location_kwargs"]["CustomSecretConfig"]["SecretAccessRoleArn"]
    (tmp_path / "input.json").write_text(json.dumps(example))
    roles = ["--passable-role-arn", bucket_role, "--passable-role-arn", secret_role]
    assert main(["validate", str(tmp_path / "input.json"), *roles]) == 0
    assert main(["validate", str(tmp_path / "input.json"), *roles[:2]]) == 1
    assert capsys.readouterr().out.endswith(
        f"may not pass the role '{secret_role}' to DataSync; add it to the stack's passable_role_arns setting\n"
    )


def test_validate_refuses_an_input_that_is_not_an_object(tmp_path, capsys):
    # Like a file that is not JSON: no input at all, a usage error (an array points to the converter's --index).
    (tmp_path / "input.json").write_text("[]")
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(tmp_path / "input.json")])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"datasync-workflow: error: cannot read the input {tmp_path / 'input.json'}: it is an array, and an input is "
        "one JSON object (from-airflow prints an array of a DAG's calls: from-airflow DAG.py --index N prints the "
        "input of call N, from 0, as an object)\n"
    )


def test_ctrl_c_ends_a_local_run_without_a_traceback(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("datasync_workflow.local.runner.run_local", interrupted)
    (tmp_path / "input.json").write_text((EXAMPLES / "run_task_arn.json").read_text())
    assert main(["run", "--local", str(tmp_path / "input.json")]) == cli.INTERRUPTED
    assert "Interrupted: a local run ends with this command" in capsys.readouterr().err


def test_a_deployed_run_with_no_region_configured_is_a_usage_error(monkeypatch, tmp_path, capsys):
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with pytest.raises(SystemExit) as exited:
        main(["run", str(EXAMPLES / "run_task_arn.json"), "--stack", "DataSyncWorkflow"])
    assert exited.value.code == 2
    assert "no AWS region: pass --region" in capsys.readouterr().err


# Bad files: one line and exit 2, never a traceback; what is echoed is short and printable.


def command(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "datasync-workflow"), *args],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"task_arn": "\xff\xfe"}', "it is not UTF-8 text (byte 0xff at offset 14)"),
        (b'{"max_iterations": ' + b"9" * 5_000 + b"}", "it holds a number too long to read"),
        (b"[" * 50_000 + b"]" * 50_000, "its JSON is nested deeper than can be read"),
        (b'{"max_iterations": NaN}', "it is not JSON: NaN is not a JSON number"),
        (b'{"task_arn": ', "it is not JSON: Expecting value at line 1, column 14"),
        (b" " * (1024**2 + 1), "it is over 1,048,576 bytes, and an execution input is at most 262,144"),
        (b'[{"task_arn": "arn"}]', "from-airflow DAG.py --index N prints the input of call N, from 0, as an object)"),
        (b'"task_arn"', "it is a string, and an input is one JSON object"),
        (b"null", "it is null, and an input is one JSON object"),
        (b"12", "it is a number, and an input is one JSON object"),
        (
            b"\xef\xbb\xbf[]",
            "it is an array, and an input is one JSON object (from-airflow prints an array of a DAG's calls: "
            "from-airflow DAG.py --index N prints the input of call N, from 0, as an object)",
        ),
        (b'\xef\xbb\xbf{"task_arn": "\xff"}', "it is not UTF-8 text (byte 0xff at offset 17)"),
    ],
)
def test_a_file_that_is_no_input_is_one_line_and_exit_2(tmp_path, content, reason):
    (tmp_path / "input.json").write_bytes(content)
    for args in (("validate", str(tmp_path / "input.json")), ("run", "--local", "-")):
        done = command(*args, stdin=content)
        assert done.returncode == 2, done.stderr
        (line,) = done.stderr.decode().splitlines()
        assert line.startswith("datasync-workflow: error: cannot read the input ") and line.endswith(reason), line
        assert done.stdout == b""


def test_an_endless_file_is_read_only_as_far_as_an_input_could_go():
    done = command("validate", "/dev/zero")
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "datasync-workflow: error: cannot read the input /dev/zero: it is over 1,048,576 bytes, and an execution "
        "input is at most 262,144\n"
    )


def test_validate_echoes_values_shortened_and_escaped(tmp_path):
    huge_and_hostile = {"task_arn": "\x1b]0;pwned\x07" + "a" * 200_000, "wait_interval_seconds": "\x1b[2J"}
    (tmp_path / "input.json").write_text(json.dumps(huge_and_hostile))
    done = command("validate", str(tmp_path / "input.json"))
    assert done.returncode == 1
    out = done.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out and "\\x1b" in out
    assert len(out) < 2_000


def test_validate_refuses_datasyncs_own_schedule_unless_the_deployment_allows_it(tmp_path, capsys):
    example = json.loads((EXAMPLES / "find_or_create_update_run_delete.json").read_text())
    example["create_task_kwargs"]["Schedule"] = {"ScheduleExpression": "rate(1 hour)"}
    (tmp_path / "input.json").write_text(json.dumps(example))
    assert main(["validate", str(tmp_path / "input.json")]) == 1
    refused = capsys.readouterr().out
    assert "create_task_kwargs.Schedule" in refused and "allow_task_schedule" in refused
    assert main(["validate", str(tmp_path / "input.json"), "--allow-task-schedule"]) == 0
    assert capsys.readouterr().out == "valid\n"


def test_validate_refuses_a_secret_unless_the_deployment_allows_it_and_reserves_its_scope_key(tmp_path, capsys):
    example = json.loads((EXAMPLES / "find_or_create_update_run_delete.json").read_text())
    source = example["create_source_location_kwargs"]
    source.pop("CustomSecretConfig")
    source["Password"] = "hunter2"
    example["create_task_kwargs"]["Tags"] = [{"Key": "team", "Value": "payroll"}]
    (tmp_path / "input.json").write_text(json.dumps(example))
    assert main(["validate", str(tmp_path / "input.json")]) == 1
    assert "create_source_location_kwargs.Password: a plaintext secret" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "input.json"), "--allow-secrets-in-input"]) == 0
    assert capsys.readouterr().out == "valid\n"
    scoped = ["--allow-secrets-in-input", "--scope-tag", "team=finance"]
    assert main(["validate", str(tmp_path / "input.json"), *scoped]) == 1
    assert "create_task_kwargs.Tags: at most 47, none with the key" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(tmp_path / "input.json"), "--scope-tag", "aws:team=x"])
    assert (
        exited.value.code == 2
        and "--scope-tag 'aws:team=x': key: Value error, a key beginning aws: is AWS's own" in (capsys.readouterr().err)
    )


# Following a deployed run: a page at a time, only what is new, and no traceback when AWS will not answer.

EXECUTION = "arn:aws:states:us-east-1:111122223333:execution:datasync-workflow:run-1"
MACHINE = "arn:aws:states:us-east-1:111122223333:stateMachine:datasync-workflow"


def history_event(number: int) -> dict:
    return {"id": number, "previousEventId": number - 1, "type": "PassStateEntered", "timestamp": datetime.now(UTC)}


def described(status: str) -> dict:
    return {"executionArn": EXECUTION, "stateMachineArn": MACHINE, "status": status, "startDate": datetime.now(UTC)}


def test_following_reads_the_history_newest_first_and_only_as_far_as_it_is_new():
    with stubbed_client("stepfunctions") as (sfn, stubber):
        newest_first = [history_event(n) for n in range(2_500, 0, -1)]

        def pages(events: list, *, reverse: bool = True) -> None:
            for start in range(0, len(events), 1000):
                page = {"events": events[start : start + 1000]}
                if start + 1000 < len(events):
                    page["nextToken"] = f"page-{start + 1000}"
                expected = {"executionArn": EXECUTION, "reverseOrder": reverse, "maxResults": 1000}
                if start:
                    expected["nextToken"] = f"page-{start}"
                stubber.add_response("get_execution_history", page, expected)

        stubber.add_response("describe_execution", described("RUNNING"))
        pages(newest_first)  # the first look: all of it, three pages
        stubber.add_response("describe_execution", described("SUCCEEDED"))
        # Two more events: one page, whose events past the new ones are not passed on again.
        stubber.add_response(
            "get_execution_history",
            {"events": [history_event(2_502), history_event(2_501), *newest_first[:998]], "nextToken": "more"},
            {"executionArn": EXECUTION, "reverseOrder": True, "maxResults": 1000},
        )
        pages([history_event(2_502), history_event(2_501), *newest_first])  # the whole history, at the end
        seen: list[int] = []
        last, history = follow(sfn, EXECUTION, lambda event: seen.append(event["id"]), poll_seconds=0, page_size=1000)
    assert seen == list(range(1, 2_503)) and last["status"] == "SUCCEEDED" and len(history) == 2_502


def test_throttled_while_following_it_looks_less_often_and_goes_on(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("datasync_workflow.history.time.sleep", slept.append)
    with stubbed_client("stepfunctions") as (sfn, stubber):
        stubber.add_client_error("describe_execution", "ThrottlingException", "Rate exceeded")
        stubber.add_client_error("describe_execution", "ThrottlingException", "Rate exceeded")
        stubber.add_response("describe_execution", described("SUCCEEDED"))
        stubber.add_response("get_execution_history", {"events": [history_event(1)]})
        stubber.add_response("get_execution_history", {"events": [history_event(1)]})
        last, _ = follow(sfn, EXECUTION, lambda event: None, poll_seconds=2, page_size=1000)
    assert last["status"] == "SUCCEEDED" and slept == [4, 8]


def test_an_aws_error_while_following_names_the_execution_and_exits_1(deployed, monkeypatch, capsys):
    machine_arn, input_file = deployed

    def denied(*args, **kwargs):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not you"}}, "GetExecutionHistory")

    monkeypatch.setattr(cli, "follow", denied)
    assert main(["run", input_file, "--state-machine-arn", machine_arn]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (started,) = [line for line in err.splitlines() if line.startswith("Started ")]
    execution_arn = started.removeprefix("Started ")
    assert f"Could not follow {execution_arn}: An error occurred (AccessDeniedException)" in err
    assert (
        f"It may still run: https://console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/{execution_arn}"
        in err
    )


def test_aws_region_names_the_region_of_a_deployed_run_as_the_aws_cli_does(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    asked = []
    real_session = boto3.session.Session

    def session(region_name=None, **kwargs):
        asked.append(region_name)
        return real_session(region_name=region_name, **kwargs)

    monkeypatch.setattr(boto3.session, "Session", session)
    with mock_aws(), pytest.raises(SystemExit) as exited:
        main(
            [
                "run",
                str(EXAMPLES / "run_task_arn.json"),
                "--state-machine-arn",
                MACHINE.replace("us-east-1", "eu-west-3"),
            ]
        )
    assert asked == ["eu-west-3"]
    assert exited.value.code == 2 and "cannot start the execution" in capsys.readouterr().err


def test_what_is_printed_from_a_file_name_or_a_cause_has_its_control_characters_escaped(tmp_path):
    hostile = "\x1b]0;pwned\x07"
    done = command("validate", str(tmp_path / f"{hostile}.json"))
    assert done.returncode == 2 and b"\x1b" not in done.stderr and b"\\x1b]0;pwned\\x07" in done.stderr
    demo = str(EXAMPLES / "find_or_create_update_run_delete.json")
    failed = command("run", "--local", demo, *DEMO_SECRET, "--transfer-seconds", "0.2", "--fail-with", f"X:{hostile}")
    assert failed.returncode == 1 and b"\x1b" not in failed.stderr
    assert b"ended in ERROR: X: \\x1b]0;pwned\\x07." in failed.stderr


def test_a_scope_tag_without_a_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["validate", str(EXAMPLES / "run_task_arn.json"), "--scope-tag", "team"])
    assert exited.value.code == 2 and "--scope-tag 'team': give KEY=VALUE" in capsys.readouterr().err


def test_printable_cuts_what_is_too_long_to_print():
    assert printable("x" * 40_000) == "x" * 32_768 + "… (40,000 characters in all)"
    assert printable("line one\n\tline two\x00") == "line one\n\tline two\\x00"


def test_a_local_run_with_deployment_settings_not_as_documented_is_a_usage_error(monkeypatch):
    monkeypatch.setenv("SCOPE_TAG", "team")  # no value
    done = command("run", "--local", str(EXAMPLES / "run_task_arn.json"))
    assert done.returncode == 2 and b"Traceback" not in done.stderr
    assert b"error: SCOPE_TAG 'team': give KEY=VALUE" in done.stderr


# The command line's edges: what a try that failed says, Ctrl-C, --version, the defaults in --help, a byte-order mark,
# moto's own log lines.


def test_a_failed_try_says_its_cause_and_when_the_next_starts_before_it_waits(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    labelled = {**json.loads((EXAMPLES / "find_task_by_uris.json").read_text()), "task_id": "nightly_copy"}
    (tmp_path / "input.json").write_text(json.dumps({**labelled, "retries": 1, "retry_delay": 1}))
    assert main(["run", "--local", str(tmp_path / "input.json")]) == 1
    lines = capsys.readouterr().err.splitlines()
    said = lines.index("[nightly_copy]    Try 1 failed (DataSyncTaskNotFoundError); trying again in 1 s")
    assert lines[said + 1] == (
        "[nightly_copy]    Cause: No DataSync task links smb://hostname/directory/ to s3://mybucket/prefix, and "
        "create_task_kwargs is empty, so none was created."
    )
    assert re.fullmatch(r"\[nightly_copy\]    The next try starts at \d\d:\d\d:\d\d( \S+)?", lines[said + 2])
    assert said + 2 < next(i for i, line in enumerate(lines) if line.startswith("[nightly_copy] -> Wait before"))


def test_a_tries_cause_is_one_printable_line_and_its_next_try_a_time_of_day(capsys):
    began = datetime(2026, 11, 28, 2, 0, 0, tzinfo=UTC)
    planned = {"Retry": True, "Attempt": 2, "DelaySeconds": 300, "Error": "DataSyncTaskExecutionFailedError"}
    planned["Cause"] = "It failed:\n\tdisk full \x1b[2J" + " and more" * 100
    progress = Progress()
    progress({"id": 1, "type": "PassStateEntered", "timestamp": began})
    progress(
        {
            "id": 2,
            "type": "TaskStateExited",
            "timestamp": began,
            "stateExitedEventDetails": {"name": PLAN_RETRY_STATE, "output": json.dumps({"retry": planned})},
        }
    )
    _, cause, next_try = capsys.readouterr().err.splitlines()
    assert cause.startswith("   Cause: It failed: disk full \\x1b[2J and more and more") and cause.endswith("…")
    assert len(cause) == len("   Cause: ") + SHORT_CAUSE_CHARACTERS
    then = (began + timedelta(seconds=300)).astimezone()
    assert next_try == f"   The next try starts at {then:%Y-%m-%d} {then:%H:%M:%S %Z}".rstrip()


def interrupted_once_it_said(marker: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    """Run the installed command, send it SIGINT as Ctrl-C does once a line ending with `marker` is on its stderr; its
    exit status and stderr."""
    (tmp_path / "stderr").touch()
    with (tmp_path / "stderr").open("w") as stderr:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "datasync-workflow"), *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            # As a shell's foreground command: Ctrl-C's signal is not ignored (a test runner's worker may ignore it).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            deadline = time.monotonic() + 90
            while f"{marker}\n" not in (tmp_path / "stderr").read_text():
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "stderr").read_text()
                time.sleep(0.1)
            process.send_signal(signal.SIGINT)
            status = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    return status, (tmp_path / "stderr").read_text()


# A run that waits ten minutes for its second try, as the README's first input did.
WAITING = {**json.loads((EXAMPLES / "find_task_by_uris.json").read_text()), "retries": 1, "retry_delay": 600}


@pytest.mark.parametrize(
    ("args", "marker", "said"),
    [
        (
            ["run", "--local"],
            "Try 1 failed (DataSyncTaskNotFoundError); trying again in 600 s",
            "a local run ends with this command, its emulated DataSync with it",
        ),
        (
            ["backfill", "--local", "--start-date", "2026-11-01", "--end-date", "2026-11-02"],
            "2026-11-02T00:00:00+00:00  started",
            "a local backfill ends with this command, its runs and emulated DataSync with it",
        ),
    ],
)
def test_ctrl_c_ends_a_command_with_one_line_and_exit_130(tmp_path, args, marker, said):
    (tmp_path / "input.json").write_text(json.dumps(WAITING))
    status, stderr = interrupted_once_it_said(marker, tmp_path, args[0], str(tmp_path / "input.json"), *args[1:])
    assert status == cli.INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1] == f"Interrupted: {said}", stderr


def test_ctrl_c_of_any_other_command_is_one_line_and_exit_130(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "validate_input", interrupted)
    assert main(["validate", str(EXAMPLES / "run_task_arn.json")]) == cli.INTERRUPTED
    assert capsys.readouterr().err == "Interrupted: nothing was started\n"


def test_version_is_the_installed_packages(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"datasync-workflow {version('datasync-workflow')}\n"


@pytest.mark.parametrize(
    ("command", "defaults"),
    [
        ("run", ["--timeout SECONDS seconds before a --local run is stopped (default: 900)", "(default: 1.5)"]),
        ("backfill", ["(default: @daily)", "runs at once (default: 16, as Airflow's)"]),
    ],
)
def test_help_shows_the_defaults(command, defaults, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for default in defaults:
        assert default in shown
    assert EmulatedTransfer.seconds == cli.TRANSFER_SECONDS  # what --transfer-seconds' help says


def test_an_input_beginning_with_a_byte_order_mark_is_read(tmp_path):
    with_mark = b"\xef\xbb\xbf" + (EXAMPLES / "find_or_create_update_run_delete.json").read_bytes()
    (tmp_path / "input.json").write_bytes(with_mark)
    for done in (command("validate", str(tmp_path / "input.json")), command("validate", "-", stdin=with_mark)):
        assert (done.returncode, done.stdout, done.stderr) == (0, b"valid\n", b"")


def test_verbose_shows_the_steps_logs_and_twice_motos_too():
    demo = str(EXAMPLES / "find_or_create_update_run_delete.json")
    steps_only = command("run", "--local", demo, *DEMO_SECRET, "--verbose", "--transfer-seconds", "0.2")
    assert steps_only.returncode == 0, steps_only.stderr
    assert b'"message":"Created a task"' in steps_only.stderr and b"Exception=" not in steps_only.stderr
    with_motos = command("run", "--local", demo, *DEMO_SECRET, "-vv", "--transfer-seconds", "0.2")
    assert with_motos.returncode == 0, with_motos.stderr
    assert b'"message":"Created a task"' in with_motos.stderr
    assert b"Exception=NoSuchJsonPathError" in with_motos.stderr
