"""moto's DataSync, extended to behave like the real service as far as the workflow's steps can see: its
resources (locations, tasks, agents, tags), the checks on its requests, and the backend that runs executions.

moto stores DataSync's resources but little more: its executions move one status per describe call, it has
only S3 and SMB locations, and it ignores filters and paging. `install()` (run once, when
`datasync_workflow.local.runner` is imported) extends its backend and its response class in place, so that callers
keep creating resources through moto inside `mock_aws()`, keep reading moto's backend objects, and keep
wrapping `DataSyncResponse` methods to inject faults:

- a start while the task has an unfinished execution is queued when its Includes/Excludes differ from that
  execution's, and refused otherwise (the DataSync user guide, "Queueing your task"); what an execution does and
  shows as time passes is `emulated_datasync_executions`'s;
- every CreateLocation* call of the contract's schemes, LocationUris ending in `/`, ListLocations and ListTasks
  Filters, paging (MaxResults <= 100, NextToken), ListTaskExecutions, and tags;
- agents: CreateAgent (any activation key of the API model's pattern), DescribeAgent, ListAgents and their tags. An
  agent is ONLINE until a test calls its `go_offline()`; a task whose locations name an OFFLINE agent is UNAVAILABLE,
  its ErrorCode and ErrorDetail naming the agent. A location may name an agent the emulation does not know (tests and
  the README's examples name made-up ones): it counts as online and has no tags;
- every request is checked against the enums of DataSync's API model, as the service checks it (botocore does not):
  a value the model does not list is InvalidRequestException naming where it is and the values there are;
- listeners (`subscribe`) get each execution's state-change events, as EventBridge would.
"""

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

import botocore.session
from botocore.model import OperationNotFoundError, ServiceModel, Shape
from moto.core.exceptions import JsonRESTError
from moto.datasync import urls as datasync_urls
from moto.datasync.exceptions import InvalidRequestException
from moto.datasync.models import DataSyncBackend, Location, Task, datasync_backends
from moto.datasync.responses import DataSyncResponse
from moto.secretsmanager.exceptions import SecretNotFoundException
from moto.secretsmanager.models import secretsmanager_backends
from moto.utilities.utils import get_partition

from datasync_steps.lookup import agent_arns
from datasync_steps.uris import CREATE_CALL_BY_SCHEME
from datasync_workflow.local import emulated_iam
from datasync_workflow.local.emulated_datasync_executions import FINAL_STATUSES, EmulatedExecution

CREATING_SECONDS = 0.3  # a new task is CREATING this long before it is AVAILABLE
TICK_SECONDS = 0.02  # how often the emulation looks for state changes to publish while anybody listens
MAX_RESULTS = 100
MAX_TAGS = 50
DEFAULT_OPTIONS = {
    "VerifyMode": "POINT_IN_TIME_CONSISTENT",
    "OverwriteMode": "ALWAYS",
    "Atime": "BEST_EFFORT",
    "Mtime": "PRESERVE",
    "Uid": "INT_VALUE",
    "Gid": "INT_VALUE",
    "PreserveDeletedFiles": "PRESERVE",
    "PreserveDevices": "NONE",
    "PosixPermissions": "PRESERVE",
    "BytesPerSecond": -1,
    "TaskQueueing": "ENABLED",
    "LogLevel": "OFF",
    "TransferMode": "CHANGED",
    "SecurityDescriptorCopyFlags": "NONE",
    "ObjectTags": "PRESERVE",
}


@cache
def _model() -> ServiceModel:
    """DataSync's API model, as botocore has it: what the service validates every request against."""
    return botocore.session.get_session().get_service_model("datasync")


# CreateAgent takes any key of this form (DataSync's API model); a real one comes from the agent's appliance.
ACTIVATION_KEY = re.compile(_model().shape_for("ActivationKey").metadata["pattern"])
# Request members that DataSync keeps but never gives back.
SECRETS = {"Password", "SecretKey", "SasConfiguration", "KerberosKeytab", "KerberosKrb5Conf", "AccessKey"}


class EmulatedLocation(Location):
    def __init__(self, arn: str, uri: str, typ: str, metadata: dict, region_name: str):
        super().__init__(uri, region_name=region_name, typ=typ, metadata=metadata)
        self.arn = arn
        self.creation_time = time.time()


