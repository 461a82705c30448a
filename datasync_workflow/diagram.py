"""The state machine as a Mermaid flowchart, drawn from statemachine/datasync_workflow.asl.json, and written into
README.md between its diagram markers: `make diagram`."""

import json
import re
from pathlib import Path

from datasync_workflow.definition import definition_text

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- diagram: made by `make diagram` from the definition; do not edit -->", "<!-- diagram end -->"
COMPARISONS = {
    "Equals": "=",
    "GreaterThanEquals": "≥",
    "GreaterThan": ">",
    "LessThanEquals": "≤",
    "LessThan": "<",
    "Matches": "matches",
}


def flowchart(definition: dict) -> str:
    states = definition["States"]
    ids = {name: f"s{number}" for number, name in enumerate(states)}
    lines = ["flowchart TD", f"    start(( )) --> {ids[definition['StartAt']]}"]
    for name, state in states.items():
        lines.append(f"    {ids[name]}{_shape(state['Type'], name)}")
    for name, state in states.items():
        for choice in state.get("Choices", []):
            lines.append(f'    {ids[name]} -->|"{_escaped(_condition(choice))}"| {ids[choice["Next"]]}')
        if "Default" in state:
            lines.append(f'    {ids[name]} -->|"otherwise"| {ids[state["Default"]]}')
        if "Next" in state:
            lines.append(f"    {ids[name]} --> {ids[state['Next']]}")
        for catch in state.get("Catch", []):
            errors = ", ".join("any error" if error == "States.ALL" else error for error in catch["ErrorEquals"])
            lines.append(f'    {ids[name]} -.->|"{_escaped(errors)}"| {ids[catch["Next"]]}')
    lines.append("    classDef failed fill:#fdd,stroke:#c33")
    return "\n".join(lines) + "\n"


def _shape(state_type: str, name: str) -> str:
    label = _escaped(name)
    return {
        "Choice": f'{{"{label}"}}',
        "Succeed": f'(["{label}"])',
        "Fail": f'(["{label}"]):::failed',
        "Pass": f'(["{label}"])' if name.startswith("Report") else f'["{label}"]',
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
    if operator == "IsPresent":
        return f"{variable} present" if value else f"no {variable}"
    comparison = re.sub(r"^(String|Numeric|Timestamp|Boolean)|Path$", "", operator)
    shown = _last(value) if operator.endswith("Path") else value
    return f"{variable} {COMPARISONS.get(comparison, comparison)} {shown}"


def _last(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _escaped(text: str) -> str:
    return text.replace('"', "#quot;")


def readme_with_diagram(readme: str, chart: str) -> str:
    """`readme` with the block between the markers replaced by `chart`."""
    before, _, rest = readme.partition(START)
    _, found, after = rest.partition(END)
    if not found:
        raise ValueError(f"README.md lacks the diagram markers {START} ... {END}")
    block = f"{START}\n\n```mermaid\n{chart}```\n\n{END}"
    return before + block + after


def main() -> None:
    chart = flowchart(json.loads(definition_text()))
    README.write_text(readme_with_diagram(README.read_text(), chart))


if __name__ == "__main__":
    main()
