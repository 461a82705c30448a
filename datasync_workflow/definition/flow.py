"""The workflow's flow, from which `make definition` writes statemachine/datasync_workflow.asl.json: the file
CDK deploys and the local runner runs. Each Lambda task gets the shared Retry and Catch from `task`."""

import json

from datasync_steps.errors import DataSyncExecutionTimeoutError
from datasync_steps.limits import CHILD_START_RETRIES, EXECUTION_TIMEOUT_SECONDS
from datasync_steps.names import (
    CHECK_STATE,
    CREATE_LOCATIONS,
    CREATE_TASK,
    DESCRIBE_STATE,
    FINAL_STATUSES,
    ITEM_STATES,
    MAP_STATES,
    PLAN_RETRY_STATE,
    PREPARE_BATCH_STATE,
    QUEUE,
    RERUN_ITEM_STATES,
    RERUN_MAP_STATE,
    S3_ITEM_STATES,
    SKIP,
    START_STATE,
    STARTED_BY_KEY,
    SUMMARY_STATE,
    WAIT_STATE,
)
from datasync_workflow.definition.steps import (
    ASL_PATH,
    BATCH_ASL_PATH,
    BATCH_STEP_TIMEOUT_SECONDS,
    WORKFLOW_ARN_PLACEHOLDER,
    step_named,
)

CLASSIFY = "Classify failure"
RESOLVE_STATE = "Validate input and find task"
PLAN_RETRY = PLAN_RETRY_STATE
RETRY = [
    {
        "ErrorEquals": [
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
            "Lambda.ClientExecutionTimeoutException",
        ],
        "IntervalSeconds": 1,
        "MaxAttempts": 4,
        "BackoffRate": 2,
        "MaxDelaySeconds": 20,
        "JitterStrategy": "FULL",
    },
    {
        "ErrorEquals": ["DataSyncTransientError"],
        "IntervalSeconds": 2,
        "MaxAttempts": 5,
        "BackoffRate": 2,
        "MaxDelaySeconds": 60,
        "JitterStrategy": "FULL",
    },
]
# A batch's start of a child, tried again when Step Functions' StartExecution quota (the account's: 800 calls and 150
# more a second in most regions) throttles it or the call fails on the service's side or on its way. The names are the
# states:startExecution integration's, StepFunctions.<the exception of AWS's SDK for Java>, as its Lambda integration's
# are Lambda.<exception> (developer guide, "Handle Lambda service exceptions",
# https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html):
# - AWSStepFunctionsException: an error the API's model does not declare, ThrottlingException ("Rate exceeded") and the
#   5xx errors among them (the Cause keeps the code: "... Error Code: ThrottlingException ...");
# - SdkClientException, ClientExecutionTimeoutException: the answer never came;
# - ExecutionLimitExceeded: too many open executions, which the developer guide says to retry, in its spelling
#   ("Start workflow executions from a task state",
#   https://docs.aws.amazon.com/step-functions/latest/dg/concepts-nested-workflows.html) and in the one the integration
#   gives the API's declared errors (StepFunctions.ExecutionAlreadyExistsException). AWS documents no other names.
# Nothing else: a refusal (ExecutionAlreadyExists with another input, InvalidArn, StateMachineDoesNotExist, ...) fails
# the item at once, NOT_STARTED, and so does a child's own failure (States.TaskFailed; as an ErrorEquals that name would
# match every error). An AccessDeniedException is an undeclared error too, so it is tried again like a throttled start
# before it makes the item NOT_STARTED. A retried start cannot start a second child: it has the same name
# (<prefix>-<index>) and input, and StartExecution of a Standard workflow with the name and input of a running execution
# answers that execution, and of one that has ended, ExecutionAlreadyExists (API reference, StartExecution,
# https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html), which the Catch takes: the
# summary reads that child's end by its name. CHILD_START_RETRIES keeps a full inline batch within its history.
CHILD_START_RETRY = {
    "ErrorEquals": [
        "StepFunctions.AWSStepFunctionsException",
        "StepFunctions.SdkClientException",
        "StepFunctions.ClientExecutionTimeoutException",
        "StepFunctions.ExecutionLimitExceeded",
        "StepFunctions.ExecutionLimitExceededException",
    ],
    "IntervalSeconds": 1,
    "MaxAttempts": CHILD_START_RETRIES,
    "BackoffRate": 2,
    "MaxDelaySeconds": 60,
    "JitterStrategy": "FULL",
}
EXECUTION_ID = {"execution_id.$": "$$.Execution.Id"}
FOLLOWED = {"TaskExecutionArn.$": "$.execution.TaskExecutionArn"}
CHECKS_DONE = {"checks_done.$": "$.execution.check.checks_done"}
ATTEMPT = {"attempt.$": "$.attempt"}
PLAN = {"plan.$": "$.plan"}
TIMED_OUT = "$.execution.check.TimedOut"


