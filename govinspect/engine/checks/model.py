"""Plain data shared by all checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field


@dataclass
class Finding:
    rule: str
    url: str
    detail: str
    column: str | None = None
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None
