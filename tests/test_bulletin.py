"""A bulletin that can be issued as printed (issue 14 item 7), read back from the written 通报.docx.

A round is built in the database as the engine stores one — a failing department with the most articles and a
link that is at once dead, illegal and hidden (its referring page in a real WARC file), a portal named “…门户网站”,
findings with zero-padded dates and English meta tag names, websites that could not be checked for technical
reasons, accounts that could not be judged — and the bulletin is written and read back paragraph by paragraph and
cell by cell. A real round that checked nothing (the sandbox without permission to fetch it) says so in Chinese.
"""

import datetime as dt
import re
import zipfile

import pytest
from docx import Document

from govinspect.engine.fetch.state import CrawlState
from govinspect.engine.fetch.warc import WarcSink
from govinspect.engine.finding import Evidence, Finding as EngineFinding
from govinspect.registry.models import Account, Unit, Website
from govinspect.reports.bulletin import compose, write_bulletin
from govinspect.reports.data import round_data
from govinspect.rounds.models import Finding, Round, RoundAccount, RoundSite
from govinspect.rules import RulesError, load_rules
from govinspect.rules.ruleset import RuleSet

pytestmark = pytest.mark.django_db

BAD = "http://www.xpj-casino888.top/reg.html"  # dead, illegal and hidden at once
BAD_SHOWN = "www[.]xpj-casino888[.]top"
HOME = "http://rsj.qinghe.gov.cn/"
PAGE = f"""<html><head><meta charset="utf-8"><title>清河县人力资源和社会保障局</title>
<script>document.title = "脚本不应执行";</script></head><body>
<p>欢迎访问</p>
<div style="position:absolute;left:-3000px"><a href="{BAD}">澳门新葡京娱乐场</a></div>
</body></html>""".encode("utf-8")
ENGLISH_WORDS = re.compile(r"blocked|timeout|timed out|error|exception|allow-private|not allowed|internal|"
                           r"SiteName|SiteDomain|SiteIDCode|ArticleTitle|PubDate|ContentSource|None", re.I)


def docx_text(path) -> tuple[list[str], list[list[str]]]:
    """Every paragraph of the body, and every table's cells row by row."""
    doc = Document(path)
    return [p.text for p in doc.paragraphs], [[" | ".join(c.text for c in r.cells) for r in t.rows] for t in doc.tables]


def _site(rnd, name, owner, url, count, verdict="pass", score=90, status="checked", reason="", warc="", portal=False):
    w = Website.objects.create(name=name, home_url=url, owner=owner, is_portal=portal)
    return RoundSite.objects.create(round=rnd, website=w, status=status, verdict="unknown" if status != "checked" else verdict,
                                    score=score if status == "checked" else None, publication_count=count, reason=reason,
                                    warc_path=warc)


RULES = RuleSet.load()


def _finding(rs, rule, detail, url=None, warc_offset=None, column=None, **facts):
    """A stored finding as the engine gives it: the rule's facts, the capture evidence naming the site's WARC file
    (and the record, when known); a column's finding has the column in its subject."""
    f = EngineFinding.at_url(rule, url or rs.website.home_url, detail, kind="column" if column else "page",
                             site=rs.website.home_url, column=column, facts=facts)
    f.evidence = Evidence(warc_file=rs.warc_path, warc_offset=warc_offset)
    row = Finding.from_engine(f, RULES, round=rs.round, round_site=rs, responsible_unit=rs.website.owner)
    row.save()
    return row


