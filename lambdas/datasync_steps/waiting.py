"""The workflow executions that wait for a DataSync execution to end, and how they are woken.

A waiting execution's task token is kept in a DynamoDB table under the DataSync execution's ARN and the
workflow execution's id, with the wait's place in the run (its SEQUENCE), so that a token stored late by a wait
that is already over never replaces the token of the wait after it. Whoever learns that the DataSync execution
ended (DataSync's event through the resume step, or the waiting step's own check) claims the item by deleting it
and sends the token back, so a duplicated event, or an event racing the check, wakes each execution once; a send
that fails gives the claim back before the error is raised, so that a retry (Lambda's, or the next event or check)
sends it. A token that nobody claims expires through the table's TTL.
"""

import json
import os
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from datasync_steps.datasync import dynamodb_table
from datasync_steps.observability import logger

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_stepfunctions import SFNClient


TABLE_NAME_VARIABLE = "WAITING_TABLE_NAME"
PARTITION_KEY, SORT_KEY, TOKEN, EXPIRES_AT = "TaskExecutionArn", "WorkflowExecution", "TaskToken", "ExpiresAt"
SEQUENCE = "WaitSequence"
# A wait's place in its run: its try, the status checks made before it in the try, then Step Functions' retries of it.
RETRIES_PER_WAIT, CHECKS_PER_TRY = 100, 10_000
# A token is kept this much longer than its wait; DynamoDB removes it some time after it expires.
EXPIRY_MARGIN_SECONDS = 3600
# Step Functions' answers to a token whose wait is over: the execution stopped, or moved on without it.
GONE_ERROR_CODES = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


def waiting_table():
    return dynamodb_table(os.environ[TABLE_NAME_VARIABLE])


def wait_sequence(checks_done: int, retry_count: int, attempt: int = 1) -> int:
    return ((attempt - 1) * CHECKS_PER_TRY + checks_done) * RETRIES_PER_WAIT + min(retry_count, RETRIES_PER_WAIT - 1)


def wait_for(
    table: "Table", task_execution_arn: str, workflow_execution: str, token: str, wait_seconds: int, sequence: int = 0
) -> dict | None:
    """Keep the token of the wait at `sequence` of the workflow execution; None, keeping nothing, when a later wait
    of it already keeps its own (this wait is over: its step ran late)."""
    item: dict[str, Any] = {
        PARTITION_KEY: task_execution_arn,
        SORT_KEY: workflow_execution,
        TOKEN: token,
        SEQUENCE: sequence,
        EXPIRES_AT: int(time.time()) + wait_seconds + EXPIRY_MARGIN_SECONDS,
    }
    try:
        _put_over_older(table, item)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            logger.info("A later wait keeps its token already: this one is over", extra={"sequence": sequence})
            return None
        raise
    return item


def waiting_for(table: "Table", task_execution_arn: str) -> list[dict]:
    """The items of the workflow executions waiting for `task_execution_arn`."""
    # Strongly consistent: a token kept a moment ago must be seen (DynamoDB's reads are eventually consistent unless
    # asked).
    query: dict[str, Any] = {
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
        "ExpressionAttributeValues": {":pk": task_execution_arn},
        "ConsistentRead": True,
    }
    page = table.query(**query)
    items = list(page["Items"])
    while "LastEvaluatedKey" in page:
        page = table.query(**query, ExclusiveStartKey=page["LastEvaluatedKey"])
        items += page["Items"]
    return items


def resume(table: "Table", sfn: "SFNClient", item: dict, status: str) -> bool:
    """Claim the waiting `item` and send its token back with `status`; False when another claimed it first or
    its execution no longer waits. A send that fails otherwise gives the claim back, then raises."""
    try:
        table.delete_item(
            Key={PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]},
            ConditionExpression="#token = :token",
            ExpressionAttributeNames={"#token": TOKEN},
            ExpressionAttributeValues={":token": item[TOKEN]},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    try:
        sfn.send_task_success(taskToken=item[TOKEN], output=json.dumps({"Status": status}))
    except ClientError as error:
        if error.response["Error"]["Code"] in GONE_ERROR_CODES:
            logger.info("The execution no longer waits", extra={"workflow_execution": item[SORT_KEY]})
            return False
        _give_back(table, item)
        raise
    logger.info("Resumed a waiting execution", extra={"workflow_execution": item[SORT_KEY], "status": status})
    return True


def _give_back(table: "Table", item: dict) -> None:
    """Keep `item` again after its send failed, unless a later wait keeps its own by now."""
    try:
        _put_over_older(table, item)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def _put_over_older(table: "Table", item: dict) -> None:
    """Put a wait's item only over an older wait's (or none). The expression is written out, not built with
    boto3.dynamodb.conditions, whose import alone costs a step's cold start some 18 ms."""
    table.put_item(
        Item=item,
        ConditionExpression="attribute_not_exists(#pk) OR #sequence <= :sequence",
        ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sequence": SEQUENCE},
        ExpressionAttributeValues={":sequence": item[SEQUENCE]},
    )