def task(
    step: str,
    parameters: dict,
    result_path: str | None,
    next_state: str,
    *,
    catch_to: str = PLAN_RETRY,
    error_path: str = "$.error",
) -> dict:
    """A state that invokes `step`'s function with the workflow execution's id and `parameters`, retried on
    Lambda's own errors and DataSync's transient ones; any other error goes to `error_path`, then `catch_to`."""
    state: dict[str, object] = {
        "Type": "Task",
        "Resource": f"${{{placeholder(step)}}}",
        "Parameters": {**EXECUTION_ID, **parameters},
    }
    if result_path != "$":
        state["ResultPath"] = result_path
    return state | {"Next": next_state, "Retry": RETRY, "Catch": [caught(catch_to, error_path)]}


def not_before_ready(state: dict) -> dict:
    """`state` (the start) tried again while its task is CREATING: up to a few minutes, the Retry's jitter on a
    backoff capped at a minute."""
    ready = {
        "ErrorEquals": ["DataSyncTaskNotReadyError"],
        "IntervalSeconds": 1,
        "MaxAttempts": 12,
        "BackoffRate": 1.5,
        "MaxDelaySeconds": 60,
        "JitterStrategy": "FULL",
    }
    return {**state, "Retry": [*state["Retry"], ready]}


def wait_for_event(comment: str, next_state: str, check_state: str) -> dict:
    """Wait for DataSync's event of the followed execution: await-event keeps the task token, resume sends it
    back. The wait's timeout is the longest time between two status checks; `check_state` runs after it."""
    payload = {
        **EXECUTION_ID,
        **FOLLOWED,
        "token.$": "$$.Task.Token",
        "wait_seconds.$": "$.execution.check.wait_seconds",
        **CHECKS_DONE,
        "retry_count.$": "$$.State.RetryCount",
        **ATTEMPT,
    }
    return {
        "Type": "Task",
        "Comment": comment,
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": f"${{{placeholder('await-event')}}}", "Payload": payload},
        "TimeoutSecondsPath": "$.execution.check.wait_seconds",
        "ResultPath": "$.execution.event",
        "Next": next_state,
        "Retry": RETRY,
        "Catch": [caught(check_state, "$.execution.wait")],
    }


def caught(next_state: str, error_path: str) -> dict:
    return {"ErrorEquals": ["States.ALL"], "ResultPath": error_path, "Next": next_state}


def placeholder(step_name: str) -> str:
    step = step_named(step_name)
    assert step.placeholder, f"{step_name} is not invoked by the state machine"
    return step.placeholder


def choice(*choices: dict, default: str) -> dict:
    return {"Type": "Choice", "Choices": list(choices), "Default": default}


def when(variable: str, next_state: str, **comparison) -> dict:
    return {"Variable": variable, **comparison, "Next": next_state}


def route_by_status(final: str, gave_up: str, otherwise: str, out_of_time: str) -> dict:
    """On by the checked status: a final one, the try's execution_timeout passed, `max_iterations` checks made, or
    none of these."""
    status = "$.execution.check.Status"
    return choice(
        {"Or": [{"Variable": status, "StringEquals": s} for s in sorted(FINAL_STATUSES, reverse=True)], "Next": final},
        when(TIMED_OUT, out_of_time, BooleanEquals=True),
        when("$.execution.check.checks_done", gave_up, NumericGreaterThanEqualsPath="$.config.max_iterations"),
        default=otherwise,
    )