class EmulatedTask(Task):
    def __init__(self, arn: str, source: str, destination: str, settings: dict, region_name: str):
        name = settings.get("Name")  # optional, where moto types it as a str
        super().__init__(source, destination, name, region_name=region_name, metadata=settings)  # type: ignore[arg-type]
        self.arn = arn
        self.creation_time = time.time()
        self.available_at = self.creation_time + CREATING_SECONDS  # CREATING until then

    @property
    def mode(self) -> str:
        return self.metadata.get("TaskMode") or "BASIC"

    @property
    def options(self) -> dict:
        return {**DEFAULT_OPTIONS, **(self.metadata.get("Options") or {})}


class EmulatedAgent:
    """An activated agent: ONLINE until `go_offline()`, as when its appliance stops or loses its network."""

    def __init__(self, arn: str, request: dict):
        self.arn = arn
        self.name: str | None = request.get("AgentName")
        self.private_link = {
            key: request[key] for key in ("VpcEndpointId", "SubnetArns", "SecurityGroupArns") if key in request
        }
        self.creation_time = time.time()
        self.offline_since: float | None = None

    @property
    def status(self) -> str:
        return "ONLINE" if self.offline_since is None else "OFFLINE"

    def go_offline(self) -> None:
        self.offline_since = time.time()

    def description(self) -> dict:
        described: dict[str, object] = {
            "AgentArn": self.arn,
            "Name": self.name,
            "Status": self.status,
            "CreationTime": self.creation_time,
            "LastConnectionTime": time.time() if self.offline_since is None else self.offline_since,
            "EndpointType": "PRIVATE_LINK" if self.private_link.get("VpcEndpointId") else "PUBLIC",
        }
        if self.private_link:
            described["PrivateLinkConfig"] = self.private_link
        return described


def _locked(method: Callable) -> Callable:
    def under_lock(self, *args, **kwargs):
        with self.lock:
            return method(self, *args, **kwargs)

    return under_lock


