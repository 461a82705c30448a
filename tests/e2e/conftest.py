"""The end-to-end suite's target (target.py) for every scenario, its clean-up, and a verdict line per scenario at
the end of `make e2e` that a user can paste into an issue."""

import os
import time

import pytest

from tests.e2e.target import STACK_VARIABLE, Target, deployed_target, emulated_target

VERDICTS: list[str] = []


@pytest.fixture
def target() -> Target:
    """A deployed stack when DATASYNC_WORKFLOW_STACK names one; else the emulation, fresh for each scenario."""
    stack = os.environ.get(STACK_VARIABLE)
    if stack:
        deployed = deployed_target(stack)
        yield deployed
        _cleaned(deployed)
        return
    with emulated_target() as emulated:
        yield emulated
        _cleaned(emulated)


def _cleaned(target: Target) -> None:
    failed = target.clean_up()
    assert not failed, f"left behind on {target.name}: {failed}"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when != "call" and report.outcome != "passed"):
        where = os.environ.get(STACK_VARIABLE) or "emulation"
        verdict = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[report.outcome]
        phase = "" if report.when == "call" else f" in its {report.when}"
        VERDICTS.append(f"{verdict} {report.nodeid.split('::')[-1]} on {where}{phase} ({report.duration:.1f} s)")


def pytest_terminal_summary(terminalreporter) -> None:
    if VERDICTS:
        terminalreporter.section(
            f"datasync-workflow e2e verdicts, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        )
        for line in sorted(VERDICTS):
            terminalreporter.write_line(line)