def _county_round(tmp_path, **round_fields) -> Round:
    warc = tmp_path / "site-rsj" / "crawl.warc.gz"
    sink = WarcSink(warc, HOME)
    sink.write_response(HOME, 200, "OK", [("Content-Type", "text/html; charset=utf-8")], PAGE)
    sink.close()

    county = Unit.objects.create(name="清河县人民政府", kind="区县")
    rnd = Round.objects.create(name="2026年第四季度检查", region="清河县", office="清河县人民政府办公室", as_of=dt.date(2026, 11, 23),
                               period_start=dt.date(2026, 8, 24), status="done", **round_fields)
    portal = _site(rnd, "清河县人民政府门户网站", county, "http://www.qinghe.gov.cn/", 300, portal=True)
    _finding(portal, "privacy.mobile", "网站《关于春耕生产的通知\x1b》公开了完整手机号码（138****0079）",  # ESC from a crawled page
             url="http://www.qinghe.gov.cn/a.html")
    # towns: one published 5 articles, three published none — the first three are not three praiseworthy towns
    for i, (town, n) in enumerate((("白马镇", 5), ("城关镇", 0), ("河西镇", 0), ("东关镇", 0))):
        unit = Unit.objects.create(name=f"清河县{town}人民政府", short_name=town, kind="乡镇", parent=county)
        _site(rnd, f"清河县{town}人民政府网站", unit, f"http://t{i}.qinghe.gov.cn/", n)
    # departments: the busiest one failed (single veto, score 51) and carries a gambling link
    depts = [("人社局", 120), ("卫健委", 60), ("农业农村局", 57), ("教育局", 40), ("文旅局", 30)]
    sites = {}
    for i, (short, n) in enumerate(depts):
        unit = Unit.objects.create(name=f"清河县{short}", short_name=short, kind="部门", parent=county)
        failing = short == "人社局"
        sites[short] = _site(rnd, f"清河县{short}网站", unit, HOME if failing else f"http://d{i}.qinghe.gov.cn/", n,
                             verdict="fail" if failing else "pass", score=51 if failing else 90,
                             warc=str(warc) if failing else "")
    rsj = sites["人社局"]
    _finding(rsj, "site.homepage_stale", "首页最新信息发布于2026年10月30日，超过2周未更新", newest_date="2026-10-30")
    refs = [{"page": HOME, "text": "澳门新葡京娱乐场", "hidden": "position:absolute;left:-3000px"}]
    probe = {"url": BAD, "status": None, "error": "ClientConnectorError: Cannot connect to host www.xpj-casino888.top:80 "
             "ssl:default [Name or service not known]", "final_url": None, "method": "GET", "checked_at": "2026-11-23T02:00:00+00:00"}
    _finding(rsj, "link.dead", f"外部链接“澳门新葡京娱乐场”无法访问（域名无法解析），共1处引用，如{HOME}", url=BAD,
             first_probe=probe, second_probe=probe, referrers=refs, referrer_count=1, external=True)
    _finding(rsj, "link.illegal", "链接“澳门新葡京娱乐场”指向赌博类违法违规网站（域名 www.xpj-casino888.top 属于赌博类域名特征；"
             "链接文字含“新葡京、娱乐场”）", url=BAD, category="gambling", label="赌博", reasons=["域名特征"], referrers=refs,
             referrer_count=1, probe=probe, page_title="")
    _finding(rsj, "link.hidden", f"页面 {HOME} 含隐藏链接（暗链）“澳门新葡京娱乐场”，隐藏方式：position:absolute;left:-3000px", url=BAD,
             css="position:absolute;left:-3000px", page=HOME, referrers=refs, illegal={"category": "gambling", "label": "赌博"})
    _finding(rsj, "site.defaced", f"首页疑似被篡改：首页新增“澳门新葡京娱乐场”（{BAD}）、“真人视讯”（http://www.xpj-casino888.top/vip.html）"
             "等隐藏或违法链接，请立即核查", new_links=[BAD, "http://www.xpj-casino888.top/vip.html"], previous_title="", title="")
    _finding(rsj, "site.meta_missing", "网页元数据标签不全：首页缺少 SiteName, SiteDomain, SiteIDCode；文章页缺少 ArticleTitle, ContentSource, PubDate",
             home_missing=["SiteName", "SiteDomain", "SiteIDCode"], article_missing=["ArticleTitle", "ContentSource", "PubDate"])
    _finding(sites["教育局"], "policy.interpretation_late", "政策文件《关于印发方案的通知》2026年02月23日发布，解读2026年03月25日才发布，"
             "晚了23个工作日（要求3个工作日内）", url="http://d3.qinghe.gov.cn/zc/1.html")
    # websites not checked, for technical reasons the engine words in English
    fgw = Unit.objects.create(name="清河县发展和改革局", short_name="发改局", kind="部门", parent=county)
    _site(rnd, "清河县发展和改革局网站", fgw, "http://fgw.qinghe.gov.cn/", 0, status="could_not_check",
          reason="首页无法访问（timeout after 15s），本轮未能检查")
    stj = Unit.objects.create(name="清河县统计局", short_name="统计局", kind="部门", parent=county)
    _site(rnd, "清河县统计局网站", stj, "http://10.0.0.8/", 0, status="could_not_check",
          reason="首页无法访问（blocked: 拒绝访问内网/本机地址 10.0.0.8（如确需检查，请用 --allow-private 或在配置中放行该网段）），本轮未能检查")
    # new media: no account could be judged
    acc = Account.objects.create(platform="微信公众号", name="清河人社发布", owner=rsj.website.owner)
    RoundAccount.objects.create(round=rnd, account=acc, status="could_not_check", verdict="unknown",
                                reason="内容来源无法访问（timeout after 15s）")
    return rnd


