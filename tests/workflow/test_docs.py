"""The documentation: its generated sections equal what the code makes, they say what the code does, and the site
builds strictly (a broken link or anchor, or a page left out, fails)."""

import json
import re

import pytest

from datasync_steps import errors
from datasync_steps.batch import BatchInput
from datasync_steps.input_checks import input_problems
from datasync_steps.input_model import WorkflowInput
from datasync_workflow.definition.steps import STEPS, batch_definition_text, definition_text
from docs_tooling import reference

README = reference.ROOT / "README.md"


def test_every_generated_section_is_as_the_code_makes_it():
    stale = [
        str(path.relative_to(reference.ROOT)) for path, text in reference.pages().items() if path.read_text() != text
    ]
    assert stale == [], f"{stale} differ from what the code makes: run make docs and commit them"


def test_a_page_edited_by_hand_inside_a_section_is_found_stale(tmp_path, monkeypatch):
    copy = tmp_path / "docs"
    for path in reference.DOCS.rglob("*.md"):
        (copy / path.relative_to(reference.DOCS)).parent.mkdir(parents=True, exist_ok=True)
        (copy / path.relative_to(reference.DOCS)).write_text(path.read_text())
    errors_page = copy / "reference" / "errors.md"
    errors_page.write_text(
        errors_page.read_text().replace("`DataSyncTaskNotFoundError` |", "`DataSyncTaskGoneError` |")
    )
    monkeypatch.setattr(reference, "DOCS", copy)
    assert [path for path, text in reference.pages().items() if path.read_text() != text] == [errors_page]


def table_rows(page: str, section: str) -> list[list[str]]:
    text = (reference.DOCS / page).read_text()
    block = text.split(reference.START.format(name=section))[1].split(reference.END)[0]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in block.splitlines()[4:] if line]


@pytest.mark.parametrize(("model", "section"), [(WorkflowInput, "input"), (BatchInput, "batch-input")])
def test_the_input_tables_name_every_key_with_its_default_and_bounds(model, section):
    rows = {row[0].strip("`"): row for row in table_rows("reference/input.md", section)}
    assert list(rows) == list(model.model_fields)
    if model is WorkflowInput:
        assert rows["wait_interval_seconds"][1:4] == ["integer", "`30`", "0..86,400"]
        assert rows["if_task_running"][1:3] == ['one of `"queue"`, `"join"`, `"skip"`, `"fail"`', '`"queue"`']
        assert rows["task_arn"][2] == "none"
        assert rows["delete_task_after_execution"][1:3] == ["boolean", "`false`"]
        assert rows["retries"][1:4] == ["integer", "`0`", "≥ 0"]
        assert rows["execution_timeout"][1:4] == ["number", "none", "> 0, ≤ 31,536,000"]
        assert rows["task_id"][3] == "at most 250 long"
    else:
        assert rows["max_concurrency"][1:4] == ["integer", "`4`", "1..40"]


def test_the_error_table_names_every_error_a_run_can_end_with():
    named = {row[0].strip("`") for row in table_rows("reference/errors.md", "errors")}
    raised = set(re.findall(r'"Error": "(DataSync\w+)"', definition_text() + batch_definition_text()))
    classes = {name for name, value in vars(errors).items() if isinstance(value, type) and name.startswith("DataSync")}
    assert raised <= named
    assert named == classes - {"DataSyncWorkflowError"}


def test_the_permissions_table_has_every_grant_of_every_step():
    rows = table_rows("security.md", "permissions")
    for step in STEPS:
        actions = {a for row in rows if row[0] == f"`{step.name}`" for a in re.findall(r"`([a-z0-9]+:\w+)`", row[1])}
        assert actions >= {action for grant in step.grants for action in grant.actions}, step.name
        assert ("iam:PassRole" in actions) == step.passes_roles, step.name


def test_the_make_targets_table_has_every_target_with_what_it_does():
    makefile = (reference.ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.MULTILINE)
    rows = table_rows("development.md", "make-targets")
    assert [row[0] for row in rows] == [f"`make {target}`" for target in targets]
    assert all(row[1] != "—" for row in rows), "a target without the comment that says what it does"


def test_the_readme_is_a_front_door():
    readme = README.read_text()
    assert len(readme.splitlines()) <= 200
    assert re.findall(r"^## .*", readme, re.MULTILINE)[0] == "## The two commands"
    assert "make demo" in readme.split("## The two commands")[1].split("## ")[0]
    # The input the README shows is one `validate` accepts.
    shown = json.loads(readme.split("An input is one JSON object:\n\n```json\n")[1].split("```")[0])
    assert input_problems(shown) == []
    for page in re.findall(r"\]\(docs/([^)#]+)", readme):
        assert (reference.DOCS / page).exists(), page
