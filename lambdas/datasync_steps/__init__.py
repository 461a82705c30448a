"""The step functions of the DataSync workflow: one module per step, each with a `handler`."""
