"""backfill: one run per logical date, named from the date and a hash of the input and the data interval, so that the
same backfill again starts no date twice and another schedule's starts its own."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from datasync_workflow.cli.backfill import BackfillRun, backfill, planned_runs, table
from datasync_workflow.cli.commands import main
from datasync_workflow.local import local_deployment
from tests import fakes
from tests.conftest import REGION, make_s3_location, make_smb_location, make_task

NOV_1, NOV_2, NOV_3 = (datetime(2026, 11, day, tzinfo=UTC) for day in (1, 2, 3))
DAILY, HOURLY = "cron(0 0 * * ? *)", "cron(0 * * * ? *)"


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
    # Each failed date's Error and its Cause, shortened to its line of the table.
    for line in lines[1:]:
        failure = line.split(None, 4)[4]
        assert failure.startswith(f"DataSyncTaskNotFoundError: DataSync has no task {missing} in this account"), line
        assert len(failure) <= len("DataSyncTaskNotFoundError: ") + 160


def test_a_long_cause_is_one_line_of_the_table_cut_short():
    failed = BackfillRun(
        NOV_1, NOV_2, "backfill-x", status="FAILED", started_here=True, error="DataSyncBatchFailedError"
    )
    failed.cause = "Items failed:\n" + "\n".join(f"item {i}: DataSyncTaskExecutionFailedError" for i in range(500))
    _, row = table([failed]).splitlines()
    assert row.split(None, 4)[4].startswith("DataSyncBatchFailedError: Items failed: item 0: DataSyncTaskExecution")
    assert row.endswith("…") and len(row.split(None, 4)[4]) == len("DataSyncBatchFailedError: ") + 160


def test_an_input_a_date_would_refuse_starts_nothing(tmp_path, capsys):
    assert backfill_two_days(tmp_path, {"task_arn": "nope"}) == 1
    assert "2026-11-01T00:00:00+00:00: task_arn" in capsys.readouterr().err


def test_the_same_instant_given_with_another_offset_is_the_same_run():
    from datetime import timedelta, timezone

    paris = timezone(timedelta(hours=1))
    utc_runs = planned_runs({}, "rate(1 day)", NOV_1, NOV_3)
    paris_runs = planned_runs({}, "rate(1 day)", NOV_1.astimezone(paris), NOV_3.astimezone(paris))
    assert [run.name for run in utc_runs] == [run.name for run in paris_runs]


def test_a_daily_backfill_after_an_hourly_one_starts_its_own_runs(datasync):
    transfer = {"task_arn": make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))}
    with local_deployment(REGION) as machine_arn:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        (hourly,) = backfill(sfn, machine_arn, transfer, planned_runs(transfer, HOURLY, NOV_1, NOV_1), 1)
        (daily,) = backfill(sfn, machine_arn, transfer, planned_runs(transfer, DAILY, NOV_1, NOV_1), 1)
    assert (hourly.status, hourly.started_here, hourly.data_interval_end) == ("SUCCEEDED", True, NOV_1.replace(hour=1))
    assert (daily.status, daily.started_here, daily.data_interval_end) == ("SUCCEEDED", True, NOV_2)


def test_a_run_of_a_backfill_date_s_name_with_another_input_is_not_that_date_done(datasync):
    transfer = {"task_arn": make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))}
    with local_deployment(REGION) as machine_arn:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        (taken,) = planned_runs(transfer, DAILY, NOV_2, NOV_2)
        # Whoever knows the input can start the name first, with an input of their own.
        sfn.start_execution(
            stateMachineArn=machine_arn,
            name=taken.name,
            input=json.dumps({**taken.execution_input(transfer), "task_id": "not_the_backfill"}),
        )
        runs = backfill(sfn, machine_arn, transfer, planned_runs(transfer, DAILY, NOV_1, NOV_3), 2)
    assert [(run.logical_date, run.status) for run in runs] == [
        (NOV_1, "SUCCEEDED"),
        (NOV_2, "NOT_STARTED"),
        (NOV_3, "SUCCEEDED"),
    ]
    assert runs[1].error == f"an execution named {taken.name} exists with another input"


class CountingRunning:
    """A Step Functions client that counts, as each execution starts, the state machine's running executions."""

    def __init__(self, sfn, machine_arn: str):
        self.sfn, self.machine_arn, self.most_at_once = sfn, machine_arn, 0

    def __getattr__(self, name: str):
        return getattr(self.sfn, name)

    def start_execution(self, **kwargs):
        started = self.sfn.start_execution(**kwargs)
        running = self.sfn.list_executions(stateMachineArn=self.machine_arn, statusFilter="RUNNING")["executions"]
        self.most_at_once = max(self.most_at_once, len(running))
        return started