def timed_out(cause: str, *values: str) -> dict:
    """The try fails with DataSyncExecutionTimeoutError and `cause` (a States.Format text of `values`)."""
    return {
        "Type": "Pass",
        "Parameters": {
            "Error": DataSyncExecutionTimeoutError.__name__,
            "Cause.$": f"States.Format('{cause}', $.execution.TaskExecutionArn, {', '.join(values)})",
        },
        "ResultPath": "$.error",
        "Next": PLAN_RETRY,
    }


# How the run noticed that the execution ended: DataSync's state-change event (which reaches only a deployment in the
# execution's own region and account), or a status check (the safety net, and the only way for another region's or
# account's execution, whose events go to that region's and account's default bus).
NOTICED_BY_EVENT, NOTICED_BY_CHECK = "Ended: said by its event", "Ended: said by a status check"
NOTICED = "$.execution.noticed"
# After the execution: its description, how its end was noticed, and whether the task was deleted.
FINISHED = {
    "TaskExecution.$": "$.description",
    "EndNoticedBy.$": NOTICED,
    "TaskDeleted.$": "$.deletion.TaskDeleted",
    "TaskInUseByOtherRuns.$": "$.deletion.TaskInUseByOtherRuns",
}
# DataSync writes a task report after the execution ends: read again 2 s later, then twice as long each time, up to
# 2 min apart: about ten minutes at most.
REPORT_PENDING = {
    "ErrorEquals": ["DataSyncTaskReportPendingError"],
    "IntervalSeconds": 2,
    "MaxAttempts": 10,
    "BackoffRate": 2,
    "MaxDelaySeconds": 120,
    "JitterStrategy": "FULL",
}
CHECKS_LIMIT = ("$.config.max_iterations", "$.plan.wait_seconds")
TIME_LIMIT = ("$.config.execution_timeout",)


