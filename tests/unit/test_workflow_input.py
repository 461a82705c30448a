import pytest

from datasync_steps.errors import DataSyncInvalidInputError
from datasync_steps.workflow_input import MAX_ITERATIONS, parse_workflow_input
from tests.conftest import s3_kwargs, smb_kwargs

TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
URIS = {"source_location_uri": "smb://hostname/directory/", "destination_location_uri": "s3://mybucket/prefix"}


def invalid(raw, passable_roles=None) -> str:
    with pytest.raises(DataSyncInvalidInputError) as raised:
        parse_workflow_input(raw, passable_roles)
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
    }


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
        "taskArn: unknown key",
    ):
        assert expected in cause


def test_more_checks_than_the_execution_history_holds_are_refused_naming_the_largest_allowed():
    assert MAX_ITERATIONS == (25_000 - 1_000) // 13 == 1846
    parse_workflow_input({"task_arn": TASK_ARN, "max_iterations": MAX_ITERATIONS, "wait_interval_seconds": 60})
    cause = invalid({"task_arn": TASK_ARN, "max_iterations": MAX_ITERATIONS + 1, "wait_interval_seconds": 60})
    assert "max_iterations: at most 1,846: more status checks could fill Step Functions' 25,000-event" in cause
    assert "(got 1847)" in cause


def test_checks_that_could_outlast_a_year_are_refused():
    a_day = 86_400
    parse_workflow_input({"task_arn": TASK_ARN, "max_iterations": 364, "wait_interval_seconds": a_day})
    cause = invalid({"task_arn": TASK_ARN, "max_iterations": 365, "wait_interval_seconds": a_day})
    assert "max_iterations times wait_interval_seconds: the checks could wait 31,536,000 s" in cause
    # Without waiting there are no checks.
    parse_workflow_input(
        {"task_arn": TASK_ARN, "max_iterations": 365, "wait_interval_seconds": a_day, "wait_for_completion": False}
    )


def test_execution_tags_leave_room_for_the_workflows_own():
    tags = [{"Key": f"k{number}", "Value": "v"} for number in range(49)]
    parse_workflow_input({"task_arn": TASK_ARN, "task_execution_kwargs": {"Tags": tags}})
    too_many = {"task_arn": TASK_ARN, "task_execution_kwargs": {"Tags": [*tags, {"Key": "k49", "Value": "v"}]}}
    assert "task_execution_kwargs: Tags: at most 49, none with the key datasync-workflow:execution" in invalid(too_many)
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
    cause = invalid(raw, passable_roles=[allowed])
    assert (
        "create_destination_location_kwargs.S3Config.BucketAccessRoleArn: this deployment may not pass the role "
        "arn:aws:iam::111122223333:role/bucket-access to DataSync; add it to the stack's passable_role_arns setting"
    ) in cause
    assert "TaskReportConfig" not in cause
    parse_workflow_input(raw, passable_roles=[allowed, "arn:aws:iam::111122223333:role/bucket-access"])
    parse_workflow_input(raw)  # no list: a local run, where every role passes
