import pytest

from datasync_steps.uris import CREATE_CALL_BY_SCHEME, parse_location_uri


@pytest.mark.parametrize(
    ("uri", "stored"),
    [
        ("s3://mybucket/prefix", "s3://mybucket/prefix/"),  # one trailing slash is ignored
        ("s3://mybucket/prefix/", "s3://mybucket/prefix"),
        ("S3://MyBucket/prefix", "s3://mybucket/prefix/"),  # scheme and host are not case-sensitive
        ("smb://FileServer/Share/Dir", "smb://fileserver/share/dir/"),  # Windows share paths are not either
        ("fsxw://us-east-1.fs-0123/Share/", "fsxw://us-east-1.fs-0123/share/"),
        ("nfs://10.0.0.5/export/data", "nfs://10.0.0.5/export/data/"),
        ("hdfs://namenode:8020/data", "hdfs://namenode:8020/data/"),
        ("s3://mybucket", "s3://mybucket/"),
    ],
)
def test_uris_that_name_the_same_place_match(uri, stored):
    assert parse_location_uri(uri).matches(stored)


@pytest.mark.parametrize(
    ("uri", "stored"),
    [
        ("s3://mybucket/Data", "s3://mybucket/data/"),  # S3 keys are case-sensitive
        ("nfs://server/Export", "nfs://server/export/"),
        ("hdfs://namenode:8020/Data", "hdfs://namenode:8020/data/"),
        ("efs://us-east-1.fs-0123/Data", "efs://us-east-1.fs-0123/data/"),
        ("fsxl://us-east-1.fs-0123/Data", "fsxl://us-east-1.fs-0123/data/"),
        ("object-storage://host/bucket/Data", "object-storage://host/bucket/data/"),
        ("azure-blob://acct.blob.core.windows.net/c/Data", "azure-blob://acct.blob.core.windows.net/c/data/"),
        ("s3://mybucket/prefix", "s3://mybucket/prefix//"),  # only one trailing slash is ignored
        ("s3://mybucket/prefix", "s3://otherbucket/prefix/"),
        ("s3://mybucket/prefix", "smb://mybucket/prefix/"),
        ("s3://mybucket/prefix", "s3://mybucket/prefix/sub/"),
        ("smb://host/share", "not a uri"),
    ],
)
def test_uris_that_name_different_places_do_not_match(uri, stored):
    assert not parse_location_uri(uri).matches(stored)


@pytest.mark.parametrize(
    ("scheme", "create_call"),
    [
        ("s3", "create_location_s3"),
        ("smb", "create_location_smb"),
        ("nfs", "create_location_nfs"),
        ("efs", "create_location_efs"),
        ("fsxw", "create_location_fsx_windows"),
        ("fsxl", "create_location_fsx_lustre"),
        ("fsxz", "create_location_fsx_open_zfs"),
        ("fsxn-nfs", "create_location_fsx_ontap"),
        ("fsxn-smb", "create_location_fsx_ontap"),
        ("hdfs", "create_location_hdfs"),
        ("object-storage", "create_location_object_storage"),
        ("azure-blob", "create_location_azure_blob"),
    ],
)
def test_each_scheme_names_its_create_call(scheme, create_call):
    assert parse_location_uri(f"{scheme.upper()}://host/path").create_call == create_call


def test_every_create_call_is_a_real_boto3_method():
    import boto3

    client = boto3.client("datasync", region_name="us-east-1")
    for create_call in CREATE_CALL_BY_SCHEME.values():
        assert callable(getattr(client, create_call))


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("ftp://host/path", "scheme 'ftp'"),
        ("s3:/bucket/path", "not a location URI"),
        ("s3://", "not a location URI"),
        ("/just/a/path", "not a location URI"),
    ],
)
def test_bad_uris_say_why(uri, reason):
    with pytest.raises(ValueError, match=reason):
        parse_location_uri(uri)