class EmulatedDataSyncBackend(DataSyncBackend):
    """moto's DataSync backend with executions that run by themselves, filters, paging and tags.

    Step Functions runs the steps on its own threads, so every change happens under one lock.
    """

    def __init__(self, region_name: str, account_id: str):
        super().__init__(region_name, account_id)
        self.lock = threading.RLock()
        self.tags: dict[str, list[dict]] = {}
        self.agents: dict[str, EmulatedAgent] = {}
        self._listeners: list[Callable[[dict], None]] = []
        self._published: dict[str, str] = {}  # the status each execution's last state-change event gave

    def subscribe(self, listener: Callable[[dict], None]) -> Callable[[], None]:
        """Send `listener` the state-change events DataSync sends EventBridge, as the executions change; return
        the function that stops it. A thread of the emulation delivers them, within TICK_SECONDS of the change."""
        with self.lock:
            now = self.advance()
            for execution in self.executions():
                self._published.setdefault(execution.arn, execution.status_at(now))
            self._listeners.append(listener)
            if len(self._listeners) == 1:
                threading.Thread(
                    target=self._publish_while_listened, name="emulated-datasync-events", daemon=True
                ).start()

        def unsubscribe() -> None:
            with self.lock:
                self._listeners.remove(listener)

        return unsubscribe

    def _publish_while_listened(self) -> None:
        while True:
            with self.lock:
                if not self._listeners:
                    return
                listeners, now = list(self._listeners), self.advance()
                changed = [e for e in self.executions() if self._published.get(e.arn) != e.status_at(now)]
                for execution in changed:
                    self._published[execution.arn] = execution.status_at(now)
                events = [e.state_change_event(e.status_at(now), self.account_id, self.region_name) for e in changed]
            for event in events:
                for listener in listeners:
                    listener(event)
            time.sleep(TICK_SECONDS)

    @property
    def _url_module(self):  # moto looks for the URLs beside the backend class's module
        return datasync_urls

    def _new_arn(self, kind: str, id_prefix: str) -> str:
        self.arn_counter += 1
        prefix = f"arn:{get_partition(self.region_name)}:datasync:{self.region_name}:{self.account_id}"
        return f"{prefix}:{kind}/{id_prefix}-{self.arn_counter:017x}"

    @_locked
    def create_location(self, location_uri: str, typ: str, metadata: dict[str, Any], tags=None) -> str:
        for secret_arn in _custom_secrets(metadata):
            try:
                secretsmanager_backends[self.account_id][self.region_name].describe_secret(secret_arn)
            except SecretNotFoundException:
                raise InvalidRequestException(
                    f"CustomSecretConfig names the secret {secret_arn}, which Secrets Manager does not have."
                ) from None
        location = EmulatedLocation(self._new_arn("location", "loc"), location_uri, typ, metadata, self.region_name)
        self._set_tags(location.arn, tags or [])
        self.locations[location.arn] = location
        return location.arn

    @_locked
    def create_agent(self, request: dict) -> str:
        key = request["ActivationKey"]
        if not ACTIVATION_KEY.fullmatch(key):
            raise InvalidRequestException(
                f"1 validation error detected: Value '{key}' at 'activationKey' failed to satisfy constraint: Member "
                f"must satisfy regular expression pattern: {ACTIVATION_KEY.pattern}"
            )
        agent = EmulatedAgent(self._new_arn("agent", "agent"), request)
        self._set_tags(agent.arn, request.get("Tags") or [])
        self.agents[agent.arn] = agent
        return agent.arn

    def get_agent(self, agent_arn: str) -> EmulatedAgent:
        if agent_arn not in self.agents:
            raise InvalidRequestException(f"Agent {agent_arn} not found.")
        return self.agents[agent_arn]

    def offline_agents_of(self, task: Task) -> list[str]:
        """The agents of the task's locations that are OFFLINE (one the emulation does not know counts as online)."""
        if not any(agent.status == "OFFLINE" for agent in self.agents.values()):  # advance() asks for every task
            return []
        named = [
            arn
            for location_arn in (task.source_location_arn, task.destination_location_arn)
            if location_arn in self.locations
            for arn in agent_arns(self.locations[location_arn].metadata)
        ]
        return [arn for arn in named if arn in self.agents and self.agents[arn].status == "OFFLINE"]

    @_locked
    def create_task(self, source_location_arn: str, destination_location_arn: str, settings: dict, tags=None) -> str:
        for arn in (source_location_arn, destination_location_arn):
            if arn not in self.locations:
                raise InvalidRequestException(f"Location {arn} not found.")
        task = EmulatedTask(
            self._new_arn("task", "task"), source_location_arn, destination_location_arn, settings, self.region_name
        )
        self._set_tags(task.arn, tags or [])
        self.tasks[task.arn] = task
        return task.arn

    @_locked
    def update_task(self, task_arn: str, changes: dict) -> None:
        task = self._get_task(task_arn)
        options = {**(task.metadata.get("Options") or {}), **(changes.get("Options") or {})}
        task.metadata = {**task.metadata, **changes, "Options": options}
        task.name = task.metadata.get("Name")  # type: ignore[assignment]  # optional, where moto types it as a str

    @_locked
    def delete_location(self, location_arn: str) -> None:
        super().delete_location(location_arn)
        self.tags.pop(location_arn, None)

    @_locked
    def delete_task(self, task_arn: str) -> None:
        super().delete_task(task_arn)
        self.tags.pop(task_arn, None)

    def _get_task(self, task_arn: str) -> EmulatedTask:
        if task_arn not in self.tasks:
            raise InvalidRequestException(f"Task {task_arn} not found.")
        return cast(EmulatedTask, self.tasks[task_arn])

    def _get_task_execution(self, task_execution_arn: str) -> EmulatedExecution:
        if task_execution_arn not in self.task_executions:
            raise InvalidRequestException(f"Task execution {task_execution_arn} not found.")
        return cast(EmulatedExecution, self.task_executions[task_execution_arn])

    def executions_of(self, task_arn: str) -> list[EmulatedExecution]:
        return [e for e in self.executions() if e.task_arn == task_arn]

    # moto's backend holds the emulation's objects where it types its own: every one it holds is one of these.
    def executions(self) -> list[EmulatedExecution]:
        return cast(list[EmulatedExecution], list(self.task_executions.values()))

    def emulated_tasks(self) -> list[EmulatedTask]:
        return cast(list[EmulatedTask], list(self.tasks.values()))

    def emulated_locations(self) -> list[EmulatedLocation]:
        return cast(list[EmulatedLocation], list(self.locations.values()))

    @_locked
    def start_task_execution(self, task_arn: str, request: dict | None = None) -> str:
        task = self._get_task(task_arn)
        now = self.advance()
        if task.status in ("CREATING", "UNAVAILABLE"):
            raise InvalidRequestException(f"Cannot start task {task_arn}: its status is {task.status}.")
        execution = EmulatedExecution(
            f"{task_arn}/execution/exec-{self.arn_counter + 1:017x}", task, request or {}, self
        )
        for unfinished in self.executions_of(task_arn):
            if unfinished.status_at(now) in FINAL_STATUSES:
                continue
            same_filters = (unfinished.includes, unfinished.excludes) == (execution.includes, execution.excludes)
            if same_filters or execution.options["TaskQueueing"] == "DISABLED":
                raise InvalidRequestException(
                    f"Cannot start task {task_arn}: its execution {unfinished.arn} is {unfinished.status_at(now)} "
                    "and a task runs one execution at a time. Only an execution with other Includes or Excludes "
                    "filters can be queued behind it."
                )
        self._set_tags(execution.arn, execution.request.get("Tags") or [])
        self.arn_counter += 1
        self.task_executions[execution.arn] = execution
        self.advance()
        return execution.arn

    @_locked
    def cancel_task_execution(self, task_execution_arn: str) -> None:
        execution = self._get_task_execution(task_execution_arn)
        status = execution.status_at(self.advance())
        if status in (*FINAL_STATUSES, "CANCELLING"):
            raise InvalidRequestException(f"Sync task cannot be cancelled in its current status: {status}")
        execution.cancel_time = time.time()
        self.advance()

    @_locked
    def advance(self) -> float:
        """Bring every task and its queue up to now: a queued execution launches when the one before it ends."""
        now = time.time()
        # Each task's executions, oldest first, in one pass over them (not one for every task: a local batch's thousand
        # tasks and executions made each call a million steps).
        by_task: dict[str, list[EmulatedExecution]] = {}
        for execution in self.executions():
            by_task.setdefault(execution.task_arn, []).append(execution)
        for task in self.tasks.values():
            executions = by_task.get(task.arn, [])
            free_since: float | None = 0.0  # when the task last became free; None while an execution runs
            for execution in executions:
                if execution.launch_time is None and execution.cancel_time is not None:
                    continue  # cancelled while queued: it never launches and holds nobody up
                if execution.launch_time is None:
                    if free_since is None:
                        break
                    execution.launch_time = max(free_since, execution.start_time)
                end = execution.end_time()
                free_since = end if end <= now else None
            statuses = {execution.status_at(now) for execution in executions}
            running = statuses - {"QUEUED", *FINAL_STATUSES}
            task.status = "RUNNING" if running else "QUEUED" if "QUEUED" in statuses else "AVAILABLE"
            emulated = cast(EmulatedTask, task)
            if self.offline_agents_of(task):
                task.status = "UNAVAILABLE"
            elif now < emulated.available_at:
                task.status = "CREATING"
            task.current_task_execution_arn = executions[-1].arn if executions else None
        return now

    @_locked
    def list_locations(self, filters: list[dict]) -> list[EmulatedLocation]:
        fields = {
            "LocationUri": lambda location: location.uri,
            "LocationType": lambda location: location.typ,
            "CreationTime": lambda location: location.creation_time,
        }
        return [location for location in self.emulated_locations() if _matches(location, filters, fields)]

    @_locked
    def list_tasks(self, filters: list[dict]) -> list[EmulatedTask]:
        self.advance()
        fields = {
            "LocationId": lambda task: (task.source_location_arn, task.destination_location_arn),
            "CreationTime": lambda task: task.creation_time,
        }
        return [task for task in self.emulated_tasks() if _matches(task, filters, fields)]

    @_locked
    def tag_resource(self, resource_arn: str, tags: list[dict]) -> None:
        keys = {tag["Key"] for tag in tags}
        self._set_tags(resource_arn, [tag for tag in self._tags_of(resource_arn) if tag["Key"] not in keys] + tags)

    @_locked
    def untag_resource(self, resource_arn: str, keys: list[str]) -> None:
        self.tags[resource_arn] = [tag for tag in self._tags_of(resource_arn) if tag["Key"] not in keys]

    def _set_tags(self, resource_arn: str, tags: list[dict]) -> None:
        if len(tags) > MAX_TAGS:
            raise InvalidRequestException(f"A resource can have at most {MAX_TAGS} tags, not {len(tags)}.")
        self.tags[resource_arn] = list(tags)

    def _tags_of(self, resource_arn: str) -> list[dict]:
        if resource_arn not in self.tags:
            raise InvalidRequestException(f"Resource {resource_arn} not found.")
        return self.tags[resource_arn]


