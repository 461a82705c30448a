"""The steps' code ships the bytecode of an interpreter of Lambda's runtime version where the app finds one, so a cold
start loads it instead of compiling the source. This machine has no Python 3.14, so the app's own interpreter stands in
for the runtime's: what is checked is that the asset holds bytecode Python loads without its source's dates (the CDK
command line zips every file with one fixed date) and without compiling anything."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from datasync_workflow.definition.steps import STEPS

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
    sources = sorted((asset / "datasync_steps").glob("*.py"))
    for source in sources:
        bytecode = source.parent / "__pycache__" / f"{source.stem}.{CACHE_TAG}.pyc"
        # PEP 552's flags word: bit 0 a hash-based .pyc, bit 1 (check the source) clear.
        assert int.from_bytes(bytecode.read_bytes()[4:8], "little") == 0b01, source.name
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


@pytest.mark.parametrize("compiler_found", [False, True])
def test_a_synth_says_when_the_steps_code_ships_without_bytecode(tmp_path, monkeypatch, compiler_found):
    from aws_cdk.cx_api import SynthesisMessageLevel

    import datasync_workflow.cdk.core as core
    from infra.stack import STACK_NAME, build_app

    monkeypatch.setattr(core, "bytecode_compiler", lambda runtime: sys.executable if compiler_found else None)
    assembly = build_app(outdir=str(tmp_path)).synth()
    stack = assembly.get_stack_by_name(STACK_NAME)
    infos = [str(m.entry.data) for m in stack.messages if m.level == SynthesisMessageLevel.INFO]
    assert len([m for m in infos if "ships without bytecode" in m]) == (0 if compiler_found else 1)
    functions = stack.template["Resources"].values()
    code_keys = {r["Properties"]["Code"]["S3Key"] for r in functions if r["Type"] == "AWS::Lambda::Function"}
    (code_key,) = code_keys
    shipped = tmp_path / f"asset.{code_key.removesuffix('.zip')}"
    assert bool(list(shipped.rglob(f"*.{CACHE_TAG}.pyc"))) == compiler_found


def test_the_same_source_gives_the_same_bytecode_so_the_asset_keeps_its_hash():
    build = assets().step_code.__wrapped__  # past the cache: two builds

    def files(directory: str) -> dict[str, bytes]:
        return {str(p.relative_to(directory)): p.read_bytes() for p in Path(directory).rglob("*") if p.is_file()}

    first, second = files(build(sys.executable)), files(build(sys.executable))
    assert first == second and any(name.endswith(".pyc") for name in first)
