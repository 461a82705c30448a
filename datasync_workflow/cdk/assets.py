"""What the construct deploys beside its template: the steps' code and a layer of the packages they need beyond
Lambda's runtime (boto3) and the Powertools layer (Powertools, pydantic). Each is a directory made at synth from the
packages installed where the app runs (the `datasync_steps` of this distribution; Jinja2 and MarkupSafe, which it
pins), so the construct deploys the same from a wheel as from a checkout of the repository."""

import atexit
import importlib.util
import shutil
import tempfile
from functools import cache
from pathlib import Path

STEPS_PACKAGE = "datasync_steps"
# Templated fields need Jinja2, and Jinja2 MarkupSafe.
BUNDLED_PACKAGES = ("jinja2", "markupsafe")
# Bytecode is left out of both (Lambda compiles what it imports), and so are MarkupSafe's optional C speed-ups, built
# for this machine and not for Lambda's: it falls back to its Python code.
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd", "*.c")


def installed_package(name: str) -> Path:
    """The directory the package `name` is imported from."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{name} is not installed: pip install 'datasync-workflow[cdk]'", name=name)
    return Path(spec.origin).parent


def _asset_directory(kind: str, packages: dict[str, str]) -> str:
    """A new directory holding each installed package of `packages` at its path there, removed when the app's process
    ends (CDK has copied it into the cloud assembly by then)."""
    directory = Path(tempfile.mkdtemp(prefix=f"datasync-workflow-{kind}-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    for name, path in packages.items():
        shutil.copytree(installed_package(name), directory / path, ignore=LEFT_OUT)
    return str(directory)


@cache
def step_code() -> str:
    """The one code asset of every step's function: the `datasync_steps` package alone, whose modules the handlers
    name (datasync_steps.<step>.handler)."""
    return _asset_directory("steps", {STEPS_PACKAGE: STEPS_PACKAGE})


@cache
def bundled_packages_layer() -> str:
    """A directory laid out as a Lambda layer (python/<package>) with BUNDLED_PACKAGES: both pure Python once
    MarkupSafe's speed-ups are left out, so no build for Lambda's platform (or Docker) is needed."""
    return _asset_directory("layer", {name: f"python/{name}" for name in BUNDLED_PACKAGES})