def test_a_backfill_runs_max_active_runs_at_once_and_no_more(datasync):
    transfer = {"task_arn": make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))}
    with local_deployment(REGION) as machine_arn:
        sfn = CountingRunning(boto3.client("stepfunctions", region_name=REGION), machine_arn)
        runs = backfill(sfn, machine_arn, transfer, planned_runs(transfer, DAILY, NOV_1, NOV_3), 2)
    assert [run.status for run in runs] == ["SUCCEEDED"] * 3
    assert sfn.most_at_once == 2


def test_the_same_input_with_its_keys_in_another_order_is_the_same_backfill():
    kwargs = {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/a"}], "OverrideOptions": {"Verify": "NONE"}}
    given = {"task_arn": "arn", "task_execution_kwargs": kwargs}
    reordered = {"task_execution_kwargs": dict(reversed(kwargs.items())), "task_arn": "arn"}
    assert [run.name for run in planned_runs(given, DAILY, NOV_1, NOV_3)] == [
        run.name for run in planned_runs(reordered, DAILY, NOV_1, NOV_3)
    ]


def test_each_hour_of_an_hourly_backfill_is_its_own_run_named_by_its_time():
    runs = list(planned_runs({}, HOURLY, NOV_1, NOV_1 + timedelta(hours=23)))
    assert len({run.name for run in runs}) == 24
    assert [run.name.split("-")[1] for run in runs] == [f"20261101T{hour:02}0000" for hour in range(24)]


def test_a_rate_backfill_runs_its_end_date_too():
    assert [run.logical_date for run in planned_runs({}, "rate(1 day)", NOV_1, NOV_3)] == [NOV_1, NOV_2, NOV_3]


def backfill_command(tmp_path, execution_input: dict, *options: str) -> int:
    (tmp_path / "input.json").write_text(json.dumps(execution_input))
    return main(["backfill", str(tmp_path / "input.json"), *options, "--local"])


def test_more_than_1000_runs_are_counted_and_start_only_with_yes(tmp_path, capsys):
    two_months = ["--start-date", "2026-11-01", "--end-date", "2026-12-31T23:00", "--schedule", "@hourly"]
    with pytest.raises(SystemExit) as exited:
        backfill_command(tmp_path, {"task_arn": "arn:aws:datasync:us-east-1:111122223333:task/task-0"}, *two_months)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "1,464 runs, cron(0 * * * ? *), at most 16 at once\n" in err
    assert "error: 1,464 runs are more than 1,000: add --yes to start them" in err
    assert "started" not in err


def test_a_century_of_minutes_is_counted_and_planned_as_it_goes(tmp_path, capsys):
    a_century = ["--start-date", "1926-01-01", "--end-date", "2026-01-01", "--schedule", "rate(1 minute)", "--yes"]
    # Every date's input is refused: the first dates' problems are shown, and nothing starts.
    assert backfill_command(tmp_path, {"task_arn": "nope"}, *a_century) == 1
    err = capsys.readouterr().err
    assert "52,596,001 runs, rate(1 minute), at most 16 at once\n" in err
    assert err.count(": task_arn") == 20 and "1926-01-01T00:19:00+00:00: task_arn" in err


def test_a_schedule_that_fires_no_more_after_a_date_is_a_usage_error(tmp_path, capsys):
    once = ["--start-date", "2026-11-01", "--end-date", "2026-11-03", "--schedule", "at(2026-11-02T00:00:00)"]
    with pytest.raises(SystemExit) as exited:
        backfill_command(tmp_path, {"task_arn": "nope"}, *once)
    assert exited.value.code == 2
    assert (
        "error: 'at(2026-11-02T00:00:00)' does not fire in the 1,464 days after 2026-11-02" in capsys.readouterr().err
    )
