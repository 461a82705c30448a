"""The local runner: a run of the workflow on this machine, in moto's emulated AWS extended to behave as DataSync, Step
Functions and IAM do as far as the steps can see. Importing it installs the emulation."""

from datasync_workflow.local.emulated_datasync import EmulatedTransfer, emulated_transfers
from datasync_workflow.local.runner import LocalExecution, run_local, run_local_together

__all__ = ["EmulatedTransfer", "LocalExecution", "emulated_transfers", "run_local", "run_local_together"]
