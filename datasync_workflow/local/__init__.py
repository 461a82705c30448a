"""The local runner: a run of the workflow on this machine, in moto's emulated AWS extended to behave as DataSync, Step
Functions and IAM do as far as the steps can see. Importing it installs the emulation. What docs/local.md shows users
is here; the modules under it hold the rest."""

from datasync_workflow.local.emulated_datasync_executions import EmulatedTransfer, emulated_transfers
from datasync_workflow.local.runner import (
    BATCH_BUCKET,
    LocalExecution,
    create_batch_bucket,
    local_deployment,
    redrive_local,
    run_local,
    run_local_together,
)

__all__ = [
    "BATCH_BUCKET",
    "EmulatedTransfer",
    "LocalExecution",
    "create_batch_bucket",
    "emulated_transfers",
    "local_deployment",
    "redrive_local",
    "run_local",
    "run_local_together",
]
