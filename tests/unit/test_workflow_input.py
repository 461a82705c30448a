import json
import re

import botocore.session
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasync_steps.api_shapes import secret_members
from datasync_steps.deployment import Deployment, ScopeTag
from datasync_steps.errors import MAX_MESSAGE_CHARACTERS, DataSyncInvalidInputError
from datasync_steps.input_checks import input_problems
from datasync_steps.input_parsing import parse_workflow_input
from datasync_steps.limits import MAX_INPUT_BYTES, MAX_ITERATIONS, delay_before_retry, longest_retry_delay
from tests.conftest import BUCKET_ROLE_ARN, SECRET_ROLE_ARN, s3_kwargs, smb_kwargs

TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
URIS = {"source_location_uri": "smb://hostname/directory/", "destination_location_uri": "s3://mybucket/prefix"}


def invalid(raw, deployment=None) -> str:
    with pytest.raises(DataSyncInvalidInputError) as raised:
        parse_workflow_input(raw, deployment)
    return str(raised.value)


def test_defaults_are_the_operators():
    config = parse_workflow_input({"task_arn": TASK_ARN})
    assert config.model_dump() == {
        "task_arn": TASK_ARN,
        "source_location_uri": None,
        "destination_location_uri": None,
        "create_task_kwargs": {},
        "create_source_location_kwargs": {},
        "create_destination_location_kwargs": {},
        "update_task_kwargs": {},
        "task_execution_kwargs": {},
        "delete_task_after_execution": False,
        "allow_random_task_choice": False,
        "allow_random_location_choice": False,
        "wait_for_completion": True,
        "wait_interval_seconds": 30,
        "max_iterations": 60,
        "if_task_running": "queue",
        # BaseOperator's: no label, no timeout, no retries; Airflow's default retry_delay is 300 s.
        "task_id": None,
        "aws_conn_id": None,
        "region_name": None,
        "execution_timeout": None,
        "retries": 0,
        "retry_delay": 300,
        "retry_exponential_backoff": False,
        "max_retry_delay": None,
        # The run's dates for templated fields: by default, the execution's start.
        "logical_date": None,
        "data_interval_start": None,
        "data_interval_end": None,
        "schedule": None,
    }


def test_base_operator_keys_keep_airflows_meaning_and_json_types():
    config = parse_workflow_input(
        {
            "task_arn": TASK_ARN,
            "task_id": "sync_nightly.v2",
            "aws_conn_id": "aws_default",
            "execution_timeout": 3600,
            "retries": 3,
            "retry_delay": 1.5,
            "retry_exponential_backoff": True,
            "max_retry_delay": 600,
        }
    )
    assert (config.task_id, config.tries, config.execution_timeout, config.retry_delay) == (
        "sync_nightly.v2",
        4,
        3600,
        1.5,
    )
    problems = input_problems(
        {
            "task_arn": TASK_ARN,
            "task_id": "has space",
            "execution_timeout": 0,
            "retries": -1,
            "retry_delay": "300",
            "retry_exponential_backoff": 1,
            "region_name": 5,
        }
    )
    assert [p.split(":")[0] for p in problems] == [
        "task_id",
        "region_name",
        "execution_timeout",
        "retries",
        "retry_delay",
        "retry_exponential_backoff",
    ]


def test_region_name_must_be_the_deployments_region_or_one_of_its_regions():
    deployment = Deployment(region="us-east-1")
    assert (
        parse_workflow_input({"task_arn": TASK_ARN, "region_name": "us-east-1"}, deployment).region_name == "us-east-1"
    )
    listed = deployment.model_copy(update={"regions": ["eu-west-1"]})
    assert parse_workflow_input({"task_arn": TASK_ARN, "region_name": "eu-west-1"}, listed).region_name == "eu-west-1"
    with pytest.raises(
        DataSyncInvalidInputError,
        match="region_name: 'eu-west-1' is not a region this deployment acts in; it acts in us-east-1 ",
    ):
        parse_workflow_input({"task_arn": TASK_ARN, "region_name": "eu-west-1"}, deployment)
    # Offline, where the region is not known, any is let through to be checked when the run starts.
    assert input_problems({"task_arn": TASK_ARN, "region_name": "eu-west-1"}) == []


def test_retries_must_fit_in_one_executions_history():
    # 60 checks of 13 events and 1,000 for the rest: 1,780 events a try, 14 tries in 25,000.
    assert input_problems({"task_arn": TASK_ARN, "retries": 13}) == []
    (problem,) = input_problems({"task_arn": TASK_ARN, "retries": 14})
    assert problem.startswith("retries: at most 13 with max_iterations=60")
    (problem,) = input_problems({"task_arn": TASK_ARN, "retries": 10**12})
    assert problem.startswith("retries: at most 13")


