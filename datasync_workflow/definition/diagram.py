"""A state machine as a Mermaid flowchart, drawn from its definition; docs_tooling/reference.py puts the
workflow's and the batch's into docs/how-it-works.md, and the workflow's overview into README.md too (`make docs`)."""

import re

from datasync_workflow.definition.steps import STEPS

COMPARISONS = {
    "Equals": "=",
    "GreaterThanEquals": "≥",
    "GreaterThan": ">",
    "LessThanEquals": "≤",
    "LessThan": "<",
    "Matches": "matches",
}


# Mermaid's configuration, in the chart's front matter (which GitHub reads too): drawn at its own size, so that its
# labels are as large as the text around them (a page scrolls a chart wider than itself), not shrunk to the page.
FRONT_MATTER = "---\nconfig:\n  flowchart:\n    useMaxWidth: false\n---\n"


def flowchart(definition: dict, part: list[str] | None = None) -> str:
    """The chart of the definition's states, or of only those in `part`: a transition out of the part ends at a
    small node that names the state it goes to, drawn in the chart of that state's part."""
    states = definition["States"]
    shown = part if part is not None else list(states)
    ids = {name: f"s{number}" for number, name in enumerate(states)}
    lines = [f"{FRONT_MATTER}flowchart TD"]
    if definition["StartAt"] in shown:
        lines.append(f"    start(( )) --> {ids[definition['StartAt']]}")
    for name in shown:
        lines.append(f"    {ids[name]}{_shape(states[name]['Type'], name)}")
    elsewhere = sorted(
        {target for _, _, target in _transitions(states, shown) if target not in shown}, key=list(states).index
    )
    for name in elsewhere:
        lines.append(f'    {ids[name]}>"{_escaped(name)}"]:::elsewhere')
    for name, arrow, target in _transitions(states, shown):
        lines.append(f"    {ids[name]} {arrow} {ids[target]}")
    lines.append("    classDef failed fill:#fdd,stroke:#c33")
    if elsewhere:
        lines.append("    classDef elsewhere fill:#eee,stroke:#999,stroke-dasharray:3")
    return "\n".join(lines) + "\n"


# The overview's last box: every state that ends a run with its output.
OUTPUT = "The run's output"


def step_of(state: dict) -> str | None:
    """The name of the step whose function a Task state invokes (by its ${...FunctionArn} placeholder), if any."""
    if state["Type"] != "Task":
        return None
    resource = f"{state.get('Resource', '')} {state.get('Parameters', {}).get('FunctionName', '')}"
    return next((step.name for step in STEPS if step.placeholder and f"${{{step.placeholder}}}" in resource), None)


def overview(definition: dict, shown: list[str]) -> str:
    """The run as its user thinks of it: a box per state in `shown` (Task states, each named with its step), the
    start, and one box for the output. An arrow joins two boxes when the definition goes from one to the other
    through states not shown that invoke no step (Choices, Passes, Waits); a way that reaches any other Task (the
    retries, the cancelling, the queue, the task report) is left to the parts' charts. An arrow carries the
    condition of the last Choice on its way that decides whether it is taken, and a Catch's arrow is dashed."""
    states = definition["States"]
    steps = {name: step_of(states[name]) for name in shown}
    assert all(steps.values()), f"the overview shows states that invoke no step: {steps}"
    ids = {name: f"s{number}" for number, name in enumerate(states)}
    lines = [f"{FRONT_MATTER}flowchart TD"]
    first = _ways(states, definition["StartAt"], shown, [])
    lines += [f"    start(( )) --> {ids[target]}" for target, _ in first]
    lines += [f'    {ids[name]}["{_escaped(name)}<br>{steps[name]}"]' for name in shown]
    lines.append(f'    output(["{_escaped(OUTPUT)}"])')
    for name in shown:
        state = states[name]
        ways: list[tuple[str, str, list[str]]] = [(state["Next"], "-->", [])] if "Next" in state else []
        ways += [(catch["Next"], "-.->", [_caught(state, catch)]) for catch in state.get("Catch", [])]
        for next_state, arrow, label in ways:
            found: dict[str, list[str]] = {}
            for target, conditions in _ways(states, next_state, shown, label):
                found.setdefault(target, [])
                if conditions and conditions[-1] not in found[target]:
                    found[target].append(conditions[-1])
            for target, conditions in found.items():
                text = f'|"{_escaped(" or ".join(conditions))}"|' if conditions else ""
                lines.append(f"    {ids[name]} {arrow}{text} {ids.get(target, target)}")
    return "\n".join(lines) + "\n"


