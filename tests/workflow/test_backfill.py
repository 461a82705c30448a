"""backfill: one run per logical date, named from the date and the input's hash, so that the same backfill again
starts no date twice."""

import json
from datetime import UTC, datetime

import boto3

from datasync_workflow.backfill import backfill, planned_runs
from datasync_workflow.cli import main
from datasync_workflow.local import local_deployment
from tests import fakes
from tests.conftest import REGION, make_s3_location, make_smb_location, make_task

NOV_1, NOV_3 = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)


def test_a_backfill_runs_each_date_once_and_a_second_identical_one_starts_none(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    templated = {
        "task_arn": task,
        "wait_interval_seconds": 0,
        "task_execution_kwargs": {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/{{ ds_nodash }}/*"}]},
    }
    with local_deployment(REGION) as machine_arn:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        first = backfill(sfn, machine_arn, templated, planned_runs(templated, "cron(0 0 * * ? *)", NOV_1, NOV_3), 2)
        assert [(run.status, run.started_here) for run in first] == [("SUCCEEDED", True)] * 3
        again = backfill(sfn, machine_arn, templated, planned_runs(templated, "cron(0 0 * * ? *)", NOV_1, NOV_3), 2)
        assert [(run.status, run.started_here) for run in again] == [("SUCCEEDED", False)] * 3
        assert len(sfn.list_executions(stateMachineArn=machine_arn)["executions"]) == 3
    # Each run's filter names its own day.
    filters = sorted(e.includes[0]["Value"] for e in fakes.backend().task_executions.values())
    assert filters == ["/20261101/*", "/20261102/*", "/20261103/*"]
    # Another input is another backfill: its own names.
    other = planned_runs({**templated, "retries": 1}, "cron(0 0 * * ? *)", NOV_1, NOV_3)
    assert {run.name for run in other}.isdisjoint(run.name for run in first)


def test_backfill_dates_follow_the_schedule_with_their_data_intervals():
    runs = planned_runs(
        {}, "cron(0 2 ? * MON-FRI *)", datetime(2026, 11, 27, tzinfo=UTC), datetime(2026, 11, 30, 23, tzinfo=UTC)
    )
    assert [(run.logical_date.day, run.data_interval_end.day) for run in runs] == [(27, 30), (30, 1)]


def backfill_two_days(tmp_path, execution_input: dict) -> int:
    """`datasync-workflow backfill` of 1 and 2 November, local; its exit status."""
    (tmp_path / "input.json").write_text(json.dumps(execution_input))
    argv = ["backfill", str(tmp_path / "input.json"), "--start-date", "2026-11-01", "--end-date", "2026-11-02"]
    return main([*argv, "--local"])


def test_the_command_prints_a_table_and_exits_1_when_a_date_failed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    # No such task: every date fails, and says why.
    missing = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
    assert backfill_two_days(tmp_path, {"task_arn": missing}) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["logical_date", "status", "started", "execution", "error"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["2026-11-01T00:00:00+00:00", "FAILED", "now"],
        ["2026-11-02T00:00:00+00:00", "FAILED", "now"],
    ]
    assert all(line.endswith("DataSyncTaskNotFoundError") for line in lines[1:])


def test_an_input_a_date_would_refuse_starts_nothing(tmp_path, capsys):
    assert backfill_two_days(tmp_path, {"task_arn": "nope"}) == 1
    assert "2026-11-01T00:00:00+00:00: task_arn" in capsys.readouterr().err


def test_the_same_instant_given_with_another_offset_is_the_same_run():
    from datetime import timedelta, timezone

    paris = timezone(timedelta(hours=1))
    utc_runs = planned_runs({}, "rate(1 day)", NOV_1, NOV_3)
    paris_runs = planned_runs({}, "rate(1 day)", NOV_1.astimezone(paris), NOV_3.astimezone(paris))
    assert [run.name for run in utc_runs] == [run.name for run in paris_runs]
