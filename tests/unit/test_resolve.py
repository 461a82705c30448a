"""Step 1: validate the input and find the task, against the emulated DataSync."""

import pytest
from botocore.stub import Stubber

from datasync_steps.errors import (
    DataSyncInvalidInputError,
    DataSyncLocationNotFoundError,
    DataSyncMultipleLocationsError,
    DataSyncMultipleTasksError,
    DataSyncTaskNotFoundError,
)
from datasync_steps.lookup import (
    location_created_at,
    matching_location_arns,
    tasks_linking,
    without_racers,
)
from datasync_steps.resolve import resolve
from datasync_steps.resources import workflow_tag
from tests.conftest import make_s3_location, make_smb_location, make_task, s3_kwargs, smb_kwargs

RACER = "arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:racer"
URIS = {"source_location_uri": "smb://hostname/directory/", "destination_location_uri": "s3://mybucket/prefix"}
CREATE_ALL = {
    **URIS,
    "create_task_kwargs": {"Name": "created"},
    "create_source_location_kwargs": smb_kwargs(),
    "create_destination_location_kwargs": s3_kwargs(),
}


def test_a_given_task_arn_runs_that_task(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    task = make_task(datasync, source, destination)
    resolved = resolve(datasync, {"task_arn": task}).model_dump(mode="json")
    # Twice wait_interval_seconds (30 by default) between checks, as the operator waits.
    assert resolved["plan"] == {"route": "run", "update_task": False, "wait_seconds": 60}
    assert resolved["target"]["TaskArn"] == task
    assert resolved["target"]["SourceLocationArn"] == source
    assert resolved["config"]["wait_interval_seconds"] == 30


def test_a_task_arn_that_does_not_exist_is_not_found(datasync):
    missing = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
    with pytest.raises(
        DataSyncTaskNotFoundError, match=f"^DataSync has no task {missing} in this account and region: "
    ):
        resolve(datasync, {"task_arn": missing})


def test_the_one_task_linking_the_uris_is_found(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    other_destination = make_s3_location(datasync, subdirectory="other")
    make_task(datasync, source, other_destination)
    task = make_task(datasync, source, destination)
    resolved = resolve(datasync, {**URIS, "update_task_kwargs": {"Name": "n"}}).model_dump(mode="json")
    assert resolved["target"]["TaskArn"] == task
    assert resolved["plan"] == {"route": "run", "update_task": True, "wait_seconds": 60}


def test_several_matching_tasks_fail_without_random_choice(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    tasks = [make_task(datasync, source, destination) for _ in range(2)]
    with pytest.raises(DataSyncMultipleTasksError) as raised:
        resolve(datasync, URIS)
    assert all(task in str(raised.value) for task in tasks)
    assert "allow_random_task_choice" in str(raised.value)


def test_several_matching_tasks_pick_one_with_random_choice(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    tasks = {make_task(datasync, source, destination) for _ in range(3)}
    chosen = {
        resolve(datasync, {**URIS, "allow_random_task_choice": True}).model_dump(mode="json")["target"]["TaskArn"]
        for _ in range(30)
    }
    assert chosen <= tasks and len(chosen) > 1


def test_no_task_and_no_create_kwargs_is_not_found(datasync):
    make_smb_location(datasync), make_s3_location(datasync)
    with pytest.raises(DataSyncTaskNotFoundError, match="No DataSync task links smb://hostname/directory/ to s3://"):
        resolve(datasync, URIS)


def test_no_task_with_existing_locations_plans_to_create_the_task(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    resolved = resolve(datasync, CREATE_ALL).model_dump(mode="json")
    assert resolved["plan"]["route"] == "create_task"
    assert (resolved["target"]["SourceLocationArn"], resolved["target"]["DestinationLocationArn"]) == (
        source,
        destination,
    )


def test_missing_locations_plan_to_create_them(datasync):
    destination = make_s3_location(datasync)
    resolved = resolve(datasync, CREATE_ALL).model_dump(mode="json")
    assert resolved["plan"]["route"] == "create_locations"
    assert resolved["target"]["SourceLocationArn"] is None
    assert resolved["target"]["DestinationLocationArn"] == destination


def test_a_missing_location_without_kwargs_is_not_found_and_nothing_is_created(datasync):
    with pytest.raises(DataSyncLocationNotFoundError) as raised:
        resolve(datasync, {**CREATE_ALL, "create_destination_location_kwargs": {}})
    assert "destination_location_uri s3://mybucket/prefix" in str(raised.value)
    assert "source" not in str(raised.value)  # the source can be created
    assert datasync.list_locations()["Locations"] == []


def test_several_matching_locations_fail_without_random_choice(datasync):
    make_s3_location(datasync), make_s3_location(datasync)
    with pytest.raises(DataSyncMultipleLocationsError, match="2 DataSync locations match s3://mybucket/prefix"):
        resolve(datasync, CREATE_ALL)
    resolved = resolve(datasync, {**CREATE_ALL, "allow_random_location_choice": True}).model_dump(mode="json")
    assert resolved["target"]["DestinationLocationArn"] is not None


def test_invalid_input_touches_nothing(datasync):
    stubbed = Stubber(datasync)  # no responses added: any DataSync call would fail the test
    with stubbed, pytest.raises(DataSyncInvalidInputError):
        resolve(datasync, {**URIS, "max_iterations": 0})


# Paging and filters, which plain moto ignored, run in the emulated DataSync: more than one page (100) each.


def test_locations_are_read_from_every_page_and_matched_by_the_contracts_rules(datasync):
    other_buckets = [make_s3_location(datasync, bucket=f"bucket{i}") for i in range(120)]
    first = make_s3_location(datasync, subdirectory="prefix/")
    make_s3_location(datasync, subdirectory="Prefix")  # S3 keys are case-sensitive: another place
    make_smb_location(datasync, host="mybucket", subdirectory="prefix")  # another scheme
    assert "NextToken" in datasync.list_locations() and len(other_buckets) == 120
    assert matching_location_arns(datasync, "s3://MyBucket/prefix") == [first]  # the input's host case is ignored


def test_a_share_is_found_whatever_the_case_of_its_host_and_path(datasync):
    others = [make_smb_location(datasync, host=f"host{i}", subdirectory="share") for i in range(150)]
    stored_in_capitals = make_smb_location(datasync, host="HOST5", subdirectory="Share")
    assert matching_location_arns(datasync, "smb://host5/share") == [others[5], stored_in_capitals]


def test_tasks_are_listed_per_source_location_over_every_page_and_checked_end_to_end(datasync):
    source, destination, elsewhere = make_smb_location(datasync), make_s3_location(datasync), make_s3_location(datasync)
    for _ in range(101):
        make_task(datasync, source, elsewhere)
    make_task(datasync, elsewhere, source)  # the LocationId filter also lists tasks with it as destination
    linking = make_task(datasync, source, destination)
    assert list(tasks_linking(datasync, [source], [destination])) == [linking]


def test_finding_a_task_among_a_thousand_takes_a_handful_of_calls(datasync):
    # Each task links its own share to its own prefix; smb://host5/share shares its only caseless run, "5/", with
    # a tenth of the shares and buckets (host15, bucket25, ...), the worst case of this account.
    for i in range(1000):
        make_task(
            datasync,
            make_smb_location(datasync, host=f"host{i}", subdirectory="share"),
            make_s3_location(datasync, bucket=f"bucket{i}", subdirectory="dir"),
            name=f"task{i}",
        )
    calls = []
    datasync.meta.events.register("before-call.datasync", lambda model, **_: calls.append(model.name))
    resolved = resolve(
        datasync, {"source_location_uri": "smb://host5/share", "destination_location_uri": "s3://bucket5/dir"}
    ).model_dump(mode="json")
    assert sorted(calls) == ["DescribeTask", "ListLocations", "ListLocations", "ListLocations", "ListTasks"]
    assert datasync.describe_task(TaskArn=resolved["target"]["TaskArn"])["Name"] == "task5"


def test_the_oldest_match_is_taken_only_when_every_younger_one_is_a_racing_runs(datasync):
    oldest = make_smb_location(datasync)
    a_runs = datasync.create_location_smb(**smb_kwargs(), Tags=[workflow_tag(RACER)])["LocationArn"]
    users_own = make_smb_location(datasync)  # a duplicate someone made by hand
    created_at = location_created_at(datasync, URIS["source_location_uri"])
    assert without_racers(datasync, [oldest, a_runs], created_at) == [oldest]
    assert without_racers(datasync, [oldest, a_runs, users_own], created_at) == [oldest, a_runs, users_own]
