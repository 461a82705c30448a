"""`datasync-workflow validate` of the inputs that made templates render gigabytes (issue 24): each ends, with its
refusal or as valid, in a process that may not map more than 300 MB, well within a bound of time no load reaches."""

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

MAX_ADDRESS_SPACE = 300 * 2**20
TIMEOUT_SECONDS = 60  # each takes under a second here; before, a CPU-minute or more
TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
DS_FORMAT = "{{ macros.ds_format(ds, '%Y-%m-%d', '%d.%m.%Y') }}"


def filters(value: str) -> list[dict]:
    return [{"FilterType": "SIMPLE_PATTERN", "Value": value}]


# Three strftime levels, each format the output of the one inside (glibc's width pads the %c of the outermost to
# 16 million characters): 20 of them rendered 321 million characters, 680 MB.
THREE_LEVELS = "logical_date.strftime('%%%%_16000000c%%_65000Y%_250Y')"
STRFTIME = {
    "task_arn": TASK_ARN,
    "task_execution_kwargs": {
        "Includes": filters(f"{{{{ logical_date.strftime(logical_date.strftime({THREE_LEVELS})) }}}}" * 20)
    },
}
# 200 KB of templated defaults, each of 500 items once checked with them merged in: 12 s.
INLINE_DEFAULTS = {
    "defaults": {
        "task_arn": TASK_ARN,
        "task_execution_kwargs": {
            "Includes": filters(f"/{DS_FORMAT}" * 50 + "x" * 95_000),
            "Excludes": filters(f"/{DS_FORMAT}" * 49 + "y" * 95_000),
        },
    },
    "transfers": [{"task_id": f"t{index}"} for index in range(500)],
}
# 6,000 expressions in the defaults, parsed again for each of 500 items: about 80 s.
MANY_EXPRESSIONS = {
    "defaults": {
        "task_arn": TASK_ARN,
        "task_execution_kwargs": {"Tags": [{"Key": f"k{index}", "Value": "{{ds}}" * 300} for index in range(20)]},
    },
    "transfers": [{"task_id": f"t{index}"} for index in range(500)],
}
# As much as a batch may hold: 100 expressions and 60 KB of defaults merged into 500 items, each with its own run_id.
LARGEST_VALID = {
    "defaults": {
        "task_arn": TASK_ARN,
        "task_execution_kwargs": {
            "Includes": filters(f"/{DS_FORMAT}{{{{ run_id }}}}" * 25 + "x" * 29_000),
            "Excludes": filters(f"/{DS_FORMAT}{{{{ run_id }}}}" * 25 + "y" * 29_000),
        },
    },
    "transfers": [{"task_id": f"t{index}"} for index in range(500)],
}


def validate(execution_input: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(execution_input, separators=(",", ":")))
    return subprocess.run(
        [str(Path(sys.executable).parent / "datasync-workflow"), "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (MAX_ADDRESS_SPACE, MAX_ADDRESS_SPACE)),
        check=False,
    )


@pytest.mark.parametrize(
    ("execution_input", "refusal"),
    [
        (STRFTIME, "strftime(): a format is a string constant whose directives are a % and a letter"),
        (INLINE_DEFAULTS, "transfers: merged over the defaults, the transfers come to over 33,554,432 bytes"),
        (MANY_EXPRESSIONS, "transfers[0].the input holds 6,000 expressions in templates; at most 100"),
    ],
    ids=["three-strftime-levels", "200-kb-inline-batch", "expressions-per-item"],
)
def test_an_input_that_rendered_gigabytes_or_minutes_is_refused_within_300_mb(execution_input, refusal, tmp_path):
    validated = validate(execution_input, tmp_path)
    assert validated.returncode == 1, validated.stderr
    assert refusal in validated.stdout


def test_the_largest_batch_templates_allow_is_checked_within_300_mb(tmp_path):
    validated = validate(LARGEST_VALID, tmp_path)
    assert (validated.returncode, validated.stdout) == (0, "valid\n"), validated.stderr
