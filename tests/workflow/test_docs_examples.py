"""The inputs and commands that README.md and docs/getting-started.md show a new user, run as shown: each `run --local`
beside an input ends as the page says (SUCCEEDED, or the failed transfer it asks for), each `validate` says valid.
The pages cannot drift from what the command does."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("README.md", "docs/getting-started.md")
COMMAND = str(Path(sys.executable).parent / "datasync-workflow")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@dataclass
class Shown:
    page: str
    argv: list[str]  # after the program's name
    name: str  # the input file it names
    text: str  # the JSON the page shows for it (or the repository's file of examples/)
    shown_input: bool  # whether the page shows the input

    def __str__(self) -> str:
        return f"{self.page}: datasync-workflow {shlex.join(self.argv)}"


def shown_commands(page: str) -> list[Shown]:
    """The page's `datasync-workflow validate` and `run --local` lines, each with the input it names: the JSON block
    nearest before its own block (a file of examples/ is the repository's)."""
    shown, last_input = [], None
    for language, body in FENCE.findall((ROOT / page).read_text()):
        if language == "json":
            last_input = body
            continue
        for line in body.splitlines():
            if not re.match(r"(\S*/)?datasync-workflow ", line):
                continue  # a progress line, a make target
            argv = shlex.split(line, comments=True)[1:]
            if argv[0] not in ("validate", "run") or (argv[0] == "run" and "--local" not in argv):
                continue  # a deployed run, a backfill of a stack: not for this machine
            name = next(word for word in argv[1:] if not word.startswith("-"))
            if name.startswith("examples/"):
                shown.append(Shown(page, argv, name, (ROOT / name).read_text(), shown_input=False))
                continue
            assert last_input is not None, f"{page}: {line!r} names {name}, but no input is shown before it"
            shown.append(Shown(page, argv, name, last_input, shown_input=True))
    return shown


SHOWN = [command for page in PAGES for command in shown_commands(page)]


def test_each_page_shows_an_input_beside_a_local_run():
    for page in PAGES:
        runs = [c for c in SHOWN if c.page == page and c.argv[0] == "run" and c.shown_input]
        assert runs, f"{page} shows no run --local of an input it shows"
        for command in runs:
            assert isinstance(json.loads(command.text), dict), command


def run_shown(command: Shown, directory: Path) -> subprocess.CompletedProcess:
    directory.mkdir(parents=True)
    (directory / Path(command.name).name).write_text(command.text)
    argv = [str(directory / Path(word).name) if word == command.name else word for word in command.argv]
    return subprocess.run([COMMAND, *argv], cwd=directory, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> list[tuple[Shown, subprocess.CompletedProcess]]:
    """Every command, at once (the failed transfer's tries wait their retry_delay)."""
    base = tmp_path_factory.mktemp("shown")
    with ThreadPoolExecutor(max_workers=len(SHOWN)) as pool:
        done = list(pool.map(lambda numbered: run_shown(numbered[1], base / str(numbered[0])), enumerate(SHOWN)))
    return list(zip(SHOWN, done, strict=True))


def test_what_the_pages_show_runs_as_they_say(results):
    for command, done in results:
        if command.argv[0] == "validate":
            assert (done.returncode, done.stdout.splitlines()[0]) == (0, "valid"), f"{command}\n{done.stdout}"
            continue
        lines = done.stderr.splitlines()
        if "--fail-with" not in command.argv:
            assert done.returncode == 0, f"{command}\n{done.stderr}"
            assert lines[-1] == "Execution SUCCEEDED", f"{command}\n{done.stderr}"
            assert json.loads(done.stdout)["TaskExecution"]["Status"] == "SUCCESS", command
            continue
        # The failed transfer the page asks for: each try says why it failed and when the next starts.
        assert done.returncode == 1 and done.stdout == "", f"{command}\n{done.stderr}"
        assert "Error: DataSyncTaskExecutionFailedError" in lines, f"{command}\n{done.stderr}"
        retries = json.loads(command.text).get("retries", 0)
        for attempt in range(1, retries + 1):
            (said,) = [line for line in lines if f"Try {attempt} failed (DataSyncTaskExecutionFailedError)" in line]
            cause, next_try = lines[lines.index(said) + 1 : lines.index(said) + 3]
            assert "Cause: " in cause and "ended in ERROR: SomeError: disk full" in cause, done.stderr
            assert "The next try starts at " in next_try, done.stderr
        assert f"This was the last of {retries + 1} tries." in done.stderr or not retries


def test_the_airflow_guides_conversion_runs_as_shown(tmp_path):
    """docs/airflow.md's block of from-airflow commands, line by line in a shell, where a user's clone is: each ends
    0, the converted input runs locally to SUCCEEDED, and --out writes the files the comment names."""
    (block,) = [body for _, body in FENCE.findall((ROOT / "docs/airflow.md").read_text()) if "from-airflow" in body]
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    environment = {**os.environ, "PATH": f"{Path(COMMAND).parent}{os.pathsep}{os.environ['PATH']}"}
    for line in block.splitlines():
        done = subprocess.run(
            line, shell=True, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        if " run --local " in line:
            assert done.stderr.splitlines()[-1] == "Execution SUCCEEDED", done.stderr
    assert (tmp_path / "inputs/finance_nightly.copy_ledger.json").is_file()
    assert json.loads((tmp_path / "exports.json").read_text())["transfers"]
