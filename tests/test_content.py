"""Content checks: word lists, personal data, typos, leaders, attachments, check-text."""

import datetime as dt
import io
import json
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from govinspect.engine.content import ContentChecker, context
from govinspect.engine.content import pii
from govinspect.engine.content.documents import extract_document
from govinspect.engine.content.leaders import Roster, Term
from govinspect.engine.content.lexicon import LEXICON_FILES, Lexicon, lexicon
from govinspect.rules import RulesError
from govinspect.rules.ruleset import RuleSet
from govinspect.sandbox import ids

RS = RuleSet.load()

DATA = Path(__file__).parent / "data"
D = dt.date


@pytest.fixture(scope="module")
def checker():
    return ContentChecker(typos=False)


def rules_of(hits):
    return [(h.rule, h.text, h.suggestion) for h in hits]


# ----------------------------------------------------------------------------- word lists
def test_rule_files_are_valid_versioned_and_sourced():
    seen = {}
    for name in LEXICON_FILES:
        data = RS[name]
        assert data["version"] and data["rule"]
        for e in data["entry"]:
            w = e["wrong"]
            assert w not in seen, f"{w} in {name} and {seen[w]}"
            seen[w] = name
    lx = lexicon(RS)
    assert len(lx.entries) > 250
    assert all(e.source and e.category and e.severity in ("high", "medium", "low") for e in lx.entries)


def test_listed_wrong_forms_are_found_with_their_correction(checker):
    text = ("全县上下要坚持以习近平新时代中国特色社会主意思想为指导。希望大家再接再励。县国土资源局开展检查。"
            "台湾政府发言人称。党的二十届三中全会和党的十九次四中全会。广西自治区代表团。")
    got = rules_of(checker.check(text))
    assert ("content.expression", "新时代中国特色社会主意思想", "新时代中国特色社会主义思想") in got
    assert ("content.misspelling", "再接再励", "再接再厉") in got
    assert ("content.institution_name", "国土资源局", "自然资源局") in got
    assert ("content.expression", "台湾政府", "台湾当局") in got
    assert ("content.expression", "十九次四中全会", "十九届四中全会") in got
    assert ("content.expression", "广西自治区", "广西壮族自治区") in got
    assert not any(t == "二十届三中全会" for _, t, _ in got)  # the right form is never a hit


def test_correct_sentences_are_not_hits(checker):
    text = ("坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神。请于截止日期前提交材料。"
            "进一步优化城区主要路口交通信号配时。县自然资源局、县农业农村局和县林业局联合检查。全市农业部门和文化部门。"
            "严厉打击网络赌博违法犯罪活动。原国土资源局办公楼移交使用。出口交货值增长5%。")
    assert checker.check(text) == []


def test_allow_list_context_and_after_conditions(checker):
    assert rules_of(checker.check("截止2025年底，全县完成改造1200户。")) == [("content.misspelling", "截止", "截至")]
    assert checker.check("报名截止日期为12月1日。") == []
    assert checker.check("报名于12月1日截止。") == []
    assert rules_of(checker.check("网友留言：加微信领取彩金。")) == [("content.sensitive", "彩金", "")]
    assert checker.check("警方提醒：谨防“注册送彩金”类诈骗。") == []  # condemned, not promoted


def test_separators_traditional_and_longest_match(checker):
    hits = checker.check("网上博 彩天天赢；网上博*彩；縣國土資源局；新时代中国特色社会主意思想")
    texts = [h.text for h in hits]
    assert "博 彩" in texts and "博*彩" in texts and "國土資源局" in texts
    text = "网上博 彩天天赢"
    h = next(h for h in hits if h.text == "博 彩")
    assert text[h.start:h.end] == "博 彩"  # offsets point into the original text
    longest = [h for h in hits if h.rule == "content.expression"]
    assert len(longest) == 1 and longest[0].text == "新时代中国特色社会主意思想"


def test_institution_names_are_history_before_the_reform_of_their_level():
    """National names from March 2018, provincial ones from the end of 2018, city and county ones from early
    2019; a local name with no level before it gets the latest local date (issue 15 item 9)."""
    c = ContentChecker(only=("content.institution_name",), typos=False)
    since = lambda text: [h.since for h in c.check(text)]
    assert since("国土资源部印发通知") == [D(2018, 3, 21)]
    assert since("国家卫生和计划生育委员会发布") == [D(2018, 3, 21)]
    assert since("省环境保护厅发文") == [D(2018, 12, 31)]
    assert since("县国土资源局召开会议") == since("清河县人民政府环保局") == since("市卫计委通知") == [D(2019, 3, 31)]
    assert since("环保局开展检查") == [D(2019, 3, 31)]


