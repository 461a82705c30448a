"""`datasync-workflow from-airflow DAG.py`: each DataSyncOperator call of a DAG file as an execution input, read with
Python's `ast` (the file is never run). What literals decide is evaluated: constants, f-strings and `%` and
`.format`, `getenv` / `os.environ.get` (the current environment, else the default), `json.loads`, `re.sub`,
`timedelta`, `default_args`; what only a running Airflow knows (XCom, a task's output, Variables, connections) is
reported with its line and left out. The DAG's shapes are read as Airflow would make them: `with DAG`, a DAG in a
variable (`dag=dag`, `with dag:`), `@dag` functions, TaskGroups (task ids prefixed), `partial().expand()` and
`.expand_kwargs()` (a batch), attributes set on the operator after the call (as its keywords), annotated
assignments; Airflow's own arguments and default_args keys are each named with their line.

The file may come from anyone, so the converter takes nothing of the user's and nothing unbounded from it: an
environment variable whose name looks like a credential's is never read, only a regular file of at most
MAX_FILE_BYTES is read, each value it builds is bounded and all of them together, and its regular expressions run
in a child process with a time limit."""

import ast
import itertools
import json
import math
import os
import re
import reprlib
import secrets
import stat
import string
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from datasync_steps.batch import MAX_CONCURRENCY, MAX_TRANSFERS, batch_problems
from datasync_steps.deployment import DEFAULT_CONNECTION
from datasync_steps.input_checks import input_problems
from datasync_steps.input_model import WorkflowInput
from datasync_steps.timetable import from_airflow

OPERATORS = ("DataSyncOperator", "AWSDataSyncOperator")
INPUT_KEYS = frozenset(WorkflowInput.model_fields)
DURATION_KEYS = ("execution_timeout", "retry_delay", "max_retry_delay")
ENVIRONMENT_CALLS = ("getenv", "os.getenv", "os.environ.get", "environ.get")
# The calls whose value the converter works out; any other is known only when Airflow runs the DAG.
EVALUATED_CALLS = frozenset({*ENVIRONMENT_CALLS, "json.loads", "re.sub", "timedelta", "datetime.timedelta", "dict"})
# Airflow's schedules that no EventBridge expression repeats, and what the converter says of them.
ONE_TIME_SCHEDULES = {
    "@once": "runs the DAG a single time: no schedule entry (start that run by hand with `datasync-workflow run`, or "
    "at a set time with a schedule entry whose expression is at(yyyy-mm-ddThh:mm:ss))",
    "@continuous": "starts a run as soon as the one before ends, which EventBridge cannot express: no schedule entry",
}
# Why some of Airflow's own arguments are left out, and what does their work here.
LEFT_OUT_BECAUSE = {
    **dict.fromkeys(
        ("email", "email_on_failure", "email_on_retry"),
        "the deployment's alarm_emails are told of failed runs",
    ),
    **dict.fromkeys(
        (
            "on_failure_callback",
            "on_success_callback",
            "on_retry_callback",
            "on_execute_callback",
            "on_skipped_callback",
            "sla_miss_callback",
        ),
        "each run's end is a `DataSync Workflow Run Finished` event on the default bus, which a rule can act on",
    ),
    **dict.fromkeys(
        ("start_date", "end_date"),
        "a schedule entry fires from when it is deployed; `datasync-workflow backfill` runs earlier dates",
    ),
    **dict.fromkeys(("depends_on_past", "wait_for_downstream"), "each run is on its own, whatever the last one did"),
    **dict.fromkeys(
        ("pool", "pool_slots", "queue", "priority_weight", "weight_rule", "max_active_tis_per_dag"),
        "a run starts at once; if_task_running says what it does while the task is still running",
    ),
    "sla": "no SLA here: the alarm is on failed runs, and execution_timeout bounds a try",
    "max_active_tis_per_dagrun": "a batch's max_concurrency bounds the transfers at once",
}
# AWS's keys and tokens, Airflow's connections (their URIs hold passwords), and whatever is named like a secret.
CREDENTIAL_NAME = re.compile(r"SECRET|TOKEN|PASS|KEY|CREDENTIAL|AUTH|PRIVATE|AIRFLOW_CONN_", re.IGNORECASE)

# Parsing takes up to 600 bytes of memory per byte of the densest source (512 KiB: 300 MB); DAG files are kilobytes.
MAX_FILE_BYTES = 512 * 1024
# Deeper trees would exhaust the stack of the recursive visits, evaluation and ast.unparse.
MAX_DEPTH = 100
# Each value built from the file's literals is at most this long, printed.
MAX_VALUE_CHARACTERS = 262_144
SIZED = (str, bytes, list, tuple, dict)
# A width or precision of five digits or more would make the value before it could be measured.
MAX_WIDTH = 9_999
# What all the values built, measured and printed add up to, in characters (or elements) at most.
MAX_TOTAL_CHARACTERS = 32 * MAX_VALUE_CHARACTERS
# The time all of the file's re.sub calls may take together.
REGULAR_EXPRESSION_SECONDS = 5.0
# The most characters a number of a %-format may print: %f of 1e308.
LONGEST_NUMBER = 320


class Unknown(Exception):
    """A value the DAG file's literals do not decide."""

    def __init__(self, node: ast.AST, why: str = "known only when Airflow runs the DAG") -> None:
        super().__init__(f"line {getattr(node, 'lineno', '?')}: {ast.unparse(node)[:80]} is {why}")


class Unconvertible(Exception):
    """A DAG file that is not converted at all: too deep, or its values add up to too much."""


@dataclass
class _Dag:
    """A DAG of the file as the converter knows it."""

    dag_id: Any
    line: int
    schedule: str | None = None
    default_args: dict[str, Any] = field(default_factory=dict)  # the keys carried: values or Unknown
    notes: list[str] = field(default_factory=list)  # repeated in each of its calls' notes (its schedule's)
    dag_notes: list[str] = field(default_factory=list)  # said once (its default_args' keys not carried)
    used: bool = False  # it has an operator call


@dataclass
class _Group:
    """A TaskGroup (or @task_group): what it prefixes to the task ids in it, and its default_args."""

    group_id: str | None
    prefix: bool
    default_args: dict[str, Any]

    def child_id(self, label: str) -> str:
        """Airflow's TaskGroup.child_id: the group's id and a dot before the label, when the group prefixes."""
        return f"{self.group_id}.{label}" if self.prefix and self.group_id else label


@dataclass
class _Call:
    """An operator call being converted: kept open until the whole file is read, for the attributes set after it."""

    dag: _Dag
    line: int
    default_args: dict[str, Any]  # the DAG's, its groups' and the call's own default_args: values or Unknown
    notes: list[str]
    mapped: bool = False  # partial().expand() or .expand_kwargs(): a batch
    given: dict[str, Any] = field(default_factory=dict)  # the keywords (partial's, for a batch): values or Unknown
    transfers: list[dict[str, Any]] = field(default_factory=list)  # a batch's, each value known
    batch: dict[str, Any] = field(default_factory=dict)  # a batch's own keys (max_concurrency)


