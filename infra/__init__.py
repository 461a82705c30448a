"""The repository's own CDK app: its stack of the DataSyncWorkflow construct (datasync_workflow.cdk) and the
end-to-end suite's fixtures."""
