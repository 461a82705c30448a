"""from-airflow on the shapes real DAGs have: partial().expand() and expand_kwargs() as batches, attributes set after
the call, annotated assignments, @once, @dag and TaskGroups, Airflow's own default_args; and one input at a time
(--index, --task-id, --out) that validate and run take."""

import json
import os
from pathlib import Path

import pytest

from datasync_workflow.cli.commands import main
from datasync_workflow.cli.from_airflow import converter_of

ROOT = Path(__file__).parents[2]
DAGS = ROOT / "tests" / "airflow_dags"
NIGHTLY = ROOT / "examples" / "dags" / "nightly.py"
TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def converted(name: str) -> list[dict]:
    return converter_of((DAGS / name).read_text(), {}).converted


def validated(execution_input: dict, tmp_path: Path, capsys) -> str:
    (tmp_path / "input.json").write_text(json.dumps(execution_input))
    main(["validate", str(tmp_path / "input.json")])
    return capsys.readouterr().out.splitlines()[0]


def test_the_guides_nightly_dag_converts_and_each_of_its_inputs_validates(tmp_path, capsys):
    assert main(["from-airflow", str(NIGHTLY)]) == 0
    out, err = capsys.readouterr()
    ledger, exports = json.loads(out)
    assert ledger["input"]["destination_location_uri"] == "s3://finance-landing/ledger/{{ ds_nodash }}"
    assert (ledger["input"]["retries"], ledger["input"]["retry_delay"]) == (2, 300)
    assert ledger["schedule"]["expression"] == "cron(30 1 * * ? *)"
    assert exports["input"]["defaults"]["task_id"] == "copy_regional_exports"
    assert [t["task_arn"][-3:] for t in exports["input"]["transfers"]] == ["0e1", "0e2", "0e3"]
    assert exports["input"]["max_concurrency"] == 2 and "schedule" not in exports
    # How to get one input out is said; what is not carried is named with its line.
    assert "--index N or --task-id ID prints it alone, --out DIR writes each" in err
    owner = line_of(NIGHTLY, '"owner"')
    assert f"nightly.py: line {owner}: default_args' owner is Airflow's" in err
    # ...and beside each call of the DAG in the array, which is read without stderr.
    for call in (ledger, exports):
        assert any(note.startswith(f"line {owner}: default_args' owner is Airflow's") for note in call["dag_notes"])
    for number, call in enumerate((ledger, exports)):
        assert validated(call["input"], tmp_path, capsys) == "valid"
        assert main(["from-airflow", str(NIGHTLY), "--index", str(number)]) == 0
        assert json.loads(capsys.readouterr().out) == call["input"]
    assert main(["from-airflow", str(NIGHTLY), "--out", str(tmp_path / "inputs")]) == 0
    written = capsys.readouterr().out.splitlines()
    assert [Path(path).name for path in written] == [
        "finance_nightly.copy_ledger.json",
        "finance_nightly.copy_regional_exports.json",
        "schedules.json",
    ]
    for path in written[:2]:
        assert main(["validate", path]) == 0
    assert json.loads(Path(written[2]).read_text()) == [ledger["schedule"]]


def test_expand_over_two_lists_is_their_cross_product_and_a_task_output_leaves_no_transfers(capsys):
    path = DAGS / "partial_expand.py"
    exports, upstream = converted("partial_expand.py")
    batch = exports["input"]
    assert batch["defaults"] == {
        "retries": 1,
        "retry_delay": 120,
        "task_id": "copy_exports",
        "wait_interval_seconds": 20,
    }
    # As Airflow maps: the last list varies fastest.
    assert [
        (t["task_arn"][-2:], t["task_execution_kwargs"]["Includes"][0]["Value"][:4]) for t in batch["transfers"]
    ] == [
        ("a1", "/eu/"),
        ("a1", "/us/"),
        ("a2", "/eu/"),
        ("a2", "/us/"),
    ]
    assert batch["max_concurrency"] == 3
    assert f"line {line_of(path, 'pool=')}: pool is Airflow's, not this workflow's: left out" in exports["notes"][0]
    assert not any("validate says" in note for note in exports["notes"])
    # Another task's output: reported with its line, no transfers invented.
    assert upstream["input"]["transfers"] == []
    line = line_of(path, "task_arn=task_arns_of_today()")
    assert any(
        note.startswith(f"line {line}: task_arns_of_today() is known only when Airflow runs the DAG: it is the mapped ")
        for note in upstream["notes"]
    )
    assert main(["from-airflow", str(path)]) == 1
    err = capsys.readouterr().err
    assert "[1] regional_exports.copy_from_upstream" in err and "is not valid" in err
    assert "[0] regional_exports.copy_exports" in err and "copy_exports (line 28) is not valid" not in err


