"""Enum values checked up front: `datasync-workflow validate` and a run refuse a kwargs value that DataSync's API model
does not list for its member, naming where it is and the values there are, before anything in AWS is touched."""

import json

import boto3
import pytest

from datasync_workflow.cli.commands import main
from datasync_workflow.local import run_local
from tests.conftest import make_s3_location, make_smb_location, make_task, s3_kwargs, smb_kwargs

URIS = {"source_location_uri": "smb://hostname/directory/", "destination_location_uri": "s3://mybucket/prefix"}
BAD_ENUMS = {
    **URIS,
    "create_task_kwargs": {
        "Options": {"VerifyMode": "SOMETIMES", "TransferMode": "EVERYTHING"},
        "Includes": [{"FilterType": "GLOB", "Value": "/a"}],
    },
    "create_source_location_kwargs": smb_kwargs(),
    "create_destination_location_kwargs": {**s3_kwargs(), "S3StorageClass": "glacier"},
}


def test_validate_names_every_value_outside_its_enum_and_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(boto3.session.Session, "client", lambda *args, **kwargs: pytest.fail("validate used AWS"))
    (tmp_path / "input.json").write_text(json.dumps(BAD_ENUMS))
    assert main(["validate", str(tmp_path / "input.json")]) == 1
    problems = capsys.readouterr().out.splitlines()
    assert problems == [
        "create_task_kwargs.Options.VerifyMode: 'SOMETIMES' is not one of the values DataSync takes there "
        "(POINT_IN_TIME_CONSISTENT, ONLY_FILES_TRANSFERRED, NONE)",
        "create_task_kwargs.Options.TransferMode: 'EVERYTHING' is not one of the values DataSync takes there "
        "(CHANGED, ALL)",
        "create_task_kwargs.Includes[0].FilterType: 'GLOB' is not one of the values DataSync takes there "
        "(SIMPLE_PATTERN)",
        "create_destination_location_kwargs.S3StorageClass: 'glacier' is not one of the values DataSync takes there "
        "(STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE, OUTPOSTS, "
        "GLACIER_INSTANT_RETRIEVAL); did you mean GLACIER?",
    ]


def test_validate_takes_the_values_the_model_lists(tmp_path, capsys):
    good = json.loads(json.dumps(BAD_ENUMS).replace("SOMETIMES", "NONE").replace("EVERYTHING", "ALL"))
    good = json.loads(json.dumps(good).replace("GLOB", "SIMPLE_PATTERN").replace('"glacier"', '"GLACIER"'))
    (tmp_path / "input.json").write_text(json.dumps(good))
    assert main(["validate", str(tmp_path / "input.json")]) == 0
    assert capsys.readouterr().out == "valid\n"


def test_validate_checks_an_enum_once_its_template_is_rendered(tmp_path, capsys):
    templated = {**URIS, "task_execution_kwargs": {"OverrideOptions": {"LogLevel": "{{ ds_nodash }}"}}}
    (tmp_path / "input.json").write_text(json.dumps(templated))
    assert main(["validate", str(tmp_path / "input.json"), "--logical-date", "2026-11-28T02:00:00Z"]) == 1
    assert capsys.readouterr().out == (
        "task_execution_kwargs.OverrideOptions.LogLevel: '20261128' is not one of the values DataSync takes there "
        "(OFF, BASIC, TRANSFER)\n"
    )


def test_a_misspelt_key_is_suggested_by_validate(tmp_path, capsys):
    (tmp_path / "input.json").write_text(json.dumps({**URIS, "wait_for_completition": False}))
    assert main(["validate", str(tmp_path / "input.json")]) == 1
    assert capsys.readouterr().out == "unknown key 'wait_for_completition' (did you mean wait_for_completion?)\n"


def test_a_run_with_a_value_outside_its_enum_fails_before_anything_is_created_or_started(datasync):
    task = make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
    before = datasync.describe_task(TaskArn=task)["Options"]
    execution = run_local(
        {"task_arn": task, "update_task_kwargs": {"Options": {"VerifyMode": "SOMETIMES"}}, "wait_interval_seconds": 0},
        timeout=60,
    )
    assert (execution.status, execution.error) == ("FAILED", "DataSyncInvalidInputError")
    assert (
        "update_task_kwargs.Options.VerifyMode: 'SOMETIMES' is not one of the values DataSync takes" in execution.cause
    )
    assert datasync.describe_task(TaskArn=task)["Options"] == before
    assert datasync.list_task_executions()["TaskExecutions"] == []