def test_reform_dates_are_data_overridable_per_jurisdiction(tmp_path, monkeypatch):
    shipped = (Path(__file__).parents[1] / "govinspect" / "rules" / "content" / "institutions.toml").read_text(encoding="utf-8")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "institutions.toml").write_text(
        shipped.replace("[defaults]", '[[reform.place]]\nname = "深圳市"\ndate = "2019-01-10"\n\n[defaults]', 1), encoding="utf-8")
    lx = Lexicon({"content/institutions": RuleSet.load(overrides=tmp_path)["content/institutions"]})
    got = {h.text: h.since for h in lx.scan("深圳市环保局和清河县国土局联合检查")}
    assert got == {"环保局": D(2019, 1, 10), "国土局": D(2019, 3, 31)}


def test_outdated_name_inside_a_cited_document_title_is_history():
    c = ContentChecker(only=("content.institution_name",), typos=False)
    cited = "自本通知实施之日起，《广州市财政局 广州市卫生和计划生育委员会关于门诊特定项目费用范围的通知》（穗人社发〔2015〕58号）同时废止。"
    assert c.check(cited) == []
    assert [h.text for h in c.check("今年5月，市卫生和计划生育委员会组织开展专项检查。")] == ["卫生和计划生育委员会"]


def test_no_outdated_institution_names_on_the_dated_real_pages(realdata):
    """The real pages name old institutions only in cited document titles or before their reform: no finding."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    try:
        from typo_false_alarms import institution_findings
    finally:
        sys.path.pop(0)
    assert institution_findings(realdata) == []


def test_outdated_name_one_finding_per_page_and_term_judged_by_the_page_date():
    """A 2018 county page naming the county's 环保局 is history (the county reformed in 2019); a 2020 page
    naming it five times is one finding with the count, never five."""
    from types import SimpleNamespace

    from govinspect.engine.checks.content import SiteContent
    from govinspect.engine.extract import extract_page

    text = "".join(f"<p>县环保局第{i}次开展执法检查，督促企业整改。</p>" for i in range(5))
    site = SiteContent(ContentChecker(only=("content.institution_name",), typos=False))
    for n, date in ((1, "2018-07-12"), (2, "2020-05-06")):
        html = (f'<html><head><title>检查通报{n}</title><meta name="PubDate" content="{date}"></head>'
                f'<body><h1>检查通报{n}</h1>{text}</body></html>')
        page = extract_page(html, f"http://x.gov.cn/a{n}.html")
        site.on_page(SimpleNamespace(url=f"http://x.gov.cn/a{n}.html", depth=1), page)
    found = site.findings()
    assert [(f.url, f.facts["occurrences"]) for f in found] == [("http://x.gov.cn/a2.html", 5)]
    assert found[0].detail == "网站《检查通报2》“环保局”应为“生态环境局”（机构改革后已更名为“生态环境局”）（共出现5次）"
    assert site.stats["history_skipped"] == 5


def test_bad_rules_file_gives_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "content").mkdir()
    for name in LEXICON_FILES:
        (tmp_path / f"{name}.toml").write_text(
            'rule = "content.misspelling"\nversion = "1"\n[[entry]]\nwrong = "按装"\ncategory = "错别字"\nseverity = "urgent"\nsource = "x"\n',
            encoding="utf-8")
    with pytest.raises(RulesError, match="severity"):
        lexicon(RuleSet.load(overrides=tmp_path))
    (tmp_path / "content" / "misspellings.toml").write_text('rule = "x"\nversion = "1"\n[[entry]]\nwrong = "按装"\nafter = "("\n'
                                                            'category = "a"\nsource = "b"\n', encoding="utf-8")
    with pytest.raises(RulesError, match="正则"):
        Lexicon({"content/misspellings": RuleSet.load(overrides=tmp_path)["content/misspellings"]})


# ----------------------------------------------------------------------------- personal data
def test_personal_numbers_are_found_validated_and_masked():
    rng = random.Random(3)
    pid, mob, card = ids.make_id(rng), ids.make_mobile(rng), ids.make_card(rng)
    text = (f"张三（身份证号：{pid}）；李四身份证号{ids.make_bad_id(rng)}；王五（{ids.mask_id(ids.make_id(rng))}）；"
            f"联系电话：{mob}；座机0312-1234567；卡号{card}；合同编号{ids.make_bad_card(rng)}；模板a13812345678b。")
    hits, masked = pii.scan(text)
    got = {(h.rule, h.text) for h in hits}
    assert got == {("privacy.id_number", pii.mask("id", pid)), ("privacy.mobile", pii.mask("mobile", mob)),
                   ("privacy.bank_card", pii.mask("card", card))}
    assert all(pid not in h.text and mob not in h.text and card not in h.text for h in hits)
    assert [h.rule for h in masked] == ["privacy.id_number"] and masked[0].severity == "info"
    for h in hits:  # the context shown as evidence never carries a full number either
        ctx = context(text, h.start, h.end, h.text)
        assert pid not in ctx and mob not in ctx and card not in ctx


def test_id_number_rules():
    rng = random.Random(5)
    good = ids.make_id(rng)
    assert pii.id_valid(good) and not pii.id_valid(good[:17] + ("0" if good[17] != "0" else "1"))
    assert not pii.id_valid("99" + good[2:])  # no such province
    assert not pii.id_valid(good[:10] + "1340" + good[14:])  # month 13
    # 15-digit IDs only with an ID context (in the text or in the table header)
    old = "130535800101123"
    assert pii.scan(f"编号{old}")[0] == []
    assert [h.rule for h in pii.scan(f"身份证号码：{old}")[0]] == ["privacy.id_number"]
    assert [h.rule for h in pii.scan(old, table_context="公民身份号码")[0]] == ["privacy.id_number"]
    # full-width digits are the same number
    fw = good.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert [h.rule for h in pii.scan(f"身份证{fw}")[0]] == ["privacy.id_number"]


def test_no_personal_data_on_real_pages(realdata):
    """The nfra pages name penalised persons lawfully: names alone are not a leak; no page has a full number."""
    from govinspect.engine.extract import decode_html, extract_page

    c = ContentChecker(only=("privacy",), typos=False)
    for f in sorted((realdata / "pages").glob("*.html")):
        text = extract_page(decode_html(f.read_bytes(), None)[0], "http://example.gov.cn/").text
        assert c.check(text) == [], f.name


def test_style_pair_zuochu_is_a_misspelling_rule_not_a_typo(checker):
    """作出/做出 (issue 20 item 4): 作出 before the acts statutes always write with it; split usages are left alone."""
    assert rules_of(checker.check("县委做出重要部署，要求各单位抓好落实。")) == [("content.misspelling", "做出", "作出")]
    assert rules_of(checker.check("行政机关应当依法做出处罚决定。")) == [("content.misspelling", "做出", "作出")]
    for text in ("为全县发展做出了贡献。", "工厂做出了新产品。", "各地要做出安排部署。", "县委作出重要部署。"):
        assert checker.check(text) == [], text


def test_style_pair_zuochu_is_quiet_on_real_government_text(realdata):
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    try:
        from typo_false_alarms import _texts
    finally:
        sys.path.pop(0)
    c = ContentChecker(only=("content.misspelling",), typos=False)
    found = [(name, h.text) for name, text in _texts(realdata) for h in c.check(text) if h.text == "做出"]
    assert found == []


def test_no_word_list_hits_on_real_pages_except_known_true_ones(realdata):
    from govinspect.engine.extract import decode_html, extract_page

    c = ContentChecker(only=("content.misspelling", "content.expression", "content.sensitive"), typos=False)
    for f in sorted((realdata / "pages").glob("*.html")):
        text = extract_page(decode_html(f.read_bytes(), None)[0], "http://example.gov.cn/").text
        assert c.check(text) == [], (f.name, rules_of(c.check(text)))


# ----------------------------------------------------------------------------- typos
def test_typos_found_and_names_left_alone():
    c = ContentChecker(only=("content.typo",))
    got = rules_of(c.check("要进一步加强安全生产监督管里，确保不发生重大事故。全面提升政务服务水平，优化营商环竟。"))
    assert got == [("content.typo", "管里", "管理"), ("content.typo", "环竟", "环境")]
    clean = ("坚持以人民为中心的发展思想，扎实推进共同富裕。康慈体检中心、博视眼科医院、泰康老年护理院纳入定点机构。"
             "奉新县“三点发力”赋能工业高质量发展，科创板公司5家，快递业务量18.2亿件。")
    assert c.check(clean) == []


@pytest.mark.parametrize("sentence", [
    "3月5日，县委副书记王辉到城关镇调研，要求各单位认真抓好落实。",  # a name followed by 到 (辉到 -> 回到)
    "3月5日上午，王辉到城关镇调研指导工作，要求各村抓好落实。",
    "会议由县政府办主任主持，县政府办、县财政局、县司法局负责同志参加了会议。",  # abbreviations
    "今年以来为困难群众提供法援服务1200余人次，切实维护了群众合法权益。",  # 法援 -> 法院
    "今年全县新开通村村通客车线路12条，方便了群众出行。",  # a compound
    "国家卫生健康委于2019年12月底前完成国家监测指标分析，并向社会公布。",  # 卫生健康委 + 于
    "安徽省经贸委煤炭工业管理办公室主任计承法受到行政记大过处分，其他人员另行处理。",  # a title, then a name
    "引导签约居民逐步形成到基层医疗卫生机构首诊的就医习惯，进一步推进预约诊疗。",  # 首诊 + 的
])
def test_names_abbreviations_and_compounds_are_not_typos(sentence):
    assert ContentChecker(only=("content.typo",)).check(sentence) == []


def test_typo_false_alarms_on_clean_government_text(realdata):
    """At most 3 false alarms per 100,000 characters of real, proof-read government text (issue 15 item 9);
    benchmarks/typo_false_alarms.py prints the same figure with the alarms listed."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
    try:
        from typo_false_alarms import false_alarms
    finally:
        sys.path.pop(0)
    chars, hits, _ = false_alarms(realdata)
    assert chars > 200_000 and len(hits) / chars * 100_000 <= 3, [(h.text, h.suggestion) for _, _, h in hits]


