"""`datasync-workflow run --local`: progress on stderr, output on stdout, exit status."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from datasync_workflow.cli import main
from datasync_workflow.local import _invoke
from tests.conftest import make_s3_location, make_smb_location, make_task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_installed_command(example: str, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "datasync-workflow"), "run", "--local", "-", *options],
        input=(EXAMPLES / example).read_text().replace('"wait_interval_seconds": 1', '"wait_interval_seconds": 0'),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_installed_command_runs_the_demo_example_from_an_empty_account():
    done = run_installed_command("find_or_create_update_run_delete.json")
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
        "find_or_create_update_run_delete.json", "--transfer-seconds", "0.5", "--fail-with", "SockTimeout: Gone"
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


def test_steps_run_locally_never_print_their_metrics_on_stdout(datasync, capsys):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    execution_arn = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    # More status checks than the 100 values of one metric that Powertools keeps before printing them.
    for checks_done in range(101):
        _invoke("check-status", {"execution_id": "e", "TaskExecutionArn": execution_arn, "checks_done": checks_done})
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "examples/run_task_arn.json"], "only --local runs are supported"),
        (["run", "--local", "no-such-file.json"], "cannot read the input no-such-file.json"),
        (["launch"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
