"""from-airflow on a DAG file from someone else: it takes nothing of the user's (no credential of the environment)
and nothing unbounded (time, memory, stack) from the file, and what it cannot read is one line of error, exit 2."""

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datasync_workflow.cli.commands import main
from datasync_workflow.cli.from_airflow import convert

DAGS = Path(__file__).parents[1] / "airflow_dags"
TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
# The CLI converts the guide's DAGs in less; the width tricks would take a gigabyte each.
MEMORY_BYTES = 400 * 1024 * 1024


def from_airflow(path: Path | str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """The command run in a process of its own, in at most MEMORY_BYTES: what hangs fails the test instead."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))

    return subprocess.run(
        [sys.executable, "-m", "datasync_workflow.cli.commands", "from-airflow", str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit_memory,
    )


def operator_calls(values: dict[str, str], dag: str = 'DAG("untrusted")') -> str:
    """A DAG with one operator call per value, each value a filter of its task_execution_kwargs."""
    calls = "".join(
        f"    DataSyncOperator(task_id={name!r}, task_arn={TASK_ARN!r}, "
        f'task_execution_kwargs={{"Includes": [{{"FilterType": "SIMPLE_PATTERN", "Value": {value}}}]}})\n'
        for name, value in values.items()
    )
    return f"with {dag} as dag:\n{calls}"


def test_a_dag_reading_credentials_from_the_environment_never_gets_them(monkeypatch, capsys):
    secrets = {
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "DB_PASSWORD": "hunter2-correct-horse",
        "API_KEY": "sk-live-0123456789",
    }
    for name, value in {**secrets, "BUCKET": "team-bucket"}.items():
        monkeypatch.setenv(name, value)
    # Its one input lacks the destination the credential would have named: validate refuses it, exit 1.
    assert main(["from-airflow", str(DAGS / "reads_credentials.py")]) == 1
    out, err = capsys.readouterr()
    for value in secrets.values():
        assert value not in out and value not in err
    (call,) = json.loads(out)
    assert call["input"] == {"task_id": "copy", "source_location_uri": "s3://source/data"}
    assert any(
        "os.environ.get('AWS_SECRET_ACCESS_KEY') is not read from the environment: its name looks like a credential's"
        in note
        for note in call["notes"]
    )
    assert "reads_credentials.py: read from this environment: BUCKET\n" in err
    refused = ", ".join(sorted(secrets))
    assert f"reads_credentials.py: not read from this environment, as named like credentials: {refused}\n" in err


def test_a_backtracking_regular_expression_is_given_up_within_seconds():
    started = time.monotonic()
    done = from_airflow(DAGS / "backtracking_regex.py", timeout=10)
    assert time.monotonic() - started < 10
    assert done.returncode == 0, done.stderr
    (call,) = json.loads(done.stdout)
    assert call["input"] == {"task_id": "copy", "task_arn": TASK_ARN}
    assert "re.sub('^(a|aa)+$', ''," in call["notes"][0] and "still running when the 5 s" in call["notes"][0]


def test_only_a_regular_file_of_a_few_hundred_kilobytes_is_read(tmp_path):
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "directory.py").mkdir()
    (tmp_path / "large.py").write_text("# a comment line of a DAG file that goes on\n" * 50_000)  # 2.2 MB
    for path, why in (
        (tmp_path / "fifo.py", "not a regular file"),
        ("/dev/zero", "not a regular file"),
        (tmp_path / "directory.py", "not a regular file"),
        (tmp_path / "large.py", "larger than 524,288 bytes"),
    ):
        done = from_airflow(path, timeout=10)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == f"datasync-workflow: error: cannot read the DAG {path}: {why}\n"


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "+".join(["1"] * 100_000),  # RecursionError while Python builds the tree
        "x = " + "-" * 100_000 + "1",  # MemoryError: the parser's stack
        "x = " + "+".join(["1"] * 500),  # parsed, but deeper than the converter's recursion goes
    ],
    ids=["long sum", "many minus signs", "sum of 500"],
)
def test_a_file_nested_too_deeply_is_one_line_of_error(source, tmp_path):
    (tmp_path / "deep.py").write_text(source + "\n")
    done = from_airflow(tmp_path / "deep.py", timeout=10)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"datasync-workflow: error: cannot read the DAG {tmp_path / 'deep.py'}: ")
    assert done.stderr.count("\n") == 1


def test_widths_and_precisions_are_bounded_once_nested_fields_are_resolved(tmp_path):
    tricks = {
        "format_nested": '"{0:{1}}".format("a", 1000000000)',
        "format_two_nested": '"{0:{1}{2}}".format("a", 9999, 9)',
        "format_many_fields": '"' + "{0:9999}" * 30 + '".format(1)',
        "fstring_nested": "f\"{'a':{1000000000}}\"",
        "percent_star": '"%*s" % (1000000000, "a")',
        "percent_star_precision": '"%.*f" % (1000000000, 1.5)',
        "percent_key": '"%(a)1000000000s" % {"a": "b"}',
        "percent_key_in_parentheses": '"%(a(b))1000000000s" % {"a(b)": "b"}',
        "percent_bytes": 'b"%1000000000s" % (b"a",)',
        "percent_many": '"' + "%.9999f" * 30 + '" % (' + "1e308, " * 30 + ")",
    }
    (tmp_path / "wide.py").write_text(operator_calls(tricks))
    done = from_airflow(tmp_path / "wide.py")
    assert done.returncode == 0, done.stderr
    calls = json.loads(done.stdout)
    assert [call["input"] for call in calls] == [{"task_id": name, "task_arn": TASK_ARN} for name in tricks]
    for call in calls:
        assert "too large to evaluate" in call["notes"][0] or "longer than 262,144" in call["notes"][0]


def test_a_value_that_holds_a_large_part_many_times_is_not_printed(tmp_path):
    # Each list holds the one before ten times: TIMES_4 prints a gigabyte, though it is a few lists in memory.
    source = f'A = "{"a" * 100_000}"\nTIMES_0 = A\n' + "".join(
        f"TIMES_{n} = [{', '.join([f'TIMES_{n - 1}'] * 10)}]\n" for n in range(1, 5)
    )
    printed = {"fstring": 'f"{TIMES_4}"', "format": '"{!r}".format(TIMES_4)', "percent": '"%s" % (TIMES_4,)'}
    (tmp_path / "shared.py").write_text(source + operator_calls({**printed, "output": "TIMES_4"}))
    done = from_airflow(tmp_path / "shared.py")
    assert done.returncode == 0, done.stderr
    calls = json.loads(done.stdout)
    assert [call["input"] for call in calls] == [
        {"task_id": name, "task_arn": TASK_ARN} for name in [*printed, "output"]
    ]
    assert all("longer than 262,144 printed" in call["notes"][0] for call in calls)


def test_values_that_add_up_to_too_much_stop_the_conversion(tmp_path):
    # Each is allowed alone (200,000 characters); two thousand of them would take 400 MB.
    source = f'A = "{"a" * 100_000}"\n' + "".join(f"COPY_{n} = A + A\n" for n in range(2_000))
    (tmp_path / "many.py").write_text(source + operator_calls({"copy": "COPY_0"}))
    done = from_airflow(tmp_path / "many.py")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.endswith("many.py: its values add up to more than 8,388,608 characters\n")


def test_a_long_schedule_the_converter_cannot_read_is_named_in_short():
    dag = f'DAG("long", schedule="{"1 " * 100_000}")'
    for call in convert(operator_calls({"first": '"/a"', "second": '"/b"'}, dag), {}):
        assert "schedule" not in call
        assert call["notes"][0].startswith("line 1: the DAG's schedule '1 1 1")
        assert len(call["notes"][0]) < 250


def test_a_cross_product_larger_than_a_batch_is_not_built(tmp_path):
    # 100 ** 3 mapped tasks would take minutes and gigabytes to build; a batch holds 500.
    hundred = "[" + ", ".join(f'"/{n}"' for n in range(100)) + "]"
    source = (
        'with DAG("wide") as dag:\n'
        f'    DataSyncOperator.partial(task_id="copy", task_arn="{TASK_ARN}").expand(\n'
        f"        wait_interval_seconds={hundred}, max_iterations={hundred}, retries={hundred}\n"
        "    )\n"
        f'    DataSyncOperator.partial(task_id="long").expand(task_arn=[{", ".join([repr(TASK_ARN)] * 501)}])\n'
    )
    (tmp_path / "wide.py").write_text(source)
    started = time.monotonic()
    done = from_airflow(tmp_path / "wide.py", timeout=20)
    assert time.monotonic() - started < 20
    assert done.returncode == 1, done.stderr
    product, long = json.loads(done.stdout)
    assert product["input"]["transfers"] == [] and long["input"]["transfers"] == []
    assert "line 2: expand() maps over 1,000,000 combinations; a batch takes at most 500" in product["notes"][0]
    assert "has 501 items; a batch takes at most 500 transfers" in long["notes"][0]


def test_attributes_set_after_the_call_are_bounded_as_keywords_are(tmp_path):
    source = (
        "WIDE = f\"{'x':>1000000}\"\n"
        'with DAG("attributes") as dag:\n'
        f'    copy = DataSyncOperator(task_id="copy", task_arn="{TASK_ARN}")\n'
        '    copy.update_task_kwargs = {"Name": WIDE}\n'
        '    copy.create_task_kwargs = {"Name": "%.*f" % (1000000000, 1.5)}\n'
    )
    (tmp_path / "attributes.py").write_text(source)
    done = from_airflow(tmp_path / "attributes.py")
    assert done.returncode == 0, done.stderr
    (call,) = json.loads(done.stdout)
    assert call["input"] == {"task_id": "copy", "task_arn": TASK_ARN}
    assert "too large to evaluate" in call["notes"][0] and "update_task_kwargs is left out" in call["notes"][0]
    assert "too large to evaluate" in call["notes"][1] and "create_task_kwargs is left out" in call["notes"][1]


def test_transfers_that_add_up_to_too_much_stop_the_conversion(tmp_path):
    # Each transfer holds the same 100,000 characters: 90 of them would print 9 MB.
    arns = ", ".join(["A"] * 90)
    source = f'A = "{"a" * 100_000}"\nwith DAG("many") as dag:\n'
    source += f'    DataSyncOperator.partial(task_id="copy").expand(task_arn=[{arns}])\n'
    (tmp_path / "many.py").write_text(source)
    done = from_airflow(tmp_path / "many.py")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.endswith("many.py: its values add up to more than 8,388,608 characters\n")
