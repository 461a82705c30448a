"""What DataSync has counted of an execution beyond its files and bytes: Enhanced mode's counters, which a status check
reports and a run's event carries."""

from typing import Any

from datasync_steps.names import ENHANCED, FAILED_PHASES


def enhanced_counters(described: Any) -> dict[str, Any]:
    """What an Enhanced mode execution has counted so far (nothing for Basic mode, which has no such counters)."""
    if described.get("TaskMode") != ENHANCED:
        return {}
    return {
        "TaskMode": ENHANCED,
        "FilesListed": described.get("FilesListed", {}).get("AtSource"),
        "FilesPrepared": described.get("FilesPrepared"),
        "FilesVerified": described.get("FilesVerified"),
        "FilesFailed": sum(described.get("FilesFailed", {}).get(phase, 0) for phase in FAILED_PHASES),
    }
