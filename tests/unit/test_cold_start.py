"""What a step's cold start does not pay for: Jinja2 and the templates' allow-list, and EventBridge Scheduler's
expressions, are imported only for an input that holds a template or names a schedule (most hold neither); pydantic
looks for no plugin in the environment the stack gives each function."""

import json
import os
import subprocess
import sys

from datasync_steps.observability import FUNCTION_ENVIRONMENT
from datasync_workflow.definition.steps import STEPS

ONLY_FOR_SOME_INPUTS = ("jinja2", "datasync_steps.templates", "datasync_steps.timetable")
TASK_ARN = "arn:aws:datasync:us-east-1:111122223333:task/task-0123456789abcdef0"


def loaded_after(statements: str) -> list[str]:
    """Which of ONLY_FOR_SOME_INPUTS a fresh interpreter has imported after `statements`."""
    report = f"import json, sys; print(json.dumps(sorted(m for m in {ONLY_FOR_SOME_INPUTS!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", f"{statements}\n{report}"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_no_step_imports_what_only_some_inputs_need():
    assert loaded_after("\n".join(f"import {step.module}" for step in STEPS)) == []


def loaded_checking(raw: dict) -> list[str]:
    return loaded_after(f"from datasync_steps.input_parsing import parse_workflow_input\nparse_workflow_input({raw!r})")


def test_an_input_is_checked_without_them_unless_it_holds_a_template_or_names_a_schedule():
    assert loaded_checking({"task_arn": TASK_ARN, "update_task_kwargs": {"Options": {"VerifyMode": "NONE"}}}) == []
    includes = [{"FilterType": "SIMPLE_PATTERN", "Value": "/{{ ds }}"}]
    assert "jinja2" in loaded_checking({"task_arn": TASK_ARN, "task_execution_kwargs": {"Includes": includes}})
    assert "datasync_steps.timetable" in loaded_checking({"task_arn": TASK_ARN, "schedule": "rate(1 day)"})


def plugins_looked_for(environment: dict[str, str]) -> bool:
    """Whether pydantic scanned the installed distributions for plugins while every step was imported in a fresh
    interpreter with `environment` (its loader keeps what it found, None until it looks)."""
    imports = "\n".join(f"import {step.module}" for step in STEPS)
    report = "from pydantic.plugin import _loader; print(_loader._plugins is not None)"
    done = subprocess.run(
        [sys.executable, "-c", f"{imports}\n{report}"], env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip() == "True"


def test_the_functions_environment_keeps_pydantic_from_looking_for_plugins():
    without = {key: value for key, value in os.environ.items() if key != "PYDANTIC_DISABLE_PLUGINS"}
    assert plugins_looked_for(without)
    assert not plugins_looked_for(without | FUNCTION_ENVIRONMENT)
