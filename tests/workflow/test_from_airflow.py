"""from-airflow: each DataSyncOperator call of a DAG file as an execution input, the file read and never run."""

import json
from pathlib import Path

from datasync_workflow.cli.commands import main
from datasync_workflow.cli.from_airflow import convert

DAGS = Path(__file__).parents[1] / "airflow_dags"
TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


def line_of(name: str, text: str) -> int:
    return next(n for n, line in enumerate((DAGS / name).read_text().splitlines(), 1) if text in line)


def converted(name: str, environ: dict | None = None) -> list[dict]:
    return convert((DAGS / name).read_text(), environ or {})


def validate(execution_input: dict, tmp_path, capsys) -> str:
    (tmp_path / "input.json").write_text(json.dumps(execution_input))
    main(["validate", str(tmp_path / "input.json")])
    return capsys.readouterr().out.strip()


def test_the_guides_first_example_converts_to_inputs_validate_accepts(tmp_path, capsys):
    # Its TASK_ARN default is no ARN: the environment gives one, as the guide says.
    first, second = converted("example_datasync_1.py", {"TASK_ARN": TASK_ARN})
    assert first["input"] == {"aws_conn_id": "aws_default", "task_id": "datasync_task_1", "task_arn": TASK_ARN}
    assert second["input"] == {
        "aws_conn_id": "aws_default",
        "task_id": "datasync_task_2",
        "source_location_uri": "smb://hostname/directory/",
        "destination_location_uri": "s3://mybucket/prefix",
    }
    assert (first["dag_id"], "schedule" in first, first["notes"]) == ("example_datasync_1_1", False, [])
    for call in (first, second):
        assert validate(call["input"], tmp_path, capsys) == "valid"


def test_the_guides_second_example_evaluates_getenv_json_loads_and_re_sub(tmp_path, capsys):
    (call,) = converted("example_datasync_2.py")
    assert call["input"]["create_destination_location_kwargs"] == {
        "S3BucketArn": "arn:aws:s3:::mybucket",
        "S3Config": {"BucketAccessRoleArn": "arn:aws:iam::11112223344:role/r-11112223344-my-bucket-access-role"},
    }
    assert call["input"]["create_task_kwargs"] == {"Name": "Created by Airflow"}
    assert call["input"]["delete_task_after_execution"] is True and call["notes"] == []
    assert validate(call["input"], tmp_path, capsys) == "valid"
    # The environment wins over a default, as getenv does.
    (changed,) = converted("example_datasync_2.py", {"UPDATE_TASK_KWARGS": '{"Name": "from env"}'})
    assert changed["input"]["update_task_kwargs"] == {"Name": "from env"}


def test_default_args_schedule_and_what_only_airflow_knows():
    nightly, upstream = converted("nightly_share_to_s3.py")
    assert nightly["input"] == {
        "retries": 2,
        "retry_delay": 300,
        "retry_exponential_backoff": True,
        "execution_timeout": 7200,
        "task_id": "copy_nightly",
        "task_arn": TASK_ARN,
        "task_execution_kwargs": {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/{{ ds_nodash }}/*"}]},
        "wait_interval_seconds": 60,
    }
    assert nightly["schedule"] == {
        "name": "nightly_share_to_s3.copy_nightly",
        "expression": "cron(0 2 * * ? *)",
        "input": nightly["input"],
    }
    trigger_rule = line_of("nightly_share_to_s3.py", "trigger_rule=")
    assert nightly["notes"] == [f"line {trigger_rule}: trigger_rule is Airflow's, not this workflow's: left out"]
    # The Variable is left out with its line; the XCom template is kept, and validate says why it cannot render.
    assert "update_task_kwargs" not in upstream["input"]
    assert any(
        n.startswith("line 34: Variable.get('task_name') is known only when Airflow runs") for n in upstream["notes"]
    )
    assert any("{{ ti }}: not a variable" in note for note in upstream["notes"])


def test_the_command_prints_json_and_its_notes(capsys):
    # The second input's task ARN is an XCom template, which validate refuses: exit 1, naming it and why.
    assert main(["from-airflow", str(DAGS / "nightly_share_to_s3.py")]) == 1
    captured = capsys.readouterr()
    upstream = line_of("nightly_share_to_s3.py", "from_upstream = DataSyncOperator(")
    assert (
        f"nightly_share_to_s3.py: [1] nightly_share_to_s3.copy_what_upstream_made (line {upstream}) is not valid, "
        "validate and run refuse it: task_arn: " in captured.err
    )
    assert "copy_nightly (line 24) is not valid" not in captured.err
    assert [call["input"]["task_id"] for call in json.loads(captured.out)] == [
        "copy_nightly",
        "copy_what_upstream_made",
    ]
    assert (
        f"nightly_share_to_s3.py: line {line_of('nightly_share_to_s3.py', 'trigger_rule=')}: trigger_rule"
        in captured.err
    )


def test_a_file_without_the_operator_or_not_python_is_said(tmp_path, capsys):
    (tmp_path / "empty.py").write_text("x = 1\n")
    assert main(["from-airflow", str(tmp_path / "empty.py")]) == 1
    (tmp_path / "broken.py").write_text("def (:\n")
    assert main(["from-airflow", str(tmp_path / "broken.py")]) == 2
    assert "cannot read the DAG" in capsys.readouterr().err


def test_an_operators_own_argument_wins_over_default_args_and_a_file_cannot_make_huge_values():
    source = """
default_args = {"retries": 5, "retry_delay": timedelta(seconds=30)}
WIDE = f"{'x':>1000000}"
with DAG("d", default_args=default_args, schedule="@hourly") as dag:
    DataSyncOperator(
        task_id="t", task_arn="%s" % "arn", retries=1, update_task_kwargs={"Name": "x" * 10, "Other": WIDE}
    )
"""
    (call,) = convert(source, {})
    assert (call["input"]["retries"], call["input"]["retry_delay"]) == (1, 30)
    assert "update_task_kwargs" not in call["input"]
    assert call["schedule"]["expression"] == "cron(0 * * * ? *)"


EVERY_MINUTE_WITH_TASK_GROUPS = f"""
with DAG("every_minute", schedule=timedelta(minutes=1), default_args={{"retries": 3}}) as dag:
    with TaskGroup("outer") as outer:
        with TaskGroup("inner") as inner:
            DataSyncOperator(task_id="inside", task_arn="{TASK_ARN}")
    DataSyncOperator(task_id="after", task_arn="{TASK_ARN}")
"""


def test_a_schedule_of_one_minute_is_a_rate_of_one_minute():
    inside, _ = convert(EVERY_MINUTE_WITH_TASK_GROUPS, {})
    assert inside["schedule"]["expression"] == "rate(1 minute)"


def test_an_operator_after_nested_task_groups_keeps_its_dags_name_schedule_and_default_args():
    inside, after = convert(EVERY_MINUTE_WITH_TASK_GROUPS, {})
    for call in (inside, after):
        assert (call["dag_id"], call["schedule"]["expression"]) == ("every_minute", "rate(1 minute)")
        assert call["input"]["retries"] == 3
    assert after["schedule"]["name"] == "every_minute.after"
