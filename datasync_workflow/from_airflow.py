"""`datasync-workflow from-airflow DAG.py`: each DataSyncOperator call of a DAG file as an execution input, read with
Python's `ast` (the file is never run). What literals decide is evaluated: constants, f-strings and `%` and
`.format`, `getenv` / `os.environ.get` (the current environment, else the default), `json.loads`, `re.sub`,
`timedelta`, `default_args`; what only a running Airflow knows (XCom, a task's output, Variables, connections) is
reported with its line and left out.

The file may come from anyone, so the converter takes nothing of the user's and nothing unbounded from it: an
environment variable whose name looks like a credential's is never read, only a regular file of at most
MAX_FILE_BYTES is read, each value it builds is bounded and all of them together, and its regular expressions run
in a child process with a time limit."""

import ast
import json
import os
import re
import reprlib
import stat
import string
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from datasync_steps.timetable import from_airflow
from datasync_steps.workflow_input import WorkflowInput, input_problems

OPERATORS = ("DataSyncOperator", "AWSDataSyncOperator")
INPUT_KEYS = frozenset(WorkflowInput.model_fields)
DURATION_KEYS = ("execution_timeout", "retry_delay", "max_retry_delay")
ENVIRONMENT_CALLS = ("getenv", "os.getenv", "os.environ.get", "environ.get")
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


class Converter(ast.NodeVisitor):
    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ
        self.names: dict[str, Any] = {}
        self.dags: list[dict[str, Any]] = []  # the DAGs around the node visited: id, schedule, default_args
        self.converted: list[dict[str, Any]] = []
        self.environment_read: dict[str, bool] = {}  # each variable read from the environment: whether it was set
        self.credentials_refused: set[str] = set()  # the variables not read, as their names look like credentials'
        self.characters = 0  # built, measured and printed so far
        self.regular_expression_deadline: float | None = None

    def visit_Assign(self, node: ast.Assign) -> None:
        value = self.value_or_unknown(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.names[target.id] = value
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
        default_args = settings["default_args"] if isinstance(settings["default_args"], dict) else {}
        settings["default_args"] = {k: self.known(v, call) for k, v in default_args.items() if k in INPUT_KEYS}
        settings["schedule"] = self.schedule(settings["schedule"], call.lineno, settings["notes"])
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
                given[keyword.arg] = self.known(self.value_or_unknown(keyword.value), keyword.value)
        execution_input = {}
        for key, value in {**dag["default_args"], **given}.items():
            if isinstance(value, Unknown):
                notes.append(f"{value}: {key} is left out")
            else:
                execution_input[key] = value.total_seconds() if isinstance(value, timedelta) else value
        for key in DURATION_KEYS:
            if isinstance(execution_input.get(key), float) and execution_input[key].is_integer():
                execution_input[key] = int(execution_input[key])
        converted: dict[str, Any] = {"dag_id": dag["dag_id"], "line": call.lineno, "input": execution_input}
        if dag["schedule"]:
            name = f"{dag['dag_id']}.{execution_input.get('task_id', call.lineno)}"
            self.charge(len(name))
            converted["schedule"] = {
                "name": re.sub(r"[^0-9a-zA-Z-_.]", "-", name[:64]),
                "expression": dag["schedule"],
                "input": execution_input,
            }
        notes += [f"line {call.lineno}: validate says: {problem}" for problem in input_problems(execution_input)]
        converted["notes"] = notes
        self.charge(len(json.dumps(converted, default=str)))
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
                why = str(error)[:100]  # the error repeats the schedule, which may be long
                notes.append(f"line {line}: the DAG's schedule {reprlib.repr(schedule)}: {why}; no schedule entry")
                return None
        notes.append(
            f"line {line}: the DAG's schedule {reprlib.repr(schedule)} has no EventBridge expression; no schedule entry"
        )
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
        if isinstance(node, ast.Dict) and None not in node.keys:
            # A value Airflow alone knows (default_args' start_date, say) spoils only its own key.
            pairs = zip(node.keys, node.values, strict=True)
            return self.modest(node, {self.evaluate(k): self.value_or_unknown(v) for k, v in pairs})  # type: ignore[arg-type]
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

    def call(self, node: ast.Call) -> Any:
        name = _name(node.func)
        if any(keyword.arg is None for keyword in node.keywords):
            raise Unknown(node, "a call with **: not evaluated")
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


def _is_dag(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _name(node.func).split(".")[-1] == "DAG"


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
    return converter


def convert(source: str, environ: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Each operator call of the DAG file's `source`: its DAG, line, execution input, schedule entry (when the DAG
    has a schedule) and notes (what was left out, and why)."""
    return converter_of(source, environ).converted


def convert_file(path: str) -> int:
    """Print the conversion of the DAG file at `path` as JSON on stdout, its notes and the environment variables it
    read on stderr; 1 when the file holds no operator call, 2 when it cannot be read."""
    try:
        converter = converter_of(read_dag(path))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError, Unconvertible) as error:
        reason = str(error) or "too large or too deeply nested to parse"  # a MemoryError says nothing
        print(f"datasync-workflow: error: cannot read the DAG {path}: {reason}", file=sys.stderr)
        return 2
    converted = converter.converted
    for call in converted:
        for note in call["notes"]:
            print(f"{path}: {note}", file=sys.stderr)
    if converter.environment_read:
        read = [f"{name}{'' if set_ else ' (not set)'}" for name, set_ in converter.environment_read.items()]
        print(f"{path}: read from this environment: {', '.join(read)}", file=sys.stderr)
    if converter.credentials_refused:
        refused = ", ".join(sorted(converter.credentials_refused))
        print(f"{path}: not read from this environment, as named like credentials: {refused}", file=sys.stderr)
    print(json.dumps(converted, indent=2, default=str))
    if not converted:
        print(f"{path}: no {' or '.join(OPERATORS)} call", file=sys.stderr)
    return 0 if converted else 1