def test_retries_and_their_delays_must_fit_in_a_year():
    day = 86_400
    fits = {"task_arn": TASK_ARN, "retries": 2, "retry_delay": 100 * day, "max_iterations": 1}
    assert input_problems(fits) == []
    (problem,) = input_problems({**fits, "retry_delay": 200 * day})
    assert (
        problem.startswith("retries: 2 tries after the first") and "longer than a Step Functions execution" in problem
    )
    # An execution_timeout bounds each try: 4 tries of at most a day's checks, where max_iterations alone allow 100.
    long_checks = {
        "task_arn": TASK_ARN,
        "retries": 3,
        "retry_delay": 0,
        "wait_interval_seconds": 43_200,
        "max_iterations": 100,
    }
    assert input_problems(long_checks) != []
    assert input_problems({**long_checks, "execution_timeout": day}) == []


def test_exponential_backoff_doubles_the_delay_as_airflow_does():
    base = {"task_arn": TASK_ARN, "retries": 5, "retry_delay": 10}
    plain = parse_workflow_input(base)
    assert [delay_before_retry(plain, n, "run") for n in (1, 2, 3)] == [10, 10, 10]
    backoff = parse_workflow_input({**base, "retry_exponential_backoff": True})
    delays = [delay_before_retry(backoff, n, "run") for n in (1, 2, 3, 4)]
    # Between retry_delay * 2 ** (n - 1) and twice that, the same for the same run and try.
    assert all(10 * 2 ** (n - 1) <= d < 20 * 2 ** (n - 1) for n, d in zip((1, 2, 3, 4), delays, strict=True))
    assert delays == [delay_before_retry(backoff, n, "run") for n in (1, 2, 3, 4)]
    assert [longest_retry_delay(backoff, n) for n in (1, 4)] == [19, 159]
    capped = parse_workflow_input({**base, "retry_exponential_backoff": True, "max_retry_delay": 30})
    assert [delay_before_retry(capped, n, "run") for n in (3, 4)] == [30, 30]
    # Airflow caps only an exponential backoff.
    assert delay_before_retry(parse_workflow_input({**base, "max_retry_delay": 5}), 1, "run") == 10


def test_airflow_none_kwargs_mean_empty():
    config = parse_workflow_input({**URIS, "create_task_kwargs": None, "update_task_kwargs": None})
    assert config.create_task_kwargs == {} and config.update_task_kwargs == {}


def test_a_task_must_be_named():
    assert "give task_arn, or both source_location_uri and destination_location_uri" in invalid(
        {"source_location_uri": "s3://b/p"}
    )


def test_every_bad_field_is_reported_at_once():
    cause = invalid(
        {
            "task_arn": "my_aws_datasync_task_arn",
            "wait_interval_seconds": 86_401,
            "max_iterations": 0,
            "wait_for_completion": "yes",
            "allow_random_task_choice": 1,
            "taskArn": TASK_ARN,
        }
    )
    for expected in (
        "task_arn: must be a DataSync task ARN",
        "'my_aws_datasync_task_arn'",
        "wait_interval_seconds: Input should be less than or equal to 86400 (got 86401)",
        "max_iterations: Input should be greater than or equal to 1 (got 0)",
        "wait_for_completion: Input should be a valid boolean (got 'yes')",
        "allow_random_task_choice: Input should be a valid boolean (got 1)",
        "unknown key 'taskArn' (did you mean task_arn?)",
    ):
        assert expected in cause


def test_more_checks_than_the_execution_history_holds_are_refused_naming_the_largest_allowed():
    assert MAX_ITERATIONS == (25_000 - 1_000) // 13 == 1846
    parse_workflow_input({"task_arn": TASK_ARN, "max_iterations": MAX_ITERATIONS, "wait_interval_seconds": 60})
    cause = invalid({"task_arn": TASK_ARN, "max_iterations": MAX_ITERATIONS + 1, "wait_interval_seconds": 60})
    assert "max_iterations: at most 1,846: more status checks could fill Step Functions' 25,000-event" in cause
    assert "(got 1847)" in cause


def test_the_checks_may_wait_a_year_less_the_hour_set_aside_for_the_rest_of_the_run():
    # 461 checks 2 x 34,200 s apart wait exactly 365 days less 3,600 s.
    parse_workflow_input({"task_arn": TASK_ARN, "max_iterations": 461, "wait_interval_seconds": 34_200})
    cause = invalid({"task_arn": TASK_ARN, "max_iterations": 461, "wait_interval_seconds": 34_201})
    assert "the checks could wait 31,533,322 s, longer than a Step Functions execution can run" in cause
    assert "less 3,600 s to set up" in cause


