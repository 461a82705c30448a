"""Property tests: whatever JSON a caller starts the workflow with, it ends SUCCEEDED or in one of the errors
the error reference lists, never in a Lambda, Python or States.* error, and an input it refuses changes nothing in
DataSync."""

import boto3
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from datasync_steps.input_model import WorkflowInput
from datasync_workflow.local import EmulatedTransfer, emulated_transfers, run_local
from tests.conftest import REGION, make_s3_location, make_secret, make_smb_location, make_task, s3_kwargs, smb_kwargs

ERRORS = {
    "DataSyncInvalidInputError",
    "DataSyncTaskNotFoundError",
    "DataSyncLocationNotFoundError",
    "DataSyncMultipleTasksError",
    "DataSyncMultipleLocationsError",
    "DataSyncTaskCreationError",
    "DataSyncTaskExecutionFailedError",
    "DataSyncExecutionTimeoutError",
    "DataSyncTaskAlreadyRunningError",
    "DataSyncRequestError",
    "DataSyncTransientError",
}
TASK_ARN = "arn:aws:datasync:us-east-1:123456789012:task/task-00000000000000003"  # the task each example makes

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
plausible = {
    "task_arn": st.sampled_from([TASK_ARN, TASK_ARN.replace("3", "9"), "my-task"]),
    "source_location_uri": st.sampled_from(["smb://hostname/directory/", "smb://other/share", "ftp://host/path"]),
    "destination_location_uri": st.sampled_from(["s3://mybucket/prefix", "s3://elsewhere/x", "s3:/broken"]),
    "create_task_kwargs": st.sampled_from([{}, {"Name": "created"}, {"Nmae": "typo"}]),
    "create_source_location_kwargs": st.sampled_from(
        [{}, smb_kwargs(), {"ServerHostname": 5}, {**smb_kwargs(), "Password": "in plain text"}]
    ),
    "create_destination_location_kwargs": st.sampled_from([{}, s3_kwargs()]),
    "update_task_kwargs": st.sampled_from([{}, {"Name": "updated"}]),
    "task_execution_kwargs": st.sampled_from([{}, {"OverrideOptions": {"LogLevel": "BASIC"}}]),
    "wait_interval_seconds": st.integers(-1, 90_000),
    "max_iterations": st.integers(-1, 2_000),
    "if_task_running": st.sampled_from(["queue", "join", "skip", "fail", "later"]),
}
fields = {name: (plausible.get(name, st.booleans()) | json_values) for name in WorkflowInput.model_fields}
inputs = (
    json_values
    | st.fixed_dictionaries({}, optional={**fields, "colour": json_values})
    # Mostly well formed: these reach DataSync.
    | st.fixed_dictionaries(
        {"task_arn": plausible["task_arn"]},
        optional={
            **{name: values for name, values in plausible.items() if name != "task_arn"},
            "wait_interval_seconds": st.integers(0, 2),
            "max_iterations": st.integers(1, 5),
        },
    )
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(execution_input=inputs)
def test_any_input_ends_in_success_or_a_documented_error_and_a_refused_one_changes_nothing(execution_input):
    with mock_aws():
        make_secret()
        datasync = boto3.client("datasync", region_name=REGION)
        make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))
        before = (datasync.list_locations()["Locations"], datasync.list_tasks()["Tasks"])
        with emulated_transfers(EmulatedTransfer(seconds=0.3)):
            execution = run_local(execution_input, timeout=60)
        assert execution.status == "SUCCEEDED" or execution.error in ERRORS, (execution.error, execution.cause)
        event(execution.status if execution.status == "SUCCEEDED" else execution.error)
        if execution.error == "DataSyncInvalidInputError":
            assert (datasync.list_locations()["Locations"], datasync.list_tasks()["Tasks"]) == before
            assert datasync.list_task_executions()["TaskExecutions"] == []
