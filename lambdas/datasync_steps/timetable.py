"""When a schedule fires: EventBridge Scheduler's expressions (cron with six fields, rate, at), in UTC, and Airflow's
schedules (presets and five-field cron) turned into them. A run's logical date follows Airflow's timetables: a run
fired at the end of an interval has that interval's start as its logical date."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES, 1)}
# AWS counts the days of the week from Sunday, 1.
WEEKDAYS = {name: number for number, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), 1)}
# (name, smallest, largest, names) of the six fields of an EventBridge cron expression.
CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minutes", 0, 59, {}),
    ("hours", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, MONTHS),
    ("day-of-week", 1, 7, WEEKDAYS),
    ("year", 1970, 2199, {}),
)
RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86_400}
AIRFLOW_PRESETS = {
    "@hourly": "cron(0 * * * ? *)",
    "@daily": "cron(0 0 * * ? *)",
    "@midnight": "cron(0 0 * * ? *)",
    "@weekly": "cron(0 0 ? * SUN *)",
    "@monthly": "cron(0 0 1 * ? *)",
    "@yearly": "cron(0 0 1 1 ? *)",
    "@annually": "cron(0 0 1 1 ? *)",
}
DAILY = AIRFLOW_PRESETS["@daily"]
# A schedule that does not fire in this long is taken to have no earlier or later time.
SEARCH_DAYS = 366 * 4


@dataclass(frozen=True)
class Cron:
    """The times an EventBridge cron expression matches: a set of allowed values per field."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: "?", the day of the week decides
    months: frozenset[int]
    weekdays: frozenset[int] | None  # None: "?", the day of the month decides
    years: frozenset[int]

    def matches_day(self, day: datetime) -> bool:
        weekday = day.isoweekday() % 7 + 1  # Monday is 1 in Python, 2 in AWS
        return (
            day.year in self.years
            and day.month in self.months
            and (self.days is None or day.day in self.days)
            and (self.weekdays is None or weekday in self.weekdays)
        )

    def times_of_day(self, day: datetime) -> list[datetime]:
        return [day.replace(hour=h, minute=m) for h in sorted(self.hours) for m in sorted(self.minutes)]


def parse_schedule(expression: str) -> Cron | timedelta | datetime:
    """An EventBridge Scheduler expression as a Cron, the period of a rate, or the time of an at(); ValueError
    saying what is wrong."""
    found = re.fullmatch(r"(cron|rate|at)\((.*)\)", expression.strip())
    if not found:
        raise ValueError(f"{expression!r} is not cron(...), rate(...) or at(...)")
    kind, body = found.groups()
    if kind == "at":
        return datetime.fromisoformat(body).replace(tzinfo=UTC)
    if kind == "rate":
        rate = re.fullmatch(r"([1-9][0-9]{0,5}) (minute|hour|day)s?", body.strip())
        if not rate:
            raise ValueError(f"{expression!r}: a rate is a whole number up to 999,999 and minute(s), hour(s) or day(s)")
        return timedelta(seconds=int(rate[1]) * RATE_UNITS[rate[2]])
    fields = body.split()
    if len(fields) != len(CRON_FIELDS):
        raise ValueError(f"{expression!r}: a cron expression has six fields (minutes hours day month weekday year)")
    values = [_cron_field(text, *spec) for text, spec in zip(fields, CRON_FIELDS, strict=True)]
    if (values[2] is None) == (values[4] is None):
        raise ValueError(f"{expression!r}: one of day-of-month and day-of-week must be ?, not both")
    minutes, hours, days, months, weekdays, years = values
    if minutes is None or hours is None or months is None or years is None:
        raise ValueError(f"{expression!r}: only day-of-month or day-of-week may be ?")
    return Cron(minutes, hours, days, months, weekdays, years)


def _cron_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int] | None:
    if text == "?":
        return None
    allowed: set[int] = set()
    for part in text.split(","):
        found = re.fullmatch(r"(\*|[0-9A-Za-z]+(?:-[0-9A-Za-z]+)?)(?:/([0-9]+))?", part)
        if not found:
            raise ValueError(f"{name} {text!r}: this workflow reads *, ?, numbers, names, ranges, lists and steps")
        span, step = found[1], int(found[2] or 1)
        if span == "*":
            first, last = low, high
        else:
            first_text, _, last_text = span.partition("-")
            first = _cron_value(first_text, name, names)
            last = _cron_value(last_text, name, names) if last_text else (high if found[2] else first)
        if not (low <= first <= last <= high) or step < 1:
            raise ValueError(f"{name} {text!r}: values go from {low} to {high}, a range from low to high")
        allowed |= set(range(first, last + 1, step))
    return frozenset(allowed)