def test_checks_that_could_outlast_a_year_are_refused():
    # Twice the interval between checks, as Airflow's hook: with a day's interval, 182 checks fit in a year.
    a_day = 86_400
    parse_workflow_input({"task_arn": TASK_ARN, "max_iterations": 182, "wait_interval_seconds": a_day})
    cause = invalid({"task_arn": TASK_ARN, "max_iterations": 183, "wait_interval_seconds": a_day})
    assert "max_iterations times twice wait_interval_seconds: the checks could wait 31,622,400 s" in cause
    # Without waiting there are no checks.
    parse_workflow_input(
        {"task_arn": TASK_ARN, "max_iterations": 365, "wait_interval_seconds": a_day, "wait_for_completion": False}
    )


def test_execution_tags_leave_room_for_the_workflows_own():
    # 50 a resource, less the workflow's own and the one the clean-up may add to an execution it cancels.
    tags = [{"Key": f"k{number}", "Value": "v"} for number in range(48)]
    parse_workflow_input({"task_arn": TASK_ARN, "task_execution_kwargs": {"Tags": tags}})
    too_many = {"task_arn": TASK_ARN, "task_execution_kwargs": {"Tags": [*tags, {"Key": "k48", "Value": "v"}]}}
    assert (
        "task_execution_kwargs.Tags: at most 48, none with the key datasync-workflow:execution or "
        "datasync-workflow:cancelled-when-stopped: the workflow sets those"
    ) in invalid(too_many)
    ours = {"Tags": [{"Key": "datasync-workflow:execution", "Value": "mine"}]}
    assert "datasync-workflow:execution" in invalid({"task_arn": TASK_ARN, "task_execution_kwargs": ours})


def test_numbers_are_not_taken_from_strings():
    assert "wait_interval_seconds: Input should be a valid integer (got '30')" in invalid(
        {"task_arn": TASK_ARN, "wait_interval_seconds": "30"}
    )


def test_unknown_schemes_are_refused_naming_the_field():
    cause = invalid({**URIS, "destination_location_uri": "gs://bucket/prefix"})
    assert "destination_location_uri: 'gs://bucket/prefix' has the scheme 'gs'" in cause


def test_input_must_be_an_object():
    assert "must be a JSON object" in invalid(["task_arn"])


@pytest.mark.parametrize(
    ("field", "kwargs", "expected"),
    [
        ("create_task_kwargs", {"SourceLocationArn": "x"}, "create_task_kwargs: must not set SourceLocationArn"),
        ("create_task_kwargs", {"Nmae": "x"}, 'create_task_kwargs: Unknown parameter in input: "Nmae"'),
        ("update_task_kwargs", {"TaskArn": TASK_ARN}, "update_task_kwargs: must not set TaskArn"),
        (
            "update_task_kwargs",
            {"Options": {"VerifyMode": 1}},
            "update_task_kwargs: Invalid type for parameter Options.VerifyMode",
        ),
        (
            "task_execution_kwargs",
            {"OverrideOptions": {"BytesPerSecond": "fast"}},
            "task_execution_kwargs: Invalid type for parameter OverrideOptions.BytesPerSecond",
        ),
        (
            "create_destination_location_kwargs",
            {"S3BucketArn": "arn:aws:s3:::mybucket"},
            'create_destination_location_kwargs: Missing required parameter in input: "S3Config" '
            "(checked as CreateLocationS3 input)",
        ),
        (
            "create_source_location_kwargs",
            {"ServerHostname": "hostname"},
            "(checked as CreateLocationSmb input)",
        ),
    ],
)
def test_kwargs_are_checked_against_the_datasync_api(field, kwargs, expected):
    assert expected in invalid({**URIS, field: kwargs})


def test_valid_kwargs_pass():
    config = parse_workflow_input(
        {
            **URIS,
            "create_task_kwargs": {"Name": "n", "Options": {"VerifyMode": "ONLY_FILES_TRANSFERRED"}},
            "create_source_location_kwargs": smb_kwargs(),
            "create_destination_location_kwargs": s3_kwargs(),
            "update_task_kwargs": {"Name": "m"},
            "task_execution_kwargs": {"OverrideOptions": {"BytesPerSecond": 1048576}},
        }
    )
    assert config.create_destination_location_kwargs == s3_kwargs()


def test_deleting_a_task_that_is_not_waited_for_is_refused():
    assert "delete_task_after_execution needs wait_for_completion" in invalid(
        {"task_arn": TASK_ARN, "delete_task_after_execution": True, "wait_for_completion": False}
    )


