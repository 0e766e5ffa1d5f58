"""Bulletin charts: the trend over a region's rounds comes from stored rounds (re-checks are not rounds of their own)."""

import datetime as dt

import pytest

from govinspect.registry.models import Unit, Website
from govinspect.reports.bulletin import group_titles
from govinspect.reports.charts import make_charts
from govinspect.reports.data import round_data
from govinspect.rounds.models import Round, RoundSite

pytestmark = pytest.mark.django_db


def test_trend_over_rounds(tmp_path):
    unit = Unit.objects.create(name="清河县教育局", kind="部门")
    sites = [Website.objects.create(name=f"网站{i}", home_url=f"http://w{i}.qh.gov.cn/", owner=unit) for i in range(4)]
    rounds = []
    for q, passing in ((1, 1), (2, 3)):
        r = Round.objects.create(name=f"第{q}季度", region="清河县", as_of=dt.date(2026, 3 * q, 28), status="done")
        for i, s in enumerate(sites):
            RoundSite.objects.create(round=r, website=s, status="checked", verdict="pass" if i < passing else "fail", score=80)
        rounds.append(r)
    Round.objects.create(name="复查", region="清河县", as_of=dt.date(2026, 6, 29), status="done", recheck_of=rounds[0])
    Round.objects.create(name="别的县", region="别县", as_of=dt.date(2026, 6, 1), status="done")
    data = round_data(rounds[1])
    assert [(h["name"], h["pass_rate"]) for h in data["history"]] == [("第1季度", "25.00"), ("第2季度", "75.00")]
    charts = make_charts(data, tmp_path, group_titles(), {})
    assert [c["caption"] for c in charts] == ["各类单位网站检查合格率", "政府网站检查合格率变化"]  # no findings: no problem chart
    assert all(c["path"].read_bytes()[:4] == b"\x89PNG" for c in charts)
    assert len(round_data(rounds[0])["history"]) == 1  # one round: no trend yet
