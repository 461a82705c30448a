"""What the construct deploys beside its template: the steps' code and a layer of the packages they need beyond
Lambda's runtime (boto3) and the Powertools layer (Powertools, pydantic). Each is a directory made at synth from the
packages installed where the app runs (the `datasync_steps` of this distribution; Jinja2 and MarkupSafe, which it
pins), so the construct deploys the same from a wheel as from a checkout of the repository.

Lambda compiles every module it imports from source unless the code holds bytecode for its Python: its code directory
is read-only, so nothing it compiles is kept for the next cold start, and a step that checks the input compiles about
3,000 lines of this package at each one. So both directories ship bytecode of the runtime's Python where the app can
make it: with an interpreter of the runtime's version (its own, or one on PATH named like the runtime, python3.14), else
in Lambda's build image for the runtime (the container CDK bundles an asset in) when a container engine answers."""

import atexit
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

STEPS_PACKAGE = "datasync_steps"
# Templated fields need Jinja2, and Jinja2 MarkupSafe.
BUNDLED_PACKAGES = ("jinja2", "markupsafe")
# What is copied leaves out bytecode (made afresh for Lambda's Python, or not at all) and MarkupSafe's optional C
# speed-ups, built for this machine and not for Lambda's: it falls back to its Python code.
LEFT_OUT = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.pyd", "*.c")


def bytecode_compiler(runtime_name: str) -> str | None:
    """An interpreter whose bytecode Lambda's runtime `runtime_name` (python3.14) loads: the app's own when it is that
    version, else one on PATH by the runtime's name whose cache tag says it is CPython of that version; None when there
    is none."""
    version = runtime_name.removeprefix("python")
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version and sys.implementation.name == "cpython":
        return sys.executable
    found = shutil.which(runtime_name)
    if found is None:
        return None
    tag = subprocess.run(
        [found, "-I", "-c", "import sys; print(sys.implementation.cache_tag)"], capture_output=True, text=True
    )
    return found if tag.stdout.strip() == f"cpython-{version.replace('.', '')}" else None


def container_engine() -> str | None:
    """The command CDK runs bundling containers with (CDK_DOCKER, else docker) when its server answers; None when the
    command is not here or its server does not answer, so that a synth does not fail for want of one. (One that answers
    but cannot run the bundling, offline or without the host's mounts, fails the synth: bytecode_in_container false.)"""
    engine = os.environ.get("CDK_DOCKER", "docker")
    if shutil.which(engine) is None:
        return None
    try:
        asked = [engine, "version", "--format", "{{.Server.Version}}"]
        answered = subprocess.run(asked, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None
    return engine if answered.returncode == 0 else None


BYTECODE_ENVIRONMENT = {"PYTHONHASHSEED": "0"}


def compile_all(compiler: str, directory: str) -> list[str]:
    """The command by which `compiler` writes the bytecode of every module under `directory` beside it.

    Unchecked-hash .pyc files (PEP 552) are loaded without comparing them with their source: the CDK command line zips
    an asset's files with one fixed date, which a timestamp-checked .pyc would take for a changed source. One process,
    one hash seed (BYTECODE_ENVIRONMENT) and paths relative to the asset (Python puts the file's own path in what it
    loads), so that the same source gives the same bytes, and the asset the same hash. -s -P, not -I: isolated mode
    would ignore PYTHONHASHSEED."""
    compile_each = [compiler, "-s", "-P", "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"]
    return [*compile_each, "-s", directory, directory]


def compile_in_container(runtime_name: str) -> list[str]:
    """The command of a bundling container of Lambda's build image for `runtime_name`, where that Python is on PATH by
    the runtime's name (/var/lang/bin/python3.14): the source CDK mounts at /asset-input, copied to /asset-output and
    compiled there."""
    copy_and_compile = f"cp -R /asset-input/. /asset-output && {shlex.join(compile_all(runtime_name, '/asset-output'))}"
    return ["bash", "-c", copy_and_compile]


def installed_package(name: str) -> Path:
    """The directory the package `name` is imported from."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{name} is not installed: pip install 'datasync-workflow[cdk]'", name=name)
    return Path(spec.origin).parent


def _asset_directory(kind: str, packages: dict[str, str], compiler: str | None) -> str:
    """A new directory holding each installed package of `packages` at its path there, with `compiler`'s bytecode of
    it when one is given, removed when the app's process ends (CDK has copied it into the cloud assembly by then)."""
    directory = Path(tempfile.mkdtemp(prefix=f"datasync-workflow-{kind}-"))
    directory.chmod(0o755)  # mkdtemp's 0700 would keep a rootless container's user out of /asset-input
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    for name, path in packages.items():
        shutil.copytree(installed_package(name), directory / path, ignore=LEFT_OUT)
    if compiler:
        command = compile_all(compiler, str(directory))
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **BYTECODE_ENVIRONMENT})
        if done.returncode:
            raise RuntimeError(f"{compiler} could not compile {directory}: {(done.stdout + done.stderr)[-2000:]}")
    return str(directory)


@cache
def step_code(compiler: str | None = None) -> str:
    """The one code asset of every step's function: the `datasync_steps` package alone, whose modules the handlers
    name (datasync_steps.<step>.handler)."""
    return _asset_directory("steps", {STEPS_PACKAGE: STEPS_PACKAGE}, compiler)


@cache
def bundled_packages_layer(compiler: str | None = None) -> str:
    """A directory laid out as a Lambda layer (python/<package>) with BUNDLED_PACKAGES: both pure Python once
    MarkupSafe's speed-ups are left out, so no build for Lambda's platform is needed."""
    return _asset_directory("layer", {name: f"python/{name}" for name in BUNDLED_PACKAGES}, compiler)
