"""Rectification (整改): each problem of an issued round assigned to its responsible unit with a deadline, its states
and an append-only audit trail (issue 18)."""
