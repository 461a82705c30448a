"""Airflow's templated fields: task_arn, the URIs and every kwargs value may hold {{ ... }} expressions of the run's
logical date and data interval, rendered by Jinja2's sandbox as Airflow renders them.

Only an allow-list of expressions is rendered: the variables below, Airflow's date filters, `macros.ds_add` and
`macros.ds_format`, a date's strftime and isoformat, and constants. Jinja2's sandbox keeps a template from reaching
Python's internals, but not from spending memory or time (a loop, `'x' * 10**9`, `ds.center(10**9)`), and
anyone who may start an execution writes these templates: any statement ({% ... %}), operator or other name is
refused before anything renders. A strftime format is a constant without glibc's flags and widths (%_30000Y pads to
30,000 characters, and a format rendered by another strftime multiplies that), and the rendering stops as soon as
its output is longer than any value it could fill.
"""

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from datasync_steps.errors import shown
from datasync_steps.input_templates import RunDates
from datasync_steps.input_templates import is_template as is_template  # the stack's config checks with it

if TYPE_CHECKING:
    from jinja2 import Template, nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

# The dates a template may use the methods and attributes of.
DATES = ("logical_date", "data_interval_start", "data_interval_end")
DATE_METHODS = frozenset({"strftime", "isoformat"})
DATE_ATTRIBUTES = frozenset({"year", "month", "day", "hour", "minute", "second"})
MACROS = frozenset({"ds_add", "ds_format"})
# The arguments of each call that are strftime formats.
FORMAT_ARGUMENTS = {"strftime": (0,), "ds_format": (1, 2)}
# Characters, and %-directives of a letter (or %%): no flag, no width.
FORMAT = re.compile(r"(?:[^%]|%[A-Za-z%])*")
MAX_CONSTANT_CHARACTERS = 100
# The most characters a template's string may render to: the longest DataSync filter.
MAX_RENDERED_CHARACTERS = 102_400
# Parsed templates and renderings kept, for a batch whose items share the defaults' templates: more than an input's
# MAX_EXPRESSIONS, and about 45 MB when each is as long as an input's templates may be.
CACHED_TEMPLATES = 128


class RunDate(datetime):
    """A date as Airflow's templates print it (pendulum's ISO 8601, with a T), not Python's str()."""

    def __str__(self) -> str:
        return self.isoformat()


def _ds(date: datetime) -> str:
    return date.strftime("%Y-%m-%d")


def _ds_nodash(date: datetime) -> str:
    return date.strftime("%Y%m%d")


def _ts(date: datetime) -> str:
    return date.isoformat()


def _ts_nodash(date: datetime) -> str:
    return date.strftime("%Y%m%dT%H%M%S")


def _ts_nodash_with_tz(date: datetime) -> str:
    return date.isoformat().replace("-", "").replace(":", "")


# Airflow's filters (airflow.templates.FILTERS): each gives what the variable of its name gives for the logical date.
FILTERS = {
    "ds": _ds,
    "ds_nodash": _ds_nodash,
    "ts": _ts,
    "ts_nodash": _ts_nodash,
    "ts_nodash_with_tz": _ts_nodash_with_tz,
}


