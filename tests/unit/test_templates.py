"""Templated fields: Airflow's variables and macros rendered, anything else refused naming the expression."""

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasync_steps.deployment import Deployment
from datasync_steps.input_checks import input_problems, run_dates
from datasync_steps.input_parsing import parse_workflow_input
from datasync_steps.templates import RunDates, render_template
from tests.conftest import smb_kwargs

TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
NIGHT = datetime(2026, 11, 28, 2, tzinfo=UTC)
DATES = RunDates(NIGHT, NIGHT, datetime(2026, 11, 29, 2, tzinfo=UTC), "scheduled__2026-11-28")


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("/{{ ds_nodash }}/*", "/20261128/*"),
        ("{{ ds }}", "2026-11-28"),
        ("{{ ts }}", "2026-11-28T02:00:00+00:00"),
        ("{{ ts_nodash }}", "20261128T020000"),
        ("{{ ts_nodash_with_tz }}", "20261128T020000+0000"),
        ("{{ logical_date }}", "2026-11-28T02:00:00+00:00"),  # as Airflow prints it, with a T
        ("{{ data_interval_end | ds }}", "2026-11-29"),
        ("{{ data_interval_start.strftime('%Y/%m/%d') }}", "2026/11/28"),
        ("{{ macros.ds_add(ds, -1) }}", "2026-11-27"),
        ("{{ macros.ds_format(ds, '%Y-%m-%d', '%d.%m.%Y') }}", "28.11.2026"),
        ("{{ run_id }}", "scheduled__2026-11-28"),
        ("no template {# a comment #}here", "no template here"),
    ],
)
def test_airflows_variables_filters_and_macros_render_as_in_airflow(template, rendered):
    assert render_template(template, DATES) == rendered


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("{{ var.value.bucket }}", "{{ var }}: not a variable"),
        ("{{ conn.aws.host }}", "{{ conn }}: not a variable"),
        ("{{ ds * 100000000 }}", "mul expressions"),
        ("{{ 10 ** 100000000 }}", "pow expressions"),
        ("{% for x in ds %}{{ x }}{% endfor %}", "the statement for"),
        ("{{ ds.center(1000000000) }}", "ds.center: only logical_date"),
        ("{{ ''.__class__.__mro__ }}", ".__class__: one attribute at most"),
        ("{{ ds | center(1000000000) }}", "the filter center"),
        ("{{ macros.datetime.now() }}", "macros.datetime"),
        ("{{ range(10) }}", "call expressions"),
        ("{{ ds", "is not a template Airflow could render"),
        ("{{ macros.ds_add(ds, 99999999) }}", "could not be rendered"),
    ],
)
def test_anything_else_is_refused_naming_the_expression(template, named):
    with pytest.raises(ValueError, match="^" + named.replace("(", r"\(").replace("*", r"\*").replace("|", r"\|")):
        render_template(template, DATES)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="{}%#ds_no.()|'*-+ 0123456789abcmrotx", max_size=40))
def test_any_text_renders_within_bounds_or_is_refused_with_a_value_error(template):
    # Nothing else escapes (a TypeError, a SecurityError, a RecursionError): resolve turns ValueErrors into
    # DataSyncInvalidInputError.
    with contextlib.suppress(ValueError):
        assert len(render_template(template, DATES)) <= 102_400