@pytest.fixture
def issued(tmp_path):
    rnd = _county_round(tmp_path, recipients="各乡镇人民政府，县政府各部门", doc_number="清政办〔2026〕12号")
    out = tmp_path / "报告"
    path = write_bulletin(round_data(rnd), out / "通报.docx")
    paragraphs, tables = docx_text(path)
    return out, path, paragraphs, tables


def test_no_none_no_english_no_doubled_words_one_date_format(issued):
    _, _, paragraphs, tables = issued
    text = "\n".join(paragraphs + [row for t in tables for row in t])
    assert not ENGLISH_WORDS.search(text), ENGLISH_WORDS.search(text)[0]
    assert "网站网站" not in text and "清河县人民政府门户网站《关于春耕生产的通知》" in text
    dates = re.findall(r"\d{4}年\d{1,2}月(?:\d{1,2}日)?", text)
    assert "2026年2月23日" in dates and "2026年11月23日" in dates
    assert not re.search(r"\d{4}年0\d月|月0\d日|\d{4}-\d{2}-\d{2}", text)  # one format: 2026年2月23日, never 02月
    assert "首页缺少网站名称、网站域名、网站标识码；文章页缺少文章标题、来源、发布日期" in text
    # the websites not checked, with their reasons in Chinese
    assert "清河县发展和改革局网站（首页无法访问，访问超时）" in text
    assert "清河县统计局网站（网站地址属于内网或本机地址，检查设置未放行）" in text
    assert "抽查合格率" not in text and "本轮未能完成对清河县1个政务新媒体的检查" in text


def test_doc_number_under_title_and_recipients_before_body(issued, tmp_path):
    _, _, paragraphs, _ = issued
    body = [p for p in paragraphs if p.strip()]
    assert body[0] == "关于2026年第四季度清河县政府网站检查情况的通报"
    assert body[1] == "清政办〔2026〕12号"
    assert body[2] == "各乡镇人民政府，县政府各部门："
    assert body[3].startswith("根据政府网站监管工作要求")
    # blank fields: no empty 文号 or 主送 line, the body follows the title
    plain = Round.objects.create(name="无文号", region="清河县", office="清河县人民政府办公室", as_of=dt.date(2026, 11, 23), status="done")
    body = [p for p in docx_text(write_bulletin(round_data(plain), tmp_path / "plain.docx"))[0] if p.strip()]
    assert body[0].startswith("关于") and body[1].startswith("根据政府网站监管工作要求")


def test_failing_sites_named_and_praise_only_where_earned(issued):
    _, _, paragraphs, _ = issued
    website = next(p for p in paragraphs if p.startswith("（一）政府网站。"))
    assert "不合格网站为：清河县人社局网站（单项否决：首页长期不更新，得分51分，低于合格分数60分）" in website
    ranking = next(p for p in paragraphs if "信息发布情况" in p)
    praise = ranking[ranking.index("其中"):ranking.index("予以通报表扬")]
    assert "白马镇在各镇政务信息公开发布量位居前三" in praise
    for name in ("城关镇", "河西镇", "东关镇", "人社局"):  # 0 articles; a failing unit with a gambling link
        assert name not in praise
    assert "卫健委、农业农村局在部门政务信息公开发布量位居前三" in praise
    assert "发改局" not in ranking and "统计局" not in ranking  # not counted: neither ranked nor criticised


