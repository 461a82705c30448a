"""`datasync-workflow from-airflow DAG.py`: each DataSyncOperator call of a DAG file as an execution input, read with
Python's `ast` (the file is never run). What literals decide is evaluated: constants, f-strings and `%` and
`.format`, `getenv` / `os.environ.get` (the current environment, else the default), `json.loads`, `re.sub`,
`timedelta`, `default_args`; what only a running Airflow knows (XCom, a task's output, Variables, connections) is
reported with its line and left out."""

import ast
import json
import os
import re
import string
import sys
from datetime import timedelta
from typing import Any

from datasync_steps.timetable import from_airflow
from datasync_steps.workflow_input import WorkflowInput, input_problems

OPERATORS = ("DataSyncOperator", "AWSDataSyncOperator")
INPUT_KEYS = frozenset(WorkflowInput.model_fields)
DURATION_KEYS = ("execution_timeout", "retry_delay", "max_retry_delay")
ENVIRONMENT_CALLS = ("getenv", "os.getenv", "os.environ.get", "environ.get")


class Unknown(Exception):
    """A value the DAG file's literals do not decide."""

    def __init__(self, node: ast.AST, why: str = "known only when Airflow runs the DAG") -> None:
        super().__init__(f"line {getattr(node, 'lineno', '?')}: {ast.unparse(node)[:80]} is {why}")


class Converter(ast.NodeVisitor):
    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ
        self.names: dict[str, Any] = {}
        self.dags: list[dict[str, Any]] = []  # the DAGs around the node visited: id, schedule, default_args
        self.converted: list[dict[str, Any]] = []

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                try:
                    self.names[target.id] = self.evaluate(node.value)
                except Unknown as unknown:
                    self.names[target.id] = unknown
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        dags = [item.context_expr for item in node.items if _is_dag(item.context_expr)]
        for dag in dags:
            self.dags.append(self.dag_settings(dag))  # type: ignore[arg-type]
        self.generic_visit(node)
        del self.dags[len(self.dags) - len(dags) :]

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        dags = [d for d in node.decorator_list if isinstance(d, ast.Call) and _name(d.func) in ("dag", "DAG")]
        for dag in dags:
            self.dags.append(self.dag_settings(dag, default_id=node.name))
        self.generic_visit(node)
        del self.dags[len(self.dags) - len(dags) :]

    def visit_Call(self, node: ast.Call) -> None:
        if _name(node.func).split(".")[-1] in OPERATORS:
            self.converted.append(self.operator_call(node))
        self.generic_visit(node)

    def dag_settings(self, call: ast.Call, default_id: str = "") -> dict[str, Any]:
        settings: dict[str, Any] = {"dag_id": default_id, "schedule": None, "default_args": {}, "notes": []}
        if call.args:
            settings["dag_id"] = self.value_or_note(call.args[0], settings["notes"])
        for keyword in call.keywords:
            if keyword.arg in ("dag_id", "schedule", "schedule_interval", "default_args"):
                value = self.value_or_note(keyword.value, settings["notes"])
                settings["schedule" if keyword.arg.startswith("schedule") else keyword.arg] = value
        return settings

    def operator_call(self, call: ast.Call) -> dict[str, Any]:
        dag = self.dags[-1] if self.dags else {"dag_id": None, "schedule": None, "default_args": {}, "notes": []}
        notes: list[str] = list(dag["notes"])
        given: dict[str, Any] = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                notes.append(f"line {keyword.lineno}: **{ast.unparse(keyword.value)[:60]} is not read: give each one")
            elif keyword.arg not in INPUT_KEYS:
                notes.append(f"line {keyword.lineno}: {keyword.arg} is Airflow's, not this workflow's: left out")
            else:
                given[keyword.arg] = _known(self.value_or_unknown(keyword.value))
        defaults = dag["default_args"] if isinstance(dag["default_args"], dict) else {}
        execution_input = {}
        for key, value in {**{k: _known(v) for k, v in defaults.items() if k in INPUT_KEYS}, **given}.items():
            if isinstance(value, Unknown):
                notes.append(f"{value}: {key} is left out")
            else:
                execution_input[key] = value.total_seconds() if isinstance(value, timedelta) else value
        for key in DURATION_KEYS:
            if isinstance(execution_input.get(key), float) and execution_input[key].is_integer():
                execution_input[key] = int(execution_input[key])
        converted: dict[str, Any] = {"dag_id": dag["dag_id"], "line": call.lineno, "input": execution_input}
        schedule = self.schedule(dag["schedule"], call.lineno, notes)
        if schedule:
            name = re.sub(r"[^0-9a-zA-Z-_.]", "-", f"{dag['dag_id']}.{execution_input.get('task_id', call.lineno)}")
            converted["schedule"] = {"name": name[:64], "expression": schedule, "input": execution_input}
        notes += [f"line {call.lineno}: validate says: {problem}" for problem in input_problems(execution_input)]
        converted["notes"] = notes
        return converted

    def schedule(self, schedule: Any, line: int, notes: list[str]) -> str | None:
        if schedule is None:
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
                notes.append(f"line {line}: the DAG's schedule {schedule!r}: {error}; no schedule entry")
                return None
        notes.append(f"line {line}: the DAG's schedule {schedule!r} has no EventBridge expression; no schedule entry")
        return None

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
        except Unknown:
            raise
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError, re.error) as error:
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
            return "".join(self.evaluate(part) for part in node.values)
        if isinstance(node, ast.FormattedValue):
            spec = self.evaluate(node.format_spec) if node.format_spec else ""
            _modest_format(node, spec, "spec")
            return format(self.evaluate(node.value), spec)
        if isinstance(node, ast.Dict) and None not in node.keys:
            # A value Airflow alone knows (default_args' start_date, say) spoils only its own key.
            pairs = zip(node.keys, node.values, strict=True)
            return {self.evaluate(k): self.value_or_unknown(v) for k, v in pairs}  # type: ignore[arg-type]
        if isinstance(node, ast.List | ast.Tuple):
            values = [self.evaluate(element) for element in node.elts]
            return values if isinstance(node, ast.List) else tuple(values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            left, right = self.evaluate(node.left), self.evaluate(node.right)
            if isinstance(node.op, ast.Mod):
                _modest_format(node, left, "%")
                return _modest(node, left % right)
            return _modest(node, left + right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.evaluate(node.operand)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Subscript) and _name(node.value) in ("os.environ", "environ"):
            key = self.evaluate(node.slice)
            if key in self.environ:
                return self.environ[key]
            raise Unknown(node, "not set in this environment")
        raise Unknown(node)

    def call(self, node: ast.Call) -> Any:
        name = _name(node.func)
        args = [self.evaluate(arg) for arg in node.args]
        kwargs = {k.arg: self.evaluate(k.value) for k in node.keywords if k.arg}
        if name in ENVIRONMENT_CALLS:
            key, default = (*args, None)[:2] if args else (kwargs.get("key"), kwargs.get("default"))
            return self.environ.get(key, default)
        if name == "json.loads":
            return json.loads(*args)
        if name == "re.sub":
            return _modest(node, re.sub(*args, **kwargs))
        if name in ("timedelta", "datetime.timedelta"):
            return timedelta(*args, **kwargs)
        if name == "dict":
            return dict(*args, **kwargs)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            template = self.evaluate(node.func.value)
            _modest_format(node, template)
            return _modest(node, template.format(*args, **kwargs))
        raise Unknown(node)


# A file's literals may build a value this long at most: the converter reads files it does not trust either.
MAX_VALUE_CHARACTERS = 262_144


def _modest(node: ast.AST, value: Any) -> Any:
    if isinstance(value, str | list | tuple) and len(value) > MAX_VALUE_CHARACTERS:
        raise Unknown(node, f"longer than {MAX_VALUE_CHARACTERS:,}: not evaluated")
    return value


def _modest_format(node: ast.AST, template: Any, style: str = "format") -> None:
    """A width or precision of five digits or more would make the value before it could be measured: `template` is
    a str.format template, a %-format (`style` "%") or an f-string's format spec ("spec")."""
    if not isinstance(template, str):
        return
    if style == "%":
        found = re.finditer(r"%[#0\- +]*(\d*)(?:\.(\d*))?[a-zA-Z%]", template)
        specs = [f"{m[1] or ''} {m[2] or ''}" for m in found]
    elif style == "spec":
        specs = [template]
    else:
        specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(template)]
    if any(re.search(r"\d{5,}", spec) for spec in specs):
        raise Unknown(node, "a format with a width too large to evaluate")


