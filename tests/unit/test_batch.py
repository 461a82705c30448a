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


def put_csv(s3, body: str, key: str = "transfers/t.csv", **put) -> str:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode(), **put)
    return f"s3://{BUCKET}/{key}"


def csv_problems(s3, body: str, **batch_keys) -> list[str]:
    return batch_problems({"transfers_from": put_csv(s3, body), **batch_keys}, DEPLOYMENT, s3=s3)


def test_a_csv_object_gives_an_item_a_row_of_its_cells_given_those_of_keys_that_take_no_string_read_as_json(s3):
    other = TASK.replace("abcdef0", "abcdef1")
    body = (
        "\ufefftask_arn, task_id ,wait_interval_seconds,delete_task_after_execution,task_execution_kwargs,"
        "if_task_running,execution_timeout\r\n"
        f'{TASK},copy_0,0,true,"{{""Tags"": [{{""Key"": ""k"", ""Value"": ""a,b""}}]}}",join,1.5\r\n'
        "\r\n"  # a blank line, and a row of empty cells, are no transfer
        ",,,,,,\r\n"
        f'{other},"copy\n1",,,,,null\r\n'  # an empty cell is not given (the defaults apply); a quoted one spans lines
        f"{TASK}\r\n"  # a short row: the cells after it are not given
    )
    transfers, problem = batch.read_transfers(s3, put_csv(s3, body))
    assert problem is None
    assert transfers == [
        {
            "task_arn": TASK,
            "task_id": "copy_0",
            "wait_interval_seconds": 0,
            "delete_task_after_execution": True,
            "task_execution_kwargs": {"Tags": [{"Key": "k", "Value": "a,b"}]},
            "if_task_running": "join",
            "execution_timeout": 1.5,
        },
        {"task_arn": other, "task_id": "copy\n1", "execution_timeout": None},
        {"task_arn": TASK},
    ]


def test_csv_is_told_by_the_keys_suffix_or_the_objects_content_type(s3):
    body = f"task_arn\n{TASK}\n"
    assert batch.read_transfers(s3, put_csv(s3, body, key="transfers/T.CSV")) == ([{"task_arn": TASK}], None)
    typed = put_csv(s3, body, key="transfers/nightly", ContentType="text/csv; charset=utf-8")
    assert batch.read_transfers(s3, typed) == ([{"task_arn": TASK}], None)
    # Otherwise it is JSON.
    (found,) = problems_of(s3, body)
    assert "is neither a JSON array nor JSON Lines" in found


def test_csv_rows_are_checked_as_json_items_are(s3):
    # A boolean key's cell is JSON: "yes" quoted is a string, which the boolean refuses as JSON's would.
    body = f'task_arn,retries,delete_task_after_execution\n{TASK},1,\nnope,-1,"""yes"""\n'
    found = csv_problems(s3, body, defaults={"wait_interval_seconds": 0})
    assert sorted(found) == [
        "transfers_from[1].delete_task_after_execution: Input should be a valid boolean (got 'yes')",
        "transfers_from[1].retries: Input should be greater than or equal to 0 (got -1)",
        "transfers_from[1].task_arn: must be a DataSync task ARN (arn:aws:datasync:REGION:ACCOUNT:task/task-...) "
        "(got 'nope')",
    ]
    same = [{"task_arn": TASK, "retries": 1}, {"task_arn": "nope", "retries": -1, "delete_task_after_execution": "yes"}]
    assert problems_of(s3, json.dumps(same), defaults={"wait_interval_seconds": 0}) == found


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("task_arn,taskid\n", "has an unknown column 'taskid' (did you mean task_id?)"),
        ("task_arn,color\n", "has an unknown column 'color'"),
        ("task_arn,task_arn\n", "has the column task_arn twice"),
        (f"task_arn,retries\n{TASK},1\n{TASK},1,2\n", "row 3 has 3 cells; its header names 2"),
        (
            f"task_arn,retries\n{TASK},1\n{TASK},one\n",
            "row 3, column retries: not JSON (Expecting value); retries takes no string, so its cells are JSON",
        ),
        (f"task_arn,retries\n{TASK},NaN\n", "row 2, column retries: not JSON that Step Functions takes (NaN is not"),
        (f'task_arn\n"{TASK}"x\n', "is not CSV ("),
        ("task_arn,task_id\n", "holds 0 transfers; give 1 to 5,000"),
        ("", "holds 0 transfers; give 1 to 5,000"),
    ],
)
def test_a_csv_object_that_is_no_table_of_transfers_is_refused_naming_the_row_or_column(s3, body, problem):
    (found,) = csv_problems(s3, body)
    assert found.startswith(f"transfers_from: s3://{BUCKET}/transfers/t.csv ") and problem in found


def test_a_csv_cell_that_is_not_json_is_not_echoed(s3):
    (found,) = csv_problems(s3, f'task_arn,create_source_location_kwargs\n{TASK},"{{""Password"": ""hunter2"""\n')
    assert "row 2, column create_source_location_kwargs: not JSON" in found and "hunter2" not in found


def test_a_csv_without_its_header_row_does_not_echo_the_values_it_took_for_one(s3):
    body = f'{TASK},"{{""Password"": ""hunter2SECRET""}}"\n{TASK},{{}}\n'
    (found,) = csv_problems(s3, body)
    assert "column 1's header is not an input key" in found and "hunter2SECRET" not in found


def test_a_csv_object_has_the_bounds_of_a_json_one_and_its_rows_are_counted_as_they_are_read(s3, monkeypatch):
    monkeypatch.setattr(batch, "MAX_FILE_TRANSFERS", 2)
    # The third transfer is past the bound: no row after it is read (the bad cell of row 5 is not reached).
    body = f"task_arn,retries\n{TASK},1\n{TASK},1\n{TASK},1\n{TASK},one\n"
    assert csv_problems(s3, body) == [
        f"transfers_from: s3://{BUCKET}/transfers/t.csv holds over 2 transfers; give 1 to 2"
    ]
    monkeypatch.setattr(batch, "MAX_FILE_BYTES", 30)
    (found,) = csv_problems(s3, f"task_arn\n{TASK}\n")
    assert found.endswith("bytes; at most 30")


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
