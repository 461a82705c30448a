"""The construct a team's own CDK app installs (datasync_workflow.cdk): its keyword arguments are the deployment's
settings, checked as cdk.json's are, and a wheel of the checkout, installed with its `cdk` extra in a fresh virtual
environment, synthesizes the app docs/deploying.md shows."""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import get_type_hints

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from datasync_steps.errors import DataSyncInvalidInputError
from datasync_workflow.definition.steps import STEPS

ROOT = Path(__file__).resolve().parents[2]
DEPLOYING = ROOT / "docs" / "deploying.md"
# The line above the app in docs/deploying.md, so that the page shows what this file runs.
APP_MARKER = "<!-- tests/infra/test_construct.py synthesizes this app outside the repository -->"
# What goes into the wheel's copy of the checkout: everything but what make and the tools leave there.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "build", "dist", "cdk.out", "site", "*.egg-info", "__pycache__", ".*cache"
)
BUILD_SECONDS, INSTALL_SECONDS, SYNTH_SECONDS = 300, 600, 300
TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"
# Printed by the fresh environment's Python: where it imports the package from.
WHERE_FROM = "import datasync_workflow.cdk as c, datasync_steps as s; print(c.__file__, s.__file__)"


def the_app_the_docs_show() -> str:
    found = re.search(re.escape(APP_MARKER) + r"\s*```python\n(.*?)```", DEPLOYING.read_text(), re.DOTALL)
    assert found, f"docs/deploying.md has no python block after {APP_MARKER}"
    return found.group(1)


def test_the_keyword_arguments_are_the_settings_with_their_types():
    from datasync_workflow.cdk import WorkflowConfig, WorkflowSettings

    fields = {name: field.annotation for name, field in WorkflowConfig.model_fields.items()}
    assert get_type_hints(WorkflowSettings) == fields
    assert WorkflowSettings.__optional_keys__ == set(fields)  # each has its default


def in_a_stack(**settings):
    from aws_cdk import App, Stack

    from datasync_workflow.cdk import DataSyncWorkflow

    return DataSyncWorkflow(Stack(App(), "Team"), "Transfers", **settings)


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"alarm_email": ["ops@example.com"]}, ValueError, "alarm_email\n  Extra inputs are not permitted"),
        ({"passable_role_arns": ["arn:aws:iam::1:role/*"]}, ValueError, "has a wildcard"),
        ({"log_retention": "A_WHILE"}, ValueError, "'A_WHILE' is not one of"),
        ({"step_reserved_concurrency": 0}, ValueError, "step_reserved_concurrency"),
        (
            {"schedules": [{"name": "n", "expression": "rate(1 day)", "input": {"task_arn": "nope"}}]},
            DataSyncInvalidInputError,
            "task_arn",
        ),
    ],
)
def test_a_bad_keyword_argument_fails_the_synth_as_in_cdk_json(settings, error, message):
    with pytest.raises(error, match=re.escape(message)):
        in_a_stack(**settings)


def test_the_settings_may_be_the_models_themselves():
    from datasync_workflow.cdk import Schedule, ScopeTag

    nightly = Schedule(name="n", expression="rate(1 day)", input={"task_arn": TASK_ARN})
    workflow = in_a_stack(schedules=[nightly], scope_tag=ScopeTag(key="team", value="finance"))
    assert workflow.config.schedules == [nightly] and len(workflow.operations.schedules) == 1


def test_a_path_that_would_name_the_state_machine_over_80_characters_fails_the_synth():
    from aws_cdk import App, Stack

    from datasync_workflow.cdk import DataSyncWorkflow

    with pytest.raises(ValueError, match="over 80 characters, Step Functions' most"):
        DataSyncWorkflow(Stack(App(), "T" * 40), "W" * 40)


def files_under(directory: Path) -> set[str]:
    return {str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file()}


MISSING_TASK = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"


