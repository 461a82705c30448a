"""The workflow's definition: the steps' rows, each Lambda with what it may do (`steps`), the flow that wires them
into the state machine files (`flow`), and the diagrams drawn from that flow (`diagram`)."""
