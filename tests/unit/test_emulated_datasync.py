"""The emulated DataSync that run_local and every test use: moto's backend and responses, extended to behave as
the DataSync API reference and user guide describe, called through boto3 as the steps call it."""

import re
import time
from datetime import UTC, datetime, timedelta

import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasync_workflow.local import (
    EmulatedTransfer,
    emulated_datasync,
    emulated_datasync_executions,
    emulated_transfers,
)
from datasync_workflow.local.emulated_datasync_executions import CANCELLING_SECONDS
from tests import fakes
from tests.conftest import (
    make_agent,
    make_s3_location,
    make_smb_location,
    make_task,
    refused,
    s3_kwargs,
    smb_kwargs,
)

QUICK = EmulatedTransfer(seconds=0.5)
ONLY_A = {"Includes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/a"}]}
SUBNET = "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0123456789abcdef0"
GROUP = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123456789abcdef0"


@pytest.fixture
def task(datasync):
    return make_task(datasync, make_smb_location(datasync), make_s3_location(datasync))


def start(datasync, task_arn, transfer=QUICK, **kwargs) -> str:
    with emulated_transfers(transfer):
        return datasync.start_task_execution(TaskArn=task_arn, **kwargs)["TaskExecutionArn"]


def describe(datasync, execution_arn) -> dict:
    return datasync.describe_task_execution(TaskExecutionArn=execution_arn)