# The API reference's constraint on a filter's values.
FILTER_VALUE = re.compile(r"[0-9a-zA-Z_\ \-\:\*\.\\/\?-]{1,255}")
STRING_OPERATORS = {
    "Equals": lambda value, wanted: value in wanted,
    "NotEquals": lambda value, wanted: value not in wanted,
    "In": lambda value, wanted: value in wanted,
    "Contains": lambda value, wanted: any(w in value for w in wanted),
    "NotContains": lambda value, wanted: not any(w in value for w in wanted),
    "BeginsWith": lambda value, wanted: any(value.startswith(w) for w in wanted),
}
NUMBER_OPERATORS = {
    "Equals": lambda value, wanted: value in wanted,
    "NotEquals": lambda value, wanted: value not in wanted,
    "LessThan": lambda value, wanted: all(value < w for w in wanted),
    "LessThanOrEqual": lambda value, wanted: all(value <= w for w in wanted),
    "GreaterThan": lambda value, wanted: all(value > w for w in wanted),
    "GreaterThanOrEqual": lambda value, wanted: all(value >= w for w in wanted),
}


def _matches(resource, filters: list[dict], fields: dict[str, Callable]) -> bool:
    """Whether `resource` passes every filter, as ListLocations and ListTasks apply them (case-sensitive)."""
    for given in filters:
        name, operator = given["Name"], given["Operator"]
        if name not in fields:
            raise InvalidRequestException(f"Filter name {name} is not valid here; use one of {', '.join(fields)}.")
        for value in given["Values"]:
            if not FILTER_VALUE.fullmatch(value):
                raise InvalidRequestException(
                    f"1 validation error detected: Value '{value}' at 'filters.member.values' failed to satisfy "
                    f"constraint: Member must have length between 1 and 255 and match pattern {FILTER_VALUE.pattern}"
                )
        if name == "CreationTime":
            operators, wanted = NUMBER_OPERATORS, [_creation_time(value) for value in given["Values"]]
        else:
            operators, wanted = STRING_OPERATORS, given["Values"]
        if operator not in operators:
            raise InvalidRequestException(f"Operator {operator} cannot be used with the filter {name}.")
        values = fields[name](resource)
        if name == "LocationId":  # a task passes when its source or its destination does
            passes = any(operators[operator](value, wanted) for value in values)
            if operator.startswith("Not"):
                passes = all(operators[operator](value, wanted) for value in values)
        else:
            passes = operators[operator](values, wanted)
        if not passes:
            return False
    return True


