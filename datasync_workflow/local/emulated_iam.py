"""What the deployed stack's IAM lets each step do, enforced on the emulated DataSync while a local run's step calls it.

The grants are the ones the stack writes into each step's role (datasync_workflow/definition/steps.py), with the
conditions the deployment's settings give them (its scope_tag, read from the environment as the functions read theirs),
and are evaluated the way IAM evaluates them: a DataSync call is allowed when a grant of the calling step names the
action, a resource of the kind the call is on (every location a CreateTask links; nothing for a create or a List call),
and its conditions hold on that resource's tags (aws:ResourceTag) and on the Tags the request sets (aws:RequestTag). A
create or start that sets Tags also needs datasync:TagResource, as DataSync's user guide says. Anything else is refused
with AccessDeniedException. Calls made outside a step (a test's set-up, a user's own) and other services are not
checked."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from fnmatch import fnmatchcase

from moto.core import DEFAULT_ACCOUNT_ID

from datasync_steps.deployment import Deployment
from datasync_workflow.definition.steps import Step

# A local run's state machines are all named datasync-workflow-<hex>: their executions are "this workflow's".
LOCAL_WORKFLOW_EXECUTIONS = f"arn:aws:states:*:{DEFAULT_ACCOUNT_ID}:execution:datasync-workflow-*:*"
# The resource a call that sets Tags tags, by the action that creates or starts it.
TAGGED_ON_CREATE = {"CreateTask": "task", "StartTaskExecution": "execution"}


@dataclass(frozen=True)
class Acting:
    step: Step
    deployment: Deployment
    workflow_executions: str = LOCAL_WORKFLOW_EXECUTIONS


_acting: ContextVar[Acting | None] = ContextVar("acting", default=None)


@contextmanager
def acting_as(step: Step, deployment: Deployment) -> Iterator[None]:
    """DataSync calls made inside this block (on this thread) are the step's, checked against its grants."""
    token = _acting.set(Acting(step, deployment))
    try:
        yield
    finally:
        _acting.reset(token)


@contextmanager
def outside_any_step() -> Iterator[None]:
    """DataSync calls made inside this block are nobody's step's (another team's, say): not checked."""
    token = _acting.set(None)
    try:
        yield
    finally:
        _acting.reset(token)


def acting_step() -> str | None:
    """The name of the step whose DataSync call is being answered, if one is acting."""
    acting = _acting.get()
    return acting.step.name if acting else None


def refusal(action: str, params: dict, tags_of: Callable[[str], dict[str, str]]) -> str | None:
    """Why IAM would refuse the acting step the DataSync `action` with `params`, or None where it would allow it (or
    no step is acting). `tags_of` gives a resource's tags."""
    acting = _acting.get()
    if acting is None:
        return None
    request_tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or []}
    checks = [(action, kind, arn) for kind, arn in _resources(action, params)]
    if request_tags:
        created = TAGGED_ON_CREATE.get(action, "location" if action.startswith("CreateLocation") else None)
        if created:
            checks.append(("TagResource", created, None))
    for checked_action, kind, arn in checks:
        resource_tags = tags_of(arn) if arn else {}
        if not _allowed(acting, f"datasync:{checked_action}", kind, resource_tags, request_tags):
            role = f"datasync-workflow-{acting.step.name}"
            return (
                f"User: arn:aws:sts::{DEFAULT_ACCOUNT_ID}:assumed-role/{role}/{role} is not authorized to perform: "
                f"datasync:{checked_action} on resource: {arn or '*'} because no identity-based policy allows the "
                f"datasync:{checked_action} action"
            )
    return None


def _resources(action: str, params: dict) -> list[tuple[str, str | None]]:
    """(kind, ARN) of what IAM authorizes the call against; no ARN where there is no resource yet, or none at all."""
    if action.startswith(("CreateLocation", "List")) and action != "ListTagsForResource":
        return [("*", None)]
    if action == "CreateTask":
        return [("location", params["SourceLocationArn"]), ("location", params["DestinationLocationArn"])]
    arn = next(params[key] for key in ("TaskExecutionArn", "TaskArn", "LocationArn", "ResourceArn") if key in params)
    return [(_kind_of(arn), arn)]


def _kind_of(arn: str) -> str:
    """task, location, agent, execution or default-bus; what no grant names for an ARN that is none of those."""
    if "/execution/" in arn:
        return "execution"
    if arn.startswith("arn:aws:events:") and arn.endswith(":event-bus/default"):
        return "default-bus"
    parts = arn.split(":", 5)
    return parts[5].split("/", 1)[0] if len(parts) == 6 else "not a DataSync ARN"


def allows(step: Step, action: str, resource_arn: str, context: dict[str, list[str]]) -> bool:
    """Whether the step's role may do `action` on the untagged resource `resource_arn` with the request's condition keys
    `context` (events:source, say), under this deployment's settings: what IAM's policy simulator answers of the
    deployed role (SimulatePrincipalPolicy)."""
    return _allowed(Acting(step, Deployment.from_environment()), action, _kind_of(resource_arn), {}, {}, context)


def _allowed(
    acting: Acting,
    action: str,
    kind: str,
    resource_tags: dict,
    request_tags: dict,
    context: dict[str, list[str]] | None = None,
) -> bool:
    for grant in acting.step.grants:
        if grant.only_with_plaintext_secrets and not acting.deployment.allow_secrets_in_input:
            continue
        if action in grant.actions and (kind in grant.resources or "*" in grant.resources):
            conditions = grant.conditions_for(acting.deployment.scope_tag, acting.workflow_executions)
            if _hold(conditions, resource_tags, request_tags, context or {}):
                return True
    return False


def _hold(
    conditions: dict[str, dict[str, str | list[str]]],
    resource_tags: dict,
    request_tags: dict,
    context: dict[str, list[str]],
) -> bool:
    """IAM's StringEquals and StringLike on aws:ResourceTag/KEY and aws:RequestTag/KEY (a missing tag fails), and
    ForAllValues:StringEquals on a request's multivalued key (every value listed; IAM lets an absent key pass it)."""
    for operator, wanted in conditions.items():
        for key, pattern in wanted.items():
            if operator == "ForAllValues:StringEquals":
                if not set(context.get(key, [])) <= set(pattern):
                    return False
                continue
            source, _, tag_key = key.partition("/")
            tags = {"aws:ResourceTag": resource_tags, "aws:RequestTag": request_tags}[source]
            value = tags.get(tag_key)
            matches = {"StringEquals": lambda v, p: v == p, "StringLike": fnmatchcase}[operator]
            if value is None or not isinstance(pattern, str) or not matches(value, pattern):
                return False
    return True
