"""Checks: one module per indicator family. Each returns findings with evidence."""