def _cron_value(text: str, name: str, names: dict[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ValueError(f"{name} {text!r} is not a number{' or a name' if names else ''}")
    return int(text)


def previous_fire(expression: str, before: datetime) -> datetime:
    """The last time the schedule fired strictly before `before` (for a rate, `before` less its period)."""
    schedule = parse_schedule(expression)
    if isinstance(schedule, timedelta):
        return before - schedule
    if isinstance(schedule, datetime):
        return schedule
    day = before.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(SEARCH_DAYS):
        if schedule.matches_day(day):
            earlier = [time for time in schedule.times_of_day(day) if time < before]
            if earlier:
                return earlier[-1]
        day -= timedelta(days=1)
    raise ValueError(f"{expression!r} does not fire in the {SEARCH_DAYS:,} days before {before.isoformat()}")


def fire_times(expression: str, start: datetime, end: datetime) -> Iterator[datetime]:
    """The times the schedule fires from `start` to `end`, both included."""
    schedule = parse_schedule(expression)
    if isinstance(schedule, datetime):
        if start <= schedule <= end:
            yield schedule
        return
    if isinstance(schedule, timedelta):
        time = start
        while time <= end:
            yield time
            time += schedule
        return
    for day in _days(schedule, start, end):
        yield from (time for time in schedule.times_of_day(day) if start <= time <= end)


def count_fire_times(expression: str, start: datetime, end: datetime) -> int:
    """How many times fire_times yields, without making them: arithmetic for a rate, a day at a time for cron (whose
    years end in 2199, so a few tens of thousands of days at most, whatever the dates)."""
    schedule = parse_schedule(expression)
    if isinstance(schedule, datetime):
        return int(start <= schedule <= end)
    if isinstance(schedule, timedelta):
        return (end - start) // schedule + 1 if start <= end else 0
    count = 0
    for day in _days(schedule, start, end):
        if start <= day and day + timedelta(days=1) <= end:
            count += len(schedule.hours) * len(schedule.minutes)
        else:
            count += sum(start <= time <= end for time in schedule.times_of_day(day))
    return count


def _days(schedule: Cron, start: datetime, end: datetime) -> Iterator[datetime]:
    """The days the cron matches from `start`'s day to `end`, at midnight UTC, within its years."""
    day = max(
        start.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0),
        datetime(min(schedule.years), 1, 1, tzinfo=UTC),
    )
    last = min(end, datetime(max(schedule.years), 12, 31, tzinfo=UTC))
    while day <= last:
        if schedule.matches_day(day):
            yield day
        day += timedelta(days=1)


def next_fire(expression: str, after: datetime) -> datetime:
    """The first time the schedule fires strictly after `after`."""
    schedule = parse_schedule(expression)
    if isinstance(schedule, timedelta):
        return after + schedule
    horizon = after + timedelta(days=SEARCH_DAYS)
    later = next((time for time in fire_times(expression, after, horizon) if time > after), None)
    if later is None:
        raise ValueError(f"{expression!r} does not fire in the {SEARCH_DAYS:,} days after {after.isoformat()}")
    return later


def from_airflow(schedule: str) -> str:
    """An Airflow schedule (a preset, or cron with five fields, Sunday 0 or 7) as an EventBridge Scheduler
    expression; ValueError for what has none (a timedelta, a dataset, @once, @continuous)."""
    text = schedule.strip()
    if text in AIRFLOW_PRESETS:
        return AIRFLOW_PRESETS[text]
    if text.startswith(("cron(", "rate(", "at(")):
        parse_schedule(text)
        return text
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"{schedule!r} is not an Airflow preset or a five-field cron expression")
    minutes, hours, days, months, weekdays = fields
    if weekdays == "*":
        weekdays = "?"
    else:
        weekdays = _aws_weekdays(weekdays)
        if days == "*":
            days = "?"
    expression = f"cron({minutes} {hours} {days} {months.upper()} {weekdays.upper()} *)"
    parse_schedule(expression)
    return expression


def _aws_weekdays(field: str) -> str:
    """Airflow's day-of-week field (cron's: 0-6 from Sunday, 7 Sunday too) as AWS counts them (1-7 from Sunday):
    numbers and ranges listed day by day, so that a range ending on Sunday (5-7) stays one; names and * as they are
    (AWS's */N picks the same days as cron's)."""
    days: set[int] = set()
    kept: list[str] = []
    for part in field.split(","):
        numeric = re.fullmatch(r"(\d+)(?:-(\d+))?(?:/(\d+))?", part)
        if not numeric:
            kept.append(part.upper())
            continue
        first = int(numeric[1])
        last = int(numeric[2]) if numeric[2] else (7 if numeric[3] else first)
        if not 0 <= first <= last <= 7:
            raise ValueError(f"day of week {part!r}: days go from 0 to 7 (Sunday), a range from low to high")
        days |= {day % 7 + 1 for day in range(first, last + 1, int(numeric[3] or 1))}
    return ",".join([*kept, *map(str, sorted(days))])