def test_one_bad_link_one_entry_defanged_with_archived_evidence(issued):
    out, path, paragraphs, tables = issued
    text = "\n".join(paragraphs + [row for t in tables for row in t])
    assert "xpj-casino888.top" not in text and "vip.html" not in text  # never the address itself
    assert "首页新增“澳门新葡京娱乐场”（www[.]xpj-casino888[.]top）" in text  # nor in other findings that cite it
    links = next(p for p in paragraphs if "网站链接存在问题" in p)
    assert links.count(BAD_SHOWN) == 1
    assert ("清河县人社局网站首页链接“澳门新葡京娱乐场”（www[.]xpj-casino888[.]top）指向赌博网站，为隐藏链接（暗链），"
            "无法访问（域名无法解析）") in links
    assert "共1个" in links and "经两次检测均无法访问" not in links  # the dead illegal link is not a second entry
    row = next(r for r in tables[1] if "清河县人社局" in r)  # 附件 政府网站
    assert "存在指向违法违规网站的链接1个（www[.]xpj-casino888[.]top），为隐藏链接（暗链）且无法访问" in row
    assert "存在隐藏链接" not in row and "存在无法访问的链接" not in row
    # the evidence is our archived copy of the referring page, linked from the bulletin; never the illegal site
    ref = re.search(r"页面存档：(证据/[^\s，。；）]+\.html)", links)[1]
    with zipfile.ZipFile(path) as z:
        rels = z.read("word/_rels/document.xml.rels").decode()
    targets = re.findall(r'Target="([^"]+)"[^>]*TargetMode="External"', rels)
    assert targets and all(t.startswith("%E8%AF%81%E6%8D%AE/") for t in targets)  # 证据/…, relative
    assert "xpj" not in rels
    page = (out / ref).read_text(encoding="utf-8")
    assert "default-src 'none'" in page  # a browser runs nothing and loads nothing from it
    assert "<script" not in page and "&lt;script&gt;" in page and "<a " not in page
    assert "&lt;a href=&quot;http://www.xpj-casino888.top/reg.html&quot;&gt;" in page  # the source as captured, as text
    assert "<mark>" in page and BAD_SHOWN in page


def test_rectification_data_one_line_per_problem(tmp_path):
    """round.json's problems (what the rectification lists are built from): the link is one line with its three
    problems, shown by its defanged domain, its evidence our archived page."""
    data = round_data(_county_round(tmp_path))
    lines = [x for x in data["problems"] if x["site"] == "清河县人社局网站" and x["rule"].startswith("link.")]
    assert len(lines) == 1 and len(data["problems"]) == len(data["findings"]) - 2
    line = lines[0]
    assert line["rules"] == ["link.illegal", "link.hidden", "link.dead"] and len(line["finding_ids"]) == 3
    assert line["url"] == line["shown_url"] == BAD_SHOWN and line["evidence_link"].startswith("证据/")
    machine = ("evidence", "facts", "location")  # the finding's own data keeps the address; nothing printed does
    assert "xpj-casino888.top" not in str({k: v for k, v in line.items() if k not in machine})
    assert line["detail"].startswith("链接“澳门新葡京娱乐场”（www[.]xpj-casino888[.]top）指向赌博网站，为隐藏链接（暗链），无法访问")


def test_evidence_found_through_the_crawl_index(tmp_path):
    """A page not modified since the last crawl is stored in the earlier crawl's WARC file: the crawl's own index
    (crawl-state.sqlite) says where, and that copy is the evidence."""
    rnd = _county_round(tmp_path)
    rsj = RoundSite.objects.get(round=rnd, website__home_url=HOME)
    earlier = tmp_path / "earlier" / "crawl.warc.gz"
    sink = WarcSink(earlier, HOME)
    offset = sink.write_response(HOME, 200, "OK", [("Content-Type", "text/html; charset=utf-8")],
                                 PAGE.replace("欢迎访问".encode(), "上一轮存档".encode()))
    sink.close()
    now = tmp_path / "now" / "crawl.warc.gz"
    WarcSink(now, HOME).close()  # this crawl wrote only a revisit record for the page
    state = CrawlState(now.parent / "crawl-state.sqlite")
    state.store({"url": HOME, "final_url": HOME, "status": 200, "warc_file": str(earlier), "warc_offset": offset, "revisit": 1})
    state.close()
    rsj.warc_path = str(now)
    rsj.save()
    for f in Finding.objects.filter(round_site=rsj):  # evidence without its own WARC record: the site's crawl is used
        f.evidence.pop("warc_file", None)
        f.evidence.pop("warc_offset", None)
        f.save()
    data = round_data(rnd)
    assert [c["warc"] for c in data["captures"]] == [str(earlier)]
    write_bulletin(data, tmp_path / "out" / "通报.docx")
    assert "上一轮存档" in (tmp_path / "out" / data["captures"][0]["file"]).read_text(encoding="utf-8")