def failure_states(explain: str, failed: str, as_caught: str) -> dict:
    """The end of a failure caught at $.error: `explain` reads a step's message out of its Cause (a Lambda error's
    JSON) and fails with it as `failed`; `as_caught` fails with the Error and Cause as Step Functions caught them."""
    return {
        explain: {
            "Type": "Pass",
            "Parameters": {"Error.$": "$.error.Error", "step_error.$": "States.StringToJson($.error.Cause)"},
            "ResultPath": "$.failure",
            "Next": failed,
        },
        failed: {"Type": "Fail", "ErrorPath": "$.failure.Error", "CausePath": "$.failure.step_error.errorMessage"},
        as_caught: {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"},
    }


def noticed(how: str) -> dict:
    """Keep how the end of the execution was noticed (the output's EndNoticedBy), then describe it."""
    return {"Type": "Pass", "Result": how, "ResultPath": NOTICED, "Next": DESCRIBE_STATE}


def report(**extra: str) -> dict:
    """The run's output."""
    fields = {
        "TaskArn.$": "$.target.TaskArn",
        "TaskExecutionArn.$": "$.execution.TaskExecutionArn",
        "ExecutionStarted.$": "$.execution.ExecutionStarted",
        **extra,
        "TaskCreated.$": "$.target.TaskCreated",
        "CreatedLocationArns.$": "$.target.CreatedLocationArns",
        "Attempts.$": "$.attempt",
        "task_id.$": "$.config.task_id",
        "Rendered.$": "$.rendered",
        "TaskDrift.$": "$.drift",
    }
    return {"Type": "Pass", "Parameters": fields | {"ConsoleUrls.$": "$.execution.ConsoleUrls"}, "End": True}


def definition() -> dict:
    states = {
        # The steps read the execution's input themselves: no state carries the kwargs (or a secret in them).
        "First try": {
            "Type": "Pass",
            "Comment": "The state holds which try runs, not the input: each step that needs the input reads it.",
            "Parameters": {"attempt": 1, "execution": {}},
            "Next": RESOLVE_STATE,
        },
        RESOLVE_STATE: task("resolve", ATTEMPT, "$", "Route by what exists"),
        "Route by what exists": choice(
            when("$.plan.route", "Create missing locations", StringEquals=CREATE_LOCATIONS),
            when("$.plan.route", "Create task", StringEquals=CREATE_TASK),
            default="Update task first?",
        ),
        "Create missing locations": task("create-locations", {"target.$": "$.target"}, "$.target", "Create task"),
        "Create task": task("create-task", {"target.$": "$.target"}, "$.target", "Update task first?"),
        "Update task first?": choice(
            when("$.plan.update_task", "Update task", BooleanEquals=True), default=START_STATE
        ),
        "Update task": task("update", {"TaskArn.$": "$.target.TaskArn"}, None, START_STATE),
        START_STATE: not_before_ready(
            task(
                "start",
                {
                    "TaskArn.$": "$.target.TaskArn",
                    "retry_count.$": "$$.State.RetryCount",
                    "if_task_running.$": "$.config.if_task_running",
                    **CHECKS_DONE,
                    **ATTEMPT,
                    **PLAN,
                },
                "$.execution",
                "Wait for completion?",
            )
        ),
        "Wait for completion?": choice(
            when("$.execution.Action", "Report started execution", StringEquals=SKIP),
            when("$.execution.Action", "Wait for the running execution", StringEquals=QUEUE),
            when("$.config.wait_for_completion", "Report started execution", BooleanEquals=False),
            default=WAIT_STATE,
        ),
        "Report started execution": report(),
        "Wait for the running execution": wait_for_event(
            'if_task_running is "queue" and the task already runs another execution: wait for its end as for this '
            "run's own, then start again.",
            START_STATE,
            "Check the running execution",
        ),
        "Check the running execution": task(
            "check-status",
            {**FOLLOWED, **CHECKS_DONE, **PLAN},
            "$.execution.check",
            "Route by the running execution's status",
        ),
        "Route by the running execution's status": route_by_status(
            START_STATE,
            "Gave up waiting for the running execution",
            "Wait for the running execution",
            "Out of time waiting for the running execution",
        ),
        "Gave up waiting for the running execution": timed_out(
            "The task already ran execution {}, which did not finish within max_iterations={} status checks up to {} s "
            'apart (twice wait_interval_seconds), so this try started nothing (if_task_running is "queue").',
            *CHECKS_LIMIT,
        ),
        "Out of time waiting for the running execution": timed_out(
            "The task already ran execution {}, which did not finish within execution_timeout={} s, so this try "
            'started nothing (if_task_running is "queue").',
            *TIME_LIMIT,
        ),
        WAIT_STATE: wait_for_event(
            "DataSync's state-change event ends the wait (EventBridge runs the resume step, which sends the token "
            "back); after twice wait_interval_seconds without it (as Airflow's hook waits between checks), or if "
            "waiting fails, a status check runs instead.",
            NOTICED_BY_EVENT,
            CHECK_STATE,
        ),
        NOTICED_BY_EVENT: noticed("event"),
        NOTICED_BY_CHECK: noticed("status check"),
        CHECK_STATE: task(
            "check-status",
            {**FOLLOWED, **CHECKS_DONE, **PLAN},
            "$.execution.check",
            "Route by execution status",
            catch_to="Cancel execution after failure",
        ),
        "Route by execution status": route_by_status(
            NOTICED_BY_CHECK, "Cancel timed-out execution", WAIT_STATE, "Cancel timed-out execution"
        ),
        "Cancel timed-out execution": task("cancel", FOLLOWED, "$.cancellation", "Was it cancelled?"),
        "Was it cancelled?": choice(
            {
                "And": [
                    {"Variable": "$.cancellation.Cancelled", "BooleanEquals": True},
                    {"Variable": TIMED_OUT, "BooleanEquals": True},
                ],
                "Next": "Execution out of time",
            },
            when("$.cancellation.Cancelled", "Execution timed out", BooleanEquals=True),
            default=NOTICED_BY_CHECK,
        ),
        "Execution timed out": timed_out(
            "DataSync execution {} did not finish within max_iterations={} status checks up to {} s apart (twice "
            "wait_interval_seconds), so it was cancelled.",
            *CHECKS_LIMIT,
        ),
        "Execution out of time": timed_out(
            "DataSync execution {} did not finish within execution_timeout={} s, so it was cancelled.", *TIME_LIMIT
        ),
        DESCRIBE_STATE: task("describe", FOLLOWED, "$.description", "Did it end?"),
        "Did it end?": {
            **choice(when("$.description.Status", "Task report to read?", StringEquals="SUCCESS"), default=CHECK_STATE),
            "Comment": "Whatever ended the wait (DataSync's event, a forged or stale one), only DataSync's own "
            "description ends the run: an execution still running goes back to the status checks.",
        },
        "Task report to read?": choice(
            when("$.description.ReportResult", "Delete task after run?", IsPresent=False),
            default="Read the task report",
        ),
        "Read the task report": {
            **task("report", FOLLOWED, "$.report", "Delete task after run?"),
            "Comment": "DataSync writes the report after the execution ends: read again while it is PENDING (up to "
            "about ten minutes), then go on, the transfer done whatever became of its report.",
            "Retry": [*RETRY, REPORT_PENDING],
            "Catch": [caught("Task report still pending", "$.report_error")],
        },
        "Task report still pending": {
            "Type": "Pass",
            "Parameters": {"Status": "PENDING", "ErrorDetail.$": "$.report_error.Cause"},
            "ResultPath": "$.report",
            "Next": "Delete task after run?",
        },
        "Delete task after run?": choice(
            when("$.config.delete_task_after_execution", "Delete task", BooleanEquals=True), default="Keep task"
        ),
        "Delete task": task("delete", {"TaskArn.$": "$.target.TaskArn"}, "$.deletion", "With a task report?"),
        "Keep task": {
            "Type": "Pass",
            "Result": {"TaskDeleted": False, "TaskInUseByOtherRuns": 0},
            "ResultPath": "$.deletion",
            "Next": "With a task report?",
        },
        "With a task report?": choice(
            when("$.report", "Report finished execution and its task report", IsPresent=True),
            default="Report finished execution",
        ),
        "Report finished execution": report(**FINISHED),
        "Report finished execution and its task report": report(**FINISHED, **{"TaskReport.$": "$.report"}),
        "Cancel execution after failure": task(
            "cancel", FOLLOWED, "$.cancellation", PLAN_RETRY, error_path="$.cancellation_error"
        ),
        PLAN_RETRY: task(
            "retry",
            {**ATTEMPT, "error.$": "$.error", "execution.$": "$.execution"},
            "$.retry",
            "Try again?",
            catch_to=CLASSIFY,
            error_path="$.retry_error",
        ),
        "Try again?": choice(when("$.retry.Retry", "Wait before the next try", BooleanEquals=True), default="Failed"),
        "Wait before the next try": {"Type": "Wait", "SecondsPath": "$.retry.DelaySeconds", "Next": "Next try"},
        "Next try": {
            "Type": "Pass",
            "Comment": "A try starts again from finding the task (retries, as Airflow's): only its number is kept.",
            "Parameters": {"attempt.$": "$.retry.Attempt", "execution": {}},
            "Next": RESOLVE_STATE,
        },
        "Failed": {"Type": "Fail", "ErrorPath": "$.retry.Error", "CausePath": "$.retry.Cause"},
        # Only when planning the next try failed too: the try's own error, explained here instead.
        CLASSIFY: choice(
            # The timeout states write their Cause as a sentence; the steps' errors carry it in their JSON.
            when("$.error.Error", "Failed with its own sentence", StringEquals=DataSyncExecutionTimeoutError.__name__),
            when("$.error.Error", "Explain failure", StringMatches="DataSync*"),
            default="Failed with its own sentence",
        ),
        **failure_states("Explain failure", "Failed with the step's message", "Failed with its own sentence"),
    }
    return {
        "Comment": "Runs an AWS DataSync task the way Airflow's DataSyncOperator does: find or create the task, "
        "update it, start it, wait for it, describe it, optionally delete it.",
        "TimeoutSeconds": EXECUTION_TIMEOUT_SECONDS,
        "StartAt": "First try",
        "States": states,
    }


def batch_definition() -> dict:
    """Many transfers in one run: each a child execution of the workflow's state machine (its own history), named
    <prefix>-<index>, at most max_concurrency at once; an inline Map over transfers given in the input, a Distributed
    Map over those read from S3. The summary's rows come from the Map's results: an array of them in the state (inline),
    or result files that the Distributed Map's ResultWriter puts under the batch's own place in the batch bucket.

    A failed batch fails in its summary's Task, which a redrive runs again (developer guide, "Restarting state machine
    executions with redrive": the unsuccessful step is rerun; a Fail state would only fail again): redriven, the
    summary hands the items that did not succeed to a Map of their own, whose children are named
    <prefix>-<index>-r<redrive count>, and summarizes again with each item's latest child."""
    states = {
        PREPARE_BATCH_STATE: task(
            "prepare-batch",
            {"workflow_state_machine_arn": f"${{{WORKFLOW_ARN_PLACEHOLDER}}}"},
            "$",
            "Items in S3?",
            catch_to="Batch failed?",
        ),
        "Items in S3?": choice(when("$.items", MAP_STATES[1], IsNull=False), default=MAP_STATES[0]),
        # Each item over the defaults (Airflow's partial and expand): merged here rather than in the state, which holds
        # them once.
        MAP_STATES[0]: each_transfer(
            "States.JsonMerge($.mapped.defaults, $$.Map.Item.Value, false)",
            ITEM_STATES,
            {"ProcessorConfig": {"Mode": "INLINE"}},
            {"ItemsPath": "$.mapped.transfers"},
        ),
        # Merged over the defaults by prepare-batch, which wrote them; each Map iteration is a child execution of the
        # batch (Standard: only those may wait for a .sync child).
        MAP_STATES[1]: each_transfer(
            "$$.Map.Item.Value",
            S3_ITEM_STATES,
            {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}},
            read_from_s3("$.items", "Transfers"),
        ),
        SUMMARY_STATE: summary(),
        "Run again?": choice(when("$.mapped.Rerun", RERUN_MAP_STATE, IsPresent=True), default="Batch done"),
        # The items the redriven summary wrote to the batch's place, each with its input and its child's new name.
        RERUN_MAP_STATE: each_transfer(
            "$$.Map.Item.Value.input",
            RERUN_ITEM_STATES,
            {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}},
            read_from_s3("$.mapped.Rerun", "TransfersAgain"),
            name="$$.Map.Item.Value.name",
            result_path="$.reran",
        ),
        "Batch done": {"Type": "Pass", "OutputPath": "$.mapped", "End": True},
        "Batch failed?": choice(
            when("$.error.Error", "Explain the batch's failure", StringMatches="DataSync*"),
            default="Batch failed outside its steps",
        ),
        **failure_states("Explain the batch's failure", "Batch failed", "Batch failed outside its steps"),
    }
    return {
        "Comment": "Runs many DataSync transfers, each a run of the DataSync workflow (a child execution), as "
        "Airflow's DataSyncOperator.partial().expand() does.",
        "TimeoutSeconds": EXECUTION_TIMEOUT_SECONDS,
        "StartAt": PREPARE_BATCH_STATE,
        "States": states,
    }