def run(command: list, what: str, timeout: int, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{what} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return done


def test_a_wheel_installed_with_its_cdk_extra_in_a_fresh_environment_synthesizes_a_teams_app(tmp_path):
    """The wheel is built (`pip wheel`, setuptools as pyproject pins it) from a copy of the checkout, so nothing a build
    leaves (build/, egg-info) lands in the checkout and nothing stale from there lands in the wheel. It is installed
    with `[cdk]` into a new virtual environment with nothing else in it: pip resolves the wheel's own requirements
    and its extra's from the package index (CI's is PyPI), held to requirements.lock's versions, so a requirement
    the wheel or the extra lacks fails the app's imports or synth here. (No `--system-site-packages`, and no path to
    this environment's packages, which would hide one.) The app is the one docs/deploying.md shows, written to a
    directory outside the repository and run there in isolated mode (-I), so nothing of the checkout is importable.
    No command sees this environment's PYTHON* variables (a PYTHONPATH to the checkout would make pip think the
    package installed, and the app import it from there) nor AWS credentials. Bytecode is not compiled at install
    (about 400 MB of aws-cdk-lib's Python), and the environment is removed at the end. About 30 s on a 2-core machine
    with a local package index, most of it pip installing aws-cdk-lib."""
    source, dist, env, team = (tmp_path / name for name in ("source", "dist", "env", "team"))
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "AWS_"))}
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE, symlinks=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "--no-deps", "--wheel-dir", dist, source], "building the wheel", BUILD_SECONDS, env=environment)
    (wheel,) = dist.glob("datasync_workflow-*.whl")
    shipped = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert shipped == {"datasync_workflow", "datasync_steps", wheel.name.rsplit("-", 3)[0] + ".dist-info"}

    try:
        run([sys.executable, "-m", "venv", "--without-pip", env], "making the environment", 120, env=environment)
        python = env / "bin" / "python"
        install = ["install", "--quiet", "--no-compile", "-c", source / "requirements.lock", f"{wheel}[cdk]"]
        run([*pip, "--python", python, *install], "installing the wheel with [cdk]", INSTALL_SECONDS, env=environment)
        team.mkdir()
        (team / "app.py").write_text(the_app_the_docs_show())
        environment["CDK_OUTDIR"] = str(team / "cdk.out")
        where = run([python, "-I", "-c", WHERE_FROM], "importing the package", SYNTH_SECONDS, cwd=team, env=environment)
        assert all(Path(path).is_relative_to(env) for path in where.stdout.split()), where.stdout
        run([python, "-I", "app.py"], "synthesizing the team's app", SYNTH_SECONDS, cwd=team, env=environment)
        # The wheel's command line runs the workflow locally too: its definition without the repository's files.
        (team / "missing.json").write_text(json.dumps({"task_arn": MISSING_TASK}))
        local = subprocess.run(
            [env / "bin" / "datasync-workflow", "run", "--local", "missing.json"],
            capture_output=True,
            text=True,
            timeout=SYNTH_SECONDS,
            cwd=team,
            env=environment,
        )
        assert local.returncode == 1 and "DataSyncTaskNotFoundError" in local.stderr, local.stderr[-3000:]

        outdir = team / "cdk.out"
        (template_file,) = outdir.glob("*.template.json")
        resources = json.loads(template_file.read_text())["Resources"].values()
        machines = [r for r in resources if r["Type"] == "AWS::StepFunctions::StateMachine"]
        functions = [r["Properties"] for r in resources if r["Type"] == "AWS::Lambda::Function"]
        layers = [r["Properties"] for r in resources if r["Type"] == "AWS::Lambda::LayerVersion"]
        assert len(machines) == 2  # the workflow's and the batch's
        assert sorted(function["Handler"] for function in functions) == sorted(step.handler for step in STEPS)

        def asset(code: dict) -> Path:
            return outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"

        (code,) = {asset(function["Code"]) for function in functions}
        built_from = {f"datasync_steps/{path.name}" for path in (source / "lambdas" / "datasync_steps").glob("*.py")}
        # The step package alone, whole, with no bytecode but that of Lambda's Python where one is found
        # (tests/infra/test_bytecode.py); this machine has none.
        from datasync_workflow.cdk.assets import bytecode_compiler  # aws-cdk-lib starts jsii: only where used
        from datasync_workflow.cdk.core import RUNTIME

        runtime_tag = f"cpython-{RUNTIME.name.removeprefix('python').replace('.', '')}"
        found = bytecode_compiler(RUNTIME.name) is not None
        bytecode = {f"datasync_steps/__pycache__/{Path(path).stem}.{runtime_tag}.pyc" for path in built_from}
        assert files_under(code) == built_from | (bytecode if found else set())
        assert "datasync_steps/resolve.py" in built_from
        (layer,) = layers
        layer_files = files_under(asset(layer["Content"]))
        assert {"python/jinja2/__init__.py", "python/jinja2/sandbox.py", "python/markupsafe/__init__.py"} <= layer_files
        assert {path.split("/")[1] for path in layer_files} == {"jinja2", "markupsafe"}
        assert not [path for path in layer_files if path.endswith((".so", ".pyd", ".c"))]
        assert any(path.endswith(f".{runtime_tag}.pyc") for path in layer_files) == found
        assert not [path for path in layer_files if path.endswith(".pyc") and runtime_tag not in path]
    finally:
        shutil.rmtree(env, ignore_errors=True)
