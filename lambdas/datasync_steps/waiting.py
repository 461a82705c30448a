"""The workflow executions that wait for a DataSync execution to end, and how they are woken.

A waiting execution's task token is kept in a DynamoDB table under the DataSync execution's ARN and the
workflow execution's id. Whoever learns that the DataSync execution ended (DataSync's event through the
resume step, or the waiting step's own check) claims the item by deleting it and sends the token back, so a
duplicated event, or an event racing the check, wakes each execution once. A token that nobody claims expires
through the table's TTL.
"""

import json
import os
import time
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from datasync_steps.observability import logger

if TYPE_CHECKING:  # the stubs are for the type checker; Lambda has no need of them
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_stepfunctions import SFNClient


TABLE_NAME_VARIABLE = "WAITING_TABLE_NAME"
PARTITION_KEY, SORT_KEY, TOKEN, EXPIRES_AT = "TaskExecutionArn", "WorkflowExecution", "TaskToken", "ExpiresAt"
# A token is kept this much longer than its wait; DynamoDB removes it some time after it expires.
EXPIRY_MARGIN_SECONDS = 3600
# Step Functions' answers to a token whose wait is over: the execution stopped, or moved on without it.
GONE_ERROR_CODES = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


def waiting_table():
    return boto3.resource("dynamodb").Table(os.environ[TABLE_NAME_VARIABLE])


def wait_for(table: "Table", task_execution_arn: str, workflow_execution: str, token: str, wait_seconds: int) -> dict:
    item: dict[str, Any] = {
        PARTITION_KEY: task_execution_arn,
        SORT_KEY: workflow_execution,
        TOKEN: token,
        EXPIRES_AT: int(time.time()) + wait_seconds + EXPIRY_MARGIN_SECONDS,
    }
    table.put_item(Item=item)
    return item


def waiting_for(table: "Table", task_execution_arn: str) -> list[dict]:
    """The items of the workflow executions waiting for `task_execution_arn`."""
    condition = Key(PARTITION_KEY).eq(task_execution_arn)
    page = table.query(KeyConditionExpression=condition)
    items = list(page["Items"])
    while "LastEvaluatedKey" in page:
        page = table.query(KeyConditionExpression=condition, ExclusiveStartKey=page["LastEvaluatedKey"])
        items += page["Items"]
    return items


def resume(table: "Table", sfn: "SFNClient", item: dict, status: str) -> bool:
    """Claim the waiting `item` and send its token back with `status`; False when another claimed it first or
    its execution no longer waits."""
    try:
        table.delete_item(
            Key={PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]},
            ConditionExpression=Attr(TOKEN).eq(item[TOKEN]),
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
        raise
    logger.info("Resumed a waiting execution", extra={"workflow_execution": item[SORT_KEY], "status": status})
    return True
