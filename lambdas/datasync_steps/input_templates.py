"""Where an execution input holds Airflow templates ({{ ... }}), the run's dates they render from, and the input with
them rendered. Every check of an input looks for them; only an input that holds one renders it, with templates.py
(the allow-list and Jinja2's sandbox), imported then: most inputs hold none, and every step's cold start would pay for
it."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from datasync_steps.errors import shown

TEMPLATE_MARKS = ("{{", "{%", "{#")
# In one input: the characters of the strings that hold templates (one such filter), and the {{ expressions }} in
# them. Each step that reads the input renders them again.
MAX_TEMPLATE_CHARACTERS = 102_400
MAX_EXPRESSIONS = 100


@dataclass(frozen=True)
class RunDates:
    """The run's logical date and data interval, and its id: what templates render from."""

    logical_date: datetime
    data_interval_start: datetime
    data_interval_end: datetime
    run_id: str


def is_template(value: Any) -> bool:
    return isinstance(value, str) and any(mark in value for mark in TEMPLATE_MARKS)


def rendered_input(raw: dict, dates: RunDates, fields: tuple[str, ...], skip: frozenset) -> tuple[dict, dict, list]:
    """The input with every template in `fields` rendered (recursing into objects and lists), the rendered values by
    where they are, and the problems, one sentence each naming where. Values at a path in `skip` (secrets) are never
    rendered or shown. At most MAX_TEMPLATE_CHARACTERS and MAX_EXPRESSIONS are rendered."""
    found = [
        (where, template)
        for field in fields
        if field in raw
        for where, template in _templates(raw[field], field, (), skip)
    ]
    characters = sum(len(template) for _, template in found)
    if characters > MAX_TEMPLATE_CHARACTERS:
        return raw, {}, [f"the input's templates hold {characters:,} characters; at most {MAX_TEMPLATE_CHARACTERS:,}"]
    rendered: dict[str, str] = {}
    problems: list[str] = []
    if found:
        from datasync_steps.templates import render_template, template_expressions

        expressions = sum(template_expressions(template) for _, template in found)
        if expressions > MAX_EXPRESSIONS:
            return raw, {}, [f"the input holds {expressions:,} expressions in templates; at most {MAX_EXPRESSIONS}"]
        for where, template in found:
            try:
                rendered[where] = render_template(template, dates)
            except ValueError as error:
                problems.append(f"{where}: the template {shown(template)} {error}")
    result = {**raw, **{field: _replaced(raw[field], field, rendered) for field in fields if field in raw}}
    return result, rendered, problems


def _templates(value: Any, where: str, path: tuple[str, ...], skip: frozenset) -> Iterator[tuple[str, str]]:
    """(where, template) for each template in `value`."""
    if isinstance(value, dict):
        for key, member in value.items():
            yield from _templates(member, f"{where}.{key}", (*path, str(key)), skip)
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from _templates(member, f"{where}[{index}]", path, skip)
    elif is_template(value) and path not in skip:
        yield where, value


def _replaced(value: Any, where: str, rendered: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _replaced(member, f"{where}.{key}", rendered) for key, member in value.items()}
    if isinstance(value, list):
        return [_replaced(member, f"{where}[{index}]", rendered) for index, member in enumerate(value)]
    return rendered.get(where, value)