def test_round_that_checked_nothing_says_so_in_chinese(tmp_path):
    """A real round over the sandbox without permission to fetch loopback addresses: no website, no account checked."""
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.services import run_round
    from govinspect.sandbox import generate_county
    from govinspect.sandbox.registry import write_registry
    from govinspect.sandbox.serve import SandboxServer

    county = generate_county(seed=11, n_sites=2, pages_per_site=30, no_default_faults=True)
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        rnd = Round.objects.create(name="无法访问的一轮", region="清河县", office="清河县人民政府办公室", as_of=county.as_of,
                                   period_start=county.as_of - dt.timedelta(days=91))
        crawl = {k: v for k, v in srv.crawl_settings().items() if k not in ("allow_private", "allow_networks")}
        run_round(rnd, crawl=crawl, processes=1)
    data = round_data(rnd)
    assert data["summary"]["sites_checked"] == 0 and data["summary"]["pass_rate"] is None
    paragraphs, tables = docx_text(write_bulletin(data, tmp_path / "通报.docx"))
    text = "\n".join(paragraphs + [row for t in tables for row in t])
    website = next(p for p in paragraphs if p.startswith("（一）政府网站。"))
    assert website.startswith(f"（一）政府网站。本轮未能完成对任何网站的检查（共{len(county.sites)}个网站），原因：")
    assert "网站地址属于内网或本机地址，检查设置未放行" in website
    assert not ENGLISH_WORDS.search(text), ENGLISH_WORDS.search(text)[0]
    assert "合格率为" not in text and "%" not in website
    assert "在检查期间无法访问" not in text  # we were not allowed to look: the websites are not called unreachable
    assert "信息发布情况" not in text  # nothing counted, nobody praised or criticised


@pytest.fixture
def own_rules(tmp_path, monkeypatch):
    from govinspect.rules import RULES_DIR

    def use(pattern: str, repl: str):
        text = (RULES_DIR / "bulletin.toml").read_text(encoding="utf-8")
        text, n = re.subn(pattern, repl, text, flags=re.M)
        assert n == 1, pattern
        (tmp_path / "rules").mkdir(exist_ok=True)
        (tmp_path / "rules" / "bulletin.toml").write_text(text, encoding="utf-8")
        monkeypatch.setenv("GOVINSPECT_RULES_DIR", str(tmp_path / "rules"))
        load_rules.cache_clear()

    yield use
    monkeypatch.delenv("GOVINSPECT_RULES_DIR", raising=False)
    load_rules.cache_clear()


@pytest.mark.parametrize("pattern, repl, message", [
    (r"^praise_min = 1$", "praise_min = 0", "praise_min 应为不小于1的整数（不表扬发布0条信息的单位）"),
    (r"^top = 3$", 'top = "三"', "top 应为不小于1的整数"),
    (r'^praise_exclude_rules = \[', 'praise_exclude_rules = ["link.ilegal", ', "规则 link.ilegal 不存在"),
    (r"^match = 'timeout\|timed out'$", "match = 'timeout(('", "不是有效的正则表达式"),
    (r'^\[sentences\."site\.homepage_stale"\]$', '[sentences."site.homepage_stal"]', "site.homepage_stal 不是规则编号"),
])
def test_praise_and_reason_rules_are_validated(own_rules, tmp_path, pattern, repl, message):
    rnd = _county_round(tmp_path)
    own_rules(pattern, repl)
    with pytest.raises(RulesError, match=re.escape(message)):
        compose(round_data(rnd))


def test_every_meta_tag_checked_has_a_chinese_name():
    terms = load_rules("catalog")["rules"]["site.meta_missing"]["terms"]
    meta = load_rules("structure")["meta"]
    assert set(meta["home"]) | set(meta["article"]) <= set(terms)
    assert all(re.fullmatch(r"[\u4e00-\u9fff]+", v) for v in terms.values())


