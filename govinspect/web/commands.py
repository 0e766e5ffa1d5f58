"""Commands of the web platform: `govinspect serve` (serve.py) and `govinspect accounts` (accounts.py)."""

from . import accounts, serve


def register(sub) -> None:
    serve.register(sub)
    accounts.register(sub)