def _creation_time(value: str) -> float:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise InvalidRequestException(f"CreationTime {value!r} is not of the form yyyy-MM-dd HH:mm:ss.") from None


def _custom_secrets(request: dict) -> list[str]:
    """The secrets a location's request names in CustomSecretConfig (SMB's is under Protocol.SMB for FSx)."""
    configs = [
        request.get("CustomSecretConfig"),
        (request.get("Protocol") or {}).get("SMB", {}).get("CustomSecretConfig"),
    ]
    return [config["SecretArn"] for config in configs if config and config.get("SecretArn")]


def _page(items: list, max_results: int | None, next_token: str | None) -> tuple[list, str | None]:
    """One page of `items` and the token of the next, as DataSync's List* calls give them."""
    size = MAX_RESULTS if max_results is None else max_results
    if not 0 <= size <= MAX_RESULTS:
        raise InvalidRequestException(
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {MAX_RESULTS}"
        )
    try:
        start = int(base64.urlsafe_b64decode(next_token).decode()) if next_token else 0
    except ValueError:
        raise InvalidRequestException(f"Invalid NextToken {next_token!r}.") from None
    end = start + size
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token


def _uri(scheme: str, host: str, *path: str | None) -> str:
    """A LocationUri as DataSync stores it: the path's parts joined, ending in `/`."""
    parts = [part.strip("/") for part in path if part and part.strip("/")]
    return f"{scheme}://{host}/" + "".join(f"{part}/" for part in parts)