def summary() -> dict:
    """The batch's summary: summarize-batch answers the task token, with the rows and totals (or the items to run
    again), or with DataSyncBatchFailedError and its plain Cause, as a Fail state would. No Catch: a failed summary
    fails the batch in this Task, which is what a redrive runs again."""
    payload = {
        **EXECUTION_ID,
        "count.$": "$.count",
        "tolerated_failures.$": "$.tolerated_failures",
        "state_machine_arn": f"${{{WORKFLOW_ARN_PLACEHOLDER}}}",
        "token.$": "$$.Task.Token",
    }
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": f"${{{placeholder('summarize-batch')}}}", "Payload": payload},
        # The function answers before it returns; should it return without answering, the Task does not wait on.
        "TimeoutSeconds": BATCH_STEP_TIMEOUT_SECONDS + 60,
        # In the place of the Map's results, which the summary read from the batch's history: the state never holds
        # both (the rows and the results could each be most of 256 KiB).
        "ResultPath": "$.mapped",
        "Next": "Run again?",
        "Retry": RETRY,
    }


def read_from_s3(items: str, label: str) -> dict:
    """A Distributed Map's items from the batch bucket object at `items` (its Bucket and Key), and its results written
    under the object's ResultsPrefix: each iteration's input, output and end, in files under the batch's own place
    (developer guide, "ResultWriter (Map)"): SUCCEEDED_n, FAILED_n and PENDING_n JSON arrays, and the manifest.json
    naming them, whose key the Map gives as ResultWriterDetails. No WriterConfig: AWS's defaults when exporting
    (Transformation NONE, each entry with its metadata; OutputType JSON)."""
    return {
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket.$": f"{items}.Bucket", "Key.$": f"{items}.Key"},
        },
        "Label": label,
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket.$": f"{items}.Bucket", "Prefix.$": f"{items}.ResultsPrefix"},
        },
    }


