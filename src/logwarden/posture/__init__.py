"""Logging posture: is logging switched on everywhere, kept long enough, kept where it cannot be altered?

The folders are the flow: `collect/` reads the settings live (read-only calls) into a snapshot,
`snapshot/` is that snapshot (and the readers of hand exports), `checks/` judges it, and
`logwarden.outputs.posture` renders the findings.
"""
