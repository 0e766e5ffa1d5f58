"""依申请公开 reply letters: deadline, reply type, remedy wording (indicators.md §5), from real files."""

import datetime as dt
import subprocess
import sys

import pytest

from govinspect.engine.content.documents import extract_document
from govinspect.engine.finding import Location, Subject
from govinspect.engine.replies import check_replies, check_reply
from govinspect.rules.ruleset import RuleSet
from govinspect.sandbox.replies import GOOD, LETTERS, letter_bytes


@pytest.mark.parametrize("name", sorted(LETTERS))
def test_sandbox_reply_letters_against_truth(name):
    text, issuer, expected = LETTERS[name]
    doc = extract_document(letter_bytes(name), name)  # .txt (GBK), .docx and .pdf read back from real files
    assert doc.error is None
    res = check_reply("\n".join(s.text for s in doc.segments), issuer=issuer, file=name)
    assert sorted(f.rule for f in res.findings) == expected, [f.detail for f in res.findings]
    assert res.received is not None and res.replied is not None
    for f in res.findings:
        assert f.subject == Subject(kind="reply", ref=name, unit=issuer) and f.location.file == name
        assert f.facts["file"] == name and f.facts["received"] == res.received.isoformat()
        assert f.facts["sentence"] == f.evidence.excerpt and f.detail.startswith(f"答复书《{name}》")
        if f.evidence.excerpt:  # located: the paragraph holds the sentence
            assert f.location.paragraph >= 1
    assert len({f.fingerprint for f in res.findings}) == len(res.findings)


def test_deadline_counts_working_days_and_extension():
    base = GOOD.replace("2025年3月3日", "2025年9月22日")
    # 20 working days from Mon 22 Sep 2025: Sun 28 Sep and Sat 11 Oct worked, 1-8 Oct off -> Fri 24 Oct
    late = check_reply(base.replace("2025年3月20日", "2025年10月27日"))
    assert late.due == dt.date(2025, 10, 24) and [f.rule for f in late.findings] == ["reply.late"]
    on_time = check_reply(base.replace("2025年3月20日", "2025年10月24日"))
    assert on_time.findings == []
    extended = check_reply(base.replace("2025年3月20日", "2025年11月20日").replace("经审查", "经批准延长答复期限，经审查"))
    assert extended.due == dt.date(2025, 11, 21) and extended.findings == []
    undated = check_reply(base.replace("\n2025年3月20日", ""))
    assert undated.replied is None and undated.due is None and undated.findings == []  # no date: no deadline claim


def test_remedy_wording_rules():
    refusal = ("本机关于2024年3月1日收到您的申请。经审查，该信息属于内部事务信息，决定不予公开。"
               "如不服，可在60日内向清河县人民政府申请行政复议。\n2024年3月15日")
    assert check_reply(refusal).findings == []  # 复议 first, right body, right period
    direct = refusal.replace("申请行政复议。", "申请行政复议，或者在6个月内向清河县人民法院提起行政诉讼。")
    assert [f.rule for f in check_reply(direct).findings] == ["reply.review_first"]
    before = direct.replace("2024年3月15日", "2023年12月15日").replace("2024年3月1日", "2023年12月1日")
    assert check_reply(before).findings == []  # before 2024-01-01 a direct lawsuit was allowed
    upper = refusal.replace("向清河县人民政府", "向上一级主管部门")
    assert [f.rule for f in check_reply(upper, issuer="清河县民政局").findings] == ["reply.review_body"]
    assert check_reply(upper, issuer="国家税务总局清河县税务局").findings == []  # vertical bodies keep the upper level
    period = refusal.replace("60日", "十五日")
    (f,) = check_reply(period, file="答复.txt").findings
    assert f.rule == "reply.remedy_period" and "十五日内向清河县人民政府申请行政复议" in f.evidence.excerpt
    assert f.location == Location(file="答复.txt", paragraph=1)
    both = period.replace("申请行政复议。", "申请行政复议。\n也可以在3个月内向清河县人民法院提起行政诉讼。")
    periods = [f for f in check_reply(both, file="答复.txt").findings if f.rule == "reply.remedy_period"]
    assert [f.location.paragraph for f in periods] == [1, 2] and len({f.fingerprint for f in periods}) == 2


def test_replies_cli(tmp_path):
    for name in LETTERS:
        (tmp_path / name).write_bytes(letter_bytes(name))
    r = subprocess.run([sys.executable, "-m", "govinspect.cli", "replies", *sorted(str(p) for p in tmp_path.iterdir())],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "reply.review_first" in r.stdout and "未发现问题" in r.stdout and "原文：" in r.stdout
    r = subprocess.run([sys.executable, "-m", "govinspect.cli", "replies", str(tmp_path / "none.pdf")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "文件不存在" in r.stderr


def test_check_replies_files_and_scheme_calendar(tmp_path):
    paths = []
    for name in sorted(LETTERS):
        (tmp_path / name).write_bytes(letter_bytes(name))
        paths.append(tmp_path / name)
    findings, stats = check_replies(paths, RuleSet.load())
    expected = {name: rules for name, (_, _, rules) in LETTERS.items()}
    got = {}
    for f in findings:
        got.setdefault(f.subject.ref, []).append(f.rule)
    assert {k: sorted(v) for k, v in got.items()} == {k: v for k, v in expected.items() if v}
    assert stats["checked"] == len(LETTERS) and stats["with_problems"] == sum(bool(v) for v in expected.values())
    assert stats["text"].startswith(f"抽查依申请公开答复书{len(LETTERS)}份")
    # the admin's calendar reaches the deadline: a Saturday worked inside the period brings it forward a day
    base = GOOD.replace("2025年3月3日", "2025年9月22日").replace("2025年3月20日", "2025年10月24日")
    assert check_reply(base).findings == []
    worked = RuleSet.load(calendar={dt.date(2025, 10, 18): True})
    late = check_reply(base, rules=worked)
    assert late.due == dt.date(2025, 10, 23) and [f.rule for f in late.findings] == ["reply.late"]