def test_expand_kwargs_maps_a_list_of_dicts_and_says_what_it_leaves_out():
    path = DAGS / "expand_kwargs.py"
    (call,) = converted("expand_kwargs.py")
    batch = call["input"]
    assert batch["defaults"] == {"task_id": "copy_share", "allow_random_task_choice": True}
    assert batch["transfers"] == [
        {"source_location_uri": "smb://files.example.com/finance", "destination_location_uri": "s3://landing/finance"},
        {
            "source_location_uri": "smb://files.example.com/hr",
            "destination_location_uri": "s3://landing/hr",
            "wait_for_completion": False,
        },
        {"source_location_uri": "smb://files.example.com/legal"},
    ]
    notes = call["notes"]
    owner = line_of(path, '"owner"')
    assert f"line {owner}: the mapped owner is Airflow's, not this workflow's: left out" in notes
    legal = line_of(path, "legal_dest")
    assert f"line {legal}: Variable.get('legal_dest') is known only when Airflow runs the DAG" in notes[1]
    assert "transfers[2].destination_location_uri is left out" in notes[1]
    assert any("copied.retries is set on a mapped operator: not carried" in note for note in notes)
    assert any(
        note.endswith(
            "validate says: transfers[2].give task_arn, or both source_location_uri and destination_location_uri"
        )
        for note in notes
    )


