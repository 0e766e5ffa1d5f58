"""`govinspect evidence FINDING_ID`: the finding with its excerpt, and the page exactly as captured, read back from the
WARC record the stored finding names (a real WARC file written by the crawler's WarcSink)."""

import datetime as dt

import pytest

from govinspect.engine.fetch.warc import WarcSink
from govinspect.engine.finding import Evidence, Finding as EngineFinding, Location, Subject
from govinspect.engine.inspect import SiteReport
from govinspect.registry.models import Unit, Website
from govinspect.rounds.evidence import EvidenceError, show_evidence
from govinspect.rounds.jobs import store_report
from govinspect.rounds.models import Finding, Round
from govinspect.rules.ruleset import RuleSet
from govinspect.storage import storage

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 11, 23)
HOME = "http://jyj.qinghe.gov.cn/"
PAGE = "http://jyj.qinghe.gov.cn/art/1.html"
# a GBK page with a stray byte and CRLF line ends: written back byte for byte, not decoded and re-encoded
BODY = "<html><head><meta charset=gbk><title>通知</title></head>\r\n<body><p>加强管里工作</p></body></html>".encode("gbk") + b"\xff"


def _stored(tmp_path):
    unit = Unit.objects.create(name="清河县教育局", kind="部门")
    site = Website.objects.create(name="清河县教育局网站", home_url=HOME, owner=unit)
    rnd = Round.objects.create(name="第四季度", region="清河县", as_of=AS_OF, status="done")
    warc = storage().path(f"rounds/{rnd.pk}/site-{site.pk}/crawl.warc.gz")
    sink = WarcSink(warc, HOME)
    sink.write_response(HOME, 200, "OK", [("Content-Type", "text/html")], b"<html>home</html>")
    offset = sink.write_response(PAGE, 200, "OK", [("Content-Type", "text/html; charset=gbk")], BODY)
    sink.close()
    typo = EngineFinding.at_url("content.typo", PAGE, "疑似错别字“管里”（应为“管理”）", site=HOME, facts={"text": "管里"})
    typo.evidence = Evidence(captured_at="2026-11-23T02:00:00+00:00", http_status=200, warc_file=str(warc),
                             warc_offset=offset, excerpt="加强管里工作", hit=(2, 4))
    rep = SiteReport(site_url=HOME, as_of=AS_OF, status="checked", pages_fetched=2, findings=[typo], warc_path=str(warc))
    store_report(rnd, site, rep)
    return rnd, warc, Finding.objects.get(round=rnd, rule="content.typo")


def test_page_written_exactly_as_captured(tmp_path):
    rnd, warc, row = _stored(tmp_path)
    assert row.evidence["warc_file"] == f"rounds/{rnd.pk}/site-{rnd.sites.get().website_id}/crawl.warc.gz"  # a key
    out = tmp_path / "证据" / "页面.html"
    info = show_evidence(row.pk, out)
    assert out.read_bytes() == BODY
    assert info["page_bytes"] == len(BODY)
    assert info["rule"] == "content.typo" and info["name"] == "疑似错别字"
    assert info["fingerprint"] == row.fingerprint == row.to_engine().fingerprint
    assert info["subject"] == {"kind": "page", "site": HOME} and info["location"] == {"url": PAGE}
    assert info["facts"] == {"text": "管里"} and info["hit_text"] == "管里"
    assert info["evidence"]["excerpt"] == "加强管里工作" and info["evidence"]["hit"] == [2, 4]
    assert info["evidence"]["http_status"] == 200 and info["evidence"]["warc_offset"] > 0


def test_clear_errors_in_chinese(tmp_path):
    rnd, warc, row = _stored(tmp_path)
    out = tmp_path / "页面.html"
    with pytest.raises(EvidenceError, match="问题 999999 不存在"):
        show_evidence(999999, out)
    # a register row: no web page, so no WARC record — said so
    reg = EngineFinding(rule="document.published_late", detail="《关于印发方案的通知》公开不及时",
                        subject=Subject(kind="register_row", unit="清河县教育局", ref="清教〔2026〕3号"),
                        location=Location(file="公文台账.xlsx", sheet="Sheet1", row=3), facts={"workdays": 25})
    stored = Finding.from_engine(reg, RuleSet.load(), round=rnd)
    stored.save()
    with pytest.raises(EvidenceError, match=r"来自台账，不是网页，没有网页存档.*公文台账.xlsx（Sheet1）第3行"):
        show_evidence(stored.pk, out)
    # a page finding whose WARC file was cleaned up
    warc.unlink()
    with pytest.raises(EvidenceError, match="网页存档文件 .*crawl.warc.gz 不存在"):
        show_evidence(row.pk, out)
    # a page finding stored without its record
    row.evidence = {"captured_at": "2026-11-23T02:00:00+00:00"}
    row.save()
    with pytest.raises(EvidenceError, match="没有记录网页存档位置"):
        show_evidence(row.pk, out)
    assert not out.exists()  # nothing written when there is no page to write


def test_command_prints_the_excerpt_and_writes_the_page(tmp_path, capsys):
    from govinspect.cli import main

    rnd, warc, row = _stored(tmp_path)
    out = tmp_path / "页面.html"
    assert main(["evidence", str(row.pk), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "加强【管里】工作" in text and "HTTP 状态：200" in text and row.fingerprint in text
    assert out.read_bytes() == BODY
    # a finding from a register has no page: the finding is shown and that is said, nothing is written
    reg = EngineFinding(rule="document.not_published", detail="未公开", subject=Subject(kind="register_row", ref="清政发〔2025〕5号"),
                        location=Location(file="公文公开属性台账.xlsx", row=6))
    Finding.from_engine(reg, RuleSet.load(), round=rnd).save()
    other = tmp_path / "无.html"
    assert main(["evidence", str(Finding.objects.get(rule="document.not_published").pk), "--out", str(other)]) == 0
    text = capsys.readouterr().out
    assert "公文公开属性台账.xlsx第6行" in text and "不是网页" in text and not other.exists()
    assert main(["evidence", "999999"]) == 2