def _fsx_host(arn: str, from_end: int = 1) -> str:
    """`region.fs-id` of an FSx (or EFS) ARN: the file system is the last part, or the one before for an SVM."""
    return f"{arn.split(':')[3]}.{arn.split('/')[-from_end]}"


def _location(action: str, p: dict) -> tuple[str, str]:
    """The LocationType and the LocationUri of a location that `action` makes from the request `p`."""
    subdirectory = p.get("Subdirectory")
    match action:
        case "create_location_s3":
            return "S3", _uri("s3", p["S3BucketArn"].split(":")[-1], subdirectory)
        case "create_location_smb" | "create_location_nfs":
            typ = action.removeprefix("create_location_").upper()
            return typ, _uri(typ.lower(), p["ServerHostname"], subdirectory)
        case "create_location_efs":
            return "EFS", _uri("efs", _fsx_host(p["EfsFilesystemArn"]), subdirectory)
        case "create_location_fsx_windows":
            return "FSX_WINDOWS", _uri("fsxw", _fsx_host(p["FsxFilesystemArn"]), subdirectory)
        case "create_location_fsx_lustre":
            return "FSX_LUSTRE", _uri("fsxl", _fsx_host(p["FsxFilesystemArn"]), subdirectory)
        case "create_location_fsx_open_zfs":
            return "FSX_OPENZFS_NFS", _uri("fsxz", _fsx_host(p["FsxFilesystemArn"]), subdirectory)
        case "create_location_fsx_ontap":
            protocol = "SMB" if "SMB" in p["Protocol"] else "NFS"
            host = _fsx_host(p["StorageVirtualMachineArn"], from_end=2)
            return f"FSX_ONTAP_{protocol}", _uri(f"fsxn-{protocol.lower()}", host, subdirectory)
        case "create_location_hdfs":
            name_node = p["NameNodes"][0]
            return "HDFS", _uri("hdfs", f"{name_node['Hostname']}:{name_node['Port']}", subdirectory)
        case "create_location_object_storage":
            return "OBJECT_STORAGE", _uri("object-storage", p["ServerHostname"], p["BucketName"], subdirectory)
        case "create_location_azure_blob":
            host, _, container = p["ContainerUrl"].split("://", 1)[1].partition("/")
            return "AZURE_BLOB", _uri("azure-blob", host, container, subdirectory)
    raise NotImplementedError(action)


CREATE_LOCATION_ACTIONS = sorted(set(CREATE_CALL_BY_SCHEME.values()))