def test_the_dag_decorator_and_its_functions_parameters():
    copy, param = converted("dag_decorator.py")
    assert copy["dag_id"] == "weekday_copy"
    assert copy["input"] == {
        "retries": 3,
        "execution_timeout": 3600,
        "task_id": "copy_weekday",
        "task_arn": TASK_ARN,
        "task_execution_kwargs": {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/weekday/*"}]},
    }
    assert copy["schedule"]["expression"] == "cron(0 6 ? * 2,3,4,5,6 *)" and copy["notes"] == []
    # Inside the function, `prefix` is its parameter (a DAG param), not the module's "/static".
    assert "task_execution_kwargs" not in param["input"]
    assert "prefix is a parameter of its function" in param["notes"][0]


def test_task_groups_prefix_task_ids_as_airflow_does_and_give_their_default_args():
    raw, ledger, unprefixed = converted("task_groups.py")
    assert [c["input"]["task_id"] for c in (raw, ledger, unprefixed)] == [
        "ingest.raw",
        "ingest.finance.ledger",
        "unprefixed",
    ]
    assert [c["input"]["retries"] for c in (raw, ledger, unprefixed)] == [1, 5, 1]
    assert ledger["schedule"]["name"] == "grouped.ingest.finance.ledger"
    converter = converter_of((DAGS / "task_groups.py").read_text(), {})
    line = line_of(DAGS / "task_groups.py", 'group_id="finance"')
    assert converter.dag_notes() == [
        f"line {line}: the TaskGroup's default_args' owner is Airflow's, not this workflow's: left out"
    ]


def test_attributes_set_after_the_call_are_its_keywords(tmp_path, capsys):
    path = DAGS / "attribute_after_call.py"
    (call,) = converted("attribute_after_call.py")
    assert call["input"] == {
        "task_id": "copy",
        "task_arn": TASK_ARN,
        "wait_for_completion": False,
        "execution_timeout": 1800,
    }
    assert call["notes"] == [
        f"line {line_of(path, 'copy.trigger_rule')}: copy.trigger_rule is Airflow's, not this workflow's: left out",
        f"line {line_of(path, 'copy.doc_md')}: copy.doc_md is Airflow's, not this workflow's: left out",
        f"line {line_of(path, 'copy.max_iterations')}: Variable.get('iterations') is known only when Airflow runs the "
        "DAG: max_iterations is left out",
    ]
    assert validated(call["input"], tmp_path, capsys) == "valid"


def test_annotated_assignments_are_assignments(tmp_path, capsys):
    (call,) = converted("annotated_assignment.py")
    assert call["input"] == {
        "task_id": "copy",
        "source_location_uri": "nfs://filer.example.com/exports/analytics",
        "destination_location_uri": "s3://analytics-landing/analytics",
        "wait_interval_seconds": 45,
    }
    assert call["notes"] == []
    assert validated(call["input"], tmp_path, capsys) == "valid"


def test_once_is_a_single_run_with_no_schedule_entry():
    (call,) = converted("once.py")
    assert "schedule" not in call
    assert call["notes"] == [
        "line 5: the DAG's schedule '@once' runs the DAG a single time: no schedule entry (start that run by hand with "
        "`datasync-workflow run`, or at a set time with a schedule entry whose expression is at(yyyy-mm-ddThh:mm:ss))"
    ]


def test_every_key_of_default_args_not_carried_is_named_once_with_its_line(capsys):
    path = DAGS / "unknown_default_args.py"
    converter = converter_of(path.read_text(), {})
    copy, again = converter.converted
    assert copy["input"] == {"retries": 2, "retry_delay": 600, "task_id": "copy", "task_arn": TASK_ARN}
    named = {
        note.split("default_args' ")[1].split(" ")[0]: note for note in converter.dag_notes() if "default_args'" in note
    }
    assert list(named) == [
        "owner",
        "depends_on_past",
        "email",
        "email_on_failure",
        "start_date",
        "on_failure_callback",
        "sla",
    ]
    for key, note in named.items():
        text = f'default_args["{key}"]' if key == "sla" else f'"{key}"'
        assert note.startswith(f"line {line_of(path, text)}: "), note
    assert "alarm_emails" in named["email_on_failure"] and "backfill" in named["start_date"]
    assert any(note.startswith("line 28: catchup=True") for note in converter.dag_notes())
    # The operator's own: in its call's notes.
    assert [note.split(": ")[1].split(" ")[0] for note in copy["notes"]] == ["pool", "queue", "on_failure_callback"]
    assert again["notes"] == []
    assert main(["from-airflow", str(path)]) == 0
    assert capsys.readouterr().err.count("default_args' owner") == 1


def test_the_shape_of_airflows_system_test_reports_what_xcom_gives_and_invents_nothing(capsys):
    path = DAGS / "system_test_shape.py"
    by_arn, by_uris, create = converted("system_test_shape.py")
    assert by_arn["input"] == {"task_id": "run_by_arn", "wait_for_completion": False}
    assert by_uris["input"] == {
        "task_id": "run_by_uris",
        "task_execution_kwargs": {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/in/part"}]},
        "wait_for_completion": False,
    }
    assert create["input"] == {
        "task_id": "create_and_run",
        "create_task_kwargs": {"Name": "Made by the DAG"},
        "delete_task_after_execution": False,
        "wait_for_completion": False,
    }
    made = line_of(path, "made_task_arn = ")
    assert (
        f"line {made}: make_task_between('arn:source', 'arn:destination') is known only when Airflow runs "
        "the DAG: task_arn is left out" in by_arn["notes"]
    )
    bucket = line_of(path, "source_bucket: str")
    assert (
        f"line {bucket}: test_context[ENV_ID_KEY] is known only when Airflow runs the DAG: "
        "source_location_uri is left out" in by_uris["notes"]
    )
    for call in (by_arn, by_uris, create):
        assert "schedule" not in call and "'@once' runs the DAG a single time" in call["notes"][0]
    assert main(["from-airflow", str(path)]) == 1
    err = capsys.readouterr().err
    for label in (
        "[0] datasync_system_shape.run_by_arn",
        "[1] datasync_system_shape.run_by_uris",
        "[2] datasync_system_shape.create_and_run",
    ):
        assert f"{label} (line " in err and ") is not valid, validate and run refuse it: give task_arn, or both" in err


def test_one_input_by_its_task_id_or_index_and_what_is_said_when_there_is_none(capsys):
    path = str(DAGS / "task_groups.py")
    assert main(["from-airflow", path, "--task-id", "ingest.finance.ledger"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "retries": 5,
        "task_id": "ingest.finance.ledger",
        "task_arn": TASK_ARN,
    }
    assert main(["from-airflow", path, "--task-id", "grouped.unprefixed"]) == 0
    assert json.loads(capsys.readouterr().out)["task_id"] == "unprefixed"
    assert main(["from-airflow", path, "--task-id", "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error: --task-id nope: no input has it" in captured.err
    assert "the inputs: [0] grouped.ingest.raw (line 12), [1] grouped.ingest.finance.ledger (line 14)" in captured.err
    assert main(["from-airflow", path, "--index", "3"]) == 2
    assert "--index 3: the DAG file gives 3 inputs, numbered from 0 to 2" in capsys.readouterr().err
    # One input printed: only its own notes, and only its validity decides the exit status.
    system = str(DAGS / "system_test_shape.py")
    assert main(["from-airflow", system, "--task-id", "run_by_uris"]) == 1
    err = capsys.readouterr().err
    assert "run_by_uris" in err and "run_by_arn" not in err and "create_and_run" not in err
    with pytest.raises(SystemExit):
        main(["from-airflow", path, "--index", "0", "--task-id", "x"])
    with pytest.raises(SystemExit):
        main(["from-airflow", path, "--force"])


def test_out_writes_a_file_per_task_and_replaces_none_without_force(tmp_path, capsys):
    out = tmp_path / "inputs"
    path = str(DAGS / "task_groups.py")
    assert main(["from-airflow", path, "--out", str(out)]) == 0
    names = [
        "grouped.ingest.raw.json",
        "grouped.ingest.finance.ledger.json",
        "grouped.unprefixed.json",
        "schedules.json",
    ]
    assert capsys.readouterr().out.splitlines() == [str(out / name) for name in names]
    (out / "grouped.unprefixed.json").write_text("mine")
    assert main(["from-airflow", path, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "exist: nothing written (--force replaces them)" in captured.err
    assert (out / "grouped.unprefixed.json").read_text() == "mine"
    # --force replaces a link with a file; what the link pointed to is left alone.
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("not to be touched")
    (out / "grouped.ingest.raw.json").unlink()
    (out / "grouped.ingest.raw.json").symlink_to(elsewhere)
    assert main(["from-airflow", path, "--out", str(out), "--force"]) == 0
    assert elsewhere.read_text() == "not to be touched"
    assert not (out / "grouped.ingest.raw.json").is_symlink()
    assert json.loads((out / "grouped.unprefixed.json").read_text())["task_id"] == "unprefixed"
    assert sorted(os.listdir(out)) == sorted(names)  # no temporary file left


def test_names_from_the_file_make_safe_file_names_inside_the_directory(tmp_path, capsys):
    source = f"""
with DAG("../../etc", schedule=None) as dag:
    DataSyncOperator(task_id="../../../outside", task_arn="{TASK_ARN}")
    DataSyncOperator(task_id=".hidden/\\x1b[31mred", task_arn="{TASK_ARN}")
    DataSyncOperator(task_id="../../../outside", task_arn="{TASK_ARN}")
    DataSyncOperator(task_arn="{TASK_ARN}")
"""
    (tmp_path / "hostile.py").write_text(source)
    out = tmp_path / "inputs"
    # Written, though validate refuses such task ids (exit 1): each file inside the directory, none hidden.
    assert main(["from-airflow", str(tmp_path / "hostile.py"), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert sorted(os.listdir(out)) == [
        "etc.hidden-31mred.json",
        "etc.line-6.json",
        "etc.outside.json",
        "etc.outside.line-5.json",
    ]
    assert sorted(os.listdir(tmp_path)) == ["hostile.py", "inputs"]
    assert "\x1b" not in captured.err and "\x1b" not in captured.out
    assert "[1] ../../etc..hidden/\\x1b[31mred (line 4) is not valid" in captured.err


def test_a_dag_in_a_variable_named_by_dag_or_with_and_assignments_of_several_names():
    source = f"""
SOURCE, DESTINATION = "smb://files.example.com/share", "s3://landing/share"
dag = DAG("kept", schedule="@daily", default_args={{"retries": 2}})
forever = DAG("forever", schedule="@continuous")
DataSyncOperator(task_id="named", task_arn="{TASK_ARN}", dag=dag)
with dag:
    DataSyncOperator(task_id="inside", source_location_uri=SOURCE, destination_location_uri=DESTINATION)
with forever:
    DataSyncOperator(task_id="always", task_arn="{TASK_ARN}")
"""
    named, inside, always = converter_of(source, {}).converted
    for call in (named, inside):
        assert (call["dag_id"], call["input"]["retries"], call["schedule"]["expression"]) == (
            "kept",
            2,
            "cron(0 0 * * ? *)",
        )
    assert inside["input"]["destination_location_uri"] == "s3://landing/share"
    assert "schedule" not in always
    assert "'@continuous' starts a run as soon as the one before ends" in always["notes"][0]
