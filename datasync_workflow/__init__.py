"""Run AWS DataSync tasks from Step Functions, without Airflow: the package a user installs.

- `datasync_workflow.definition`: the workflow's flow (from which `make definition` writes the state machine files),
  its steps' rows (what each Lambda may do), and its diagrams.
- `datasync_workflow.local`: the local runner and the emulated AWS it runs on (DataSync, Step Functions, IAM).
- `datasync_workflow.cli`: the `datasync-workflow` command (run, validate, backfill, from-airflow).

The steps themselves are the `datasync_steps` package (lambdas/), which imports nothing of this one.
"""
