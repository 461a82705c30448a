"""A state machine as a Mermaid flowchart, drawn from its definition; docs_tooling/reference.py puts the
workflow's and the batch's into docs/how-it-works.md (`make docs`)."""

import re

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
