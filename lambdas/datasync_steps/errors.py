"""The workflow's error classes.

A Lambda error's type is the exception's class name, and Step Functions matches Retry and Catch on it,
so these names are the contract with statemachine/datasync_workflow.asl.json and with callers.
"""


class DataSyncWorkflowError(Exception):
    """A failure the caller must fix or know about; never retried."""


class DataSyncInvalidInputError(DataSyncWorkflowError):
    pass


class DataSyncTaskNotFoundError(DataSyncWorkflowError):
    pass


class DataSyncLocationNotFoundError(DataSyncWorkflowError):
    pass


class DataSyncMultipleTasksError(DataSyncWorkflowError):
    pass


class DataSyncMultipleLocationsError(DataSyncWorkflowError):
    pass


class DataSyncTaskCreationError(DataSyncWorkflowError):
    pass


class DataSyncTaskExecutionFailedError(DataSyncWorkflowError):
    pass


class DataSyncTaskAlreadyRunningError(DataSyncWorkflowError):
    """if_task_running is "fail" and the task has an unfinished execution."""


class DataSyncRequestError(DataSyncWorkflowError):
    """DataSync refused an update, start, cancel or delete request."""


class DataSyncTransientError(Exception):
    """DataSync was throttled or failed on its side; the state machine retries the step."""
