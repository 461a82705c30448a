"""Names the steps, the definition (statemachine/datasync_workflow.asl.json), the clean-up, the command line and
the benchmark share: states, routes, actions, statuses, tags, Step Functions' input key and the consoles' pages.
Imports nothing, so any step may import it."""

# States of the definition that code reads the history of or draws.
START_STATE = "Start execution"  # its output, at $.execution, holds the execution the run follows
WAIT_STATE = "Wait for DataSync's event"
CHECK_STATE = "Check execution status"
DESCRIBE_STATE = "Describe finished execution"
PLAN_RETRY_STATE = "Plan the next try"  # its output, at $.retry, says whether and when the run tries again

# The source of the events the workflow puts on the default bus (announce), which only its grant may put.
EVENT_SOURCE = "datasync-workflow"

# Where the state machine goes after resolve ($.plan.route).
RUN, CREATE_LOCATIONS, CREATE_TASK = "run", "create_locations", "create_task"
# What the start step did ($.execution.Action): follow an execution, wait for another run's, or start nothing.
FOLLOW, QUEUE, SKIP = "follow", "queue", "skip"

# DataSync's execution statuses (TaskExecutionStatus), and those that end an execution; Step Functions execution
# statuses of a run that stopped without success.
DATASYNC_STATUSES = frozenset(
    {"QUEUED", "LAUNCHING", "PREPARING", "TRANSFERRING", "VERIFYING", "CANCELLING", "SUCCESS", "ERROR"}
)
FINAL_STATUSES = frozenset({"SUCCESS", "ERROR"})
STOPPED_STATUSES = frozenset({"ABORTED", "TIMED_OUT", "FAILED"})

# The tag on each location, task and execution a run makes (its value: the workflow execution), and the one the
# clean-up puts on an execution it cancelled.
WORKFLOW_TAG = "datasync-workflow:execution"
CANCELLED_TAG = "datasync-workflow:cancelled-when-stopped"

# DataSync's task modes; Enhanced mode's counters of failed files, by phase (DescribeTaskExecution.FilesFailed).
ENHANCED = "ENHANCED"
FAILED_PHASES = ("Prepare", "Transfer", "Verify", "Delete")

# The keys that make an execution input a batch's (many transfers in one run).
BATCH_KEYS = ("transfers", "transfers_from")
PREPARE_BATCH_STATE = "Prepare the batch"  # whose output the command line's table of items reads
# Each item's states in the batch's two Maps (a state's name is unique in a state machine), which the table of items
# shows in its own way: the child's run, the choice of its row (did the child wait for its transfer?), and its row of
# a transfer waited for, of one only started, of an item that failed. An item that succeeds passes three of them.
ITEM_STATES = ("Run the transfer", "Did the item wait?", "Item done", "Item started", "Item failed")
S3_ITEM_STATES = (
    "Run the transfer read from S3",
    "Did the item read from S3 wait?",
    "Item read from S3 done",
    "Item read from S3 started",
    "Item read from S3 failed",
)
# And in the Map that a redriven batch's summary gives the items that had not succeeded.
RERUN_ITEM_STATES = (
    "Run the transfer again",
    "Did the item run again wait?",
    "Item run again done",
    "Item run again started",
    "Item run again failed",
)
ITEM_STATES_PASSED = 3
# The batch's two Maps: the output of the one that ran, as its history keeps it, is what the summary reads.
MAP_STATES = ("Run each transfer", "Run each transfer from S3")
RERUN_MAP_STATE = "Run again what did not succeed"
SUMMARY_STATE = "Summarize the batch"


def is_batch(execution_input: object) -> bool:
    return isinstance(execution_input, dict) and any(key in execution_input for key in BATCH_KEYS)


# Step Functions' own key in an execution's input, set by a parent state machine to link the two executions.
STARTED_BY_KEY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"

CONSOLE_DOMAINS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


def workflow_console_url(workflow_execution_arn: str) -> str:
    """The Step Functions console page of a workflow execution."""
    _, partition, _, region, _ = workflow_execution_arn.split(":", 4)
    domain = CONSOLE_DOMAINS.get(partition, CONSOLE_DOMAINS["aws"])
    return f"https://{domain}/states/home?region={region}#/v2/executions/details/{workflow_execution_arn}"
