"""CDK: the reusable DataSyncWorkflow construct and the stack that deploys it."""
