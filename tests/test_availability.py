"""WV-2 availability: probes stored by the monitor, failure share, the reference target rule."""

import datetime as dt

import pytest

from govinspect.engine.checks.availability import availability
from govinspect.monitor.models import Probe
from govinspect.monitor.services import probe_cycle, site_availability
from govinspect.registry.models import Website
from govinspect.registry.xlsx import import_registry
from govinspect.rules import load_rules
from govinspect.sandbox import generate_county
from govinspect.sandbox.registry import write_registry
from govinspect.sandbox.serve import SandboxServer

UTC = dt.timezone.utc
START = dt.datetime(2026, 11, 16, tzinfo=UTC)
END = dt.datetime(2026, 11, 23, tzinfo=UTC)


class P:
    def __init__(self, at, ok, ms=300):
        self.at, self.ok, self.elapsed_ms, self.status, self.error = at, ok, ms, (200 if ok else None), "" if ok else "timeout"


def week(fail_at=(), every=dt.timedelta(minutes=72)):
    out, t, i = [], START, 0
    while t < END:
        out.append(P(t, i not in fail_at))
        t, i = t + every, i + 1
    return out


def test_failure_share_over_the_veto_line():
    probes = week(fail_at=range(0, 8))  # 8 of 140
    a = availability(probes, [], START, END, load_rules("availability"))
    assert a.status == "unreachable" and a.failed == 8 and round(a.share, 4) == round(8 / len(probes), 4)
    assert a.mean_ms == 300.0
    assert availability(week(fail_at=range(0, 6)), [], START, END, load_rules("availability")).status == "ok"  # 6/140 = 4.3 %


def test_failures_while_our_network_was_down_are_left_out():
    probes = week(fail_at=range(0, 8))
    refs = [P(p.at + dt.timedelta(seconds=5), False) for p in probes[:8]]  # the reference failed at the same time
    a = availability(probes, refs, START, END, load_rules("availability"))
    assert a.status == "ok" and a.excluded_network == 8 and a.failed == 0


def test_too_few_probes_is_could_not_check():
    a = availability(week()[:30], [], START, END, load_rules("availability"))
    assert a.status == "unknown" and "无法判断" in a.reason
    assert availability([], [], START, END, load_rules("availability")).status == "unknown"


@pytest.mark.django_db
def test_monitor_probes_the_registry_and_the_round_decides(tmp_path):
    county = generate_county(n_sites=3, pages_per_site=10, no_default_faults=True, faults={"jyj": {"down": 1.0}})
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "r.xlsx"))
        cfg = srv.crawl_config()
        ref = "http://www.gov.cn/"
        for _ in range(4):
            probe_cycle(cfg, references=[ref])
    assert Probe.objects.count() == 4 * 4
    assert Probe.objects.filter(website__isnull=True, ok=True).count() == 4
    rules = {**load_rules("availability"), "window": "1d", "probes_per_day": 4}
    today = dt.datetime.now(dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    jyj = Website.objects.get(home_url=srv.urls["jyj"])
    a = site_availability(jyj, today, rules)
    assert a.status == "unreachable" and a.share == 1.0
    portal = Website.objects.get(home_url=srv.urls["portal"])
    assert site_availability(portal, today, rules).status == "ok"
    # a week with no monitoring at all is "could not check", not a failure
    assert site_availability(portal, today - dt.timedelta(days=30), rules).status == "unknown"
