"""The `datasync-workflow` command: its commands (`commands.main`, the entry point), following an execution as it
goes (`follow`), backfills (`backfill`) and the Airflow DAG converter (`from_airflow`)."""
