"""WV-2 site unreachable: the failure share of availability probes over the round's window.

Pure. Probes taken while the reference targets failed too are left out (our network was down, not
the site); too few remaining probes make the window "could not check", never "unreachable".
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from ..finding import Finding
from .registry import check


@dataclass
class Availability:
    status: str  # ok | unreachable | unknown
    probes: int = 0
    valid: int = 0
    failed: int = 0
    excluded_network: int = 0
    share: float | None = None
    mean_ms: float | None = None
    p95_ms: float | None = None
    reason: str = ""
    failures: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def availability(probes: list, references: list, window_start: dt.datetime, window_end: dt.datetime,
                 rules: dict) -> Availability:
    """probes/references: objects with .at (aware datetime), .ok, .elapsed_ms, .status, .error; rules: RuleSet["availability"]."""
    r = rules
    days = (window_end - window_start).total_seconds() / 86400
    expected = days * r["probes_per_day"]
    inwin = [p for p in probes if window_start <= p.at <= window_end]
    refs = sorted((p for p in references if window_start - dt.timedelta(hours=1) <= p.at <= window_end), key=lambda p: p.at)

    def network_down(at):
        # the reference probes closest in time (within 10 minutes) all failed
        near = [x for x in refs if abs((x.at - at).total_seconds()) <= 600]
        return bool(near) and not any(x.ok for x in near)

    # a probe the address guard stopped (a redirect into the intranet) says nothing about the site either
    valid = [p for p in inwin if not network_down(p.at) and not (p.error or "").startswith("blocked")]
    a = Availability(status="unknown", probes=len(inwin), valid=len(valid), excluded_network=len(inwin) - len(valid))
    if not inwin:
        a.reason = "检查期内无监测数据"
        return a
    if len(valid) < r["min_valid_share"] * expected:
        a.reason = f"有效监测次数{len(valid)}次，少于应监测次数{int(expected)}次的{int(r['min_valid_share'] * 100)}%，无法判断"
        return a
    failed = [p for p in valid if not p.ok]
    a.failed = len(failed)
    a.share = len(failed) / len(valid)
    times = sorted(p.elapsed_ms for p in valid if p.ok)
    if times:
        a.mean_ms = round(statistics.fmean(times), 1)
        a.p95_ms = float(times[min(len(times) - 1, int(0.95 * len(times)))])
    a.failures = [{"at": p.at.isoformat(), "status": p.status, "error": p.error} for p in failed[:20]]
    a.status = "unreachable" if a.share >= r["veto_share"] else "ok"
    return a


def availability_findings(home_url: str, a: Availability, rules) -> list[Finding]:
    """rules: the round's RuleSet."""
    r = rules["availability"]
    if a.status != "unreachable":
        return []
    return [Finding.at_url("site.unreachable", home_url,
                           f"监测期内有效访问{a.valid}次，其中{a.failed}次无法打开（超过{r['timeout']:g}秒未响应或出错），"
                           f"失败率{a.share * 100:.2f}%（≥{r['veto_share'] * 100:g}%）", kind="site", facts=a.to_dict())]


@check("availability", rules=("site.unreachable",), needs=("monitor",),
       reads=("availability.window", "availability.probes_per_day", "availability.min_valid_share", "availability.veto_share",
              "availability.timeout", "availability.references"))
def availability_check(ctx) -> list[Finding]:
    """The failure share of the monitoring probes in the window before the as-of date (run by rounds, not the crawl)."""
    return availability_findings(ctx.home_url, ctx.availability, ctx.rules)