def test_typo_precision_on_official_documents(realdata):
    """ecspell-odw.train: precision must stay >= 0.9 (README states the recall reached)."""
    from govinspect.engine.content.typo import measure

    m = measure(realdata / "spelling" / "ecspell-odw.train")
    assert m["char_precision"] >= 0.9, m
    assert m["sentence_precision"] >= 0.9 and m["false_alarm_rate"] <= 0.02, m
    assert m["char_recall"] >= 0.08, m


def test_typo_segmentation_is_jiebas(realdata):
    """The detector segments with rjieba (jieba-rs) for speed; its thresholds were tuned on jieba's output.
    Both must cut every sentence of the official-document set the same way (a new rjieba must not drift)."""
    import jieba
    import rjieba

    from govinspect.engine.content.typo import _SENTENCES, detector

    tk = detector()._tk
    lines = (realdata / "spelling" / "ecspell-odw.train").read_text(encoding="utf-8").splitlines()
    pieces = [m.group() for line in lines for col in line.split("\t")[1:3] for m in _SENTENCES.finditer(col)]
    assert len(pieces) > 3000
    differ = [p for p in pieces if rjieba.cut(p, False) != tk.lcut(p, HMM=False)]
    assert differ == [], differ[:5]
    assert jieba.__version__.startswith("0.42")