def each_transfer(
    item_input: str,
    state_names: tuple[str, ...],
    processor: dict,
    items_from: dict,
    name: str = "States.Format('{}-{}', $.prefix, $$.Map.Item.Index)",
    result_path: str = "$.mapped",
) -> dict:
    """A Map that starts the workflow with each item (`item_input`, a path or intrinsic), waits for it to end, and gives
    of it a row's source: what the summary's row needs of the child, and no more.

    Inline, the Map's results are an array in the batch's state, within Step Functions' 256 KiB: a row's source is at
    most about 330 bytes (the TaskArn, some 80 characters; the TaskExecutionArn, 112; two counters of up to 19 digits;
    the Status; their keys), so MAX_TRANSFERS (500) items give at most 500 x 330 = 165,000 bytes, in the place of the
    transfers and defaults the Map read (prepare-batch's `mapped`), beside a few hundred bytes of the rest. A failed
    item's source is its Error alone: the Cause of a failed child (States.TaskFailed) is the child's whole description,
    its input with it, and of a refused start a message of some 450 characters; JSONPath cannot cut either, and 500 of
    them would not fit. The summary reads those children's ends from Step Functions. From S3, the results go to files
    (ResultWriter), where the Cause stays whole for the summary to read and cut."""
    run_transfer, waited, item_done, item_started, item_failed = state_names
    inline = processor["ProcessorConfig"]["Mode"] == "INLINE"
    run_child = {
        "Type": "Task",
        "Resource": "arn:aws:states:::states:startExecution.sync:2",
        "Parameters": {
            "StateMachineArn": f"${{{WORKFLOW_ARN_PLACEHOLDER}}}",
            "Name.$": "$.name",
            # Step Functions' own key links the child to the batch in the console.
            "Input.$": "States.JsonMerge($.input, $.link, false)",
        },
        # .sync:2 gives the child's description with its output as JSON: of it only the status and output stay, in
        # the place of the item's input (a child's output and its input could together pass 256 KiB).
        "ResultSelector": {"Status.$": "$.Status", "Output.$": "$.Output"},
        "ResultPath": "$",
        "Next": waited,
        "Retry": [CHILD_START_RETRY],
        # A child that failed (States.TaskFailed) or did not start is an item like the others, with its Error.
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": item_failed}],
    }
    started = {
        "Status.$": "$.Status",
        "TaskArn.$": "$.Output.TaskArn",
        "TaskExecutionArn.$": "$.Output.TaskExecutionArn",
    }
    counters = {f"{name}.$": f"$.Output.TaskExecution.{name}" for name in ("BytesTransferred", "FilesTransferred")}
    states = {
        run_transfer: run_child,
        # A run that was not waited for (wait_for_completion false, if_task_running "skip") has no TaskExecution.
        waited: choice(
            {"And": [{"Variable": path, "IsPresent": True} for path in counters.values()], "Next": item_done},
            default=item_started,
        ),
        item_done: {"Type": "Pass", "Parameters": {**started, **counters}, "End": True},
        item_started: {"Type": "Pass", "Parameters": started, "End": True},
        item_failed: {
            "Type": "Pass",
            "Parameters": {"Error.$": "$.failure.Error"} | ({} if inline else {"Cause.$": "$.failure.Cause"}),
            "End": True,
        },
    }
    return {
        "Type": "Map",
        **items_from,
        "ItemSelector": {
            "input.$": item_input,
            # The name says which batch and item: a retried start finds the child it started.
            "name.$": name,
            "link": {f"{STARTED_BY_KEY}.$": "$$.Execution.Id"},
        },
        "MaxConcurrencyPath": "$.max_concurrency",
        "ItemProcessor": {**processor, "StartAt": run_transfer, "States": states},
        # In the place of what the Map read: the rows' sources (inline), or where ResultWriter put them.
        "ResultPath": result_path,
        "Next": SUMMARY_STATE,
    }


def definition_file_text(batch: bool = False) -> str:
    return json.dumps(batch_definition() if batch else definition(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    ASL_PATH.write_text(definition_file_text())
    BATCH_ASL_PATH.write_text(definition_file_text(batch=True))


if __name__ == "__main__":
    main()