def test_an_includes_filter_with_the_logical_date_is_rendered_before_it_is_checked():
    config = parse_workflow_input(
        {
            "task_arn": TASK_ARN,
            "task_execution_kwargs": {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/{{ ds_nodash }}/*"}]},
            "logical_date": "2026-11-28T02:00:00Z",
        }
    )
    assert config.task_execution_kwargs["Includes"][0]["Value"] == "/20261128/*"
    assert config.rendered == {"task_execution_kwargs.Includes[0].Value": "/20261128/*"}


def test_uris_and_task_arn_are_templated_fields_too():
    config = parse_workflow_input(
        {
            "source_location_uri": "smb://host/share/{{ ds_nodash }}",
            "destination_location_uri": "s3://bucket/{{ macros.ds_format(ds, '%Y-%m-%d', '%Y/%m/%d') }}/",
            "logical_date": "2026-11-28",
        }
    )
    assert (config.source_location_uri, config.destination_location_uri) == (
        "smb://host/share/20261128",
        "s3://bucket/2026/11/28/",
    )


def test_a_bad_template_is_an_input_problem_naming_where_and_what():
    (problem, *_) = input_problems(
        {"task_arn": TASK_ARN, "update_task_kwargs": {"Name": "copy {{ params.name }}"}, "logical_date": "2026-11-28"}
    )
    assert problem.startswith("update_task_kwargs.Name: the template 'copy {{ params.name }}' {{ params }}: not a")


def test_a_secret_is_never_rendered_or_shown():
    password = "p{{ var.value.x }}w"
    config = parse_workflow_input(
        {
            "source_location_uri": "smb://hostname/directory",
            "destination_location_uri": "s3://bucket/",
            "create_source_location_kwargs": {**smb_kwargs(), "Password": password},
        },
        Deployment(allow_secrets_in_input=True),
    )
    assert config.create_source_location_kwargs["Password"] == password and config.rendered == {}


def test_the_logical_date_follows_airflows_timetables():
    started = datetime(2026, 11, 29, 7, 30, tzinfo=UTC)
    # Given: as given (a date alone is midnight UTC).
    assert run_dates({"logical_date": "2026-11-28"}, started, "r").logical_date == datetime(2026, 11, 28, tzinfo=UTC)
    # A schedule fired at the end of the interval: its start, the time it fired before.
    fired = {"data_interval_end": "2026-11-29T02:00:00Z", "schedule": "cron(0 2 * * ? *)"}
    dates = run_dates(fired, started, "r")
    assert (dates.logical_date, dates.data_interval_start, dates.data_interval_end) == (
        NIGHT,
        NIGHT,
        datetime(2026, 11, 29, 2, tzinfo=UTC),
    )
    # A weekday schedule fired on Monday: the interval began on Friday.
    monday = run_dates(
        {**fired, "data_interval_end": "2026-11-30T02:00:00Z", "schedule": "cron(0 2 ? * MON-FRI *)"}, started, "r"
    )
    assert monday.logical_date == datetime(2026, 11, 27, 2, tzinfo=UTC)
    # Neither: the execution's start, a data interval of no length.
    alone = run_dates({}, started, "r")
    assert alone.logical_date == alone.data_interval_end == started


def test_dates_and_schedules_not_as_documented_are_named():
    problems = input_problems({"task_arn": TASK_ARN, "logical_date": "yesterday", "schedule": "every day"})
    assert [p.split(":")[0] for p in problems] == ["logical_date", "schedule"]


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("{{ ds | ds }}", "the filter ds: only of logical_date"),
        ("{{ run_id | ds }}", "the filter ds: only of logical_date"),
        ("{{ logical_date | ds('x') }}", "the filter ds takes no arguments"),
        (
            "{{ ds | format }}",
            "the filter format is not supported: the filters are ds, ds_nodash, ts, ts_nodash, ts_nodash_with_tz and "
            "take no arguments",
        ),
        ("{{ macros.ds_add.__globals__ }}", ".__globals__: one attribute at most"),
        ("{{ logical_date.strftime }}", "logical_date.strftime: call it"),
        ("{{ macros.ds_add }}", "macros.ds_add: call it"),
        ("{{ logical_date.tzinfo }}", ".tzinfo: only day, hour, isoformat(), minute"),
        ("{{ logical_date.year() }}", ".year: only day, hour"),
        ("{{ '" + "x" * 101 + "' }}", "a string in a template has at most 100 characters"),
        ("{{ " + "macros.ds_add(" * 900 + "ds, 1" + ")" * 900 + " }}", "is not a template Airflow could render"),
    ],
)
def test_what_the_sandbox_alone_would_let_through_is_refused_too(template, named):
    with pytest.raises(ValueError) as refused:
        render_template(template, DATES)
    assert str(refused.value).startswith(named), str(refused.value)


def test_a_date_attribute_renders():
    assert render_template("{{ logical_date.year }}/{{ data_interval_end.day }}", DATES) == "2026/29"


def test_at_most_a_hundred_expressions_are_rendered_in_as_many_strings_or_one():
    def tagged(values: list[str]) -> dict:
        tags = [{"Key": f"k{i}", "Value": value} for i, value in enumerate(values)]
        return {"task_arn": TASK_ARN, "task_execution_kwargs": {"Tags": tags}}

    refused = "the input holds 101 expressions in templates; at most 100"
    assert refused in input_problems(tagged(["{{ ds }}"] * 101))
    assert input_problems(tagged(["{{ ds }}" * 101])) == [refused]
    assert input_problems(tagged(["{{ ds }}" * 60, "{{ ds_nodash }}" * 40])) == []


def test_the_characters_of_an_inputs_templates_are_bounded_before_any_renders():
    value = "/{{ ds_nodash }}/" + "x" * 102_383
    filters = [{"FilterType": "SIMPLE_PATTERN", "Value": value}]
    bounded = {"task_arn": TASK_ARN, "task_execution_kwargs": {"Includes": filters}}
    assert input_problems(bounded) == []
    filters.append({"FilterType": "SIMPLE_PATTERN", "Value": "{{ ds }}"})
    assert input_problems(bounded) == ["the input's templates hold 102,408 characters; at most 102,400"]


@pytest.mark.parametrize(
    "template",
    [
        "{{ logical_date.strftime('%_30000Y') }}",
        "{{ logical_date.strftime('%-d') }}",
        "{{ logical_date.strftime('%030Y') }}",
        "{{ logical_date.strftime('%^a') }}",
        "{{ logical_date.strftime('%:z') }}",
        "{{ logical_date.strftime('%') }}",
        "{{ logical_date.strftime(ds) }}",
        "{{ logical_date.strftime(logical_date.strftime('%%Y')) }}",
        "{{ logical_date.strftime() }}",
        "{{ macros.ds_format(ds, '%Y-%m-%d', '%_9999d') }}",
        "{{ macros.ds_format(ds, '%_10Y-%m-%d', '%d') }}",
        "{{ macros.ds_format(ds, ds, '%d') }}",
        "{{ macros.ds_format(ds, '%Y-%m-%d') }}",
    ],
)
def test_a_strftime_format_is_a_constant_of_directives_without_flags_or_widths(template):
    with pytest.raises(ValueError, match=r"^(strftime|ds_format)\(\): a format is a string constant"):
        render_template(template, DATES)


def test_a_format_of_letters_and_percent_signs_renders():
    rendered = render_template("{{ logical_date.strftime('%Y%%%m %a %Ec') }}", DATES)
    assert rendered == "2026%11 Sat Sat Nov 28 02:00:00 2026"


@pytest.mark.parametrize("template", ["{{ macros.ds_add(ds, *[1]) }}", "{{ macros.ds_add(ds, **{'days': 1}) }}"])
def test_star_arguments_are_refused_as_unchecked(template):
    with pytest.raises(ValueError, match=r"^ds_add\(\): give its arguments in order, without names"):
        render_template(template, DATES)


def test_rendering_stops_once_the_output_is_longer_than_any_value_it_could_fill():
    longest = "{{ logical_date.strftime('" + "%c" * 50 + "') }}"
    assert len(render_template(longest, DATES)) == 1_200
    with pytest.raises(ValueError, match=r"^renders to more than 102,400 characters$"):
        render_template(longest * 86, DATES)


def test_the_issues_three_strftime_levels_are_refused_before_rendering():
    inner = "logical_date.strftime('%%%%_16000000c%%_65000Y%_250Y')"
    (problem,) = input_problems(
        {
            "task_arn": TASK_ARN,
            "task_execution_kwargs": {
                "Includes": [
                    {
                        "FilterType": "SIMPLE_PATTERN",
                        "Value": f"{{{{ logical_date.strftime(logical_date.strftime({inner})) }}}}" * 20,
                    }
                ]
            },
        }
    )
    assert "strftime(): a format is a string constant" in problem


def test_dates_that_no_schedule_time_gives_are_an_input_problem():
    never = {"task_arn": TASK_ARN, "schedule": "at(2020-01-01T00:00:00)", "logical_date": "2026-11-28"}
    (problem,) = input_problems(never)
    assert problem.startswith("the run's dates: 'at(2020-01-01T00:00:00)' does not fire")