# ----------------------------------------------------------------------------- leaders
def test_leader_titles_against_the_roster():
    roster = Roster([Term("马伟", "县长", "清河县人民政府", D(2019, 6, 1), D(2025, 5, 31)),
                     Term("李强", "县长", "清河县人民政府", D(2025, 6, 1)),
                     Term("赵敏", "副县长", "清河县人民政府", D(2021, 1, 1))], as_of=D(2026, 11, 23))
    c = ContentChecker(only=("content.leader",), typos=False, roster=roster)
    (h,) = c.check("马伟县长出席会议并讲话。", published=D(2026, 3, 1))
    assert h.rule == "content.leader" and h.text == "马伟县长" and "卸任" in h.note
    assert c.check("马伟县长出席会议并讲话。", published=D(2024, 3, 1)) == []  # he was 县长 then
    assert c.check("原县长马伟、时任县长马伟", published=D(2026, 3, 1)) == []
    assert c.check("县长李强、副县长赵敏出席。", published=D(2026, 3, 1)) == []
    (h,) = c.check("赵敏县长主持会议。", published=D(2026, 3, 1))
    assert h.suggestion == "赵敏副县长" and "不是县长" in h.note
    assert c.check("张三县长出席", published=D(2026, 3, 1)) == []  # not in the roster: not judged
    # order: rightly titled leaders listed together follow protocol (the head before the deputies)
    (h,) = c.check("副县长赵敏、县长李强出席会议。", published=D(2026, 3, 1))
    assert h.category == "领导排序" and h.suggestion == "县长李强、副县长赵敏" and "应排在" in h.note
    assert c.check("副县长赵敏主持会议，县长李强讲话。", published=D(2026, 3, 1)) == []  # not one list


