"""The definition file itself: what every Task retries and catches, and that it fits the code."""

import importlib
import inspect
import json
import re
import subprocess
import typing

import pytest
from pydantic import BaseModel

from datasync_steps import errors, names
from datasync_steps.observability import STEP_MODELS
from datasync_workflow.definition import diagram, flow
from datasync_workflow.definition.steps import (
    ASL_PATH,
    STEPS,
    WORKFLOW_ARN_PLACEHOLDER,
    batch_definition_text,
    definition_text,
    placeholders,
    render_definition,
    workflow_steps,
)

DEFINITION = json.loads(ASL_PATH.read_text())
STATES = DEFINITION["States"]
TASKS = {name: state for name, state in STATES.items() if state["Type"] == "Task"}
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
USER_FACING_ERRORS = {
    name
    for name, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.DataSyncWorkflowError) and cls is not errors.DataSyncWorkflowError
}


def test_the_placeholders_are_exactly_the_step_functions():
    assert placeholders() == {step.placeholder for step in workflow_steps()}
    # The batch's invokes its own steps, and starts the workflow's state machine.
    assert placeholders(batch_definition_text()) == {step.placeholder for step in workflow_steps(batch=True)} | {
        WORKFLOW_ARN_PLACEHOLDER
    }


def test_every_step_handler_exists():
    for step in STEPS:
        assert callable(importlib.import_module(step.module).handler)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_retries_lambda_and_transient_errors_with_backoff_and_jitter(name):
    retried = {error for retrier in TASKS[name]["Retry"] for error in retrier["ErrorEquals"]}
    assert LAMBDA_SERVICE_ERRORS | {"DataSyncTransientError"} <= retried
    assert not retried & (USER_FACING_ERRORS | {"States.ALL", "States.TaskFailed"})
    for retrier in TASKS[name]["Retry"]:
        assert retrier["BackoffRate"] > 1 and retrier["JitterStrategy"] == "FULL" and retrier["MaxAttempts"] >= 3


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_catches_every_error(name):
    assert [catcher["ErrorEquals"] for catcher in TASKS[name]["Catch"]] == [["States.ALL"]]


