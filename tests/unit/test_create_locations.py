"""Step 2: create missing locations, every scheme's with its own CreateLocation* call, against the emulated
DataSync (botocore still validates each request against the real API model before it reaches it)."""

import json

import pytest
from moto.datasync.responses import DataSyncResponse

from datasync_steps.api_shapes import operation_name as _operation_name
from datasync_steps.create_locations import create_locations
from datasync_steps.deployment import Deployment, ScopeTag
from datasync_steps.errors import DataSyncRequestError, DataSyncTaskCreationError
from datasync_steps.input_parsing import parse_workflow_input
from datasync_steps.lookup import matching_location_arns
from datasync_steps.resources import made_by, workflow_tag
from datasync_steps.state import Target
from tests.conftest import (
    AGENT_ARN,
    SECRET_ARN,
    SECRET_ROLE_ARN,
    location_arns,
    make_agent,
    make_s3_location,
    make_smb_location,
    s3_kwargs,
    smb_kwargs,
)

RUN = workflow_tag("arn:aws:states:us-east-1:123456789012:execution:datasync-workflow:run-1")
URIS = {"source_location_uri": "smb://hostname/directory/", "destination_location_uri": "s3://mybucket/prefix"}
SG = ["arn:aws:ec2:us-east-1:111122223333:security-group/sg-0123456789abcdef0"]
FSX = "arn:aws:fsx:us-east-1:111122223333:file-system/fs-0123456789abcdef0"
SECRET = {"SecretArn": SECRET_ARN, "SecretAccessRoleArn": SECRET_ROLE_ARN}
SVM = "arn:aws:fsx:us-east-1:111122223333:storage-virtual-machine/fs-0123456789abcdef0/svm-0123456789abcdef0"


def config_for(**overrides):
    return parse_workflow_input(
        {
            **URIS,
            "create_task_kwargs": {"Name": "t"},
            "create_source_location_kwargs": smb_kwargs(),
            "create_destination_location_kwargs": s3_kwargs(),
            **overrides,
        }
    )


def test_both_locations_are_created(datasync):
    target = create_locations(datasync, datasync, config_for(), Target(), RUN).model_dump(mode="json")
    assert set(location_arns(datasync)) == set(target["CreatedLocationArns"])
    assert len(target["CreatedLocationArns"]) == 2
    assert target["SourceLocationArn"] in target["CreatedLocationArns"]


def test_a_known_location_is_kept_and_only_the_missing_one_created(datasync):
    destination = make_s3_location(datasync)
    target = create_locations(
        datasync, datasync, config_for(), Target(DestinationLocationArn=destination), RUN
    ).model_dump(mode="json")
    assert target["DestinationLocationArn"] == destination
    assert target["CreatedLocationArns"] == [target["SourceLocationArn"]]
    assert len(location_arns(datasync)) == 2


def test_a_retried_step_creates_nothing_twice(datasync):
    first = create_locations(datasync, datasync, config_for(), Target(), RUN).model_dump(mode="json")
    # The first try created both but its answer was lost; Step Functions runs the step again.
    second = create_locations(datasync, datasync, config_for(), Target(), RUN).model_dump(mode="json")
    assert len(location_arns(datasync)) == 2
    assert (second["SourceLocationArn"], second["DestinationLocationArn"]) == (
        first["SourceLocationArn"],
        first["DestinationLocationArn"],
    )
    assert sorted(second["CreatedLocationArns"]) == sorted(first["CreatedLocationArns"])


def test_locations_that_racing_runs_made_meanwhile_converge_on_the_oldest(datasync):
    older, _ = make_smb_location(datasync), make_smb_location(datasync)
    target = create_locations(datasync, datasync, config_for(), Target(), RUN).model_dump(mode="json")
    assert target["SourceLocationArn"] == older
    assert target["SourceLocationArn"] not in target["CreatedLocationArns"]  # another run made it


def test_a_run_that_lost_the_race_to_create_a_location_deletes_its_own(datasync, monkeypatch):
    create_smb, racers = DataSyncResponse.create_location_smb, []

    def another_run_creates_first(self):
        if not racers:
            racers.append("the other run")
            make_smb_location(datasync)
        return create_smb(self)

    monkeypatch.setattr(DataSyncResponse, "create_location_smb", another_run_creates_first)
    target = create_locations(datasync, datasync, config_for(), Target(), RUN).model_dump(mode="json")
    (smb,) = [loc for loc in datasync.list_locations()["Locations"] if loc["LocationUri"].startswith("smb://")]
    assert target["SourceLocationArn"] == smb["LocationArn"] and smb["LocationArn"] not in target["CreatedLocationArns"]
    assert made_by(datasync, target["DestinationLocationArn"]) == RUN["Value"]


