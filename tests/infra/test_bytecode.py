"""The steps' code ships the bytecode of an interpreter of Lambda's runtime version where the app finds one, so a cold
start loads it instead of compiling the source. This machine has no Python 3.14, so the app's own interpreter stands in
for the runtime's: what is checked is that the asset holds bytecode Python loads without its source's dates (the CDK
command line zips every file with one fixed date) and without compiling anything."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from datasync_workflow.definition.steps import STEPS
from tests.e2e.test_deploy import files_in, modules_without_their_bytecode

CACHE_TAG = sys.implementation.cache_tag
HERE = f"python{sys.version_info.major}.{sys.version_info.minor}"
# Imports every step from `asset` in a fresh interpreter with no bytecode written, after the source's dates are those
# of the CDK's zip; any module of the asset whose source is compiled raises.
IMPORT_EVERY_STEP_UNCOMPILED = """
import importlib._bootstrap_external as external, os, sys
asset = sys.argv[1]
for folder, _, files in os.walk(asset):
    for name in files:
        os.utime(os.path.join(folder, name), (315532800, 315532800))  # 1980-01-01
compile_source = external.SourceLoader.source_to_code
def refuse_the_assets(self, data, path, **kwargs):
    if str(path).startswith(asset):
        raise AssertionError(f"compiled {path}")
    return compile_source(self, data, path, **kwargs)
external.SourceLoader.source_to_code = refuse_the_assets
sys.path.insert(0, asset)
for name in sys.argv[2:]:
    module = __import__(name, fromlist=["handler"])
    assert module.__file__.startswith(asset), name
    # A traceback names the file where it is, not where the bytecode was made.
    defined = [f for f in vars(module).values() if getattr(f, "__module__", "") == name and hasattr(f, "__code__")]
    functions = [f for f in defined if not hasattr(f, "__wrapped__")]  # a decorator's wrapper is its library's
    assert functions and all(f.__code__.co_filename == module.__file__ for f in functions), name
"""


def assets():  # imported on first use: aws-cdk-lib starts jsii's Node process as datasync_workflow.cdk is imported
    from datasync_workflow.cdk import assets

    return assets


def import_every_step_uncompiled(built: str, copy: Path) -> subprocess.CompletedProcess:
    asset = str(shutil.copytree(built, copy))
    modules = [step.module for step in STEPS]
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "us-east-1"}
    script = [sys.executable, "-c", IMPORT_EVERY_STEP_UNCOMPILED, asset, *modules]
    return subprocess.run(script, capture_output=True, text=True, env=environment)


def test_the_steps_code_holds_bytecode_that_loads_without_compiling_the_source(tmp_path):
    asset = Path(assets().step_code(sys.executable))
    assert modules_without_their_bytecode(files_in(asset), CACHE_TAG) == []
    done = import_every_step_uncompiled(str(asset), tmp_path / "asset")
    assert done.returncode == 0, done.stderr[-2000:]


def test_without_a_compiler_the_code_is_the_source_alone_and_is_compiled_at_import(tmp_path):
    asset = Path(assets().step_code(None))
    assert not list(asset.rglob("*.pyc")) and list(asset.rglob("*.py"))
    done = import_every_step_uncompiled(str(asset), tmp_path / "asset")
    assert done.returncode == 1 and "AssertionError: compiled" in done.stderr


def fake_interpreter(folder: Path, name: str, cache_tag: str) -> None:
    interpreter = folder / name
    interpreter.write_text(f"#!/bin/sh\necho {cache_tag}\n")
    interpreter.chmod(0o755)


def test_the_compiler_is_the_apps_own_python_or_one_on_path_of_the_runtimes_version(tmp_path, monkeypatch):
    bytecode_compiler = assets().bytecode_compiler
    assert bytecode_compiler(HERE) == sys.executable
    monkeypatch.setenv("PATH", str(tmp_path))
    assert bytecode_compiler("python3.99") is None
    fake_interpreter(tmp_path, "python3.99", "cpython-398")  # named like the runtime, another version
    assert bytecode_compiler("python3.99") is None
    fake_interpreter(tmp_path, "python3.99", "cpython-399")
    assert bytecode_compiler("python3.99") == str(tmp_path / "python3.99")


def shipped_code(outdir: Path, template: dict) -> dict[str, Path]:
    """The directory CDK staged for the steps' code and the one for the layer, by what they are."""
    shipped = {}
    for resource in template["Resources"].values():
        kind = {"AWS::Lambda::Function": "code", "AWS::Lambda::LayerVersion": "layer"}.get(resource["Type"])
        key = (resource["Properties"].get("Code") or resource["Properties"].get("Content") or {}).get("S3Key")
        if kind and isinstance(key, str):
            shipped.setdefault(kind, set()).add(outdir / f"asset.{key.removesuffix('.zip')}")
    assert all(len(directories) == 1 for directories in shipped.values()), shipped
    return {kind: directories.pop() for kind, directories in shipped.items()}


