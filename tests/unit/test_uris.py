import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasync_steps.uris import CREATE_CALL_BY_SCHEME, parse_location_uri
from datasync_workflow.local.emulated_datasync import FILTER_VALUE, STRING_OPERATORS


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


# The ListLocations filter only narrows the listing: every stored URI the rules accept must pass it. Checked with
# the emulated DataSync's filter semantics (case-sensitive, the API reference's constraint on values).
hosts = st.text(alphabet=string.ascii_letters + string.digits + ".-:", min_size=1, max_size=20)
paths = st.lists(st.text(alphabet=string.ascii_letters + string.digits + "._-* @+=éİ", min_size=1, max_size=12))


def _recased(text: str, flips: list[bool]) -> str:
    return "".join(
        c.swapcase() if flip and c.isascii() else c
        for c, flip in zip(text, (flips + [False] * len(text))[: len(text)], strict=True)
    )


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(sorted(CREATE_CALL_BY_SCHEME)),
    host=hosts,
    parts=paths,
    flips=st.lists(st.booleans(), max_size=60),
    trailing_slash=st.booleans(),
)
def test_every_stored_uri_the_rules_accept_passes_the_list_filter(scheme, host, parts, flips, trailing_slash):
    path = "".join(f"/{part}" for part in parts)
    wanted = parse_location_uri(f"{scheme}://{host}{path}{'/' if trailing_slash else ''}")
    # As DataSync stores it: scheme in lower case, a trailing slash, and (S3 bucket names being lower case) the
    # host's case as its creator typed it, the path's too where the scheme ignores it.
    stored_host = wanted.host if scheme == "s3" else _recased(wanted.host, flips)
    stored_path = _recased(wanted.path, flips[len(host) :]) if scheme in {"smb", "fsxw"} else wanted.path
    stored = f"{scheme}://{stored_host}{stored_path}/"
    assert wanted.matches(stored)
    given_filter = wanted.list_filter()
    (value,) = given_filter["Values"]
    assert FILTER_VALUE.fullmatch(value)
    assert STRING_OPERATORS[given_filter["Operator"]](stored, [value])


@pytest.mark.parametrize(
    ("uri", "operator", "value"),
    [
        ("s3://bucket5/dir", "BeginsWith", "s3://bucket5/dir"),  # S3: the whole URI
        ("smb://host5/share", "Contains", "5/"),  # Windows shares: only what has no case
        ("smb://10.0.0.5/Share", "BeginsWith", "smb://10.0.0.5/"),
        ("nfs://NAS/exports/Data", "Contains", "/exports/Data"),  # NFS paths are case-sensitive
        ("smb://server/share", "BeginsWith", "smb://"),  # nothing better: the scheme's every location
        ("s3://bucket/a*b", "BeginsWith", "s3://bucket/a"),  # `*` may be a wildcard in a filter value
    ],
)
def test_the_filter_narrows_as_far_as_the_rules_allow(uri, operator, value):
    assert parse_location_uri(uri).list_filter() == {"Name": "LocationUri", "Values": [value], "Operator": operator}
