"""What a deploy ships beside its template: the steps' code, with the bytecode its runtime loads at a cold start
instead of compiling the steps' source. What each proves on AWS is in docs/reference/proven.md."""

import io
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from datasync_workflow.definition.steps import STEPS
from tests.e2e.target import Target

# PEP 552's flags word of a .pyc: bit 0 a hash-based .pyc, bit 1 (check the source) clear.
UNCHECKED_HASH = 0b01


def files_in(directory: Path) -> dict[str, bytes]:
    """Every file under `directory`, by its path there, as an asset's zip holds them."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def modules_in(files: dict[str, bytes], under: str) -> list[str]:
    return sorted(name for name in files if name.startswith(under) and name.endswith(".py"))


def modules_without_their_bytecode(
    files: dict[str, bytes], cache_tag: str, under: str = "datasync_steps/"
) -> list[str]:
    """Each module under `under` whose unchecked-hash .pyc for `cache_tag` (cpython-314) is not beside it."""
    missing = []
    for name in modules_in(files, under):
        folder, _, module = name.rpartition("/")
        bytecode = files.get(f"{folder}/__pycache__/{module.removesuffix('.py')}.{cache_tag}.pyc")
        if bytecode is None or int.from_bytes(bytecode[4:8], "little") != UNCHECKED_HASH:
            missing.append(name)
    return missing


def shipped_code(target: Target) -> tuple[dict[str, bytes], str]:
    """The files of the one code asset every step's function runs, and the cache tag of the functions' runtime: on a
    stack, downloaded from Lambda (GetFunction's Code.Location); on the emulation, the asset as the synth makes it with
    this machine's Python standing in for the runtime's."""
    if target.emulated:
        from datasync_workflow.cdk.assets import step_code

        return files_in(Path(step_code(sys.executable))), sys.implementation.cache_tag
    functions = [target.client("lambda").get_function(FunctionName=target.function_name(s.name)) for s in STEPS]
    assert len({f["Configuration"]["CodeSha256"] for f in functions}) == 1, "the steps run different code"
    (runtime,) = {f["Configuration"]["Runtime"] for f in functions}
    with urllib.request.urlopen(functions[0]["Code"]["Location"], timeout=60) as response:  # a presigned S3 URL
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    files = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    return files, f"cpython-{runtime.removeprefix('python').replace('.', '')}"


@pytest.mark.proves(
    "every step's function ships, beside each module of its code, the unchecked-hash bytecode of its runtime's Python "
    "(python3.14: cpython-314), which a cold start loads instead of compiling the source; a stack deployed where the "
    "synth could make none (no python3.14, no container engine) fails here",
    emulation="the code asset that datasync_workflow/cdk/assets.py makes with a compiler, this machine's Python "
    "standing in for 3.14's (which of its ways the synth takes is tests/infra/test_bytecode.py's)",
)
def test_each_steps_code_ships_the_bytecode_its_runtime_loads(target: Target):
    files, cache_tag = shipped_code(target)
    modules = modules_in(files, "datasync_steps/")
    assert len(modules) > len(STEPS)
    assert modules_without_their_bytecode(files, cache_tag) == []
    source_alone = {name: data for name, data in files.items() if not name.endswith(".pyc")}
    assert modules_without_their_bytecode(source_alone, cache_tag) == modules