class _EmulatedResponses:
    """The response methods `install()` puts on moto's DataSyncResponse (moto dispatches by method name)."""

    datasync_backend: EmulatedDataSyncBackend
    _get_param: Callable
    _get_action: Callable[[], str]

    body: str

    def _params(self) -> dict:
        return json.loads(self.body or "{}")

    def _authenticate_and_authorize_normal_action(self, resource: str = "*") -> None:
        """moto's hook for IAM, run before each action: a local run's step may do what its role could."""
        backend = self.datasync_backend
        denied = emulated_iam.refusal(
            self._get_action(),
            self._params(),
            lambda arn: {tag["Key"]: tag["Value"] for tag in backend.tags.get(arn, [])},
        )
        if denied:
            raise JsonRESTError("AccessDeniedException", denied)
        _MOTOS_AUTHORIZATION(cast(DataSyncResponse, self), resource)
        invalid = enum_refusal(self._get_action(), self._params())
        if invalid:
            raise InvalidRequestException(invalid)

    def _create_location(self, action: str) -> str:
        params = self._params()
        typ, uri = _location(action, params)
        metadata = {key: value for key, value in params.items() if key != "Tags"}
        arn = self.datasync_backend.create_location(uri, typ, metadata, params.get("Tags"))
        return _json({"LocationArn": arn})

    def _describe_location(self) -> str:
        location = cast(EmulatedLocation | None, self.datasync_backend.locations.get(self._get_param("LocationArn")))
        if location is None:
            raise InvalidRequestException(f"Location {self._get_param('LocationArn')} not found.")
        shown = {key: value for key, value in location.metadata.items() if key not in SECRETS}
        return _json(
            {**shown, "LocationArn": location.arn, "LocationUri": location.uri, "CreationTime": location.creation_time}
        )

    def list_locations(self) -> str:
        locations = self.datasync_backend.list_locations(self._get_param("Filters") or [])
        page, token = _page(locations, self._get_param("MaxResults"), self._get_param("NextToken"))
        return _json(
            {"Locations": [{"LocationArn": loc.arn, "LocationUri": loc.uri} for loc in page], "NextToken": token}
        )

    def create_task(self) -> str:
        params = self._params()
        settings = {key: value for key, value in params.items() if key not in ("Tags", "SourceLocationArn")}
        settings.pop("DestinationLocationArn")
        arn = self.datasync_backend.create_task(
            params["SourceLocationArn"], params["DestinationLocationArn"], settings, params.get("Tags")
        )
        return _json({"TaskArn": arn})

    def update_task(self) -> str:
        changes = {key: value for key, value in self._params().items() if key != "TaskArn"}
        self.datasync_backend.update_task(self._get_param("TaskArn"), changes)
        return _json({})

    def describe_task(self) -> str:
        backend = self.datasync_backend
        backend.advance()
        task = backend._get_task(self._get_param("TaskArn"))
        described = {key: value for key, value in task.metadata.items() if key != "Name"}
        described.update(
            TaskArn=task.arn,
            Status=task.status,
            Name=task.name,
            SourceLocationArn=task.source_location_arn,
            DestinationLocationArn=task.destination_location_arn,
            Options=task.options,
            CreationTime=task.creation_time,
            TaskMode=task.mode,
            CurrentTaskExecutionArn=task.current_task_execution_arn,
        )
        offline = backend.offline_agents_of(task)
        if offline:
            # DataSync does not document the words it uses for this; these are the emulation's.
            described.update(
                ErrorCode="AgentOffline", ErrorDetail=f"The DataSync agent {', '.join(offline)} is offline."
            )
        return _json(described)

    def list_tasks(self) -> str:
        tasks = self.datasync_backend.list_tasks(self._get_param("Filters") or [])
        page, token = _page(tasks, self._get_param("MaxResults"), self._get_param("NextToken"))
        entries = [{"TaskArn": t.arn, "Status": t.status, "Name": t.name, "TaskMode": t.mode} for t in page]
        return _json({"Tasks": entries, "NextToken": token})

    def start_task_execution(self) -> str:
        request = {key: value for key, value in self._params().items() if key != "TaskArn"}
        arn = self.datasync_backend.start_task_execution(self._get_param("TaskArn"), request)
        return _json({"TaskExecutionArn": arn})

    def describe_task_execution(self) -> str:
        backend = self.datasync_backend
        with backend.lock:
            execution = backend._get_task_execution(self._get_param("TaskExecutionArn"))
            return _json(execution.description(backend.advance()))

    def list_task_executions(self) -> str:
        backend = self.datasync_backend
        with backend.lock:
            now = backend.advance()
            task_arn = self._get_param("TaskArn")
            if task_arn is not None:
                backend._get_task(task_arn)
            executions = [e for e in backend.task_executions.values() if task_arn in (None, e.task_arn)]
            page, token = _page(executions, self._get_param("MaxResults"), self._get_param("NextToken"))
            entries = [{"TaskExecutionArn": e.arn, "Status": e.status_at(now), "TaskMode": e.mode} for e in page]
        return _json({"TaskExecutions": entries, "NextToken": token})

    def cancel_task_execution(self) -> str:
        self.datasync_backend.cancel_task_execution(self._get_param("TaskExecutionArn"))
        return _json({})

    def create_agent(self) -> str:
        return _json({"AgentArn": self.datasync_backend.create_agent(self._params())})

    def describe_agent(self) -> str:
        backend = self.datasync_backend
        with backend.lock:
            return _json(backend.get_agent(self._get_param("AgentArn")).description())

    def list_agents(self) -> str:
        backend = self.datasync_backend
        with backend.lock:
            agents = list(backend.agents.values())
        page, token = _page(agents, self._get_param("MaxResults"), self._get_param("NextToken"))
        entries = [{"AgentArn": agent.arn, "Name": agent.name, "Status": agent.status} for agent in page]
        return _json({"Agents": [_without_none(entry) for entry in entries], "NextToken": token})

    def tag_resource(self) -> str:
        self.datasync_backend.tag_resource(self._get_param("ResourceArn"), self._get_param("Tags"))
        return _json({})

    def untag_resource(self) -> str:
        self.datasync_backend.untag_resource(self._get_param("ResourceArn"), self._get_param("Keys"))
        return _json({})

    def list_tags_for_resource(self) -> str:
        backend = self.datasync_backend
        with backend.lock:
            tags = list(backend._tags_of(self._get_param("ResourceArn")))
        page, token = _page(tags, self._get_param("MaxResults"), self._get_param("NextToken"))
        return _json({"Tags": page, "NextToken": token})


