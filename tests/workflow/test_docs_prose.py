"""The documentation reads in short pieces: no paragraph of README.md or docs/ is over 150 words, and no diagram
over 30 boxes (README's overview, at most 15)."""

import re
from pathlib import Path

import pytest

MOST_WORDS = 150
MOST_BOXES = 30
MOST_OVERVIEW_BOXES = 15
ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
ADMONITION = re.compile(r"^\s*(?:!!!|\?\?\?\+?)\s")


def paragraphs(text: str) -> list[tuple[int, str]]:
    """(first line's number, text) of each paragraph: a run of prose lines between blank lines, outside fenced code
    and tables; a list item, and an admonition's body, each begins one of its own (a heading, an HTML comment and an
    admonition's title line are not prose)."""
    found: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    fence = ""

    def close() -> None:
        if current:
            found.append((start, " ".join(current)))
            current.clear()

    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            continue
        opened = FENCE.match(line)
        if opened:
            close()
            fence = opened.group(1)
            continue
        if not stripped or stripped.startswith(("|", "#", "<!--")) or ADMONITION.match(line):
            close()
            continue
        item = LIST_ITEM.match(line)
        if item:
            close()
            stripped = line[item.end() :].strip()
        if not current:
            start = number
        current.append(stripped)
    close()
    return found


def words(paragraph: str) -> int:
    return len(paragraph.split())


def mermaid_diagrams(text: str) -> list[str]:
    return re.findall(r"^\s*```mermaid\n(.*?)^\s*```", text, re.MULTILINE | re.DOTALL)


def boxes(diagram: str) -> set[str]:
    """The nodes a Mermaid flowchart draws: each id given a shape (`a["text"]`, `b{"text"}`, `c(( ))`, `d>"text"]`)
    or named in an edge."""
    chart = diagram.split("\nflowchart", 1)[1] if "\nflowchart" in diagram else diagram
    nodes = set()
    for line in chart.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith(("classDef", "class ", "style ", "linkStyle", "%%", "subgraph", "end")):
            continue
        line = re.sub(r'"[^"]*"', "", line)  # a label's text is not a node
        line = re.sub(r"\|[^|]*\|", "", line)  # nor an edge's
        nodes |= set(re.findall(r"(?:^|[\s&>-])([A-Za-z_][\w]*)(?=[\s\[({>:&-]|$)", line))
    return nodes - {"flowchart", "TD", "LR", "TB", "BT", "RL"}


def page_name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", PAGES, ids=page_name)
def test_no_paragraph_is_over_150_words(path):
    long = [(line, words(text)) for line, text in paragraphs(path.read_text()) if words(text) > MOST_WORDS]
    assert long == [], f"{page_name(path)}: paragraphs (line, words) over {MOST_WORDS} words"


def test_the_paragraph_counter_counts_prose_only():
    text = (
        "One two\nthree.\n\n- four five\n  six\n- seven\n\n```\nnot prose here\n```\n\n| a | b |\n|---|---|\n\n"
        '!!! note "Title words"\n    eight nine\n\n    ten\n\n# Heading words\n<!-- generated: x -->\neleven\n'
    )
    assert [words(p) for _, p in paragraphs(text)] == [3, 3, 1, 2, 1, 1]


@pytest.mark.parametrize("path", PAGES, ids=page_name)
def test_every_diagram_is_at_most_30_boxes(path):
    diagrams = mermaid_diagrams(path.read_text())
    for diagram in diagrams:
        assert 0 < len(boxes(diagram)) <= MOST_BOXES, (page_name(path), sorted(boxes(diagram)))


def test_the_readme_opens_with_an_overview_of_at_most_15_boxes():
    readme = (ROOT / "README.md").read_text()
    diagrams = mermaid_diagrams(readme)
    assert diagrams, "README.md has no overview diagram"
    assert readme.index("```mermaid") > readme.index("make test")
    assert 8 <= len(boxes(diagrams[0])) <= MOST_OVERVIEW_BOXES, sorted(boxes(diagrams[0]))


def test_the_box_counter_counts_each_node_once():
    chart = (
        'flowchart TD\n    start(( )) --> s0\n    s0["A -- b"]\n    s1{"c?"}\n    s0 -->|"x y"| s1\n    s1 -.-> s2\n'
    )
    assert boxes(chart) == {"start", "s0", "s1", "s2"}