def test_kwargs_that_make_another_uri_are_refused_and_the_location_removed(datasync):
    config = config_for(create_source_location_kwargs=smb_kwargs(host="otherhost"))
    with pytest.raises(DataSyncTaskCreationError) as raised:
        create_locations(datasync, datasync, config, Target(), RUN)
    assert "got the URI smb://otherhost/directory/, which does not match source_location_uri" in str(raised.value)
    assert location_arns(datasync) == []


@pytest.mark.parametrize(
    ("uri", "create_call", "kwargs"),
    [
        ("s3://mybucket/prefix/", "create_location_s3", s3_kwargs()),
        ("smb://hostname/share/dir/", "create_location_smb", smb_kwargs(subdirectory="/share/dir")),
        (
            "nfs://10.0.0.5/export/data/",
            "create_location_nfs",
            {"ServerHostname": "10.0.0.5", "Subdirectory": "/export/data", "OnPremConfig": {"AgentArns": [AGENT_ARN]}},
        ),
        (
            "efs://us-east-1.fs-0123456789abcdef0/data/",
            "create_location_efs",
            {
                "EfsFilesystemArn": "arn:aws:elasticfilesystem:us-east-1:111122223333:file-system/fs-0123456789abcdef0",
                "Subdirectory": "/data",
                "Ec2Config": {
                    "SubnetArn": "arn:aws:ec2:us-east-1:111122223333:subnet/subnet-0123456789abcdef0",
                    "SecurityGroupArns": SG,
                },
            },
        ),
        (
            "fsxw://us-east-1.fs-0123456789abcdef0/share/",
            "create_location_fsx_windows",
            {
                "FsxFilesystemArn": FSX,
                "SecurityGroupArns": SG,
                "User": "admin",
                "CustomSecretConfig": SECRET,
                "Subdirectory": "/share",
            },
        ),
        (
            "fsxl://us-east-1.fs-0123456789abcdef0/data/",
            "create_location_fsx_lustre",
            {"FsxFilesystemArn": FSX, "SecurityGroupArns": SG, "Subdirectory": "/data"},
        ),
        (
            "fsxz://us-east-1.fs-0123456789abcdef0/fsx/vol/",
            "create_location_fsx_open_zfs",
            {
                "FsxFilesystemArn": FSX,
                "SecurityGroupArns": SG,
                "Protocol": {"NFS": {"MountOptions": {"Version": "AUTOMATIC"}}},
                "Subdirectory": "/fsx/vol",
            },
        ),
        (
            "fsxn-nfs://us-east-1.fs-0123456789abcdef0/vol1/",
            "create_location_fsx_ontap",
            {
                "StorageVirtualMachineArn": SVM,
                "SecurityGroupArns": SG,
                "Protocol": {"NFS": {"MountOptions": {"Version": "NFS3"}}},
                "Subdirectory": "/vol1",
            },
        ),
        (
            "fsxn-smb://us-east-1.fs-0123456789abcdef0/share/",
            "create_location_fsx_ontap",
            {
                "StorageVirtualMachineArn": SVM,
                "SecurityGroupArns": SG,
                "Protocol": {"SMB": {"User": "admin", "CustomSecretConfig": SECRET}},
                "Subdirectory": "/share",
            },
        ),
        (
            "hdfs://namenode:8020/data/",
            "create_location_hdfs",
            {
                "NameNodes": [{"Hostname": "namenode", "Port": 8020}],
                "AuthenticationType": "SIMPLE",
                "SimpleUser": "hdfs",
                "AgentArns": [AGENT_ARN],
                "Subdirectory": "/data",
            },
        ),
        (
            "object-storage://storage.example.com/bucket/data/",
            "create_location_object_storage",
            {
                "ServerHostname": "storage.example.com",
                "BucketName": "bucket",
                "Subdirectory": "/data",
                "AgentArns": [AGENT_ARN],
            },
        ),
        (
            "azure-blob://account.blob.core.windows.net/container/data/",
            "create_location_azure_blob",
            {
                "ContainerUrl": "https://account.blob.core.windows.net/container",
                "AuthenticationType": "SAS",
                "CustomSecretConfig": SECRET,
                "Subdirectory": "/data",
                "AgentArns": [AGENT_ARN],
            },
        ),
    ],
)
def test_every_scheme_is_created_with_its_own_call_and_found_again_by_its_uri(datasync, uri, create_call, kwargs):
    config = parse_workflow_input(
        {
            "source_location_uri": uri,
            "destination_location_uri": "s3://mybucket/prefix",
            "create_task_kwargs": {"Name": "t"},
            "create_source_location_kwargs": kwargs,
        }
    )
    calls = []
    datasync.meta.events.register("before-call.datasync.*", lambda model, **_: calls.append(model.name))
    elsewhere = make_s3_location(datasync, bucket="elsewhere")
    target = create_locations(datasync, datasync, config, Target(DestinationLocationArn=elsewhere), RUN).model_dump(
        mode="json"
    )
    created = target["SourceLocationArn"]
    assert target["CreatedLocationArns"] == [created]
    assert _operation_name(create_call) in calls
    assert matching_location_arns(datasync, uri) == [created]
    (stored,) = [loc["LocationUri"] for loc in datasync.list_locations()["Locations"] if loc["LocationArn"] == created]
    assert stored.endswith("/")  # as DataSync stores it