# ----------------------------------------------------------------------------- attachments
def _scan_doc(body, name):
    doc = extract_document(body, name)
    assert doc.error is None, doc.error
    text, starts = doc.joined()
    hits = ContentChecker(typos=False).check(text, table_context=doc.header())
    return doc, [(h.rule, h.text, doc.locate(starts, h.start)[0].location) for h in hits]


def test_attachment_formats_with_locations():
    pid, mob = (DATA / "expected.txt").read_text().split()
    # .xls (xlrd), .doc (antiword): real files written by xlwt and LibreOffice
    doc, hits = _scan_doc((DATA / "legacy.xls").read_bytes(), "名单.xls")
    assert doc.kind == "xls"
    assert ("privacy.id_number", pii.mask("id", pid), {"sheet": "名单", "cell": "C2"}) in hits
    assert any(r == "privacy.bank_card" and loc == {"sheet": "名单", "cell": "D2"} for r, _, loc in hits)
    assert not any(loc.get("cell") == "C3" for _, _, loc in hits)  # the masked row
    doc, hits = _scan_doc((DATA / "legacy.doc").read_bytes(), "公示.doc")
    assert doc.kind == "doc"
    assert {r for r, _, _ in hits} >= {"privacy.id_number", "privacy.mobile", "content.misspelling"}
    # .xlsx, .docx, .pdf, .csv (GBK, as Excel exports it), .txt
    from docx import Document
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "补贴名单"
    ws.append(["姓名", "身份证号码", "联系电话"])
    ws.append(["张三", pid, int(mob)])  # a mobile number typed as a number comes back as a float
    buf = io.BytesIO()
    wb.save(buf)
    doc, hits = _scan_doc(buf.getvalue(), "名单.xlsx")
    assert hits == [("privacy.id_number", pii.mask("id", pid), {"sheet": "补贴名单", "cell": "B2"}),
                    ("privacy.mobile", pii.mask("mobile", mob), {"sheet": "补贴名单", "cell": "C2"})]
    d = Document()
    d.add_paragraph("通知")
    d.add_paragraph(f"联系电话：{mob}")
    buf = io.BytesIO()
    d.save(buf)
    _, hits = _scan_doc(buf.getvalue(), "通知.docx")
    assert hits == [("privacy.mobile", pii.mask("mobile", mob), {"paragraph": 2})]
    from govinspect.sandbox.county import Attachment
    from govinspect.sandbox.files import attachment_bytes

    pdf, _ = attachment_bytes(Attachment(name="a.pdf", path="/a.pdf", kind="pdf", rows=[["公示"], [f"身份证号{pid}"]]))
    _, hits = _scan_doc(pdf, "a.pdf")
    assert hits == [("privacy.id_number", pii.mask("id", pid), {"page": 1})]
    csv_body = f"姓名,身份证号码\r\n张三,{pid}\r\n".encode("gbk")
    _, hits = _scan_doc(csv_body, "export.csv")
    assert hits == [("privacy.id_number", pii.mask("id", pid), {"sheet": "CSV", "cell": "B2"})]
    _, hits = _scan_doc(f"第一行\n希望大家再接再励。\n".encode("gb18030"), "a.txt")
    assert hits == [("content.misspelling", "再接再励", {"line": 2})]


def test_hostile_attachments_give_a_reason_not_a_crash():
    # zip bomb: a small .xlsx whose member inflates to 400 MB
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(400):
                f.write(chunk)
    assert len(buf.getvalue()) < 2_000_000
    doc = extract_document(buf.getvalue(), "bomb.xlsx")
    assert doc.error and ("压缩炸弹" in doc.error or "过大" in doc.error)
    assert "损坏" in extract_document(b"%PDF-1.4 garbage", "x.pdf").error or extract_document(b"%PDF-1.4 garbage", "x.pdf").error
    assert extract_document(b"PK\x03\x04broken", "x.docx").error
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    from govinspect.engine.content.documents import ocr_available

    if not ocr_available():
        assert "OCR" in extract_document(png, "scan.png").error
    assert extract_document(b"\0\1\2" * 100, "x.bin").error  # binary junk is not text