def statuses_until_final(execution, timeout=5.0) -> list[str]:
    """The statuses moto's backend object reports, read every 10 ms with no DataSync call in between."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = execution.status
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("SUCCESS", "ERROR"):
            return seen
        time.sleep(0.01)
    raise AssertionError(f"still {seen[-1]} after {timeout} s")


def refusal(call) -> str:
    return refused("InvalidRequestException", call)


def test_an_execution_moves_through_datasyncs_statuses_by_itself(datasync, task):
    # 2 s, so its shortest phase (LAUNCHING, 10 %) lasts 200 ms: enough for a loaded machine's 10 ms reads to see it
    began = time.monotonic()
    execution_arn = start(datasync, task, EmulatedTransfer(seconds=2.0))
    seen = statuses_until_final(fakes.backend().task_executions[execution_arn])
    assert seen == ["LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "SUCCESS"]
    assert 1.9 < time.monotonic() - began < 3.5
    assert datasync.describe_task(TaskArn=task)["Status"] == "AVAILABLE"


def test_a_running_task_says_so_and_names_its_most_recent_execution(datasync, task):
    execution_arn = start(datasync, task)
    described = datasync.describe_task(TaskArn=task)
    assert (described["Status"], described["CurrentTaskExecutionArn"]) == ("RUNNING", execution_arn)
    assert datasync.list_tasks()["Tasks"][0]["Status"] == "RUNNING"
    time.sleep(0.6)
    described = datasync.describe_task(TaskArn=task)
    assert (described["Status"], described["CurrentTaskExecutionArn"]) == ("AVAILABLE", execution_arn)


def test_a_start_with_other_filters_is_queued_until_the_unfinished_one_ends(datasync, task):
    first = start(datasync, task)
    queued = start(datasync, task, **ONLY_A)
    assert describe(datasync, queued)["Status"] == "QUEUED"
    assert "LaunchTime" not in describe(datasync, queued)
    assert statuses_until_final(fakes.backend().task_executions[queued]) == [
        "QUEUED",
        "LAUNCHING",
        "PREPARING",
        "TRANSFERRING",
        "VERIFYING",
        "SUCCESS",
    ]
    first_ended, described = describe(datasync, first)["EndTime"], describe(datasync, queued)
    assert described["StartTime"] < first_ended <= described["LaunchTime"]
    assert described["Includes"] == ONLY_A["Includes"]


def test_a_start_with_the_same_filters_as_an_unfinished_execution_is_refused(datasync, task):
    running = start(datasync, task, **ONLY_A)
    message = refusal(lambda: datasync.start_task_execution(TaskArn=task, **ONLY_A))
    assert running in message and "one execution at a time" in message
    assert list(fakes.backend().task_executions) == [running]


def test_with_task_queueing_disabled_any_second_start_is_refused(datasync, task):
    start(datasync, task)
    refusal(lambda: datasync.start_task_execution(TaskArn=task, OverrideOptions={"TaskQueueing": "DISABLED"}, **ONLY_A))


def test_cancelling_ends_the_execution_in_error_and_frees_the_task(datasync, task):
    execution_arn = start(datasync, task, EmulatedTransfer(seconds=30))
    time.sleep(0.1)
    datasync.cancel_task_execution(TaskExecutionArn=execution_arn)
    assert describe(datasync, execution_arn)["Status"] == "CANCELLING"
    assert "cannot be cancelled in its current status: CANCELLING" in refusal(
        lambda: datasync.cancel_task_execution(TaskExecutionArn=execution_arn)
    )
    time.sleep(CANCELLING_SECONDS)
    described = describe(datasync, execution_arn)
    assert described["Status"] == "ERROR" and "ErrorCode" not in described["Result"]
    assert datasync.describe_task(TaskArn=task)["Status"] == "AVAILABLE"
    assert "ERROR" in refusal(lambda: datasync.cancel_task_execution(TaskExecutionArn=execution_arn))


def test_a_cancelled_queued_execution_never_launches_nor_holds_up_the_next(datasync, task):
    first = start(datasync, task, EmulatedTransfer(seconds=0.3))
    cancelled = start(datasync, task, **ONLY_A)
    after = start(datasync, task, Includes=[{"FilterType": "SIMPLE_PATTERN", "Value": "/b"}])
    datasync.cancel_task_execution(TaskExecutionArn=cancelled)
    assert statuses_until_final(fakes.backend().task_executions[after])[-1] == "SUCCESS"
    assert "LaunchTime" not in describe(datasync, cancelled) and describe(datasync, cancelled)["Status"] == "ERROR"
    assert describe(datasync, after)["LaunchTime"] >= describe(datasync, first)["EndTime"]


def test_an_execution_made_to_fail_ends_in_error_with_the_given_code(datasync, task):
    failing = EmulatedTransfer(seconds=0.5, files=10, error_code="SockTimeout", error_detail="The share went away")
    execution_arn = start(datasync, task, failing)
    assert statuses_until_final(fakes.backend().task_executions[execution_arn])[-1] == "ERROR"
    described = describe(datasync, execution_arn)
    assert described["Result"]["ErrorCode"] == "SockTimeout"
    assert described["Result"]["ErrorDetail"] == "The share went away"
    assert (described["Result"]["PrepareStatus"], described["Result"]["TransferStatus"]) == ("SUCCESS", "ERROR")
    assert described["Result"]["VerifyStatus"] == "PENDING"
    assert 0 < described["FilesTransferred"] < described["EstimatedFilesToTransfer"] == 10


def test_a_finished_description_carries_times_counters_result_and_options(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    task = make_task(datasync, source, destination, Options={"LogLevel": "BASIC"})
    report = {"Destination": {"S3": {"S3BucketArn": "arn:aws:s3:::r", "BucketAccessRoleArn": "arn:aws:iam::1:role/r"}}}
    execution_arn = start(
        datasync,
        task,
        EmulatedTransfer(seconds=0.2, files=7, bytes=4096),
        OverrideOptions={"BytesPerSecond": 1048576},
        TaskReportConfig=report,
    )
    time.sleep(0.3)
    described = describe(datasync, execution_arn)
    assert described["Status"] == "SUCCESS"
    assert described["Options"]["LogLevel"] == "BASIC" and described["Options"]["BytesPerSecond"] == 1048576
    assert described["Options"]["VerifyMode"] == "POINT_IN_TIME_CONSISTENT"  # DataSync's default
    assert described["TaskReportConfig"] == report
    assert described["StartTime"] == described["LaunchTime"] < described["EndTime"]
    counters = ("EstimatedFilesToTransfer", "FilesTransferred", "FilesVerified", "EstimatedBytesToTransfer")
    assert [described[counter] for counter in counters] == [7, 7, 7, 4096]
    assert described["BytesTransferred"] == described["BytesWritten"] == 4096
    result = described["Result"]
    assert {result[f"{phase}Status"] for phase in ("Prepare", "Transfer", "Verify")} == {"SUCCESS"}
    assert 150 <= result["TotalDuration"] <= 260
    assert result["TotalDuration"] >= result["PrepareDuration"] + result["TransferDuration"] + result["VerifyDuration"]


def test_update_task_changes_only_what_it_names(datasync, task):
    datasync.update_task(TaskArn=task, Options={"LogLevel": "TRANSFER"})
    datasync.update_task(TaskArn=task, Options={"BytesPerSecond": 1024})
    described = datasync.describe_task(TaskArn=task)
    assert described["Name"] == "task"
    assert (described["Options"]["LogLevel"], described["Options"]["BytesPerSecond"]) == ("TRANSFER", 1024)


def test_task_executions_are_listed_page_by_page(datasync, task):
    executions = [start(datasync, task, EmulatedTransfer(seconds=0))]
    for _ in range(4):
        time.sleep(0.01)
        executions.append(start(datasync, task, EmulatedTransfer(seconds=0)))
    listed, token = [], None
    while True:
        page = datasync.list_task_executions(TaskArn=task, MaxResults=2, **({"NextToken": token} if token else {}))
        assert len(page["TaskExecutions"]) <= 2
        listed += [(e["TaskExecutionArn"], e["Status"]) for e in page["TaskExecutions"]]
        token = page.get("NextToken")
        if not token:
            break
    assert listed == [(arn, "SUCCESS") for arn in executions]
    assert len(list(datasync.get_paginator("list_task_executions").paginate().search("TaskExecutions"))) == 5


def test_locations_are_filtered_as_datasync_filters_them(datasync):
    s3 = make_s3_location(datasync, bucket="data-archive", subdirectory="2026")
    s3_other = make_s3_location(datasync, bucket="Data-archive")
    smb = make_smb_location(datasync, host="files.example.com", subdirectory="share")

    def listed(*filters) -> list[str]:
        return [loc["LocationArn"] for loc in datasync.list_locations(Filters=list(filters))["Locations"]]

    def uri_filter(operator, *values):
        return {"Name": "LocationUri", "Values": list(values), "Operator": operator}

    assert datasync.describe_location_s3(LocationArn=s3)["LocationUri"] == "s3://data-archive/2026/"
    assert listed(uri_filter("BeginsWith", "s3://data")) == [s3]  # case-sensitive
    assert listed(uri_filter("Equals", "s3://data-archive/2026/")) == [s3]
    assert listed(uri_filter("Equals", "s3://data-archive/2026")) == []
    assert listed(uri_filter("In", "s3://Data-archive/prefix/", "smb://files.example.com/share/")) == [s3_other, smb]
    assert listed(uri_filter("Contains", "example")) == [smb]
    assert listed(uri_filter("NotContains", "archive")) == [smb]
    assert listed({"Name": "LocationType", "Values": ["SMB"], "Operator": "Equals"}) == [smb]
    assert listed({"Name": "LocationType", "Values": ["S3"], "Operator": "NotEquals"}) == [smb]
    assert listed(uri_filter("BeginsWith", "s3://"), uri_filter("Contains", "2026")) == [s3]  # filters combine
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert listed({"Name": "CreationTime", "Values": [later], "Operator": "LessThan"}) == [s3, s3_other, smb]
    assert listed({"Name": "CreationTime", "Values": [later], "Operator": "GreaterThanOrEqual"}) == []
    assert "LocationId" in refusal(lambda: listed({"Name": "LocationId", "Values": [s3], "Operator": "Equals"}))
    assert "LessThan" in refusal(lambda: listed(uri_filter("LessThan", "s3://")))


def test_locations_come_in_pages_of_at_most_a_hundred(datasync):
    created = [make_s3_location(datasync, bucket=f"bucket{number}") for number in range(130)]
    first = datasync.list_locations()
    assert len(first["Locations"]) == 100
    second = datasync.list_locations(NextToken=first["NextToken"])
    assert "NextToken" not in second
    assert [loc["LocationArn"] for loc in first["Locations"] + second["Locations"]] == created
    assert "less than or equal to 100" in refusal(lambda: datasync.list_locations(MaxResults=101))
    refusal(lambda: datasync.list_locations(NextToken="not-a-token"))


def test_tasks_are_filtered_on_their_source_or_destination(datasync):
    a, b, c = make_s3_location(datasync), make_smb_location(datasync), make_s3_location(datasync, bucket="c")
    a_to_b, b_to_c = make_task(datasync, a, b), make_task(datasync, b, c)

    def listed(operator, *values) -> list[str]:
        filters = [{"Name": "LocationId", "Values": list(values), "Operator": operator}]
        return [task["TaskArn"] for task in datasync.list_tasks(Filters=filters)["Tasks"]]

    assert listed("Equals", b) == [a_to_b, b_to_c]
    assert listed("Equals", c) == [b_to_c]
    assert listed("In", a, c) == [a_to_b, b_to_c]
    assert listed("NotEquals", a) == [b_to_c]


def test_tags_are_kept_on_create_and_start_and_changed_by_the_tag_calls(datasync):
    tags = [{"Key": "team", "Value": "data"}]
    location = datasync.create_location_smb(**smb_kwargs(), Tags=tags)["LocationArn"]
    destination = datasync.create_location_s3(**s3_kwargs())["LocationArn"]
    task = make_task(datasync, location, destination, Tags=tags)
    execution_arn = start(datasync, task, Tags=[{"Key": "run", "Value": "nightly"}])

    def tags_of(arn):
        return datasync.list_tags_for_resource(ResourceArn=arn)["Tags"]

    assert tags_of(location) == tags_of(task) == tags and tags_of(destination) == []
    assert tags_of(execution_arn) == [{"Key": "run", "Value": "nightly"}]
    datasync.tag_resource(ResourceArn=task, Tags=[{"Key": "team", "Value": "ops"}, {"Key": "tier", "Value": "1"}])
    assert tags_of(task) == [{"Key": "team", "Value": "ops"}, {"Key": "tier", "Value": "1"}]
    datasync.untag_resource(ResourceArn=task, Keys=["team"])
    assert tags_of(task) == [{"Key": "tier", "Value": "1"}]
    datasync.delete_location(LocationArn=destination)
    refusal(lambda: tags_of(destination))
    fifty_more = [{"Key": f"k{number}", "Value": "v"} for number in range(50)]
    assert "at most 50 tags" in refusal(lambda: datasync.tag_resource(ResourceArn=task, Tags=fifty_more))


def test_a_location_describes_itself_without_its_secrets(datasync):
    with_password = {key: value for key, value in smb_kwargs().items() if key != "CustomSecretConfig"}
    location = datasync.create_location_smb(**with_password, Password="p")["LocationArn"]
    described = datasync.describe_location_smb(LocationArn=location)
    assert described["LocationUri"] == "smb://hostname/directory/"
    assert described["User"] == "u" and "Password" not in described
    assert isinstance(described["CreationTime"], datetime)
    # A secret DataSync reads from Secrets Manager is named, as DescribeLocationSmb names it.
    described = datasync.describe_location_smb(LocationArn=make_smb_location(datasync))
    assert described["CustomSecretConfig"] == smb_kwargs()["CustomSecretConfig"]


def test_a_new_task_is_creating_for_a_moment_and_cannot_start_until_available(datasync, monkeypatch):
    # A longer moment than the emulation's, so that the first looks come within it however slow the machine.
    monkeypatch.setattr(emulated_datasync, "CREATING_SECONDS", 1.0)
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    task = datasync.create_task(SourceLocationArn=source, DestinationLocationArn=destination)["TaskArn"]
    assert datasync.describe_task(TaskArn=task)["Status"] == "CREATING"
    message = refused("InvalidRequestException", lambda: datasync.start_task_execution(TaskArn=task))
    assert message.endswith("its status is CREATING.")
    time.sleep(1.0)
    assert datasync.describe_task(TaskArn=task)["Status"] == "AVAILABLE"
    assert datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]


def test_an_agent_is_activated_with_any_well_formed_key_and_its_tags(datasync):
    payroll = {"Key": "team", "Value": "payroll"}
    agent = datasync.create_agent(ActivationKey="7AGR3-4H9KQ-M2N5P-ZX8CV-L0T6B", AgentName="nas", Tags=[payroll])
    arn = agent["AgentArn"]
    assert re.fullmatch(r"arn:aws:datasync:us-east-1:123456789012:agent/agent-[0-9a-z]{17}", arn)
    described = datasync.describe_agent(AgentArn=arn)
    assert (described["Name"], described["Status"], described["EndpointType"]) == ("nas", "ONLINE", "PUBLIC")
    assert isinstance(described["CreationTime"], datetime)
    assert datasync.list_tags_for_resource(ResourceArn=arn)["Tags"] == [payroll]
    datasync.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "finance"}])
    assert datasync.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "finance"}]
    assert datasync.list_agents()["Agents"] == [{"AgentArn": arn, "Name": "nas", "Status": "ONLINE"}]
    # One activated through a VPC endpoint says so.
    private = {"VpcEndpointId": "vpce-0123456789abcdef0", "SubnetArns": [SUBNET], "SecurityGroupArns": [GROUP]}
    through_vpc = datasync.create_agent(ActivationKey="7AGR3-4H9KQ-M2N5P-ZX8CV-L0T6C", **private)["AgentArn"]
    described = datasync.describe_agent(AgentArn=through_vpc)
    assert (described["EndpointType"], described["PrivateLinkConfig"]) == ("PRIVATE_LINK", private)
    # A key not of the API model's form is refused, as is an agent nobody activated.
    for key in ("7agr3-4h9kq-m2n5p-zx8cv-l0t6b", "7AGR34H9KQM2N5PZX8CVL0T6B"):
        assert "at 'activationKey' failed" in refusal(lambda k=key: datasync.create_agent(ActivationKey=k))
    unknown = "arn:aws:datasync:us-east-1:123456789012:agent/agent-0123456789abcdef0"
    assert "not found" in refusal(lambda: datasync.describe_agent(AgentArn=unknown))


def test_agents_are_listed_page_by_page(datasync):
    agents = [make_agent(datasync) for _ in range(3)]
    first = datasync.list_agents(MaxResults=2)
    second = datasync.list_agents(MaxResults=2, NextToken=first["NextToken"])
    assert [a["AgentArn"] for a in first["Agents"] + second["Agents"]] == agents and "NextToken" not in second


def test_a_task_whose_agent_goes_offline_is_unavailable_and_says_why(datasync):
    agent = make_agent(datasync)
    source = datasync.create_location_smb(**{**smb_kwargs(), "AgentArns": [agent]})["LocationArn"]
    task = make_task(datasync, source, make_s3_location(datasync))
    assert "ErrorCode" not in datasync.describe_task(TaskArn=task)
    fakes.backend().agents[agent].go_offline()
    assert datasync.describe_agent(AgentArn=agent)["Status"] == "OFFLINE"
    described = datasync.describe_task(TaskArn=task)
    assert described["Status"] == "UNAVAILABLE"
    assert described["ErrorCode"] and agent in described["ErrorDetail"]
    message = refused("InvalidRequestException", lambda: datasync.start_task_execution(TaskArn=task))
    assert message.endswith("its status is UNAVAILABLE.")


def test_an_nfs_locations_offline_agent_makes_its_task_unavailable_too(datasync):
    agent = make_agent(datasync)
    nfs = {"ServerHostname": "10.0.0.5", "Subdirectory": "/export", "OnPremConfig": {"AgentArns": [agent]}}
    task = make_task(datasync, make_s3_location(datasync), datasync.create_location_nfs(**nfs)["LocationArn"])
    fakes.backend().agents[agent].go_offline()
    assert datasync.describe_task(TaskArn=task)["Status"] == "UNAVAILABLE"


def test_an_enhanced_execution_counts_files_and_folders_apart_and_failures_by_phase(datasync):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    enhanced = make_task(datasync, source, destination, TaskMode="ENHANCED")
    execution_arn = start(datasync, enhanced, EmulatedTransfer(seconds=0.2, files=7, files_failed=2))
    time.sleep(0.3)
    described = describe(datasync, execution_arn)
    assert (described["TaskMode"], described["Status"]) == ("ENHANCED", "SUCCESS")
    assert described["FilesListed"]["AtSource"] == described["FilesPrepared"] == 7
    assert described["FoldersListed"]["AtSource"] == described["FoldersTransferred"] == 10
    assert described["FilesFailed"] == {"Prepare": 0, "Transfer": 2, "Verify": 0, "Delete": 0}
    basic = make_task(datasync, source, destination)
    described = describe(datasync, start(datasync, basic, EmulatedTransfer(seconds=0.2)))
    assert described["TaskMode"] == "BASIC" and "FilesListed" not in described


def test_a_task_report_is_pending_a_moment_after_the_execution_ends(datasync, task, monkeypatch):
    monkeypatch.setattr(emulated_datasync_executions, "REPORT_SECONDS", 1.0)  # a moment however slow the machine
    report = {"Destination": {"S3": {"S3BucketArn": "arn:aws:s3:::r", "BucketAccessRoleArn": "arn:aws:iam::1:role/r"}}}
    execution_arn = start(datasync, task, EmulatedTransfer(seconds=0.2), TaskReportConfig=report)
    time.sleep(0.3)
    described = describe(datasync, execution_arn)
    assert (described["Status"], described["ReportResult"]) == ("SUCCESS", {"Status": "PENDING"})
    time.sleep(1.0)
    assert describe(datasync, execution_arn)["ReportResult"] == {"Status": "SUCCESS"}
    failing = start(datasync, task, EmulatedTransfer(seconds=0.1, report_error="AccessDenied"), TaskReportConfig=report)
    time.sleep(0.2 + 1.0)
    assert describe(datasync, failing)["ReportResult"]["ErrorCode"] == "AccessDenied"
    # Without a report configured, there is no result.
    assert "ReportResult" not in describe(datasync, start(datasync, task, EmulatedTransfer(seconds=0.1)))


# Enums: DataSync validates every request against its API model, botocore sends any string.
OPTIONS_SHAPE = botocore.session.get_session().get_service_model("datasync").shape_for("Options")
OPTION_ENUMS = {name: list(shape.enum) for name, shape in OPTIONS_SHAPE.members.items() if getattr(shape, "enum", [])}


def test_a_value_outside_the_api_models_enum_is_refused_as_datasync_refuses_it(datasync, task):
    message = refusal(lambda: datasync.update_task(TaskArn=task, Options={"VerifyMode": "SOMETIMES"}))
    assert message == (
        "1 validation error detected: Value 'SOMETIMES' at 'options.verifyMode' failed to satisfy constraint: Member "
        "must satisfy enum value set: [POINT_IN_TIME_CONSISTENT, ONLY_FILES_TRANSFERRED, NONE]"
    )
    assert datasync.describe_task(TaskArn=task)["Options"]["VerifyMode"] == "POINT_IN_TIME_CONSISTENT"  # unchanged


def test_every_call_is_checked_and_every_bad_value_named_inside_lists_too(datasync, task):
    source, destination = make_smb_location(datasync), make_s3_location(datasync)
    tasks_before = datasync.list_tasks()["Tasks"]
    message = refusal(
        lambda: datasync.create_task(
            SourceLocationArn=source,
            DestinationLocationArn=destination,
            TaskMode="FAST",
            Options={"TransferMode": "EVERYTHING"},
            Excludes=[{"FilterType": "SIMPLE_PATTERN", "Value": "/a"}, {"FilterType": "REGEX", "Value": "/b"}],
        )
    )
    assert message.startswith("3 validation errors detected: ")
    for where in ("'taskMode'", "'options.transferMode'", "'excludes.2.member.filterType'"):
        assert f"at {where} failed to satisfy constraint: Member must satisfy enum value set" in message
    assert datasync.list_tasks()["Tasks"] == tasks_before
    assert "[CHANGED, ALL]" in refusal(
        lambda: datasync.start_task_execution(TaskArn=task, OverrideOptions={"TransferMode": "EVERYTHING"})
    )
    assert datasync.list_task_executions(TaskArn=task)["TaskExecutions"] == []
    assert "'s3StorageClass'" in refusal(lambda: datasync.create_location_s3(**s3_kwargs(), S3StorageClass="COLD"))
    smb4 = {**smb_kwargs(), "MountOptions": {"Version": "SMB4"}}
    assert "'mountOptions.version'" in refusal(lambda: datasync.create_location_smb(**smb4))
    assert "'options.uid'" in refusal(
        lambda: datasync.update_task_execution(TaskExecutionArn=f"{task}/execution/exec-0", Options={"Uid": "ROOT"})
    )
    assert "'filters.1.member.operator'" in refusal(
        lambda: datasync.list_tasks(Filters=[{"Name": "LocationId", "Values": [source], "Operator": "Is"}])
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    option=st.sampled_from(sorted(OPTION_ENUMS)),
    value=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_abc", min_size=1, max_size=30),
)
def test_any_option_value_the_model_lists_is_taken_and_any_other_refused(datasync, task, option, value):
    """Every enum member of a task's Options: each value the model lists is taken, any other string refused."""
    for allowed in OPTION_ENUMS[option]:
        datasync.update_task(TaskArn=task, Options={option: allowed})
        assert datasync.describe_task(TaskArn=task)["Options"][option] == allowed
    if value not in OPTION_ENUMS[option]:
        message = refusal(lambda: datasync.update_task(TaskArn=task, Options={option: value}))
        assert f"Value '{value}' at 'options.{option[0].lower()}{option[1:]}'" in message