def test_a_racer_keeps_the_oldest_location_whatever_order_datasync_lists_them_in(datasync, monkeypatch):
    older, younger = make_smb_location(datasync), make_smb_location(datasync)
    listed = DataSyncResponse.list_locations

    def newest_first(self):  # ListLocations promises no order
        answer = json.loads(listed(self))
        return json.dumps({**answer, "Locations": answer["Locations"][::-1]})

    monkeypatch.setattr(DataSyncResponse, "list_locations", newest_first)
    assert [loc["LocationArn"] for loc in datasync.list_locations()["Locations"]][-2:] == [younger, older]
    target = create_locations(datasync, datasync, config_for(), Target(), RUN).model_dump(mode="json")
    assert target["SourceLocationArn"] == older


FINANCE = Deployment(scope_tag=ScopeTag(key="team", value="finance"))
# Every member of DataSync's CreateLocation* requests that names agents (botocore's model: AgentArns of SMB, NFS's
# OnPremConfig, HDFS, object storage, Azure Blob and S3, which S3 on Outposts needs), each with its own URI.
THROUGH_AGENT = {
    "smb://hostname/directory/": lambda agent: {**smb_kwargs(), "AgentArns": [agent]},
    "nfs://10.0.0.5/export/": lambda agent: {
        "ServerHostname": "10.0.0.5",
        "Subdirectory": "/export",
        "OnPremConfig": {"AgentArns": [agent]},
    },
    "hdfs://namenode:8020/data/": lambda agent: {
        "NameNodes": [{"Hostname": "namenode", "Port": 8020}],
        "AuthenticationType": "SIMPLE",
        "SimpleUser": "hdfs",
        "AgentArns": [agent],
        "Subdirectory": "/data",
    },
    "object-storage://storage.example.com/bucket/": lambda agent: {
        "ServerHostname": "storage.example.com",
        "BucketName": "bucket",
        "AgentArns": [agent],
    },
    "azure-blob://account.blob.core.windows.net/container/": lambda agent: {
        "ContainerUrl": "https://account.blob.core.windows.net/container",
        "AuthenticationType": "SAS",
        "CustomSecretConfig": SECRET,
        "AgentArns": [agent],
    },
    "s3://outposts-bucket/data/": lambda agent: {**s3_kwargs("outposts-bucket", "data"), "AgentArns": [agent]},
}


def through(uri: str, agent: str):
    """A run that creates its source, an S3 prefix, then its destination at `uri` through `agent`."""
    return parse_workflow_input(
        {
            "source_location_uri": "s3://mybucket/prefix",
            "destination_location_uri": uri,
            "create_task_kwargs": {"Name": "t"},
            "create_source_location_kwargs": s3_kwargs(),
            "create_destination_location_kwargs": THROUGH_AGENT[uri](agent),
        }
    )


@pytest.mark.parametrize("uri", THROUGH_AGENT)
def test_a_scoped_run_through_another_teams_agent_creates_nothing(datasync, uri):
    payroll = make_agent(datasync, {"Key": "team", "Value": "payroll"})
    with pytest.raises(DataSyncRequestError) as raised:
        create_locations(datasync, datasync, through(uri, payroll), Target(), RUN, FINANCE)
    assert f"names the agent {payroll}, which is not tagged team=finance" in str(raised.value)
    assert location_arns(datasync) == []  # not even the source, which comes first


def test_a_scoped_run_through_an_agent_nobody_activated_creates_nothing(datasync):
    with pytest.raises(DataSyncRequestError, match=f"names the agent {AGENT_ARN}, which is not tagged team=finance"):
        create_locations(datasync, datasync, through("smb://hostname/directory/", AGENT_ARN), Target(), RUN, FINANCE)
    assert location_arns(datasync) == []


@pytest.mark.parametrize("uri", THROUGH_AGENT)
def test_a_scoped_run_through_its_own_teams_agent_creates_both_locations(datasync, uri):
    finance = make_agent(datasync, {"Key": "team", "Value": "finance"})
    target = create_locations(datasync, datasync, through(uri, finance), Target(), RUN, FINANCE)
    assert sorted(target.CreatedLocationArns) == sorted(location_arns(datasync)) and len(location_arns(datasync)) == 2


def test_an_unscoped_deployment_does_not_look_at_agents_tags(datasync):
    payroll = make_agent(datasync, {"Key": "team", "Value": "payroll"})
    target = create_locations(datasync, datasync, through("smb://hostname/directory/", payroll), Target(), RUN)
    assert len(target.CreatedLocationArns) == 2