# ----------------------------------------------------------------------------- check-text CLI
def _cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "govinspect.cli", "check-text", *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_check_text_cli_contract(tmp_path):
    rng = random.Random(9)
    pid = ids.make_id(rng)
    text = f"希望大家再接再励。身份证号{pid}。要进一步加强安全生产监督管里，确保安全。"
    r = _cli("-", "--json", stdin=text)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {tuple(sorted(d)) for d in out} >= {("category", "context", "end", "rule", "severity", "start", "suggestion", "text")}
    assert [d["rule"] for d in out] == ["content.misspelling", "privacy.id_number", "content.typo"]
    assert text[out[0]["start"]:out[0]["end"]] == "再接再励" and pid not in r.stdout
    r = _cli("-", "--json", "--rules", "privacy,content.misspelling", stdin=text)
    assert [d["rule"] for d in json.loads(r.stdout)] == ["content.misspelling", "privacy.id_number"]
    f = tmp_path / "a.txt"
    f.write_text(text, encoding="utf-8")
    r = _cli(str(f))
    assert r.returncode == 0 and "再接再励 → 再接再厉" in r.stdout and "共 3 处问题" in r.stderr
    r = _cli("-", "--rules", "nonsense", stdin=text)
    assert r.returncode == 2 and "未知的规则前缀" in r.stderr
    r = _cli(str(tmp_path / "missing.txt"))
    assert r.returncode == 2 and "文件不存在" in r.stderr


def _ocr_or_skip():
    from govinspect.engine.content.documents import ocr_available

    if not ocr_available():
        pytest.skip("OCR is optional (make ocr): rapidocr-onnxruntime is not installed")


def test_images_and_scanned_pdfs_through_ocr():
    _ocr_or_skip()
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(11)
    mob = ids.make_mobile(rng)
    font = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 32)
    img = Image.new("RGB", (900, 160), "white")
    d = ImageDraw.Draw(img)
    d.text((20, 20), f"申请人张三 联系电话{mob}", fill="black", font=font)
    d.text((20, 80), "希望大家再接再励，争取更大成绩", fill="black", font=font)
    for fmt, name in (("PNG", "scan.png"), ("PDF", "scan.pdf")):  # an image-only PDF is a scanned document
        buf = io.BytesIO()
        img.save(buf, fmt)
        doc, hits = _scan_doc(buf.getvalue(), name)
        assert doc.ocr
        assert {(r, t) for r, t, _ in hits} == {("privacy.mobile", pii.mask("mobile", mob)), ("content.misspelling", "再接再励")}


def test_lone_surrogates_do_not_break_the_check():
    """A str may carry lone surrogates (JSON "\\ud800", surrogateescape decoding); the scanners take UTF-8 only.
    The check goes on around them, positions unchanged."""
    text = "希望大家\ud800再接再励，争取\udfff更大成绩"
    for checker in (ContentChecker(typos=False), ContentChecker(only=("content.misspelling", "content.typo"))):
        hits = [(h.rule, h.start, h.end) for h in checker.check(text)]
        assert hits == [("content.misspelling", 5, 9)], hits


def test_a_page_of_many_word_list_hits_is_not_quadratic():
    """10^5 hits on one page (a hostile or broken page repeating a misspelling): every hit is found and the time
    grows about linearly (it was quadratic: 114 s for 10^5 hits); compared as a ratio, not as a time."""
    import time

    c = ContentChecker(only=("content.misspelling",), typos=False)
    times = {}
    for n in (10_000, 100_000):
        text = "做出了重要决定，按装" * n
        t = time.perf_counter()
        hits = c.check(text)
        times[n] = time.perf_counter() - t
        assert len(hits) == 2 * n
        assert {(h.text, h.suggestion) for h in hits} == {("做出", "作出"), ("按装", "安装")}
    assert times[100_000] < 30 * times[10_000], times  # linear: ~10x; quadratic: ~100x
    # allowed phrases still win over the words inside them, many times over
    assert c.check("报名截止日期为12月1日。" * 10_000) == []