def test_the_key_a_parent_state_machine_adds_is_accepted_and_dropped():
    parent = "arn:aws:states:us-east-1:111122223333:execution:parent:run-1"
    config = parse_workflow_input({"task_arn": TASK_ARN, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": parent})
    assert "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID" not in config.model_dump()


def test_a_role_the_deployment_may_not_pass_is_refused_naming_where_it_is_and_the_setting():
    allowed = "arn:aws:iam::111122223333:role/allowed"
    raw = {
        **URIS,
        "create_task_kwargs": {"Name": "t"},
        "create_source_location_kwargs": smb_kwargs(),
        "create_destination_location_kwargs": s3_kwargs(),
        "task_execution_kwargs": {
            "TaskReportConfig": {
                "Destination": {"S3": {"S3BucketArn": "arn:aws:s3:::reports", "BucketAccessRoleArn": allowed}}
            }
        },
    }
    cause = invalid(raw, Deployment(passable_role_arns=[allowed]))
    assert (
        "create_destination_location_kwargs.S3Config.BucketAccessRoleArn: this deployment may not pass the role "
        "'arn:aws:iam::111122223333:role/bucket-access' to DataSync; add it to the stack's passable_role_arns setting"
    ) in cause
    # The role DataSync reads a location's secret with is passed to DataSync too.
    secret_role = "create_source_location_kwargs.CustomSecretConfig.SecretAccessRoleArn"
    assert f"{secret_role}: this deployment may not pass the role '{SECRET_ROLE_ARN}'" in cause
    assert "TaskReportConfig" not in cause
    passable = [allowed, BUCKET_ROLE_ARN, SECRET_ROLE_ARN]
    parse_workflow_input(raw, Deployment(passable_role_arns=passable))
    parse_workflow_input(raw)  # no list: a local run, where every role passes


# Secrets, sizes and what a message echoes.

SECRET = "hunter2-not-a-real-password"
FSX_ARN = "arn:aws:fsx:us-east-1:111122223333:file-system/fs-0123456789abcdef0"
SVM_ARN = "arn:aws:fsx:us-east-1:111122223333:storage-virtual-machine/fs-0123456789abcdef0/svm-0123456789abcdef0"
SG_ARN = "arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0"
AGENTS = ["arn:aws:datasync:us-east-1:111122223333:agent/agent-0123456789abcdef0"]


def test_the_secret_members_are_those_datasyncs_api_marks_sensitive_and_the_kerberos_keytab():
    assert secret_members() == {
        ("Password",),
        ("Protocol", "SMB", "Password"),
        ("SecretKey",),
        ("SasConfiguration", "Token"),
        ("KerberosKeytab",),
    }


@pytest.mark.parametrize(
    ("uri", "kwargs", "where"),
    [
        (
            "smb://hostname/share",
            {
                "ServerHostname": "hostname",
                "Subdirectory": "/share",
                "User": "u",
                "Password": SECRET,
                "AgentArns": AGENTS,
            },
            "Password",
        ),
        (
            "smb://hostname/share",
            {
                "ServerHostname": "hostname",
                "Subdirectory": "/share",
                "AuthenticationType": "KERBEROS",
                "KerberosPrincipal": "u@EXAMPLE.COM",
                "KerberosKeytab": SECRET,
                "AgentArns": AGENTS,
            },
            "KerberosKeytab",
        ),
        (
            "fsxw://us-east-1.fs-0123456789abcdef0/share",
            {"FsxFilesystemArn": FSX_ARN, "SecurityGroupArns": [SG_ARN], "User": "u", "Password": SECRET},
            "Password",
        ),
        (
            "fsxn-smb://us-east-1.fs-0123456789abcdef0/vol1",
            {
                "StorageVirtualMachineArn": SVM_ARN,
                "SecurityGroupArns": [SG_ARN],
                "Protocol": {"SMB": {"User": "u", "Password": SECRET}},
            },
            "Protocol.SMB.Password",
        ),
        (
            "object-storage://storage.example.com/bucket",
            {
                "ServerHostname": "storage.example.com",
                "BucketName": "bucket",
                "AccessKey": "AKIDEXAMPLE",
                "SecretKey": SECRET,
                "AgentArns": AGENTS,
            },
            "SecretKey",
        ),
        (
            "azure-blob://account.blob.core.windows.net/container",
            {
                "ContainerUrl": "https://account.blob.core.windows.net/container",
                "AuthenticationType": "SAS",
                "SasConfiguration": {"Token": SECRET},
            },
            "SasConfiguration.Token",
        ),
        (
            "hdfs://namenode:8020/data",
            {
                "NameNodes": [{"Hostname": "namenode", "Port": 8020}],
                "AuthenticationType": "KERBEROS",
                "KerberosPrincipal": "u@EXAMPLE.COM",
                "KerberosKeytab": SECRET,
                "AgentArns": AGENTS,
            },
            "KerberosKeytab",
        ),
    ],
)
def test_a_plaintext_secret_is_refused_naming_the_field_and_never_its_value(uri, kwargs, where):
    raw = {
        **URIS,
        "source_location_uri": uri,
        "create_task_kwargs": {"Name": "t"},
        "create_source_location_kwargs": kwargs,
    }
    cause = invalid(raw)
    assert f"create_source_location_kwargs.{where}: a plaintext secret in the execution input" in cause
    assert "CustomSecretConfig" in cause and "allow_secrets_in_input" in cause
    assert SECRET not in cause
    # A deployment that opts in takes it.
    assert parse_workflow_input(raw, Deployment(allow_secrets_in_input=True)).create_source_location_kwargs == kwargs


def test_a_secret_is_refused_wherever_it_is_even_where_the_run_would_not_use_it():
    # With task_arn no location is created, but the password would still sit in the execution's input.
    cause = invalid({"task_arn": TASK_ARN, "create_destination_location_kwargs": {"Password": SECRET}})
    assert "create_destination_location_kwargs.Password: a plaintext secret" in cause and SECRET not in cause


def test_a_bad_secret_value_is_named_but_not_echoed_even_when_secrets_are_allowed():
    kwargs = {**smb_kwargs(), "Password": 31337}
    del kwargs["CustomSecretConfig"]
    cause = invalid({**URIS, "create_source_location_kwargs": kwargs}, Deployment(allow_secrets_in_input=True))
    assert "Invalid type for parameter Password, value: (a secret: not shown), type: int" in cause
    assert "31337" not in cause


@pytest.mark.parametrize(
    "uri",
    [f"smb://admin:{SECRET}@hostname/share", f"smb:/admin:{SECRET}@hostname/share", f"admin:{SECRET}@hostname/x"],
)
def test_credentials_inside_a_uri_are_refused_without_echoing_them(uri):
    cause = invalid({**URIS, "source_location_uri": uri})
    assert "source_location_uri: holds credentials before the host (user:password@host)" in cause
    assert SECRET not in cause and "admin" not in cause
    # An @ in a path is a path.
    parse_workflow_input({**URIS, "destination_location_uri": "s3://mybucket/mail@2026"})


def test_credentials_inside_a_uri_are_refused_whatever_the_deployment_allows():
    # Whatever the deployment allows: a stored LocationUri never holds them, so it could never match.
    assert SECRET not in invalid(
        {**URIS, "source_location_uri": f"gs://admin:{SECRET}@hostname/share"}, Deployment(allow_secrets_in_input=True)
    )


def test_a_uri_with_credentials_is_refused_before_its_templates_render_and_never_quoted():
    templated = f"smb://admin:{SECRET}{{{{ var.value.x }}}}@hostname/share/{{{{ ds }}}}"
    cause = invalid({**URIS, "source_location_uri": templated})
    assert "source_location_uri: holds credentials before the host (user:password@host)" in cause
    assert SECRET not in cause and "admin" not in cause and "var" not in cause


@pytest.mark.parametrize("field", ["create_task_kwargs", "update_task_kwargs"])
def test_datasyncs_own_task_schedule_is_refused_unless_the_deployment_allows_it(field):
    raw = {
        **URIS,
        "create_task_kwargs": {"Name": "nightly"},
        field: {"Schedule": {"ScheduleExpression": "rate(1 hour)"}},
    }
    cause = invalid(raw)
    assert f"{field}.Schedule: DataSync's own schedule would keep starting the task" in cause
    assert "allow_task_schedule" in cause
    assert getattr(parse_workflow_input(raw, Deployment(allow_task_schedule=True)), field)["Schedule"]


def test_the_task_schedule_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("ALLOW_TASK_SCHEDULE", raising=False)
    assert Deployment.from_environment().allow_task_schedule is False
    monkeypatch.setenv("ALLOW_TASK_SCHEDULE", "TRUE")
    assert Deployment.from_environment().allow_task_schedule is True
    assert Deployment.from_environment().environment()["ALLOW_TASK_SCHEDULE"] == "true"
    monkeypatch.setenv("ALLOW_TASK_SCHEDULE", "1")
    with pytest.raises(ValueError, match=r"^ALLOW_TASK_SCHEDULE is '1': give true or false$"):
        Deployment.from_environment()


def test_a_uri_longer_than_datasync_allows_is_refused():
    cause = invalid({**URIS, "destination_location_uri": "s3://bucket/" + "p" * 5_000})
    assert "destination_location_uri: 5,012 characters; a DataSync location URI has at most 4,360" in cause


def test_an_input_over_256_kib_is_refused_naming_the_limit_without_echoing_it():
    raw = {
        "task_arn": TASK_ARN,
        "task_execution_kwargs": {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/a" * 140_000}]},
    }
    cause = invalid(raw)
    assert "the execution input is 280,1" in cause and "Step Functions takes at most 262,144 (256 KiB)" in cause
    assert len(cause) < 300
    assert input_problems(raw) == [cause.removeprefix("Invalid workflow input: ").removesuffix(".")]
    # Up to the limit is fine.
    raw["task_execution_kwargs"]["Includes"][0]["Value"] = "/a" * 100_000
    parse_workflow_input(raw)


@pytest.mark.parametrize("character", ["a", "é"])  # é is 2 bytes of UTF-8, as Step Functions counts
def test_the_limit_is_exactly_step_functions_262_144_bytes_of_utf_8(character):
    raw = {"task_arn": TASK_ARN, "task_execution_kwargs": {"Name": ""}}
    room = MAX_INPUT_BYTES - len(json.dumps(raw, separators=(",", ":")).encode())
    size = len(character.encode())
    raw["task_execution_kwargs"]["Name"] = character * (room // size) + "a" * (room % size)
    assert len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode()) == MAX_INPUT_BYTES
    assert not any("Step Functions takes at most" in problem for problem in input_problems(raw))
    raw["task_execution_kwargs"]["Name"] += character
    assert "Step Functions takes at most 262,144" in invalid(raw)


def test_many_unknown_keys_are_listed_once_with_the_keys_there_are():
    cause = invalid({"task_arn": TASK_ARN, **{f"unknown_{n}": n for n in range(500)}})
    assert cause.count("the keys are") == 1 and "'unknown_0', 'unknown_1'" in cause and "and 480 more" in cause
    assert len(json.dumps(cause)) < 32_768


def test_echoed_values_are_shortened_and_their_control_characters_escaped():
    cause = invalid({"task_arn": TASK_ARN, "wait_interval_seconds": "9" * 50_000, "wait_for_completion": "\x1b[2J"})
    assert "characters)" in cause and len(cause) < 1_000
    assert "\x1b" not in cause and "'\\x1b[2J'" in cause


def test_a_message_is_cut_to_fit_a_cause_even_when_json_escapes_swell_it():
    for text in ("x" * 100_000, "é" * 100_000, "\x00" * 100_000):
        message = str(DataSyncInvalidInputError(text))
        assert len(json.dumps(message)) <= MAX_MESSAGE_CHARACTERS
        assert message.endswith("(cut: 100,000 characters in all)")
    assert str(DataSyncInvalidInputError("short")) == "short"


def test_a_deployments_scope_tag_is_reserved_and_takes_room_among_the_tags():
    scoped = Deployment(scope_tag=ScopeTag(key="team", value="finance"))
    tags = [{"Key": f"k{number}", "Value": "v"} for number in range(47)]
    parse_workflow_input({"task_arn": TASK_ARN, "task_execution_kwargs": {"Tags": tags}}, scoped)
    over = {"task_arn": TASK_ARN, "task_execution_kwargs": {"Tags": [*tags, {"Key": "k47", "Value": "v"}]}}
    assert "task_execution_kwargs.Tags: at most 47, none with the key" in invalid(over, scoped)
    theirs = {"task_arn": TASK_ARN, "create_task_kwargs": {"Tags": [{"Key": "team", "Value": "payroll"}]}}
    assert "create_task_kwargs.Tags: at most 47, none with the key datasync-workflow:execution or " in invalid(
        theirs, scoped
    )
    assert "or team: the workflow sets those" in invalid(theirs, scoped)
    # The clean-up's tag is the workflow's too.
    cancelled = {"Tags": [{"Key": "datasync-workflow:cancelled-when-stopped", "Value": "x"}]}
    assert "cancelled-when-stopped" in invalid({"task_arn": TASK_ARN, "task_execution_kwargs": cancelled})


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SCOPE_TAG": "team"}, "SCOPE_TAG 'team': give KEY=VALUE"),
        ({"SCOPE_TAG": '{"key": "aws:x", "value": "v"}'}, 'SCOPE_TAG \'{"key": "aws:x", "value": "v"}\': key:'),
        ({"ALLOW_SECRETS_IN_INPUT": "yes"}, "ALLOW_SECRETS_IN_INPUT is 'yes': give true or false"),
        ({"PASSABLE_ROLE_ARNS": "arn:aws:iam::1:role/r"}, "PASSABLE_ROLE_ARNS:"),
    ],
)
def test_deployment_settings_not_as_documented_are_named(monkeypatch, variables, message):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=re.escape(message)):
        Deployment.from_environment()


