"""The site checks, registered by their own modules.

    @check("footer", rules=("site.footer_missing",), needs=("crawl", "page_text"), reads=("furniture.footer",))
    def footer_check(ctx: SiteContext) -> list[Finding]: ...

Each check declares its id, the rule ids it can emit (each in rules/catalog.toml), what it needs and which
rule-file keys it reads ("file.key"); inspect_site builds one SiteContext and runs every registered check whose needs
the context can meet, in registration order. docs/rules.md is generated from this registry and the catalogue
(python -m govinspect.engine.checks.docs).
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

# what a check may need; inspect_site has the first five, the others come from elsewhere (a check needing them is
# run by its own caller: monitoring probes by the monitor, registers and feeds by their commands)
NEEDS = {
    "crawl": "网站抓取结果", "page_text": "页面正文（从快照读回）", "previous_round": "上一轮的抓取（状态和 WARC）",
    "network": "检查时访问网络（链接探测、站内搜索）", "content": "内容检查词表",
    "monitor": "监测探测记录", "registers": "台账和答复书", "feeds": "政务新媒体发布内容",
}
SITE_NEEDS = frozenset({"crawl", "page_text", "previous_round", "network", "content"})

# modules of this package that hold no checks; every other module is imported and registers its own checks
NOT_CHECKS = frozenset({"registry", "docs"})


@dataclass(frozen=True)
class Check:
    id: str
    rules: tuple[str, ...]
    needs: tuple[str, ...]
    reads: tuple[str, ...]
    run: Callable  # (SiteContext) -> list[Finding], or an awaitable of it
    doc: str = ""

    @property
    def runs_in_site_inspection(self) -> bool:
        return set(self.needs) <= SITE_NEEDS


_CHECKS: dict[str, Check] = {}


def check(id: str, *, rules: tuple[str, ...], needs: tuple[str, ...] = ("crawl",), reads: tuple[str, ...] = ()):
    """Register a site check (a decorator)."""
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"check {id}: unknown needs {sorted(unknown)}")

    def register(fn):
        if id in _CHECKS and _CHECKS[id].run is not fn:
            raise ValueError(f"check {id} registered twice")
        _CHECKS[id] = Check(id, tuple(rules), tuple(needs), tuple(reads), fn, (fn.__doc__ or "").strip())
        return fn

    return register


def site_checks() -> list[Check]:
    """Every check of this package (a new module registers itself: nothing else to wire), by module name, then in
    the order a module registers them."""
    import pkgutil
    from pathlib import Path

    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name not in NOT_CHECKS)
    for m in names:
        importlib.import_module(f"{__package__}.{m}")
    return sorted(_CHECKS.values(), key=lambda c: names.index(c.run.__module__.rsplit(".", 1)[-1]))


@dataclass
class SiteContext:
    """What a site check reads: the crawl, the site's facts, the round's RuleSet and what earlier steps worked out."""
    crawl: Any  # fetch.CrawlResult
    home_url: str
    as_of: dt.date
    rules: Any  # rules.ruleset.RuleSet
    cfg: Any  # fetch.CrawlConfig
    columns: list = field(default_factory=list)  # freshness.ColumnResult of the registered or discovered columns
    home: Any = None  # freshness.HomeResult
    previous: Any = None  # history.PreviousCrawl of the previous round, or None
    site_code: str | None = None
    government: bool | None = None
    is_portal: bool | None = None
    portal_url: str | None = None
    period_start: dt.date | None = None
    content: Any = None  # checks.content.SiteContent, or None when content checks are off
    availability: Any = None  # checks.availability.Availability from the monitoring probes (rounds), or None
    # what checks report besides findings (SiteReport fields)
    check_stats: dict = field(default_factory=dict)
    undecided: dict = field(default_factory=dict)  # rule -> why this run could not decide it
    sampled: dict = field(default_factory=dict)  # rule -> the pages it sampled

    def has(self, need: str) -> bool:
        return {"previous_round": self.previous is not None, "content": self.content is not None,
                "monitor": self.availability is not None}.get(need, need in SITE_NEEDS)