_Context = tuple[_Dag, tuple[_Group, ...]]


class Converter(ast.NodeVisitor):
    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ
        self.names: dict[str, Any] = {}
        self.dag_stack: list[_Dag] = []  # the DAGs around the node visited
        self.group_stack: list[_Group] = []  # the TaskGroups around it
        self.no_dag = _Dag(dag_id=None, line=0)  # of the calls outside every DAG
        self.all_dags: list[_Dag] = [self.no_dag]
        self.dag_variables: dict[str, _Dag] = {}  # dag = DAG(...): for `with dag:` and dag=dag
        self.calls: list[_Call] = []
        self.call_of_node: dict[int, _Call] = {}  # id of the operator's ast node: its call
        self.operators: dict[str, _Call] = {}  # a variable holding an operator: its call
        self.partials: dict[str, tuple[ast.Call, _Context]] = {}  # p = DataSyncOperator.partial(...)
        self.key_lines: dict[
            int, tuple[dict[Any, Any], dict[Any, int]]
        ] = {}  # a dict built from a literal: its keys' lines
        self.converted: list[dict[str, Any]] = []
        self.problems: list[list[str]] = []  # of each converted input: what validate says of it
        self.environment_read: dict[str, bool] = {}  # each variable read from the environment: whether it was set
        self.credentials_refused: set[str] = set()  # the variables not read, as their names look like credentials'
        self.characters = 0  # built, measured and printed so far
        self.regular_expression_deadline: float | None = None

    # Statements -------------------------------------------------------------------------------------------------

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)  # the operator calls in it first, as Python runs the value before it binds it
        for target in node.targets:
            self.bind(target, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        """`bucket: str = "x"` is an assignment; `bucket: str` alone binds nothing."""
        if node.value is not None:
            self.visit(node.value)
            self.bind(node.target, node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        target = node.target
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id in self.operators
        ):
            call = self.operators[target.value.id]
            call.notes.append(f"line {node.lineno}: {ast.unparse(target)[:60]} changed in place: not carried")
        elif isinstance(target, ast.Name):
            binary = ast.copy_location(
                ast.BinOp(left=ast.Name(id=target.id, ctx=ast.Load()), op=node.op, right=node.value), node
            )
            self.names[target.id] = self.value_or_unknown(binary)

    def bind(self, target: ast.AST, value: ast.AST) -> None:
        """Bind `target` to what `value` is: an operator's call, a partial(), a DAG, or a value of the file's
        literals (or Unknown); set an operator's attribute or a dict's key."""
        if isinstance(target, ast.Name):
            self.operators.pop(target.id, None)
            self.partials.pop(target.id, None)
            self.dag_variables.pop(target.id, None)
            if id(value) in self.call_of_node:
                self.operators[target.id] = self.call_of_node[id(value)]
                self.names[target.id] = Unknown(value)
            elif _partial(value):
                self.partials[target.id] = (value, self.context())  # type: ignore[assignment]
                self.names[target.id] = Unknown(value)
            elif _is_dag(value):
                self.dag_variables[target.id] = self.dag_settings(value)  # type: ignore[arg-type]
                self.names[target.id] = Unknown(value)
            else:
                self.names[target.id] = self.value_or_unknown(value)
        elif isinstance(target, ast.Tuple | ast.List):
            if any(isinstance(element, ast.Starred) for element in target.elts):
                for name in _names_in(target):
                    self.names[name] = Unknown(target, "unpacked with *: not evaluated")
            elif isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts):
                for element, part in zip(target.elts, value.elts, strict=True):
                    self.bind(element, part)
            else:
                values = self.value_or_unknown(value)
                if not isinstance(values, Unknown) and (
                    not isinstance(values, list | tuple) or len(values) != len(target.elts)
                ):
                    values = Unknown(value, "not as many values as names: not evaluated")
                for index, element in enumerate(target.elts):
                    if isinstance(element, ast.Name):
                        self.names[element.id] = values if isinstance(values, Unknown) else values[index]
                    else:
                        for name in _names_in(element):
                            self.names[name] = Unknown(element, "unpacked in depth: not evaluated")
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            if target.value.id in self.operators:
                self.set_attribute(self.operators[target.value.id], target, value)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            mapping = self.names.get(target.value.id)
            if isinstance(mapping, dict):  # default_args["retries"] = 3
                try:
                    key = self.evaluate(target.slice)
                    hash(key)
                except (Unknown, TypeError):
                    self.names[target.value.id] = Unknown(target, "a key not evaluated set in it")
                    return
                mapping[key] = self.value_or_unknown(value)
                self.key_lines_of(mapping)[key] = target.lineno

    def visit_With(self, node: ast.With) -> None:
        dags, groups = 0, 0
        for item in node.items:
            expression = item.context_expr
            dag = None
            if _is_dag(expression):
                dag = self.dag_settings(expression)  # type: ignore[arg-type]
            elif isinstance(expression, ast.Name) and expression.id in self.dag_variables:
                dag = self.dag_variables[expression.id]
            elif isinstance(expression, ast.Call) and _last(expression.func) == "TaskGroup":
                self.group_stack.append(self.group_settings(expression))
                groups += 1
            if dag is not None:
                self.dag_stack.append(dag)
                dags += 1
                if isinstance(item.optional_vars, ast.Name):
                    self.dag_variables[item.optional_vars.id] = dag
        self.generic_visit(node)
        del self.dag_stack[len(self.dag_stack) - dags :]
        del self.group_stack[len(self.group_stack) - groups :]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        """A @dag function's body makes its DAG's tasks, a @task_group's its group's. The body is read where the
        function is defined; its parameters are known only when Airflow runs it."""
        dags, groups = 0, 0
        for decorator in node.decorator_list:
            name = _last(decorator.func if isinstance(decorator, ast.Call) else decorator)
            call = decorator if isinstance(decorator, ast.Call) else None
            if name in ("dag", "DAG"):
                self.dag_stack.append(self.dag_settings(call, default_id=node.name, line=decorator.lineno))
                dags += 1
            elif name == "task_group":
                self.group_stack.append(self.group_settings(call, default_id=node.name))
                groups += 1
        arguments = node.args
        parameters = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        parameters += [parameter for parameter in (arguments.vararg, arguments.kwarg) if parameter]
        shadowed = {parameter.arg: self.names.get(parameter.arg, _UNBOUND) for parameter in parameters}
        for parameter in parameters:
            self.names[parameter.arg] = Unknown(parameter, "a parameter of its function: known when Airflow runs it")
        for statement in node.body:
            self.visit(statement)
        for name, value in shadowed.items():
            if value is _UNBOUND:
                self.names.pop(name, None)
            else:
                self.names[name] = value
        del self.dag_stack[len(self.dag_stack) - dags :]
        del self.group_stack[len(self.group_stack) - groups :]

    def visit_Call(self, node: ast.Call) -> None:
        if _last(node.func) in OPERATORS:
            self.call_of_node[id(node)] = self.operator_call(node, self.context())
        elif isinstance(node.func, ast.Attribute) and node.func.attr in ("expand", "expand_kwargs"):
            partial = node.func.value
            if _partial(partial):
                self.call_of_node[id(node)] = self.mapped_call(node, partial, self.context())  # type: ignore[arg-type]
            elif isinstance(partial, ast.Name) and partial.id in self.partials:
                self.call_of_node[id(node)] = self.mapped_call(node, *self.partials[partial.id])
        self.generic_visit(node)

    # DAGs and groups --------------------------------------------------------------------------------------------

    def context(self) -> _Context:
        return (self.dag_stack[-1] if self.dag_stack else self.no_dag, tuple(self.group_stack))

    def dag_settings(self, call: ast.Call | None, default_id: str = "", line: int = 0) -> _Dag:
        dag = _Dag(dag_id=default_id, line=call.lineno if call else line)
        self.all_dags.append(dag)
        if call is None:  # a bare @dag
            return dag
        settings: dict[str, Any] = {"schedule": None, "default_args": {}, "catchup": None}
        if call.args:
            dag.dag_id = self.value_or_note(call.args[0], dag.notes)
        for keyword in call.keywords:
            if keyword.arg in ("dag_id", "schedule", "schedule_interval", "default_args", "catchup"):
                value = self.value_or_note(keyword.value, dag.notes)
                if keyword.arg == "dag_id":
                    dag.dag_id = value
                else:
                    settings["schedule" if keyword.arg.startswith("schedule") else keyword.arg] = value
        dag.default_args = self.carried_default_args(settings["default_args"], call, dag, "default_args")
        dag.schedule = self.schedule(settings["schedule"], call.lineno, dag.notes)
        if settings["catchup"] is True and dag.schedule:
            dag.dag_notes.append(
                f"line {call.lineno}: catchup=True: a schedule entry does not run the intervals before it was "
                "deployed; `datasync-workflow backfill` runs them"
            )
        return dag

    def group_settings(self, call: ast.Call | None, default_id: str | None = None) -> _Group:
        dag = self.context()[0]
        group_id: Any = default_id
        prefix: Any = True
        default_args: Any = {}
        if call is not None:
            if call.args:
                group_id = self.value_or_note(call.args[0], dag.dag_notes)
            for keyword in call.keywords:
                if keyword.arg == "group_id":
                    group_id = self.value_or_note(keyword.value, dag.dag_notes)
                elif keyword.arg == "prefix_group_id":
                    prefix = self.value_or_note(keyword.value, dag.dag_notes)
                elif keyword.arg == "default_args":
                    default_args = self.value_or_note(keyword.value, dag.dag_notes)
        if not isinstance(group_id, str):
            group_id = None  # its task ids then lack its prefix: the note above says why
        parent = self.group_stack[-1] if self.group_stack else None
        if group_id and parent and parent.prefix and parent.group_id:
            group_id = parent.child_id(group_id)
        line = call.lineno if call else 0
        carried = self.carried_default_args(default_args, call, dag, "the TaskGroup's default_args", line)
        return _Group(group_id=group_id, prefix=prefix is not False, default_args=carried)

    def carried_default_args(
        self, default_args: Any, node: ast.AST | None, dag: _Dag, what: str, line: int = 0
    ) -> dict[str, Any]:
        """The keys of `default_args` this workflow carries (their values, or Unknown); each other key named once in
        the DAG's notes, with its line."""
        if not isinstance(default_args, dict):
            return {}
        line = getattr(node, "lineno", line)
        lines = self.key_lines_of(default_args)
        carried = {}
        for key, value in default_args.items():
            if key in INPUT_KEYS:
                carried[key] = self.known(value, node or ast.Constant(value=None))
            else:
                dag.dag_notes.append(f"line {lines.get(key, line)}: {what}' {_left_out(key)}")
        return carried

    def defaults_of(self, dag: _Dag, groups: tuple[_Group, ...]) -> dict[str, Any]:
        """What a task of `dag` in `groups` takes from default_args: the DAG's, then each group's over it."""
        defaults = dict(dag.default_args)
        for group in groups:
            defaults.update(group.default_args)
        return defaults

    # Operator calls ---------------------------------------------------------------------------------------------

    def operator_call(self, node: ast.Call, context: _Context, mapped: bool = False) -> _Call:
        """The call `DataSyncOperator(...)` (or `DataSyncOperator.partial(...)`, `mapped`) made in `context`."""
        dag, groups = context
        for keyword in node.keywords:  # dag=dag: the DAG it names, not the one around it
            if keyword.arg == "dag" and isinstance(keyword.value, ast.Name) and keyword.value.id in self.dag_variables:
                dag = self.dag_variables[keyword.value.id]
        dag.used = True
        call = _Call(dag=dag, line=node.lineno, default_args=self.defaults_of(dag, groups), notes=list(dag.notes))
        call.mapped = mapped
        self.calls.append(call)
        if node.args:
            call.notes.append(
                f"line {node.lineno}: an operator takes keyword arguments only: the positional ones are not read"
            )
        for keyword in node.keywords:
            if keyword.arg == "dag" and isinstance(keyword.value, ast.Name) and keyword.value.id in self.dag_variables:
                continue
            if keyword.arg == "default_args":
                own = self.value_or_note(keyword.value, call.notes)
                if isinstance(own, dict):
                    lines = self.key_lines_of(own)
                    for key, value in own.items():
                        if key in INPUT_KEYS:
                            call.default_args[key] = self.known(value, keyword.value)
                        else:
                            call.notes.append(f"line {lines.get(key, keyword.lineno)}: default_args' {_left_out(key)}")
                continue
            self.keyword(call, keyword.arg, keyword.value, keyword.lineno)
        task_id = call.given.get("task_id")
        if groups and isinstance(task_id, str):
            call.given["task_id"] = groups[-1].child_id(task_id)
        return call

    def keyword(self, call: _Call, key: str | None, value: ast.AST, line: int, what: str = "") -> None:
        """A keyword of the call (or an attribute set on its operator, named `what`): carried, or said why not."""
        if key is None:
            call.notes.append(f"line {line}: **{ast.unparse(value)[:60]} is not read: give each one")
        elif call.mapped and key == "max_active_tis_per_dagrun":
            concurrency = self.value_or_unknown(value)
            if isinstance(concurrency, Unknown):
                call.notes.append(f"{concurrency}: max_concurrency is left out")
            elif isinstance(concurrency, int) and concurrency > MAX_CONCURRENCY:
                call.batch["max_concurrency"] = MAX_CONCURRENCY
                call.notes.append(
                    f"line {line}: max_active_tis_per_dagrun={concurrency}: a batch runs at most {MAX_CONCURRENCY} "
                    f"transfers at once (max_concurrency {MAX_CONCURRENCY})"
                )
            else:
                call.batch["max_concurrency"] = concurrency
        elif key not in INPUT_KEYS:
            call.notes.append(f"line {line}: {what or ''}{_left_out(key)}")
        else:
            call.given[key] = self.known(self.value_or_unknown(value), value)

    def set_attribute(self, call: _Call, target: ast.Attribute, value: ast.AST) -> None:
        """`operator.key = value` after the call: as the keyword `key` would be."""
        if call.mapped:
            call.notes.append(
                f"line {target.lineno}: {ast.unparse(target)[:60]} is set on a mapped operator: not carried "
                "(give it to partial())"
            )
            return
        self.keyword(call, target.attr, value, target.lineno, what=f"{ast.unparse(target.value)[:40]}.")

    def mapped_call(self, node: ast.Call, partial: ast.Call, context: _Context) -> _Call:
        """`DataSyncOperator.partial(...).expand(...)` or `.expand_kwargs(...)`: a batch, partial's keywords its
        defaults and each mapped task a transfer (an expand over several lists maps over their cross product, as
        Airflow does). What only Airflow knows of the lists (another task's output, XCom) leaves no transfers."""
        call = self.operator_call(partial, context, mapped=True)
        assert isinstance(node.func, ast.Attribute)
        transfers = self.expanded(call, node) if node.func.attr == "expand" else self.expanded_kwargs(call, node)
        if transfers is not None:
            call.transfers = transfers
        return call

    def expanded(self, call: _Call, node: ast.Call) -> list[dict[str, Any]] | None:
        keys: list[str | None] = []
        lists: list[list[Any]] = []
        known = True
        if node.args:
            call.notes.append(
                f"line {node.lineno}: expand() takes keyword arguments only: the positional ones are not read"
            )
        for keyword in node.keywords:
            if keyword.arg is None:
                call.notes.append(
                    f"line {keyword.lineno}: expand(**{ast.unparse(keyword.value)[:60]}) is not read: no transfers"
                )
                known = False
                continue
            if keyword.arg not in INPUT_KEYS:
                call.notes.append(f"line {keyword.lineno}: the mapped {_left_out(keyword.arg)}")
            elif keyword.arg in call.given:
                call.notes.append(
                    f"line {keyword.lineno}: {keyword.arg} is given to both partial() and expand(): Airflow "
                    "refuses that"
                )
            values = self.mapped_list(call, keyword.value, f"the mapped {keyword.arg}")
            if values is None:
                known = False
            else:
                keys.append(keyword.arg if keyword.arg in INPUT_KEYS else None)
                lists.append(values)
        if not known or not lists:
            if known:
                call.notes.append(f"line {node.lineno}: expand() maps over nothing: no transfers")
            return None
        count = math.prod(len(values) for values in lists)
        if count > MAX_TRANSFERS:
            call.notes.append(
                f"line {node.lineno}: expand() maps over {count:,} combinations; a batch takes at most "
                f"{MAX_TRANSFERS:,} transfers (more from transfers_from): no transfers"
            )
            return None
        if count == 0:
            call.notes.append(
                f"line {node.lineno}: expand() maps over an empty list: Airflow runs no task of it, no transfers"
            )
        transfers = []
        for combination in itertools.product(*lists):
            transfer = {key: _seconds(key, value) for key, value in zip(keys, combination, strict=True) if key}
            self.measured(transfer, node)
            transfers.append(transfer)
        return transfers

    def expanded_kwargs(self, call: _Call, node: ast.Call) -> list[dict[str, Any]] | None:
        argument = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "kwargs"), None)
        if argument is None:
            call.notes.append(f"line {node.lineno}: expand_kwargs() without its list: no transfers")
            return None
        values = self.mapped_list(call, argument, "the list of expand_kwargs()", elements=False)
        if values is None:
            return None
        transfers: list[dict[str, Any]] = []
        left_out: set[Any] = set()
        for index, element in enumerate(values):
            lines = self.key_lines_of(element) if isinstance(element, dict) else {}
            if not isinstance(element, dict):
                call.notes.append(
                    f"line {argument.lineno}: expand_kwargs()'s item {index} is a {type(element).__name__}, not a "
                    "dict: no transfers"
                )
                return None
            transfer = {}
            for key, value in element.items():
                if key not in INPUT_KEYS:
                    if key not in left_out:
                        left_out.add(key)
                        call.notes.append(f"line {lines.get(key, argument.lineno)}: the mapped {_left_out(key)}")
                    continue
                if key in call.given and key not in left_out:
                    left_out.add(key)
                    call.notes.append(
                        f"line {argument.lineno}: {key} is given to both partial() and expand_kwargs(): Airflow "
                        "refuses that"
                    )
                value = self.known(value, argument)
                if isinstance(value, Unknown):
                    call.notes.append(f"{value}: transfers[{index}].{key} is left out")
                else:
                    transfer[key] = _seconds(key, value)
            transfers.append(transfer)
        return transfers

    def mapped_list(self, call: _Call, node: ast.expr, what: str, elements: bool = True) -> list[Any] | None:
        """The list a mapped argument maps over, or None (and a note) when the file does not decide it."""
        values = self.value_or_unknown(node)
        if isinstance(values, Unknown):
            call.notes.append(
                f"{values}: it is {what}, so the batch has no transfers (give them in transfers, or in an object "
                "of the batch bucket named by transfers_from)"
            )
            return None
        if not isinstance(values, list | tuple):
            call.notes.append(f"line {node.lineno}: {what} is a {type(values).__name__}, not a list: no transfers")
            return None
        if len(values) > MAX_TRANSFERS:
            call.notes.append(
                f"line {node.lineno}: {what} has {len(values):,} items; a batch takes at most {MAX_TRANSFERS:,} "
                "transfers (more from transfers_from): no transfers"
            )
            return None
        if elements:
            for value in values:
                checked = self.known(value, node)
                if isinstance(checked, Unknown):
                    call.notes.append(f"{checked}: {what} is left out, and the batch has no transfers")
                    return None
        return list(values)

    # The converted inputs ---------------------------------------------------------------------------------------

    def finish(self) -> None:
        """Each call's input, schedule entry and notes, and what validate says of the input."""
        for call in self.calls:
            notes = call.notes
            execution_input: dict[str, Any] = {}
            for key, value in {**call.default_args, **call.given}.items():
                if isinstance(value, Unknown):
                    notes.append(f"{value}: {key} is left out")
                else:
                    execution_input[key] = _seconds(key, value)
            dag = call.dag
            task_id = execution_input.get("task_id")
            notes += _place_notes(execution_input, call.line)
            if call.mapped:
                execution_input = {"defaults": execution_input, "transfers": call.transfers, **call.batch}
            converted: dict[str, Any] = {"dag_id": dag.dag_id, "line": call.line, "input": execution_input}
            if dag.schedule and call.mapped:
                notes.append(
                    f"line {call.line}: cdk.json's schedules start single runs, not batches: no schedule entry for "
                    "this one (start it with `datasync-workflow run`, or give each transfer a schedule entry)"
                )
            elif dag.schedule:
                name = f"{dag.dag_id}.{task_id if task_id is not None else call.line}"
                self.charge(len(name))
                converted["schedule"] = {
                    "name": re.sub(r"[^0-9a-zA-Z-_.]", "-", name[:64]),
                    "expression": dag.schedule,
                    "input": execution_input,
                }
            problems = batch_problems(execution_input) if call.mapped else input_problems(execution_input)
            notes += [f"line {call.line}: validate says: {problem}" for problem in problems]
            converted["notes"] = notes
            converted["dag_notes"] = dag.dag_notes  # its DAG's, the same for each of its calls (said once on stderr)
            self.charge(len(json.dumps(converted, default=str)))
            self.converted.append(converted)
            self.problems.append(problems)

    def dag_notes(self, converted: Iterable[int] | None = None) -> list[str]:
        """What is said once of the DAGs of the calls converted (of the calls of these indexes)."""
        chosen = range(len(self.calls)) if converted is None else converted
        dags = {id(self.calls[index].dag) for index in chosen}
        return [note for dag in self.all_dags if id(dag) in dags for note in dag.dag_notes]

    def schedule(self, schedule: Any, line: int, notes: list[str]) -> str | None:
        if schedule is None:
            return None
        if isinstance(schedule, str) and schedule.strip() in ONE_TIME_SCHEDULES:
            notes.append(f"line {line}: the DAG's schedule {schedule.strip()!r} {ONE_TIME_SCHEDULES[schedule.strip()]}")
            return None
        if isinstance(schedule, timedelta):
            minutes = schedule.total_seconds() / 60
            if minutes.is_integer() and minutes >= 1:
                unit, count = next(
                    (u, minutes / n) for u, n in (("day", 1440), ("hour", 60), ("minute", 1)) if minutes % n == 0
                )
                return f"rate({int(count)} {unit}{'s' if count > 1 else ''})"
        if isinstance(schedule, str):
            try:
                return from_airflow(schedule)
            except ValueError as error:
                why = str(error)[:100]  # the error repeats the schedule, which may be long
                notes.append(f"line {line}: the DAG's schedule {reprlib.repr(schedule)}: {why}; no schedule entry")
                return None
        notes.append(
            f"line {line}: the DAG's schedule {reprlib.repr(schedule)} has no EventBridge expression; no schedule entry"
        )
        return None

    def key_lines_of(self, mapping: dict[Any, Any]) -> dict[Any, int]:
        """The lines of the keys of a dict the file wrote out (empty for another: json.loads', dict()'s)."""
        entry = self.key_lines.get(id(mapping))
        if entry is None or entry[0] is not mapping:
            entry = self.key_lines[id(mapping)] = (mapping, {})
        return entry[1]

    def value_or_unknown(self, node: ast.AST) -> Any:
        try:
            return self.evaluate(node)
        except Unknown as unknown:
            return unknown

    def value_or_note(self, node: ast.AST, notes: list[str]) -> Any:
        try:
            return self.evaluate(node)
        except Unknown as unknown:
            notes.append(str(unknown))
            return None

    def evaluate(self, node: ast.AST) -> Any:
        """What the literals of `node` decide; Unknown for anything else, an error of the file's own included."""
        try:
            return self._evaluate(node)
        except (Unknown, Unconvertible, MemoryError):
            raise
        except Exception as error:  # whatever a builtin raises on the file's values is the file's error
            raise Unknown(node, f"not evaluated: {type(error).__name__}: {str(error)[:100]}") from None

    def _evaluate(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise Unknown(node, "not assigned a value in the file")
            value = self.names[node.id]
            if isinstance(value, Unknown):
                raise value
            return value
        if isinstance(node, ast.JoinedStr):
            return self.joined(node, (self.evaluate(part) for part in node.values))
        if isinstance(node, ast.FormattedValue):
            value = self.evaluate(node.value)
            if node.conversion != -1:  # !r, !s or !a
                value = _BoundedFormatter(self, node).convert_field(value, chr(node.conversion))
            return self.format_field(node, value, self.evaluate(node.format_spec) if node.format_spec else "")
        if isinstance(node, ast.Dict):
            return self.dictionary(node)
        if isinstance(node, ast.List | ast.Tuple):
            values = [self.evaluate(element) for element in node.elts]
            return self.modest(node, values if isinstance(node, ast.List) else tuple(values))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            left, right = self.evaluate(node.left), self.evaluate(node.right)
            if isinstance(node.op, ast.Add):
                if (
                    isinstance(left, SIZED)
                    and isinstance(right, SIZED)
                    and len(left) + len(right) > MAX_VALUE_CHARACTERS
                ):
                    raise _too_long(node)  # before it is built
                return self.modest(node, left + right)
            if isinstance(left, str | bytes):
                self.check_percent_format(node, left if isinstance(left, str) else left.decode("latin-1"), right)
            return self.modest(node, left % right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.evaluate(node.operand)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Subscript) and _name(node.value) in ("os.environ", "environ"):
            return self.environment(node, self.evaluate(node.slice))
        raise Unknown(node)

    def dictionary(self, node: ast.Dict) -> dict[Any, Any]:
        """A dict the file writes out, `**` merges included; the line of each key kept (for the notes)."""
        result: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                merged = self.evaluate(value)
                if not isinstance(merged, dict):
                    raise Unknown(value, "unpacked with ** but not a dict: not evaluated")
                result.update(merged)
                lines.update(self.key_lines_of(merged))
            else:
                evaluated = self.evaluate(key)
                # A value Airflow alone knows (default_args' start_date, say) spoils only its own key.
                result[evaluated] = self.value_or_unknown(value)
                lines[evaluated] = key.lineno
        self.modest(node, result)
        self.key_lines[id(result)] = (result, lines)
        return result

    def call(self, node: ast.Call) -> Any:
        name = _name(node.func)
        if any(keyword.arg is None for keyword in node.keywords):
            raise Unknown(node, "a call with **: not evaluated")
        formatting = isinstance(node.func, ast.Attribute) and node.func.attr == "format"
        if name not in EVALUATED_CALLS and not formatting:
            raise Unknown(node)  # an operator, a task, a function of the file: before its arguments are worked out
        args = [self.evaluate(arg) for arg in node.args]
        kwargs = {k.arg: self.evaluate(k.value) for k in node.keywords if k.arg}
        if name in ENVIRONMENT_CALLS:
            key, default = (*args, None)[:2] if args else (kwargs.get("key"), kwargs.get("default"))
            return self.environment(node, key, default)
        if name == "json.loads":
            self.charge(len(args[0]) if args and isinstance(args[0], str | bytes) else 0)
            return self.modest(node, json.loads(*args))
        if name == "re.sub":
            return self.modest(node, self.regular_expression_substitution(node, args, kwargs))
        if name in ("timedelta", "datetime.timedelta"):
            return timedelta(*args, **kwargs)
        if name == "dict":
            return self.modest(node, dict(*args, **kwargs))
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            template = self.evaluate(node.func.value)
            if not isinstance(template, str):
                raise Unknown(node)
            return _BoundedFormatter(self, node).vformat(template, args, kwargs)
        raise Unknown(node)

    def environment(self, node: ast.AST, name: Any, *default: Any) -> Any:
        """The environment's value of `name`, else the DAG's `default` (os.environ[...] has none: Unknown)."""
        if not isinstance(name, str):
            raise Unknown(node, "an environment variable's name that is no string")
        if CREDENTIAL_NAME.search(name):
            self.credentials_refused.add(name)
            raise Unknown(node, "not read from the environment: its name looks like a credential's")
        self.environment_read.setdefault(name, name in self.environ)
        if name in self.environ:
            return self.modest(node, self.environ[name])
        if not default:
            raise Unknown(node, "not set in this environment")
        return default[0]

    def regular_expression_substitution(self, node: ast.AST, args: list[Any], kwargs: dict[str, Any]) -> str:
        """re.sub, in a child process: `re` has no timeout, and a backtracking pattern such as ^(a|aa)+$ holds the
        thread that runs it (and the GIL) for ever. Refusing patterns instead would take a parser of their own
        and still miss the polynomial ones (\\w*\\w*\\w*x); a process is stopped at its deadline whatever it runs."""
        if self.regular_expression_deadline is None:
            self.regular_expression_deadline = time.monotonic() + REGULAR_EXPRESSION_SECONDS
        seconds = self.regular_expression_deadline - time.monotonic()
        if seconds <= 0:
            raise Unknown(node, f"past the {REGULAR_EXPRESSION_SECONDS:g} s the file's re.sub calls may take")
        try:
            child = subprocess.run(
                [sys.executable, "-I", "-S", "-c", _RE_SUB_CHILD],
                input=json.dumps({"args": args, "kwargs": kwargs}),
                capture_output=True,
                text=True,
                timeout=seconds,
                env={},  # the child needs none of the user's environment
            )
        except subprocess.TimeoutExpired:
            why = f"still running when the {REGULAR_EXPRESSION_SECONDS:g} s the file's re.sub calls may take ran out"
            raise Unknown(node, why) from None
        if child.returncode != 0:
            raise Unknown(node, "not evaluated: its process failed (out of memory?)")
        answer = json.loads(child.stdout)
        if "error" in answer:
            raise Unknown(node, f"not evaluated: {answer['error'][:100]}")
        return answer["result"]

    def check_percent_format(self, node: ast.AST, template: str, values: Any) -> None:
        """Unknown when a %-format's widths and precisions (a `*` one read from `values`, as % reads it) and values
        add up to more than MAX_VALUE_CHARACTERS."""
        positional = iter(values if isinstance(values, tuple) else (values,))
        total = len(template)
        for key, *bounds in _percent_specs(template):
            for bound in bounds:
                given = next(positional, 0) if bound == "*" else int(bound or 0)
                if isinstance(given, int) and abs(given) > MAX_WIDTH:
                    raise Unknown(node, "a format with a width too large to evaluate")
                total += abs(given) if isinstance(given, int) else 0
            value = values.get(key) if key is not None and isinstance(values, dict) else next(positional, None)
            total += self.measured(value, node) + LONGEST_NUMBER
            if total > MAX_VALUE_CHARACTERS:
                raise _too_long(node)

    def format_field(self, node: ast.AST, value: Any, spec: str) -> str:
        """format(value, spec) for a field of an f-string or str.format."""
        self.measured(value, node)
        if re.search(r"\d{5,}", spec):
            raise Unknown(node, "a format with a width too large to evaluate")
        return self.modest(node, format(value, spec))

    def joined(self, node: ast.AST, pieces: Iterable[str]) -> str:
        """The pieces of an f-string, joined: Unknown as soon as they are longer than MAX_VALUE_CHARACTERS."""
        kept, length = [], 0
        for piece in pieces:
            length += len(piece)
            if length > MAX_VALUE_CHARACTERS:
                raise _too_long(node)
            kept.append(piece)
        return self.modest(node, "".join(kept))

    def modest(self, node: ast.AST, value: Any) -> Any:
        """`value`, counted against MAX_TOTAL_CHARACTERS; Unknown when it is too long or (a number) too large."""
        if isinstance(value, int) and value.bit_length() > 256:
            raise Unknown(node, "a number too large to evaluate")
        if isinstance(value, SIZED):
            if len(value) > MAX_VALUE_CHARACTERS:
                raise _too_long(node)
            self.charge(len(value))
        return value

    def known(self, value: Any, node: ast.AST) -> Any:
        """`value`, or what measured() raises for it."""
        try:
            self.measured(value, node)
        except Unknown as unknown:
            return unknown
        return value

    def measured(self, value: Any, node: ast.AST) -> int:
        """About how long `value` is printed, a part it holds twice counted twice (as printing repeats it); Unknown
        for the first Unknown inside it, a key JSON cannot hold, nesting deeper than MAX_DEPTH or a length over
        MAX_VALUE_CHARACTERS."""
        length, stack = 0, [(value, 0)]
        try:
            while stack:
                item, depth = stack.pop()
                if isinstance(item, Unknown):
                    raise item
                if depth > MAX_DEPTH:
                    raise Unknown(node, f"nested deeper than {MAX_DEPTH}: not evaluated")
                if isinstance(item, dict):
                    if not all(isinstance(key, str | int | float | bool | None) for key in item):
                        raise Unknown(node, "a dict whose keys JSON cannot hold: not evaluated")
                    stack += [(part, depth + 1) for pair in item.items() for part in pair]
                elif isinstance(item, list | tuple):
                    stack += [(part, depth + 1) for part in item]
                length += len(item) + 2 if isinstance(item, str | bytes) else 4
                if length > MAX_VALUE_CHARACTERS:
                    raise Unknown(node, f"longer than {MAX_VALUE_CHARACTERS:,} printed: not evaluated")
        finally:
            self.charge(length)
        return length

    def charge(self, characters: int) -> None:
        """Count what was built, measured or printed; Unconvertible past MAX_TOTAL_CHARACTERS."""
        self.characters += characters
        if self.characters > MAX_TOTAL_CHARACTERS:
            raise Unconvertible(f"its values add up to more than {MAX_TOTAL_CHARACTERS:,} characters")


class _BoundedFormatter(string.Formatter):
    """str.format with each field through Converter.format_field (its nested fields, as in "{0:{1}}", resolved by
    then), no attribute read, and the fields together no longer than MAX_VALUE_CHARACTERS."""

    def __init__(self, converter: Converter, node: ast.AST) -> None:
        self.converter, self.node, self.length = converter, node, 0

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if "." in field_name:
            raise Unknown(self.node, "a format that reads an attribute: not evaluated")
        return super().get_field(field_name, args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        self.converter.measured(value, self.node)  # before repr() prints a value that holds a part many times
        return super().convert_field(value, conversion)

    def format_field(self, value: Any, format_spec: str) -> str:
        piece = self.converter.format_field(self.node, value, format_spec)
        self.length += len(piece)
        if self.length > MAX_VALUE_CHARACTERS:
            raise _too_long(self.node)
        return piece


_WIDTH_AND_PRECISION = re.compile(r"[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?")


def _percent_specs(template: str) -> Iterator[tuple[str | None, str, str]]:
    """Each conversion of a %-format: its mapping key (None without one), width and precision ("*" when an
    argument gives it, "" when none), read as str % reads them (a key's parentheses nest)."""
    at = 0
    while (at := template.find("%", at) + 1) > 0:
        if template.startswith("%", at):
            at += 1
            continue
        key = None
        if template.startswith("(", at):
            depth, end = 1, at + 1
            while depth and end < len(template):
                depth += {"(": 1, ")": -1}.get(template[end], 0)
                end += 1
            key, at = template[at + 1 : end - 1], end
        found = _WIDTH_AND_PRECISION.match(template, at)
        assert found  # every part of the pattern may be empty
        yield key, found[1], found[2] or ""
        at = found.end() + 1  # past the conversion's letter


# The child process of Converter.regular_expression_substitution: re.sub on what stdin holds, JSON on stdout, in at
# most RE_SUB_BYTES of memory.
RE_SUB_BYTES = 256 * 1024 * 1024
_RE_SUB_CHILD = f"""
import json, re, resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
limit = min(n for n in ({RE_SUB_BYTES}, soft, hard) if n != resource.RLIM_INFINITY)
resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
call = json.load(sys.stdin)
try:
    result = re.sub(*call["args"], **call["kwargs"])
except Exception as error:
    answer = {{"error": f"{{type(error).__name__}}: {{error}}"}}
else:
    too_long = len(result) > {MAX_VALUE_CHARACTERS}
    answer = {{"error": "longer than {MAX_VALUE_CHARACTERS:,}"}} if too_long else {{"result": result}}
print(json.dumps(answer))
"""


def _too_long(node: ast.AST) -> Unknown:
    return Unknown(node, f"longer than {MAX_VALUE_CHARACTERS:,}: not evaluated")


def _name(node: ast.AST) -> str:
    """The dotted name a call or attribute is written with: os.environ.get, DataSyncOperator, ..."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def _last(node: ast.AST) -> str:
    """The last part of the dotted name a call or attribute is written with: DataSyncOperator, partial, TaskGroup."""
    return _name(node).split(".")[-1]


def _is_dag(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _last(node.func) == "DAG"


def _partial(node: ast.AST) -> bool:
    """Whether `node` is `DataSyncOperator.partial(...)`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "partial"
        and _last(node.func.value) in OPERATORS
    )


def _names_in(target: ast.AST) -> list[str]:
    return [node.id for node in ast.walk(target) if isinstance(node, ast.Name)]


def _place_notes(execution_input: dict[str, Any], line: int) -> list[str]:
    """What a deployment needs for the input's aws_conn_id and region_name (both carried as they are)."""
    notes = []
    conn_id, region = execution_input.get("aws_conn_id"), execution_input.get("region_name")
    if isinstance(conn_id, str) and conn_id != DEFAULT_CONNECTION:
        notes.append(
            f"line {line}: aws_conn_id {conn_id!r} needs an entry in the deployment's connections (cdk.json's "
            f'datasync_workflow.connections, {{"{conn_id}": "<the role ARN to assume in its account>"}}; locally '
            "CONNECTIONS), or the run is refused"
        )
    if isinstance(region, str):
        notes.append(
            f"line {line}: region_name {region!r} must be the stack's region or in its regions setting (locally "
            "REGIONS), or the run is refused"
        )
    return notes


def _left_out(key: Any) -> str:
    """Why the Airflow argument `key` is not carried: `pool is Airflow's, not this workflow's: left out (...)`."""
    because = LEFT_OUT_BECAUSE.get(key) if isinstance(key, str) else None
    return f"{str(key)[:60]} is Airflow's, not this workflow's: left out" + (f" ({because})" if because else "")


def _seconds(key: Any, value: Any) -> Any:
    """A timedelta as seconds; a duration of whole seconds as an integer."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if key in DURATION_KEYS and isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


_UNBOUND = object()  # a name bound to nothing before a function's parameter hid it


def read_dag(path: str) -> str:
    """The text of the DAG file at `path`: a regular file of at most MAX_FILE_BYTES (a FIFO would block, a device
    such as /dev/zero never end)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO with no writer blocks without it
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError("not a regular file")
        with open(descriptor, "rb", closefd=False) as file:
            data = file.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(descriptor)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES:,} bytes")
    return data.decode("utf-8")