def test_letters_none_closed_print_no_rate(tmp_path):
    """Letters received in the period but none closed yet: there is no on-time rate to print (never “None%”)."""
    from govinspect.letters.services import import_letters
    from govinspect.sandbox.letters import export_csv_gbk

    rows = [["编号", "来信时间", "类型", "承办单位", "标题", "回复时间"]]
    rows += [[f"N{i}", f"2026-11-{10 + i} 09:00", "咨询", "县教育局", "来信", ""] for i in range(3)]
    f = tmp_path / "信箱.csv"
    f.write_bytes(export_csv_gbk(rows))
    assert import_letters(f, "mailbox").rows_ok == 3
    rnd = Round.objects.create(name="四季度", region="清河县", office="清河县人民政府办公室", as_of=dt.date(2026, 11, 23),
                               status="done", period_start=dt.date(2026, 10, 1))
    paragraphs, _ = docx_text(write_bulletin(round_data(rnd), tmp_path / "通报.docx"))
    letters = next(p for p in paragraphs if "网民留言办理情况" in p)
    assert "共收到网民留言3件，办结0件，办结率0%。" in letters and "None" not in letters


def test_office_copy_without_new_sections_still_writes_chinese(own_rules, tmp_path):
    """An office's own bulletin.toml made before [links] and [reasons] existed: the shipped words are used."""
    rnd = _county_round(tmp_path)
    own_rules(r"^# One bad link, one entry(?:.|\n)*", "")
    assert "reasons" not in load_rules("bulletin") and "links" not in load_rules("bulletin")
    paragraphs, tables = docx_text(write_bulletin(round_data(rnd), tmp_path / "通报.docx"))
    text = "\n".join(paragraphs + [row for t in tables for row in t])
    assert not ENGLISH_WORDS.search(text), ENGLISH_WORDS.search(text)[0]
    assert "link.hidden" not in text and "为隐藏链接（暗链）且无法访问" in text
    assert "清河县发展和改革局网站（首页无法访问，访问超时）" in text


def test_external_links_without_a_route_are_one_note_not_dead_links(tmp_path):
    """A real round whose reference targets cannot be reached (no route to the internet from the checking machine):
    the sites' external links are neither findings nor dead links; the round keeps one note per site and the
    bulletin says once that they could not be checked."""
    from govinspect.registry.xlsx import import_registry
    from govinspect.rounds.services import run_round
    from govinspect.sandbox import generate_county
    from govinspect.sandbox.registry import write_registry
    from govinspect.sandbox.serve import SandboxServer

    county = generate_county(seed=2026, n_sites=4, pages_per_site=30)  # default faults: dead external links
    with SandboxServer(county) as srv:
        import_registry(write_registry(county, srv.urls, tmp_path / "名录.xlsx"))
        rnd = Round.objects.create(name="离线的一轮", region="清河县", office="清河县人民政府办公室", as_of=county.as_of,
                                   period_start=county.as_of - dt.timedelta(days=91))
        crawl = {**srv.crawl_settings(), "reference_urls": ("http://no-route.invalid/",)}  # unresolvable, like a closed network
        run_round(rnd, crawl=crawl, processes=1)
    stored = [rs.check_stats.get("links_external", {}) for rs in rnd.sites.all()]
    offline = [s for s in stored if s.get("state") == "unknown"]  # sites with an external link that failed
    assert offline and all("无法访问互联网" in s["reason"] and s["unjudged"] >= 1 for s in offline)
    external = [f for f in Finding.objects.filter(round=rnd, rule="link.dead")
                if not any(f.url.startswith(u) for u in srv.urls.values())]
    assert external == []  # no external link is accused of being dead
    paragraphs, tables = docx_text(write_bulletin(round_data(rnd), tmp_path / "通报.docx"))
    text = "\n".join(paragraphs)
    assert text.count("外部链接未能检查（检查机无法访问互联网）") == 1


def test_bulletin_sentences_read_declared_facts():
    """Every field a rule's sentence in bulletin.toml [sentences] reads is a fact the catalogue declares for that rule
    (or one the bulletin computes: the website, the column, days since, the link as printed …); never the detail."""
    import string

    from govinspect.reports.bulletin import sentences

    computed = {"site", "column", "detail", "days", "columns", "more", "on_page", "link", "reasons", "scope", "anchor", "why", "page"}
    catalog = load_rules("catalog")["rules"]
    entries = {k: v for k, v in sentences(load_rules("bulletin")).items() if k in catalog}
    assert {"site.homepage_stale", "column.stale", "link.dead", "site.placeholder_text"} <= set(entries)
    for rule, e in entries.items():
        fields = {f for key in ("example", "line") for _, f, _, _ in string.Formatter().parse(e.get(key, "")) if f}
        assert fields - computed <= set(catalog[rule].get("facts", [])), rule
        assert "detail" not in fields, rule
