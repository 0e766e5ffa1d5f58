"""The bulletins' quantitative statements, rebuilt from input data written to match them.

Seed 002 (襄阳 2024 第四次抽查): "对全市48个政府网站进行全覆盖检查,合格网站47个,不合格网站1个,检查合格率为97.92%"
and "抽查全市180个政务新媒体运行情况,发现不合格政务新媒体2个,抽查合格率98.89%。发现未在…登记备案的政务新媒体1个".
Seed 003 (凤县 2025 三季度): "三季度,市长信箱和县长信箱共收到网民留言31件,办结31件,办结率100%,按时办结率93.54%
(住建局县长信箱超期2件)。其中,咨询类5件,投诉类15件,建议类5件,求助类4件,举报类2件,分别交由7个镇和10个单位办理".
The seed files in ../shared were saved with ASCII punctuation; the comparison maps ours the same way. Paragraph
numbers differ where the seed has a section (政务公开) that this data does not, so they are left out of the comparison.
"""

import datetime as dt
import re

import pytest

from govinspect.registry.models import Account, Unit, Website
from govinspect.reports.bulletin import compose
from govinspect.reports.data import round_data
from govinspect.rounds.models import Finding, Round, RoundAccount, RoundSite

pytestmark = pytest.mark.django_db
ASCII = str.maketrans({"，": ",", "（": "(", "）": ")", "：": ":", "；": ";"})


def _plain(paragraph: str) -> str:
    return re.sub(r"^（[一二三四五六七八九十]+）", "", paragraph).translate(ASCII)


@pytest.fixture
def bulletin_rules(tmp_path, monkeypatch):
    """An office's own bulletin wording (bulletin.toml override), as an operator would edit it."""
    from govinspect.rules import RULES_DIR, load_rules

    def use(**changes):
        text = (RULES_DIR / "bulletin.toml").read_text(encoding="utf-8")
        for key, value in changes.items():
            text = re.sub(rf'^{key} = ".*"$', f'{key} = "{value}"', text, flags=re.M)
        (tmp_path / "bulletin.toml").write_text(text, encoding="utf-8")
        monkeypatch.setenv("GOVINSPECT_RULES_DIR", str(tmp_path))
        load_rules.cache_clear()

    yield use
    monkeypatch.delenv("GOVINSPECT_RULES_DIR", raising=False)
    load_rules.cache_clear()


def test_seed_002_websites_and_new_media(bulletin_rules):
    bulletin_rules(newmedia_unfiled="发现未在“全国政务新媒体信息报送系统”“湖北省政务新媒体管理平台”登记备案的政务新媒体{accounts_unfiled}个。")
    office = Unit.objects.create(name="襄阳市人民政府办公室", kind="市")
    rnd = Round.objects.create(name="2024年第四次抽查", region="全市", office="市人民政府办公室", as_of=dt.date(2024, 12, 20),
                               status="done")
    for i in range(48):
        site = Website.objects.create(name=f"网站{i}", home_url=f"http://www{i}.xiangyang.gov.cn/", owner=office)
        RoundSite.objects.create(round=rnd, website=site, status="checked", verdict="fail" if i == 0 else "pass", score=90)
    for i in range(180):
        acc = Account.objects.create(platform="微信公众号", name=f"账号{i}", owner=office, filed=i != 5)
        ra = RoundAccount.objects.create(round=rnd, account=acc, status="checked", verdict="fail" if i in (3, 4) else "pass")
        if i == 5:
            Finding.objects.create(round=rnd, round_account=ra, rule="newmedia.not_filed", url=f"newmedia:微信公众号/账号{i}",
                                   detail="未备案")
    overview = [_plain(p) for p in compose(round_data(rnd))["overview"]]
    assert overview[0] == "政府网站。对全市48个政府网站进行全覆盖检查,合格网站47个,不合格网站1个,检查合格率为97.92%。"
    assert overview[1] == ("政务新媒体。抽查全市180个政务新媒体运行情况,发现不合格政务新媒体2个,抽查合格率98.89%。"
                           "发现未在“全国政务新媒体信息报送系统”“湖北省政务新媒体管理平台”登记备案的政务新媒体1个。")


def test_seed_003_letters(bulletin_rules, tmp_path):
    from govinspect.letters.services import import_letters
    from govinspect.sandbox.letters import export_csv_gbk

    bulletin_rules(mailbox_name="市长信箱和县长信箱")
    rows = [["编号", "来信时间", "类型", "承办单位", "标题", "回复时间"]]
    places = [f"{t}镇" for t in ("双石铺", "唐藏", "平木", "留凤关", "红花铺", "黄牛铺", "凤州")] + ["住建局县长信箱"] + [f"县局{i}" for i in range(9)]
    types = ["咨询"] * 5 + ["投诉"] * 15 + ["建议"] * 5 + ["求助"] * 4 + ["举报"] * 2
    day = dt.datetime(2025, 7, 7, 9, 0)
    for i, typ in enumerate(types):
        late = i in (5, 6)
        unit = "住建局县长信箱" if late else places[i % len(places)] if places[i % len(places)] != "住建局县长信箱" else "县局0"
        rows.append([f"FX{i:03d}", f"{day:%Y-%m-%d %H:%M}", typ, unit, "来信", f"{day + dt.timedelta(days=30 if late else 1):%Y-%m-%d %H:%M}"])
    f = tmp_path / "信箱.csv"
    f.write_bytes(export_csv_gbk(rows))
    assert import_letters(f, "mailbox").rows_ok == 31
    rnd = Round.objects.create(name="三季度", region="全县", office="县政府办公室", as_of=dt.date(2025, 9, 30), status="done",
                               period_start=dt.date(2025, 7, 1), scheme="county-example")  # truncates: 29/31 -> 93.54
    overview = [_plain(p) for p in compose(round_data(rnd))["overview"]]
    assert overview == ["网民留言办理情况。三季度,市长信箱和县长信箱共收到网民留言31件,办结31件,办结率100%,按时办结率93.54%"
                        "(住建局县长信箱超期2件)。其中,咨询类5件,投诉类15件,建议类5件,求助类4件,举报类2件,分别交由7个镇和10个单位办理。"]


def test_seed_texts_are_quoted_right(realdata):
    """The sentences above are the seeds' own (when ../shared is present)."""
    seeds = realdata.parent / "reference" / "bulletins"
    s002 = (seeds / "002_a13cf0c59652f532.txt").read_text(encoding="utf-8")
    s003 = (seeds / "003_7a884e954c6ca41d.txt").read_text(encoding="utf-8")
    assert "对全市48个政府网站进行全覆盖检查,合格网站47个,不合格网站1个,检查合格率为97.92%。" in s002
    assert "抽查全市180个政务新媒体运行情况,发现不合格政务新媒体2个,抽查合格率98.89%。发现未在“全国政务新媒体信息报送系统”“湖北省政务新媒体管理平台”登记备案的政务新媒体1个。" in s002
    assert ("三季度,市长信箱和县长信箱共收到网民留言31件,办结31件,办结率100%,按时办结率93.54%(住建局县长信箱超期2件)。"
            "其中,咨询类5件,投诉类15件,建议类5件,求助类4件,举报类2件,分别交由7个镇和10个单位办理。") in s003