def test_a_scope_tag_may_be_written_as_the_stack_writes_it_or_as_a_person_would(monkeypatch):
    for written in ('{"key": "team", "value": "finance"}', "team=finance"):
        monkeypatch.setenv("SCOPE_TAG", written)
        assert Deployment.from_environment().scope_tag == ScopeTag(key="team", value="finance")


def test_a_scope_tag_takes_what_datasyncs_tagkey_and_tagvalue_take():
    """ScopeTag states DataSync's tag shapes as a pattern with length bounds, as botocore's model of DataSync does; at
    each edge it takes what the shapes take (an empty value too: the value's shape has min 0)."""
    shapes = botocore.session.get_session().get_service_model("datasync").shape_for("TagListEntry").members

    def taken_by(shape: botocore.model.Shape, text: str) -> bool:
        bounds = shape.metadata
        return bounds["min"] <= len(text) <= bounds["max"] and (not text or re.fullmatch(bounds["pattern"], text))

    def taken(key: str, value: str) -> bool:
        try:
            return ScopeTag(key=key, value=value) is not None
        except ValueError:
            return False

    for key in ("", "k", "k" * 256, "k" * 257, "a b\tc", "a;b", "a@b", "é", "x\n"):
        assert taken(key, "v") == bool(taken_by(shapes["Key"], key)), key
    for value in ("", "v", "v" * 256, "v" * 257, "a@b", "a;b", "é", "x\n"):
        assert taken("team", value) == bool(taken_by(shapes["Value"], value)), value


