"""Logger, Tracer and Metrics shared by every step, the decorator that makes a step's handler, and the bases of the
steps' event and result models."""

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from pydantic import BaseModel, ConfigDict, model_serializer

SERVICE = "datasync-workflow"
METRICS_NAMESPACE = "DataSyncWorkflow"  # Powertools adds the dimension service=SERVICE to each metric
# What the stack sets on every step's function, beside where it acts and the deployment's settings.
FUNCTION_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": SERVICE,
    "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "INFO",
    # X-Ray keeps no handler's response (the handlers ask the same of their Tracer).
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    # No pydantic plugin: none could see the input a step validates (which may hold a secret), and a cold start does
    # not scan every installed distribution's entry points for one (pydantic's plugin loader, on the first model).
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}

# stderr rather than stdout: Lambda sends both to CloudWatch, and the local command line keeps its stdout
# for the workflow's output.
logger = Logger(service=SERVICE, logger_handler=logging.StreamHandler(sys.stderr))
# Only botocore: the steps make no other calls, and patching every library X-Ray knows imports each of them (requests
# alone adds tens of milliseconds to a cold start).
tracer = Tracer(service=SERVICE, patch_modules=("botocore",))
metrics = Metrics(service=SERVICE, namespace=METRICS_NAMESPACE)

__all__ = ["MetricUnit", "Sparse", "StepEvent", "logger", "metrics", "step_handler", "tracer"]


class StepEvent(BaseModel):
    """What the state machine sends every step: the execution's id, used as the logs' correlation id. Nothing else
    is taken than what the step's event model names."""

    model_config = ConfigDict(extra="forbid")

    execution_id: str


class Sparse(BaseModel):
    """A result that leaves out what it does not know (None), as DataSync leaves out what it has not counted."""

    @model_serializer(mode="wrap")
    def _without_none(self, serialize: Any) -> dict[str, Any]:
        return {key: value for key, value in serialize(self).items() if value is not None}


# Each step module's event and result models, for the test that holds them against the definition.
STEP_MODELS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {}


def step_handler(
    event_model: type[BaseModel], result_model: type[BaseModel], correlation_id_path: str = "execution_id"
) -> Callable[[Callable[[Any], BaseModel]], Callable[[dict, Any], dict]]:
    """Turn `step(event) -> result` into a Lambda handler that parses the event into `event_model`, returns the
    result (a `result_model`) as JSON, and logs, traces and publishes metrics."""

    def decorate(step: Callable[[Any], BaseModel]) -> Callable[[dict, Any], dict]:
        STEP_MODELS[step.__module__] = (event_model, result_model)

        @logger.inject_lambda_context(correlation_id_path=correlation_id_path)
        @tracer.capture_lambda_handler(capture_response=False)  # a response may hold what a log must not
        @metrics.log_metrics
        @event_parser(model=event_model)
        @functools.wraps(step)
        def handler(event: Any, context: Any) -> dict:
            result = step(event)
            if not isinstance(result, result_model):
                raise TypeError(f"{step.__module__} returned {type(result).__name__}, not {result_model.__name__}")
            return result.model_dump(mode="json")

        return handler

    return decorate