@pytest.mark.parametrize(
    "compiler_found, engine_answers, settings, why",
    [
        (True, True, {}, None),
        (False, False, {}, "no container engine answers"),
        (False, True, {"bytecode_in_container": False}, "bytecode_in_container is false"),
    ],
)
def test_a_synth_says_when_the_steps_code_ships_without_bytecode(
    tmp_path, monkeypatch, compiler_found, engine_answers, settings, why
):
    from aws_cdk.cx_api import SynthesisMessageLevel

    import datasync_workflow.cdk.core as core
    from infra.stack import STACK_NAME, build_app

    monkeypatch.setattr(core, "bytecode_compiler", lambda runtime: sys.executable if compiler_found else None)
    monkeypatch.setattr(core, "container_engine", lambda: "docker" if engine_answers else None)
    assembly = build_app(outdir=str(tmp_path), context={"datasync_workflow": settings}).synth()
    stack = assembly.get_stack_by_name(STACK_NAME)
    infos = [str(m.entry.data) for m in stack.messages if m.level == SynthesisMessageLevel.INFO]
    said = [m for m in infos if "ships without bytecode" in m]
    assert len(said) == (0 if compiler_found else 1) and all(why in m for m in said)
    shipped = shipped_code(tmp_path, stack.template)
    assert {kind: bool(list(d.rglob(f"*.{CACHE_TAG}.pyc"))) for kind, d in shipped.items()} == {
        "code": compiler_found,
        "layer": compiler_found,
    }


FAKE_ENGINE = """#!{python}
# A stand-in for `docker` that does what its `version` and `run` do for CDK's bundling: the image's PATH holds bash,
# cp and, by the runtime's name, the Python of Lambda's image (this interpreter standing in for it); each mount is a
# path substitution. It logs each run's image, command and environment.
import json, os, subprocess, sys
arguments = sys.argv[1:]
if arguments[:1] == ["version"]:
    sys.exit(print("27.3.1"))
assert arguments[:2] == ["run", "--rm"], arguments
mounts, environment, position = {{}}, {{}}, 2
while arguments[position].startswith("-"):
    flag, value = arguments[position : position + 2]
    position += 2
    if flag == "-v":
        host, container = value.split(":")[:2]
        mounts[container] = host
    elif flag == "--env":
        environment.update([value.split("=", 1)])
image, command = arguments[position], arguments[position + 1 :]
with open({log!r}, "a") as log:
    log.write(json.dumps({{"image": image, "command": command, "environment": environment}}) + "\\n")
for container, host in mounts.items():
    command = [part.replace(container, host) for part in command]
ran = subprocess.run(command, env={{**os.environ, **environment, "PATH": {image_path!r}}}, cwd=mounts["/asset-input"])
sys.exit(ran.returncode)
"""
SYNTH = "import sys; from infra.stack import build_app; build_app(outdir=sys.argv[1]).synth()"


def test_without_a_compiler_here_the_bytecode_is_made_in_lambdas_build_image_when_a_container_engine_answers(tmp_path):
    """CDK's own bundling runs the container (its `docker run`, mounts and user); the engine is a fake (FAKE_ENGINE),
    as no container engine runs on this machine, and the app's Python (3.11) is not the runtime's, so no compiler is
    found here. What a real engine and Lambda's image do is left to the first deploy (docs/deploying.md)."""
    from datasync_workflow.cdk.core import RUNTIME
    from infra.stack import STACK_NAME

    image_path, log, engine = tmp_path / "image-bin", tmp_path / "runs.jsonl", tmp_path / "engine"
    image_path.mkdir()
    (image_path / RUNTIME.name).symlink_to(sys.executable)
    for tool in ("bash", "cp"):
        (image_path / tool).symlink_to(shutil.which(tool))
    engine.write_text(FAKE_ENGINE.format(python=sys.executable, log=str(log), image_path=str(image_path)))
    engine.chmod(0o755)
    outdir = tmp_path / "cdk.out"
    environment = {**os.environ, "CDK_DOCKER": str(engine), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", SYNTH, str(outdir)], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]

    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(runs) == 2  # the steps' code and the layer
    copy_and_compile = (
        "cp -R /asset-input/. /asset-output && python3.14 -s -P -m compileall -q --invalidation-mode unchecked-hash "
        "-s /asset-output /asset-output"
    )
    assert all(run["image"] == "public.ecr.aws/sam/build-python3.14" for run in runs)
    assert all(run["command"] == ["bash", "-c", copy_and_compile] for run in runs)
    assert all(run["environment"] == {"PYTHONHASHSEED": "0"} for run in runs)
    template = json.loads((outdir / f"{STACK_NAME}.template.json").read_text())
    shipped = shipped_code(outdir, template)
    assert modules_without_their_bytecode(files_in(shipped["code"]), CACHE_TAG) == []
    layer = files_in(shipped["layer"])
    assert any(name.endswith(".pyc") for name in layer)
    assert modules_without_their_bytecode(layer, CACHE_TAG, under="python/") == []
    imported = import_every_step_uncompiled(str(shipped["code"]), tmp_path / "asset")
    assert imported.returncode == 0, imported.stderr[-2000:]


def test_a_container_engine_is_one_whose_server_answers(tmp_path, monkeypatch):
    container_engine = assets().container_engine
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CDK_DOCKER")
    assert container_engine() is None  # no docker here
    for name, exit_status in [("docker", 1), ("podman", 0)]:
        engine = tmp_path / name
        asks_the_server = "[ \"$*\" = 'version --format {{.Server.Version}}' ]"
        engine.write_text(f"#!/bin/sh\n{asks_the_server} && exit {exit_status}\nexit 2\n")
        engine.chmod(0o755)
    assert container_engine() is None  # its CLI is here, its server is not
    monkeypatch.setenv("CDK_DOCKER", "podman")
    assert container_engine() == "podman"

    def no_answer(command, **kwargs):
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(assets().subprocess, "run", no_answer)
    assert container_engine() is None  # its server does not answer in time


def test_the_same_source_gives_the_same_bytecode_so_the_asset_keeps_its_hash():
    build = assets().step_code.__wrapped__  # past the cache: two builds

    first, second = files_in(Path(build(sys.executable))), files_in(Path(build(sys.executable)))
    assert first == second and any(name.endswith(".pyc") for name in first)