# Unknown keys: the closest known one is suggested; the keys there are are listed when a key is close to none.


def test_a_misspelt_key_is_named_with_the_key_it_is_closest_to():
    cause = invalid({"task_arn": TASK_ARN, "wait_interval": 5, "Retries": 1})
    assert (
        "unknown keys 'wait_interval' (did you mean wait_interval_seconds?), 'Retries' (did you mean retries?)"
    ) in cause
    assert "the keys are" not in cause  # each has its suggestion instead of the list of all 27


def test_a_key_close_to_none_is_listed_with_the_keys_there_are():
    cause = invalid({"task_arn": TASK_ARN, "colour": "blue", "taskArn": TASK_ARN})
    assert (
        "unknown keys 'colour', 'taskArn' (did you mean task_arn?) (the keys are task_arn, source_location_uri,"
        in cause
    )


def test_a_misspelt_member_of_a_kwargs_is_named_with_the_member_it_is_closest_to():
    cause = invalid({"task_arn": TASK_ARN, "update_task_kwargs": {"Options": {"VerifyMod": "NONE"}}})
    assert (
        'Unknown parameter in Options: "VerifyMod" (did you mean "VerifyMode"?), must be one of: VerifyMode,' in cause
    )


# Enums: a string member whose shape in DataSync's API model has an enum takes only the model's values.
OPTIONS_SHAPE = botocore.session.get_session().get_service_model("datasync").shape_for("Options")
OPTION_ENUMS = {name: list(shape.enum) for name, shape in OPTIONS_SHAPE.members.items() if getattr(shape, "enum", [])}