class Macros:
    """Airflow's macros.ds_add and macros.ds_format (airflow.macros)."""

    @staticmethod
    def ds_add(ds: str, days: int) -> str:
        return (datetime.strptime(ds, "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")

    @staticmethod
    def ds_format(ds: str, input_format: str, output_format: str) -> str:
        return datetime.strptime(ds, input_format).strftime(output_format)


def template_variables(dates: RunDates) -> dict[str, Any]:
    """What a template may name, for the run of `dates`."""
    moments = {
        name: RunDate.fromisoformat(getattr(dates, name).astimezone(UTC).isoformat())
        for name in ("logical_date", "data_interval_start", "data_interval_end")
    }
    return {
        **moments,
        **{name: render(moments["logical_date"]) for name, render in FILTERS.items()},
        "run_id": dates.run_id,
        "macros": Macros(),
    }


VARIABLES = (*FILTERS, "logical_date", "data_interval_start", "data_interval_end", "run_id")


@cache
def _sandbox() -> "ImmutableSandboxedEnvironment":
    # Imported at the first template: most inputs have none, and every step's cold start would pay for Jinja2.
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    environment.globals.clear()  # no range(), lipsum(), dict(), cycler(), joiner() or namespace()
    environment.filters = dict(FILTERS)
    return environment


def render_template(template: str, dates: RunDates) -> str:
    """`template` rendered for the run; ValueError naming the expression it cannot render."""
    checked = _checked_template(template)
    if checked.problem:
        raise ValueError(checked.problem)
    # A template without run_id renders the same for every run of these dates: a batch's items share it.
    rendered, problem = _rendered(template, dates if checked.uses_run_id else dataclasses.replace(dates, run_id=""))
    if problem:
        raise ValueError(problem)
    return rendered


@dataclass(frozen=True)
class _CheckedTemplate:
    compiled: "Template | None"  # None: refused, for `problem`
    expressions: int
    uses_run_id: bool
    problem: str | None


@lru_cache(maxsize=CACHED_TEMPLATES)
def _checked_template(template: str) -> _CheckedTemplate:
    """The template parsed, each of its expressions checked against the allow-list, and compiled."""
    from jinja2 import nodes

    try:
        parsed = _sandbox().parse(template)
    except Exception as error:  # a syntax error, or nesting deeper than Python's stack
        return _CheckedTemplate(None, 0, False, f"is not a template Airflow could render: {_said(error)}")
    expressions = [
        part
        for node in parsed.body
        for part in (node.nodes if isinstance(node, nodes.Output) else [node])
        if not isinstance(part, nodes.TemplateData)
    ]
    problem = next(filter(None, map(_refused, expressions)), None)
    uses_run_id = any(name.name == "run_id" for name in parsed.find_all(nodes.Name))
    if problem:
        return _CheckedTemplate(None, len(expressions), uses_run_id, problem)
    try:
        compiled = _sandbox().from_string(parsed)
    except Exception as error:  # nesting too deep for the compiler
        return _CheckedTemplate(None, len(expressions), uses_run_id, f"could not be rendered: {_said(error)}")
    return _CheckedTemplate(compiled, len(expressions), uses_run_id, None)


def template_expressions(template: str) -> int:
    """How many expressions the template holds (whether or not they may be rendered)."""
    return _checked_template(template).expressions


@lru_cache(maxsize=CACHED_TEMPLATES)
def _rendered(template: str, dates: RunDates) -> tuple[str, str | None]:
    """The checked template rendered, or why it could not be, stopping as soon as its output is too long."""
    compiled = _checked_template(template).compiled
    assert compiled is not None  # render_template renders only what passed the checks
    parts, length = [], 0
    try:
        for part in compiled.generate(template_variables(dates)):
            length += len(part)
            if length > MAX_RENDERED_CHARACTERS:
                return "", f"renders to more than {MAX_RENDERED_CHARACTERS:,} characters"
            parts.append(part)
    except Exception as error:  # a filter given what it cannot format, a date out of range, ...
        return "", f"could not be rendered: {_said(error)}"
    return "".join(parts), None


def _said(error: Exception) -> str:
    return shown(str(error) or type(error).__name__, 200).strip("'\"")


def _refused(node: "nodes.Node", called: bool = False) -> str | None:
    """Why the expression `node` may not be rendered here (`called`: as the function of a call), or None."""
    from jinja2 import nodes

    if isinstance(node, nodes.Const):
        if isinstance(node.value, str) and len(node.value) > MAX_CONSTANT_CHARACTERS:
            return f"a string in a template has at most {MAX_CONSTANT_CHARACTERS} characters"
        return None if isinstance(node.value, str | int | float | bool) else f"{node.value!r} is not allowed"
    if isinstance(node, nodes.Neg) and isinstance(node.node, nodes.Const):
        return _refused(node.node)
    if isinstance(node, nodes.Name):
        if node.name in VARIABLES:
            return None
        return f"{{{{ {node.name} }}}}: not a variable this workflow renders (it has {', '.join(VARIABLES)} and macros)"
    if isinstance(node, nodes.Filter):
        if node.name not in FILTERS or node.node is None:
            return (
                f"the filter {node.name} is not supported: the filters are {', '.join(FILTERS)} and take no arguments"
            )
        if node.args or node.kwargs:
            return f"the filter {node.name} takes no arguments"
        if not (isinstance(node.node, nodes.Name) and node.node.name in DATES):
            return f"the filter {node.name}: only of {', '.join(DATES)}"
        return None
    if isinstance(node, nodes.Getattr):
        return _member_refused(node, called)
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
        refused = _refused(node.node, called=True)
        if refused is None and (node.kwargs or node.dyn_args or node.dyn_kwargs):
            refused = f"{node.node.attr}(): give its arguments in order, without names"
        refused = refused or next(filter(None, map(_refused, node.args)), None)
        return refused or _format_refused(node.node.attr, node.args)
    if isinstance(node, nodes.Stmt):
        return f"the statement {type(node).__name__.lower()}: only {{{{ expressions }}}} are rendered here"
    return f"{type(node).__name__.lower()} expressions: only variables, filters, macros and a date's strftime"


def _format_refused(name: str, args: list["nodes.Expr"]) -> str | None:
    """Why a strftime format among the arguments of the call `name` may not be rendered, or None: one that is not a
    constant could be another call's output, and glibc's flags and widths pad without bound."""
    from jinja2 import nodes

    for position in FORMAT_ARGUMENTS.get(name, ()):
        given = args[position] if position < len(args) else None
        if not (isinstance(given, nodes.Const) and isinstance(given.value, str) and FORMAT.fullmatch(given.value)):
            return (
                f"{name}(): a format is a string constant whose directives are a % and a letter (%Y, %m, %d, ...), "
                "without flags or widths"
            )
    return None


def _member_refused(node: "nodes.Getattr", called: bool) -> str | None:
    """Only macros.ds_add(...) and macros.ds_format(...), a date's strftime(...) and isoformat(), and its year,
    month, day, hour, minute and second: one attribute of a name, a method only called."""
    from jinja2 import nodes

    owner, one_attribute = node.node, f".{node.attr}: one attribute at most, of a date or of macros"
    if not isinstance(owner, nodes.Name):
        # What is wrong inside comes first: {{ var.value.x }} is about var.
        return _refused(owner, called=True) or one_attribute
    if owner.name == "macros":
        if node.attr not in MACROS:
            return f"macros.{node.attr}: only macros.ds_add and macros.ds_format"
        return None if called else f"macros.{node.attr}: call it"
    if owner.name not in DATES:
        return _refused(owner) or f"{owner.name}.{node.attr}: only {', '.join(DATES)} have attributes here"
    if node.attr in DATE_METHODS:
        return None if called else f"{owner.name}.{node.attr}: call it"
    if node.attr in DATE_ATTRIBUTES and not called:
        return None
    members = ", ".join(sorted(DATE_ATTRIBUTES | {f"{m}()" for m in DATE_METHODS}))
    return f".{node.attr}: only {members} of {', '.join(DATES)}"