def _ways(states: dict, name: str, shown: list[str], conditions: list[str]) -> list[tuple[str, list[str]]]:
    """(box, conditions on the way) for each way from state `name` to a shown state or to the output, through
    states that invoke no step; at each Choice, its condition when not all of its branches reach that box."""
    if name in shown:
        return [(name, conditions)]
    state = states[name]
    if state["Type"] == "Task" or state["Type"] == "Fail" or state["Type"] == "Map":
        return []
    if state.get("End") or state["Type"] == "Succeed":
        return [("output", conditions)]
    if state["Type"] != "Choice":
        return _ways(states, state["Next"], shown, conditions)
    rules = state.get("Choices", [])
    branches = [(rule["Next"], _condition(rule)) for rule in rules]
    branches.append((state["Default"], _negated(rules[0]) if len(rules) == 1 else "otherwise"))
    reached = [{target for target, _ in _ways(states, next_state, shown, [])} for next_state, _ in branches]
    ways = []
    for next_state, condition in branches:
        for target, inner in _ways(states, next_state, shown, []):
            deciding = [condition] if any(target not in other for other in reached) else []
            ways.append((target, conditions + deciding + inner))
    return ways


def _caught(state: dict, catch: dict) -> str:
    """A Catch's arrow, in words: a wait with a timeout ends at it, as any error does."""
    if "TimeoutSecondsPath" in state and "States.ALL" in catch["ErrorEquals"]:
        return f"after {_last(state['TimeoutSecondsPath'])}, or an error"
    return ", ".join("any error" if error == "States.ALL" else error for error in catch["ErrorEquals"])


def _negated(rule: dict) -> str:
    """The Default of a Choice of one rule: that rule's condition, not met."""
    operator = next((key for key in rule if key not in ("Variable", "Next")), "")
    if operator == "BooleanEquals":
        return _condition({**rule, "BooleanEquals": not rule["BooleanEquals"]})
    if operator in ("IsPresent", "IsNull"):
        return _condition({**rule, operator: not rule[operator]})
    if operator.endswith("Equals") and "Than" not in operator and "Variable" in rule:
        return _condition(rule).replace(" = ", " ≠ ", 1)
    return f"not ({_condition(rule)})"


def _transitions(states: dict, shown: list[str]) -> list[tuple[str, str, str]]:
    """(state, arrow, next state) for each way out of each state shown, labelled as Mermaid draws it."""
    found = []
    for name in shown:
        state = states[name]
        for choice in state.get("Choices", []):
            found.append((name, f'-->|"{_escaped(_condition(choice))}"|', choice["Next"]))
        if "Default" in state:
            found.append((name, '-->|"otherwise"|', state["Default"]))
        if "Next" in state:
            found.append((name, "-->", state["Next"]))
        for catch in state.get("Catch", []):
            errors = ", ".join("any error" if error == "States.ALL" else error for error in catch["ErrorEquals"])
            found.append((name, f'-.->|"{_escaped(errors)}"|', catch["Next"]))
    return found


def _shape(state_type: str, name: str) -> str:
    label = _escaped(name)
    return {
        "Choice": f'{{"{label}"}}',
        "Succeed": f'(["{label}"])',
        "Fail": f'(["{label}"]):::failed',
        "Pass": f'(["{label}"])' if name.startswith("Report") else f'["{label}"]',
        "Map": f'[["{label}"]]',  # a subroutine: each item's states run inside it
    }.get(state_type, f'["{label}"]')


def _condition(rule: dict) -> str:
    """A Choice rule in words: `route = create_task`, `checks_done ≥ max_iterations`, `not wait_for_completion`."""
    if "Or" in rule or "And" in rule:
        joiner = " or " if "Or" in rule else " and "
        return joiner.join(_condition(inner) for inner in rule["Or" if "Or" in rule else "And"])
    if "Not" in rule:
        return f"not ({_condition(rule['Not'])})"
    variable = _last(rule["Variable"])
    operator = next(key for key in rule if key not in ("Variable", "Next"))
    value = rule[operator]
    if operator == "BooleanEquals":
        return variable if value else f"not {variable}"
    if operator == "IsNull":
        return f"no {variable}" if value else f"{variable} given"
    if operator == "IsPresent":
        return f"{variable} present" if value else f"no {variable}"
    comparison = re.sub(r"^(String|Numeric|Timestamp|Boolean)|Path$", "", operator)
    shown = _last(value) if operator.endswith("Path") else value
    return f"{variable} {COMPARISONS.get(comparison, comparison)} {shown}"


def _last(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _escaped(text: str) -> str:
    return text.replace('"', "#quot;")
