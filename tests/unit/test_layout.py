"""The house's floors: each package imports only from the floors below it, so that a step's code never pulls in the
local emulation or the command line, and the runtime package never the repository's CDK app or the docs tooling."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("datasync_steps", "datasync_workflow", "infra", "docs_tooling", "scripts", "tests")
# Each part of the tree, and the parts it may import from (besides itself and third-party packages).
MAY_IMPORT = {
    "lambdas/datasync_steps": (),
    "datasync_workflow/definition": ("datasync_steps",),
    "datasync_workflow/history.py": ("datasync_steps",),
    "datasync_workflow/local": ("datasync_steps", "datasync_workflow.definition", "datasync_workflow.history"),
    "datasync_workflow/cli": ("datasync_steps", "datasync_workflow"),
    "datasync_workflow/cdk": ("datasync_steps", "datasync_workflow.definition"),
    "infra": ("datasync_workflow.cdk",),
    "docs_tooling": ("datasync_steps", "datasync_workflow.definition", "datasync_workflow.cdk"),
}
OWN_NAME = {
    "lambdas/datasync_steps": "datasync_steps",
    "datasync_workflow/history.py": "datasync_workflow.history",
}


def imported(path: Path) -> set[str]:
    """The modules of this project that the file imports, at its top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name.split(".")[0] in OURS}


def within(name: str, part: str) -> bool:
    return name == part or name.startswith(f"{part}.")


def test_each_part_imports_only_from_the_parts_below_it():
    wrong = []
    for part, allowed in MAY_IMPORT.items():
        own = OWN_NAME.get(part, part.replace("/", "."))
        files = [ROOT / part] if part.endswith(".py") else sorted((ROOT / part).rglob("*.py"))
        assert files, part
        for path in files:
            for name in imported(path):
                if not any(within(name, ok) for ok in (own, *allowed)):
                    wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_the_runtime_package_is_in_sub_packages_by_concern():
    package = ROOT / "datasync_workflow"
    assert len(list(package.glob("*.py"))) <= 4
    assert {path.name for path in package.iterdir() if (path / "__init__.py").exists()} == {
        "cdk",
        "cli",
        "definition",
        "local",
    }
