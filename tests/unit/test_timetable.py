"""When schedules fire: EventBridge expressions, and Airflow's turned into them."""

from datetime import UTC, datetime

import pytest

from datasync_steps.timetable import fire_times, from_airflow, parse_schedule, previous_fire


@pytest.mark.parametrize(
    ("airflow", "eventbridge"),
    [
        ("@daily", "cron(0 0 * * ? *)"),
        ("@weekly", "cron(0 0 ? * SUN *)"),
        ("0 2 * * *", "cron(0 2 * * ? *)"),
        ("0 2 * * 1-5", "cron(0 2 ? * 2,3,4,5,6 *)"),  # Monday to Friday: AWS counts from Sunday, 1
        ("0 0 * * 5-7", "cron(0 0 ? * 1,6,7 *)"),  # Friday to Sunday (cron's 7), not an empty 6-1
        ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
        ("*/15 * * * */2", "cron(*/15 * ? * */2 *)"),
        ("30 4 1 * *", "cron(30 4 1 * ? *)"),
    ],
)
def test_airflow_schedules_become_eventbridge_expressions_that_fire_on_the_same_days(airflow, eventbridge):
    assert from_airflow(airflow) == eventbridge


def test_the_converted_weekday_schedule_fires_on_the_weekdays_airflow_meant():
    week = list(
        fire_times(
            from_airflow("0 2 * * 1-5"), datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 12, 5, 23, tzinfo=UTC)
        )
    )
    assert [time.strftime("%a") for time in week] == ["Mon", "Tue", "Wed", "Thu", "Fri"]


@pytest.mark.parametrize(
    "expression", ["rate(99999999999999 days)", "cron(0 0 ? * 6-1 *)", "cron(0 0 * * * *)", "every day"]
)
def test_what_cannot_be_read_is_refused(expression):
    with pytest.raises(ValueError):
        parse_schedule(expression)


def test_the_previous_fire_is_strictly_before():
    fired = datetime(2026, 11, 29, 2, tzinfo=UTC)
    assert previous_fire("cron(0 2 * * ? *)", fired) == datetime(2026, 11, 28, 2, tzinfo=UTC)
    assert previous_fire("rate(6 hours)", fired) == datetime(2026, 11, 28, 20, tzinfo=UTC)