def converter_of(source: str, environ: dict[str, str] | None = None) -> Converter:
    """The converter that has read the DAG file's `source`, in `environ` (default: this process's environment)."""
    tree = ast.parse(source)
    nodes: list[tuple[ast.AST, int]] = [(tree, 0)]
    while nodes:
        node, depth = nodes.pop()
        if depth > MAX_DEPTH:
            raise Unconvertible(f"line {getattr(node, 'lineno', '?')} nests deeper than {MAX_DEPTH}")
        nodes += [(child, depth + 1) for child in ast.iter_child_nodes(node)]
    converter = Converter(dict(os.environ) if environ is None else environ)
    converter.visit(tree)
    converter.finish()
    return converter


def convert(source: str, environ: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Each operator call of the DAG file's `source`: its DAG, line, execution input, schedule entry (when the DAG
    has a schedule) and notes (what was left out, and why)."""
    return converter_of(source, environ).converted


def convert_file(
    path: str, index: int | None = None, task_id: str | None = None, out: str | None = None, force: bool = False
) -> int:
    """`datasync-workflow from-airflow`: the conversion of the DAG file at `path` as JSON on stdout (every call's,
    as an array with its notes; or one input alone, the `index`-th or that of `task_id`, as the JSON object validate
    and run take; or each input written to a file of the directory `out`, and their names printed), its notes and
    the environment variables it read on stderr. 0 when each input printed or written is valid, 1 when one is not
    (each named, with why) or the file holds no operator call, 2 when it cannot be read or the choice is wrong."""
    try:
        converter = converter_of(read_dag(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError, Unconvertible) as error:
        reason = str(error) or "too large or too deeply nested to parse"  # a MemoryError says nothing
        print(f"datasync-workflow: error: cannot read the DAG {path}: {reason}", file=sys.stderr)
        return 2
    converted = converter.converted
    chosen = list(range(len(converted)))
    if converted and (index is not None or task_id is not None):
        found = _chosen(converted, index, task_id)
        if isinstance(found, str):
            print(f"datasync-workflow: error: {found}", file=sys.stderr)
            _say(path, _listing(converted))
            return 2
        chosen = [found]
    for note in converter.dag_notes(chosen):
        _say(path, note)
    for number in chosen:
        for note in converted[number]["notes"]:
            _say(path, note)
    if converter.environment_read:
        read = [f"{name}{'' if set_ else ' (not set)'}" for name, set_ in converter.environment_read.items()]
        _say(path, f"read from this environment: {', '.join(read)}")
    if converter.credentials_refused:
        refused = ", ".join(sorted(converter.credentials_refused))
        _say(path, f"not read from this environment, as named like credentials: {refused}")
    if not converted:
        if out is None:
            print("[]")
        _say(path, f"no {' or '.join(OPERATORS)} call")
        return 1
    if out is not None:
        status = write_inputs(converter, Path(out), force)
        if status:
            return status
    elif index is not None or task_id is not None:
        print(json.dumps(converted[chosen[0]]["input"], indent=2, default=str))
    else:
        print(json.dumps(converted, indent=2, default=str))
        _say(
            path,
            f"{len(converted)} input{'s' if len(converted) > 1 else ''} in the array above; validate and run take one "
            "(a JSON object): --index N or --task-id ID prints it alone, --out DIR writes each to "
            "DIR/<dag_id>.<task_id>.json",
        )
        _say(path, _listing(converted))
    invalid = [number for number in chosen if converter.problems[number]]
    for number in invalid:
        problems = converter.problems[number]
        more = f" (and {len(problems) - 1} more, in its notes)" if len(problems) > 1 else ""
        _say(path, f"{_label(converted, number)} is not valid, validate and run refuse it: {problems[0]}{more}")
    return 1 if invalid else 0


def _chosen(converted: list[dict[str, Any]], index: int | None, task_id: str | None) -> int | str:
    """The index of the input --index or --task-id names, or why there is none."""
    if index is not None:
        if 0 <= index < len(converted):
            return index
        return f"--index {index}: the DAG file gives {len(converted)} inputs, numbered from 0 to {len(converted) - 1}"
    found = [
        number
        for number, call in enumerate(converted)
        if task_id in (_task_id(call), f"{call['dag_id']}.{_task_id(call)}")
    ]
    if len(found) == 1:
        return found[0]
    if found:
        return (
            f"--task-id {_printable(str(task_id))[:250]}: {len(found)} inputs have it: give --index, or DAG_ID.TASK_ID"
        )
    return f"--task-id {_printable(str(task_id))[:250]}: no input has it"


def _task_id(call: dict[str, Any]) -> Any:
    execution_input = call["input"]
    return (execution_input["defaults"] if "transfers" in execution_input else execution_input).get("task_id")


def _label(converted: list[dict[str, Any]], number: int) -> str:
    """`[1] nightly.copy (line 30)`: how a note names an input."""
    call = converted[number]
    task_id = _task_id(call)
    name = ".".join(str(part)[:100] for part in (call["dag_id"], task_id) if part is not None) or "no task_id"
    return f"[{number}] {name} (line {call['line']})"


def _listing(converted: list[dict[str, Any]], shown: int = 20) -> str:
    labels = [_label(converted, number) for number in range(min(len(converted), shown))]
    more = f", and {len(converted) - shown:,} more" if len(converted) > shown else ""
    return f"the inputs: {', '.join(labels)}{more}"


def _say(path: str, text: str) -> None:
    """A line on stderr about the DAG file at `path`: what came from the file printed, never run by the terminal."""
    print(f"{path}: {_printable(text)}", file=sys.stderr)


def _printable(text: str) -> str:
    """`text` with its control characters (an escape sequence a file may hold, a new line) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# A file name's part: what is not a letter, digit, `_`, `.` or `-` becomes `-`, at most this long.
