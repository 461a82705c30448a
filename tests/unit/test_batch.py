"""A batch input's own checks, and the transfers_from object read from moto's S3: every way it can be unfit to run
is a problem naming transfers_from, before anything starts."""

import json
from datetime import UTC, datetime

import boto3
import pytest

from datasync_steps import batch, batch_children
from datasync_steps.batch import BatchInput, batch_problems
from datasync_steps.deployment import Deployment
from tests.conftest import REGION, stubbed_client

BUCKET = "datasync-workflow-batches"
TASK = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"
DEPLOYMENT = Deployment(batch_bucket=BUCKET)


@pytest.fixture
def s3(aws):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


def problems_of(s3, body: bytes | str, **batch_keys) -> list[str]:
    s3.put_object(Bucket=BUCKET, Key="transfers/t.json", Body=body if isinstance(body, bytes) else body.encode())
    return batch_problems({"transfers_from": f"s3://{BUCKET}/transfers/t.json", **batch_keys}, DEPLOYMENT, s3=s3)


@pytest.mark.parametrize(
    ("percentage", "items", "tolerated"), [(None, 10, 0), (10, 10, 1), (15, 10, 1), (19.9, 10, 1), (100, 7, 7)]
)
def test_a_tolerated_percentage_counts_whole_items_rounded_down(percentage, items, tolerated):
    settings = BatchInput(transfers=[{}], tolerated_failure_percentage=percentage)
    assert settings.tolerated_failures(items) == tolerated


def test_json_lines_and_a_json_array_with_a_byte_order_mark_both_read(s3):
    assert problems_of(s3, json.dumps({"task_arn": TASK}) + "\n\n" + json.dumps({"task_arn": TASK}) + "\n") == []
    assert problems_of(s3, "\ufeff" + json.dumps([{"task_arn": TASK}]) + "\n") == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('[{"task_arn": "x", "retries": NaN}]', "is not JSON that Step Functions takes (NaN is not a JSON number)"),
        ("[" * 100_000 + "]" * 100_000, "is not JSON that Step Functions takes"),
        (
            '{"task_arn": "x"}\n7\n',
            "transfer 1 of s3://datasync-workflow-batches/transfers/t.json is not a JSON object",
        ),
        ("[]", "holds 0 transfers; give 1 to 5,000"),
    ],
)
def test_an_object_that_is_no_list_of_transfers_is_refused_naming_it(s3, body, problem):
    (found,) = problems_of(s3, body)
    assert found.startswith("transfers_from: ") and problem in found


def test_too_many_transfers_or_bytes_are_refused(s3, monkeypatch):
    monkeypatch.setattr(batch, "MAX_FILE_TRANSFERS", 2)
    assert problems_of(s3, json.dumps([{"task_arn": TASK}] * 3)) == [
        f"transfers_from: s3://{BUCKET}/transfers/t.json holds 3 transfers; give 1 to 2"
    ]
    monkeypatch.setattr(batch, "MAX_FILE_BYTES", 100)
    (found,) = problems_of(s3, json.dumps([{"task_arn": TASK}] * 2))
    assert found.endswith("bytes; at most 100")


def test_defaults_that_would_swell_every_item_past_the_bound_are_refused(s3, monkeypatch):
    monkeypatch.setattr(batch, "MAX_ITEMS_BYTES", 1_000)
    shared = {"task_execution_kwargs": {"Excludes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/tmp|" * 100}]}}
    (found,) = problems_of(s3, json.dumps([{"task_arn": TASK}] * 3), defaults=shared)
    assert found.startswith("transfers_from: merged over the defaults, the transfers come to ")


def test_the_workflows_own_prefix_is_not_a_place_to_read_transfers_from(s3):
    found = batch_problems({"transfers_from": f"s3://{BUCKET}/batches/abc/items.json"}, DEPLOYMENT, s3=s3)
    assert found == ["transfers_from: batches/ is the workflow's own; put the transfers elsewhere"]


def test_the_object_is_read_as_it_was_measured():
    """IfMatch: an object written again between the size check and the read is refused by S3 (412), not read."""
    with stubbed_client("s3") as (s3, stubber):
        stubber.add_response("head_object", {"ContentLength": 40, "ETag": '"v1"'}, {"Bucket": BUCKET, "Key": "t.json"})
        stubber.add_client_error(
            "get_object",
            "PreconditionFailed",
            http_status_code=412,
            expected_params={"Bucket": BUCKET, "Key": "t.json", "IfMatch": '"v1"'},
        )
        with pytest.raises(Exception, match="PreconditionFailed"):
            batch.read_transfers(s3, f"s3://{BUCKET}/t.json")


def test_json_lines_end_a_line_at_a_newline_only(s3):
    # U+2028 is a line separator to str.splitlines, and a character like any other inside a JSON string.
    tagged = {"task_arn": TASK, "task_execution_kwargs": {"Tags": [{"Key": "note", "Value": "a\u2028b"}]}}
    body = json.dumps(tagged, ensure_ascii=False) + "\r\n" + json.dumps({"task_arn": TASK}) + "\n"
    assert problems_of(s3, body.encode()) == []


def test_an_object_that_is_not_utf_8_is_refused_not_read_with_its_bytes_replaced(s3):
    body = b'{"task_arn": "%s", "task_execution_kwargs": {"Tags": [{"Key": "k", "Value": "caf\xe9"}]}}' % TASK.encode()
    at = body.index(b"\xe9")
    assert problems_of(s3, body) == [f"transfers_from: s3://{BUCKET}/transfers/t.json is not UTF-8 (at byte {at})"]


def test_an_inline_batch_has_the_merged_size_bound_of_transfers_from(monkeypatch):
    monkeypatch.setattr(batch, "MAX_ITEMS_BYTES", 1_000)
    shared = {"task_execution_kwargs": {"Excludes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/tmp|" * 100}]}}
    assert batch_problems({"defaults": shared, "transfers": [{"task_arn": TASK}] * 3}) == [
        "transfers: merged over the defaults, the transfers come to over 1,000 bytes (put what they share in fewer "
        "of them)"
    ]


def test_the_checks_stop_after_the_problems_shown():
    problems = batch_problems({"transfers": [{"task_arn": TASK, "retries": -1}] * 500})
    assert len(problems) == 21 and problems[0].startswith("transfers[0].retries: ")
    assert problems[-1] == "and more: transfers[21] and the transfers after it are not checked"
    # Those of the last item checked are counted.
    assert batch_problems({"transfers": [{"task_arn": TASK, "retries": -1, "max_iterations": 0}] * 11})[-1] == (
        "and 2 more"
    )


@pytest.mark.parametrize("name", ["42", "0", "PREFIX-rerun", "PREFIX-", "PREFIX-1-2", "xPREFIX-1"])
def test_a_name_is_a_childs_only_when_it_is_the_prefix_and_an_index(name):
    prefix = batch_children.child_prefix(
        "arn:aws:states:us-east-1:123456789012:execution:batch:nightly", datetime.now(UTC)
    )
    assert batch_children.child_index(prefix, name.replace("PREFIX", prefix)) is None
    assert batch_children.child_index(prefix, batch_children.child_name(prefix, 42)) == 42