def _known(value: Any) -> Any:
    """`value`, or the first Unknown inside it."""
    if isinstance(value, dict):
        value = next((v for v in map(_known, value.values()) if isinstance(v, Unknown)), value)
    elif isinstance(value, list | tuple):
        value = next((v for v in map(_known, value) if isinstance(v, Unknown)), value)
    return value


def _name(node: ast.AST) -> str:
    """The dotted name a call or attribute is written with: os.environ.get, DataSyncOperator, ..."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def _is_dag(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _name(node.func).split(".")[-1] == "DAG"


def convert(source: str, environ: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Each operator call of the DAG file's `source`: its DAG, line, execution input, schedule entry (when the DAG
    has a schedule) and notes (what was left out, and why)."""
    converter = Converter(dict(os.environ) if environ is None else environ)
    converter.visit(ast.parse(source))
    return converter.converted


def convert_file(path: str) -> int:
    """Print the conversion of the DAG file at `path` as JSON on stdout, its notes on stderr; 1 when the file holds
    no operator call, 2 when it cannot be read."""
    try:
        converted = convert(open(path, encoding="utf-8").read())  # noqa: SIM115 - read whole at once
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError) as error:
        print(f"datasync-workflow: error: cannot read the DAG {path}: {error}", file=sys.stderr)
        return 2
    for call in converted:
        for note in call["notes"]:
            print(f"{path}: {note}", file=sys.stderr)
    print(json.dumps(converted, indent=2, default=str))
    if not converted:
        print(f"{path}: no {' or '.join(OPERATORS)} call", file=sys.stderr)
    return 0 if converted else 1