def test_a_value_outside_an_enum_is_refused_naming_its_path_and_the_values_there_are():
    cause = invalid({**URIS, "create_task_kwargs": {"Options": {"VerifyMode": "SOMETIMES"}}})
    assert "create_task_kwargs.Options.VerifyMode: 'SOMETIMES' is not one of the values DataSync takes there (" in cause
    listed = cause.split("DataSync takes there (")[1].split(")")[0].split(", ")
    assert sorted(listed) == sorted(["ONLY_FILES_TRANSFERRED", "POINT_IN_TIME_CONSISTENT", "NONE"])


@pytest.mark.parametrize(
    ("kwargs", "where", "allowed"),
    [
        (
            {"update_task_kwargs": {"Options": {"TransferMode": "EVERYTHING"}}},
            "update_task_kwargs.Options.TransferMode: 'EVERYTHING'",
            "CHANGED, ALL",
        ),
        (
            {
                "task_execution_kwargs": {
                    "Includes": [
                        {"FilterType": "SIMPLE_PATTERN", "Value": "/a"},
                        {"FilterType": "REGEX", "Value": "/b"},
                    ]
                }
            },
            "task_execution_kwargs.Includes[1].FilterType: 'REGEX'",
            "SIMPLE_PATTERN",
        ),
        (
            {"task_execution_kwargs": {"OverrideOptions": {"LogLevel": "LOUD"}}},
            "task_execution_kwargs.OverrideOptions.LogLevel: 'LOUD'",
            "OFF, BASIC, TRANSFER",
        ),
        ({"create_task_kwargs": {"TaskMode": "FAST"}}, "create_task_kwargs.TaskMode: 'FAST'", "BASIC, ENHANCED"),
        (
            {"create_task_kwargs": {"TaskReportConfig": {"ReportLevel": "ALL"}}},
            "create_task_kwargs.TaskReportConfig.ReportLevel: 'ALL'",
            "ERRORS_ONLY, SUCCESSES_AND_ERRORS",
        ),
        (
            {"create_destination_location_kwargs": {**s3_kwargs(), "S3StorageClass": "COLD"}},
            "create_destination_location_kwargs.S3StorageClass: 'COLD'",
            "STANDARD, STANDARD_IA,",
        ),
        (
            {"create_source_location_kwargs": {**smb_kwargs(), "MountOptions": {"Version": "SMB4"}}},
            "create_source_location_kwargs.MountOptions.Version: 'SMB4'",
            "AUTOMATIC, SMB2, SMB3, SMB1, SMB2_0",
        ),
    ],
)
def test_every_enum_of_the_kwargs_is_checked_wherever_it_is(kwargs, where, allowed):
    cause = invalid({**URIS, **kwargs})
    assert f"{where} is not one of the values DataSync takes there ({allowed}" in cause