def enum_refusal(action: str, params: dict) -> str | None:
    """DataSync's refusal of a request that holds a value its API model's enums do not list (botocore sends any
    string; the service validates every request against its model), in the service's words: `1 validation error
    detected: Value 'SOMETIMES' at 'options.verifyMode' failed to satisfy constraint: Member must satisfy enum value
    set: [...]`. None for a request it takes."""
    try:
        shape = _model().operation_model(action).input_shape
    except OperationNotFoundError:
        return None
    errors = [
        f"Value '{value}' at '{where}' failed to satisfy constraint: Member must satisfy enum value set: "
        f"[{', '.join(allowed)}]"
        for where, value, allowed in _off_enum(params, shape, "")
    ]
    if not errors:
        return None
    return f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected: {'; '.join(errors)}"


def _off_enum(value: Any, shape: Shape | None, where: str) -> Iterator[tuple[str, str, list[str]]]:
    """(where, value, the values allowed) for each string of `value` outside its shape's enum, where named as the
    service names members in its validation messages: lowerCamelCase, a list's items counted from 1
    (`includes.1.member.filterType`)."""
    if shape is None:
        return
    if shape.type_name == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        for name, member in value.items():
            if name in members:
                camel = name[:1].lower() + name[1:]
                yield from _off_enum(member, members[name], f"{where}.{camel}" if where else camel)
    elif shape.type_name == "list" and isinstance(value, list):
        for number, item in enumerate(value, start=1):
            yield from _off_enum(item, shape.member, f"{where}.{number}.member")  # type: ignore[attr-defined]
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            yield from _off_enum(item, shape.value, f"{where}.{key}")  # type: ignore[attr-defined]
    elif isinstance(value, str) and getattr(shape, "enum", None) and value not in shape.enum:  # type: ignore[attr-defined]
        yield where, value, list(shape.enum)  # type: ignore[attr-defined]


def _json(body: dict) -> str:
    return json.dumps(_without_none(body))


def _without_none(body: dict) -> dict:
    return {key: value for key, value in body.items() if value is not None}


def _location_methods() -> dict[str, Callable]:
    methods: dict[str, Callable] = {}
    for action in CREATE_LOCATION_ACTIONS:

        def create(self, action=action):
            return self._create_location(action)

        methods[action] = create
        methods[action.replace("create_", "describe_", 1)] = _EmulatedResponses._describe_location
    return methods


_MOTOS_AUTHORIZATION = DataSyncResponse._authenticate_and_authorize_normal_action


def install() -> None:
    """Extend moto's DataSync in place, once. Wrappers that tests put on DataSyncResponse methods afterwards
    stay in effect, since nothing is installed again."""
    if datasync_backends.backend is EmulatedDataSyncBackend:
        return
    # Backends are made on first use in each account and region; any made before now were moto's plain ones.
    datasync_backends.backend = EmulatedDataSyncBackend
    for account_backends in datasync_backends.values():
        account_backends.backend = EmulatedDataSyncBackend
        account_backends.clear()
    methods = {name: member for name, member in vars(_EmulatedResponses).items() if callable(member)}
    for name, method in {**methods, **_location_methods()}.items():
        if not name.startswith("__"):
            setattr(DataSyncResponse, name, method)
