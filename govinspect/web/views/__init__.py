"""One module per area of the platform, each with its own urlpatterns (merged in govinspect/web/urls.py)."""

import re

_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only ("²".isdigit() is true), small enough for a 64-bit column


def int_param(value) -> int | None:
    """An id from a query or form value: a whole number that fits the database, else None (the caller answers "no such
    object" or ignores the filter; never a 500 for "²", "1e9" or 30 digits)."""
    if value is None:
        return None
    s = str(value).strip()
    return int(s) if _ID.fullmatch(s) else None