def test_a_task_schedules_status_is_checked_too():
    schedule = {"Schedule": {"ScheduleExpression": "rate(1 hour)", "Status": "ON"}}
    problems = input_problems(
        {"task_arn": TASK_ARN, "update_task_kwargs": schedule}, Deployment(allow_task_schedule=True)
    )
    assert problems == [
        "update_task_kwargs.Schedule.Status: 'ON' is not one of the values DataSync takes there (ENABLED, DISABLED)"
    ]


def test_enum_values_are_refused_all_at_once_with_every_other_problem_and_a_close_one_suggested():
    cause = invalid(
        {
            **URIS,
            "max_iterations": 0,
            "create_task_kwargs": {"Options": {"VerifyMode": "SOMETIMES", "TransferMode": "all"}, "Nmae": "x"},
            "task_execution_kwargs": {"OverrideOptions": {"Uid": "ROOT"}},
        }
    )
    for expected in (
        "max_iterations: Input should be greater than or equal to 1",
        'Unknown parameter in input: "Nmae"',
        "create_task_kwargs.Options.VerifyMode: 'SOMETIMES'",
        "create_task_kwargs.Options.TransferMode: 'all' is not one of the values DataSync takes there (CHANGED, ALL); "
        "did you mean ALL?",
        "task_execution_kwargs.OverrideOptions.Uid: 'ROOT'",
    ):
        assert expected in cause


def test_values_the_model_lists_pass():
    config = parse_workflow_input(
        {
            **URIS,
            "create_task_kwargs": {
                "TaskMode": "ENHANCED",
                "Options": {"VerifyMode": "ONLY_FILES_TRANSFERRED", "TransferMode": "ALL", "LogLevel": "TRANSFER"},
                "Excludes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/tmp"}],
            },
            "create_destination_location_kwargs": {**s3_kwargs(), "S3StorageClass": "GLACIER_INSTANT_RETRIEVAL"},
            "task_execution_kwargs": {"OverrideOptions": {"Uid": "NONE", "Gid": "BOTH"}},
        }
    )
    assert config.create_task_kwargs["Options"]["TransferMode"] == "ALL"


def test_an_enum_is_checked_once_its_template_is_rendered_and_not_before():
    templated = {"task_arn": TASK_ARN, "update_task_kwargs": {"Options": {"VerifyMode": "{{ ds }}"}}}
    problems = input_problems({**templated, "logical_date": "2026-11-28T02:00:00Z"})
    assert problems == [
        "update_task_kwargs.Options.VerifyMode: '2026-11-28' is not one of the values DataSync takes there "
        "(POINT_IN_TIME_CONSISTENT, ONLY_FILES_TRANSFERRED, NONE)"
    ]
    # The run's dates are wrong, so nothing is rendered: the date's problem is said, not the template's value.
    problems = input_problems({**templated, "logical_date": "yesterday"})
    assert problems and not any("VerifyMode" in problem for problem in problems), problems


@settings(max_examples=50, deadline=None)
@given(
    option=st.sampled_from(sorted(OPTION_ENUMS)),
    value=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_ab", min_size=1, max_size=30),
)
def test_any_option_value_the_model_lists_passes_and_any_other_is_refused(option, value):
    for allowed in OPTION_ENUMS[option]:
        assert (
            input_problems({"task_arn": TASK_ARN, "task_execution_kwargs": {"OverrideOptions": {option: allowed}}})
            == []
        )
    problems = input_problems({"task_arn": TASK_ARN, "update_task_kwargs": {"Options": {option: value}}})
    if value in OPTION_ENUMS[option]:
        assert problems == []
    else:
        (problem,) = problems
        assert problem.startswith(f"update_task_kwargs.Options.{option}: {value!r} is not one of the values")
        assert f"({', '.join(OPTION_ENUMS[option])})" in problem


def test_a_misspelt_key_is_the_first_problem_before_what_follows_from_it():
    problems = input_problems({"taskArn": "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"})
    assert problems == [
        "unknown key 'taskArn' (did you mean task_arn?)",
        "give task_arn, or both source_location_uri and destination_location_uri",
    ]
