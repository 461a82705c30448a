"""Run AWS DataSync tasks from Step Functions: the state machine definition and the local runner."""