def test_every_state_is_reachable_and_every_target_exists():
    def targets(state):
        found = [state.get("Next"), state.get("Default")]
        found += [choice["Next"] for choice in state.get("Choices", [])]
        found += [catcher["Next"] for catcher in state.get("Catch", [])]
        return [target for target in found if target]

    reached, frontier = set(), [DEFINITION["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name not in reached:
            reached.add(name)
            assert name in STATES, f"{name} is a target but no state"
            frontier += targets(STATES[name])
    assert reached == set(STATES)


def test_failures_after_the_start_cancel_the_execution():
    assert TASKS["Check execution status"]["Catch"][0]["Next"] == "Cancel execution after failure"


def test_a_failed_check_of_another_runs_execution_cancels_nothing():
    # Queued behind it, the run follows an execution it did not start: a failure there only ends the try.
    assert TASKS["Check the running execution"]["Catch"][0]["Next"] == "Plan the next try"


def test_every_failure_of_a_try_goes_to_planning_the_next():
    for name, state in TASKS.items():
        if name != "Plan the next try":
            assert state["Catch"][0]["Next"] in (
                "Plan the next try",
                "Cancel execution after failure",  # then on to planning
                "Check execution status",  # a wait that failed
                "Check the running execution",
                "Task report still pending",  # the transfer succeeded whatever became of its report
            ), name
    for name in ("Execution timed out", "Execution out of time", "Gave up waiting for the running execution"):
        assert STATES[name]["Parameters"]["Error"] == "DataSyncExecutionTimeoutError"
        assert STATES[name]["Next"] == "Plan the next try"


def test_every_user_facing_error_is_explained_by_its_own_message_even_when_no_try_could_be_planned():
    # Classify failure sends errors named DataSync* to the state that uses the Lambda's message as Cause, but for the
    # timeout states' errors, whose Cause is already a sentence.
    assert TASKS["Plan the next try"]["Catch"][0]["Next"] == "Classify failure"
    timeout, steps = STATES["Classify failure"]["Choices"]
    assert timeout == {
        "Variable": "$.error.Error",
        "StringEquals": "DataSyncExecutionTimeoutError",
        "Next": "Failed with its own sentence",
    }
    assert steps == {"Variable": "$.error.Error", "StringMatches": "DataSync*", "Next": "Explain failure"}
    assert all(name.startswith("DataSync") for name in USER_FACING_ERRORS | {"DataSyncTransientError"})


def test_the_clean_up_step_reads_the_state_that_starts_the_execution():
    assert TASKS[names.START_STATE]["ResultPath"] == "$.execution"


@pytest.mark.parametrize("batch", [False, True], ids=["workflow", "batch"])
def test_the_definition_passes_the_asl_validator(tmp_path, batch):
    validator = ASL_PATH.parents[1] / "node_modules" / ".bin" / "asl-validator"
    assert validator.exists(), "asl-validator is installed by `make install` (package.json)"
    arns = {step.placeholder: f"arn:aws:lambda:us-east-1:111122223333:function:{step.name}" for step in STEPS}
    arns[WORKFLOW_ARN_PLACEHOLDER] = "arn:aws:states:us-east-1:111122223333:stateMachine:workflow"
    rendered = tmp_path / "definition.json"
    text = batch_definition_text() if batch else definition_text()
    rendered.write_text(render_definition({key: arn for key, arn in arns.items() if key}, text))
    done = subprocess.run([str(validator), "--json-path", str(rendered)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def transitions(definition: dict) -> set[tuple[str, str]]:
    """(state, next state) for every way out of every state of the definition."""
    return {
        (name, target)
        for name, state in definition["States"].items()
        for target in [state.get("Next"), state.get("Default")]
        + [rule["Next"] for rule in state.get("Choices", []) + state.get("Catch", [])]
        if target
    }


@pytest.mark.parametrize("batch", [False, True], ids=["workflow", "batch"])
def test_the_diagram_has_every_state_and_transition(batch):
    definition = json.loads(batch_definition_text() if batch else definition_text())
    chart = diagram.flowchart(definition)
    labels = dict(re.findall(r'^    (s\d+)[\[{(]+"([^"]+)"', chart, re.MULTILINE))
    drawn = {(labels[a], labels[b]) for a, b in re.findall(r"^    (s\d+) -\S+(?: \S+)*? (s\d+)$", chart, re.MULTILINE)}
    assert sorted(labels.values()) == sorted(definition["States"])
    assert drawn == transitions(definition)


def test_the_parts_drawn_in_the_docs_hold_every_state_once_and_every_transition():
    from docs_tooling.reference import WORKFLOW_PARTS

    definition = json.loads(definition_text())
    in_parts = [name for part in WORKFLOW_PARTS.values() for name in part]
    assert sorted(in_parts) == sorted(definition["States"])
    drawn = set()
    for part in WORKFLOW_PARTS.values():
        chart = diagram.flowchart(definition, part)
        boxes = dict(re.findall(r'^    (s\d+)[\[{(>]+"([^"]+)"', chart, re.MULTILINE))
        # A state of another part is drawn as a grey pointer to it, not as one of this part's boxes.
        pointers = set(re.findall(r"^    (s\d+)>", chart, re.MULTILINE))
        assert sorted(name for box, name in boxes.items() if box not in pointers) == sorted(part)
        assert len(boxes) <= 30
        edges = re.findall(r"^    (s\d+) -\S+(?: \S+)*? (s\d+)$", chart, re.MULTILINE)
        drawn |= {(boxes[a], boxes[b]) for a, b in edges}
    assert drawn == transitions(definition)


def test_the_names_code_shares_with_the_definition_are_in_it():
    definition = json.loads(definition_text())
    for state in (names.START_STATE, names.WAIT_STATE, names.CHECK_STATE, names.DESCRIBE_STATE):
        assert state in definition["States"]
    text = definition_text()
    for route in (names.CREATE_LOCATIONS, names.CREATE_TASK, names.QUEUE, names.SKIP):
        assert f'"StringEquals": "{route}"' in text
    for status in names.FINAL_STATUSES:
        assert f'"StringEquals": "{status}"' in text


def test_the_committed_definition_is_the_one_the_flow_builds():
    assert flow.definition_file_text() == ASL_PATH.read_text(), (
        "statemachine/datasync_workflow.asl.json differs from datasync_workflow/definition/flow.py: run make definition"
    )


# The typed contract: what each Task gives its step is what the step's event model takes, and every path the
# definition reads exists in the result (or error) written there.


def step_of(state: dict):
    resource = state["Parameters"].get("FunctionName", state["Resource"])
    (step,) = [step for step in STEPS if step.placeholder and resource == f"${{{step.placeholder}}}"]
    importlib.import_module(step.module)
    return step


@pytest.mark.parametrize("name", sorted(TASKS))
def test_each_task_gives_its_step_the_event_its_model_takes(name):
    state = TASKS[name]
    event_model, _ = STEP_MODELS[step_of(state).module]
    parameters = state["Parameters"].get("Payload", state["Parameters"])
    given = {key.removesuffix(".$") for key in parameters}
    required = {field for field, info in event_model.model_fields.items() if info.is_required()}
    assert required <= given <= set(event_model.model_fields), (required, given)


def written_paths() -> dict[str, object]:
    """ResultPath -> what is written there: a step's result model, or the names a Catch or Pass writes."""
    written: dict[str, object] = {}
    for state in STATES.values():
        if state["Type"] == "Task":
            if state.get("ResultPath", "$") is not None:  # null: the result is dropped
                written[state.get("ResultPath", "$")] = STEP_MODELS[step_of(state).module][1]
            for catch in state["Catch"]:
                written.setdefault(catch["ResultPath"], {"Error", "Cause"})
        elif state["Type"] == "Pass" and "ResultPath" in state:
            fields = state.get("Parameters") or state.get("Result")
            written[state["ResultPath"]] = {key.removesuffix(".$") for key in fields}
    return written


def read_paths(node) -> set[str]:
    """Every `$.…` path the definition reads: in Parameters, Choice rules, timeouts, Fail states, intrinsics."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "ResultPath":
                continue
            if isinstance(value, str) and (key.endswith(".$") or key == "Variable" or key.endswith("Path")):
                found |= set(re.findall(r"(?<!\$)\$\.[A-Za-z_][\w.]*", value))
            found |= read_paths(value)
    elif isinstance(node, list):
        for item in node:
            found |= read_paths(item)
    return found


def has_fields(model, parts: list[str]) -> bool:
    for part in parts:
        if isinstance(model, set):  # names a Catch or Pass writes; what lies under them is not typed here
            return part in model
        fields = model.model_fields
        if part not in fields:
            return model.model_config.get("extra") == "allow"
        annotation = fields[part].annotation
        nested = [
            a for a in (annotation, *typing.get_args(annotation)) if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not nested:
            return True  # a plain value or dict: nothing typed below it
        model = nested[0]
    return True


def test_every_path_the_definition_reads_exists_in_what_was_written_there():
    written = written_paths()
    for path in sorted(read_paths(DEFINITION)):
        prefix = max((p for p in written if p == "$" or path == p or path.startswith(p + ".")), key=len)
        rest = path.removeprefix(prefix).lstrip("$.").split(".") if path != prefix else []
        assert has_fields(written[prefix], [part for part in rest if part]), f"{path}: not in what {prefix} holds"


def test_the_committed_batch_definition_is_the_one_the_flow_builds():
    assert flow.definition_file_text(batch=True) == batch_definition_text(), (
        "statemachine/datasync_batch.asl.json differs from datasync_workflow/definition/flow.py: run make definition"
    )


# Issue 28: a batch's child starts survive Step Functions' throttling (StartExecution's quota is the account's).
THROTTLING_AND_SERVICE_ERRORS = {
    "StepFunctions.AWSStepFunctionsException",  # ThrottlingException, the 5xx errors
    "StepFunctions.SdkClientException",
    "StepFunctions.ExecutionLimitExceeded",
}
REFUSALS = {
    "StepFunctions.ExecutionAlreadyExistsException",
    "StepFunctions.InvalidArnException",
    "StepFunctions.StateMachineDoesNotExistException",
    "StepFunctions.InvalidExecutionInputException",
}


@pytest.mark.parametrize("item_states", [names.ITEM_STATES, names.S3_ITEM_STATES])
def test_a_batchs_child_start_retries_throttling_and_service_errors_with_backoff_and_jitter(item_states):
    from datasync_steps.batch import MAX_TRANSFERS
    from datasync_steps.limits import (
        BATCH_RESERVED_EVENTS,
        CHILD_START_RETRIES,
        EVENTS_PER_BATCH_ITEM,
        EVENTS_PER_START_RETRY,
        HISTORY_LIMIT,
    )

    batch_states = json.loads(batch_definition_text())["States"]
    (run_child,) = [
        state["ItemProcessor"]["States"][item_states[0]]
        for state in batch_states.values()
        if state["Type"] == "Map" and item_states[0] in state["ItemProcessor"]["States"]
    ]
    assert run_child["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    (retrier,) = run_child["Retry"]  # one retrier: MaxAttempts bounds every retry of the start
    assert set(retrier["ErrorEquals"]) >= THROTTLING_AND_SERVICE_ERRORS
    assert not set(retrier["ErrorEquals"]) & (REFUSALS | {"States.ALL", "States.TaskFailed"})
    assert retrier["JitterStrategy"] == "FULL" and retrier["BackoffRate"] > 1 and retrier["MaxDelaySeconds"] <= 60
    assert retrier["MaxAttempts"] == CHILD_START_RETRIES
    # The start keeps its name: a retry finds the child it started instead of starting a second.
    assert run_child["Parameters"]["Name.$"] == "$.name"
    # A full inline batch, every child start retried the most, keeps within the batch's history.
    per_item = EVENTS_PER_BATCH_ITEM + retrier["MaxAttempts"] * EVENTS_PER_START_RETRY
    assert MAX_TRANSFERS * per_item + BATCH_RESERVED_EVENTS <= HISTORY_LIMIT


def test_the_largest_inline_batch_keeps_its_state_within_256_kib_after_its_summary():
    """Step Functions fails an execution whose state passes 256 KiB (States.DataLimitExceeded, which no Catch takes);
    moto does not, so this is computed: the state after the summary of MAX_TRANSFERS items, placed where the
    definition's ResultPaths put the Map's results (each row's source at its largest) and the summary (its rows just
    within what stays in the output)."""
    from datasync_steps.batch import MAX_TRANSFERS
    from datasync_steps.summarize_batch import MAX_ROWS_IN_OUTPUT_BYTES

    states = json.loads(batch_definition_text())["States"]
    task = "arn:aws:datasync:eu-central-1:123456789012:task/task-0123456789abcdef0"
    source = {
        "Status": "SUCCEEDED",
        "TaskArn": task,
        "TaskExecutionArn": f"{task}/execution/exec-0123456789abcdef0",
        "BytesTransferred": 10**18,
        "FilesTransferred": 10**18,
    }
    row = {"index": MAX_TRANSFERS, "task_id": "t" * 80, **source}
    rows = [row] * (MAX_ROWS_IN_OUTPUT_BYTES // len(json.dumps(row)))
    state = {
        "items": None,
        "count": MAX_TRANSFERS,
        "prefix": "0" * 24,
        "workflow_state_machine_arn": "arn:aws:states:eu-central-1:123456789012:stateMachine:" + "w" * 80,
        "max_concurrency": 40,
        "tolerated_failures": MAX_TRANSFERS,
    }

    def put(path: str, value: object) -> None:
        assert re.fullmatch(r"\$\.\w+", path), path
        state[path.removeprefix("$.")] = value

    put(states[names.MAP_STATES[0]]["ResultPath"], [source] * MAX_TRANSFERS)
    put(states[names.SUMMARY_STATE]["ResultPath"], {"Totals": {"Items": MAX_TRANSFERS}, "Rows": rows})
    assert len(json.dumps(state, separators=(",", ":")).encode()) <= 256 * 1024