FILE_PART_CHARACTERS = 100
SCHEDULES_FILE = "schedules.json"


def file_names(converted: list[dict[str, Any]]) -> list[str]:
    """The file of each input in --out's directory: `<dag_id>.<task_id>.json`, the DAG file's names made safe (no
    `/`, no leading dot, nothing but letters, digits, `_`, `.` and `-`), each name once (a second one gets its line)."""
    names: list[str] = []
    for call in converted:
        line = f"line-{call['line']}"
        stem = f"{_file_part(call['dag_id'], 'dag')}.{_file_part(_task_id(call), line)}"
        name = f"{stem}.json"
        if name in names or name == SCHEDULES_FILE:
            name = f"{stem}.line-{call['line']}.json"
        counter = 2
        while name in names:
            name, counter = f"{stem}.line-{call['line']}.{counter}.json", counter + 1
        names.append(name)
    return names


def _file_part(value: Any, default: str) -> str:
    if not isinstance(value, str):
        return default
    return re.sub(r"[^0-9A-Za-z_.-]+", "-", value)[:FILE_PART_CHARACTERS].strip(".-") or default


def write_inputs(converter: Converter, directory: Path, force: bool) -> int:
    """Write each input to its file in `directory` (and the schedule entries, for cdk.json's `schedules`, to
    schedules.json), print the files' paths; nothing is written when a file is there already, unless `force`
    (then it is replaced, a link among them, never followed). 0, or 2 when it cannot write."""
    converted = converter.converted
    files = {directory / name: call["input"] for name, call in zip(file_names(converted), converted, strict=True)}
    schedules = [call["schedule"] for call in converted if "schedule" in call]
    if schedules:
        files[directory / SCHEDULES_FILE] = schedules
    try:
        directory.mkdir(parents=True, exist_ok=True)
        inside = directory.resolve()
        for target in files:
            if target.parent.resolve() != inside or target.name.startswith("."):
                raise OSError(f"{target} is not a file of {directory}")  # what file_names makes never is
        there = [str(target) for target in files if os.path.lexists(target)]
        if there and not force:
            shown = ", ".join(there[:5]) + (f" and {len(there) - 5} more" if len(there) > 5 else "")
            print(
                f"datasync-workflow: error: {shown} exist{'s' if len(there) == 1 else ''}: nothing written "
                "(--force replaces them)",
                file=sys.stderr,
            )
            return 2
        for target, content in files.items():
            _write(target, json.dumps(content, indent=2, default=str) + "\n", force)
            print(target)
    except OSError as error:
        print(f"datasync-workflow: error: cannot write to {directory}: {error}", file=sys.stderr)
        return 2
    return 0


def _write(target: Path, text: str, replace: bool) -> None:
    """Write `text` to a new file `target`; or, to `replace` whatever is there, to a new file beside it renamed over
    it (a link at `target` is replaced, not followed)."""
    written = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp") if replace else target
    descriptor = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    try:
        with open(descriptor, "w", encoding="utf-8", closefd=False) as file:
            file.write(text)
    finally:
        os.close(descriptor)
    if replace:
        try:
            os.replace(written, target)
        except OSError:
            os.unlink(written)
            raise
