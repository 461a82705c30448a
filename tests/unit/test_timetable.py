"""When schedules fire: EventBridge expressions, and Airflow's turned into them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from datasync_steps.timetable import count_fire_times, fire_times, from_airflow, parse_schedule, previous_fire


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


PARIS = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("expression", "start", "end"),
    [
        # Part of the first and of the last day.
        ("cron(30 */6 ? * MON-FRI *)", datetime(2026, 11, 27, 7, tzinfo=UTC), datetime(2026, 12, 8, 6, 30, tzinfo=UTC)),
        ("cron(0 0 * * ? *)", datetime(2026, 11, 1, tzinfo=PARIS), datetime(2026, 11, 3, tzinfo=PARIS)),
        ("cron(0 0 29 FEB ? *)", datetime(2020, 1, 1, tzinfo=UTC), datetime(2032, 12, 31, tzinfo=UTC)),
        ("cron(0 12 1 1 ? 2026-2027)", datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)),
        ("rate(7 hours)", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, 4, tzinfo=UTC)),
        ("rate(1 day)", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)),
        ("rate(1 day)", datetime(2026, 11, 3, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
        ("at(2026-11-02T00:00:00)", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)),
        ("at(2026-11-04T00:00:00)", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)),
    ],
)
def test_the_times_counted_are_the_times_the_schedule_fires(expression, start, end):
    assert count_fire_times(expression, start, end) == len(list(fire_times(expression, start, end)))


def test_a_rate_fires_on_its_end_date_too():
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    assert [time.day for time in fire_times("rate(1 day)", start, end)] == [1, 2, 3]


def test_centuries_of_minutes_are_counted_at_once():
    a_century = datetime(1926, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    assert count_fire_times("rate(1 minute)", *a_century) == 36_525 * 1440 + 1
    # EventBridge's cron years are 1970 to 2199, whatever the dates asked for.
    cron_days = (datetime(2200, 1, 1) - datetime(1970, 1, 1)).days
    every_minute = count_fire_times(
        "cron(* * * * ? *)", datetime(1900, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
    )
    assert every_minute == cron_days * 1440
