"""依申请公开 reply letters (政府信息公开申请答复书): deadline, reply type and remedy wording.

check_reply(text, ...) reads a reply letter's text (from .docx/.pdf/.txt through
engine/content/documents.py) and reports, with the sentence that shows it:
- reply.late: replied more than 20 working days after receipt (40 when the letter says it was extended);
- reply.type_unclear: none of the seven reply types of 条例 Art. 36 can be recognised;
- reply.remedy_missing: no 行政复议 / 行政诉讼 remedy at all (条例 Art. 51);
- reply.remedy_period: a remedy period other than 60 days (复议) or 6 months (诉讼);
- reply.review_first: a refusal dated 2024-01-01 or later that offers a direct lawsuit instead of 复议 first
  (复议法 Art. 23);
- reply.review_body: a non-vertical local department naming its 上一级主管部门 as the 复议 body after 2024-01-01
  (复议法 Art. 24);
- reply.outdated_limit: quotes the 2007 条例's 15 working days.
Dates: received from "于…收到您…申请" style sentences, the reply date from the last date of the letter (its
signature) unless given. A missing date gives no deadline finding (never a guess).

Findings are engine.finding.Finding on the letter (subject kind "reply", ref = its file name, unit = the replying
agency when known), located at the paragraph of the sentence that shows the problem. check_replies() reads files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..rules.ruleset import RuleSet
from .finding import Evidence, Finding, Location, Subject, iso
from .workdays import UnknownYear

_DATE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
_RECEIVED = re.compile(r"(?:于|在)?" + _DATE + r"[^。；\n]{0,30}?(?:收到|受理|提交|提出)[^。；\n]{0,30}?申请")
_RECEIVED2 = re.compile(r"(?:收到|受理)[^。；\n]{0,10}?" + _DATE + r"[^。；\n]{0,20}?申请")
_SIGNATURE_DATE = re.compile(r"(?m)^" + _DATE + r"$")  # the date line under the signature
_REVIEW = re.compile(r"行政复议")
_SUIT = re.compile(r"行政诉讼|提起诉讼")
_REVIEW_PERIOD = re.compile(r"(\d+|[一二三四五六七八九十百]+)\s*(日|天|个月)内[^。；]{0,40}?(?:申请)?行政复议")
_SUIT_PERIOD = re.compile(r"(\d+|[一二三四五六七八九十]+)\s*(日|天|个?月)内[^。；]{0,40}?(?:提起)?(?:行政)?诉讼")
_DIRECT_SUIT = re.compile(r"(?:或者|或|也可以|也可)[^。；]{0,30}?(?:直接)?[^。；]{0,10}?(?:向[^。；]{0,30}人民法院)?[^。；]{0,10}?提起(?:行政)?诉讼")
_UPPER_BODY = re.compile(r"向[^。；]{0,20}?上一?级(?:主管)?部门[^。；]{0,20}?申请行政复议")
_REVIEW_BODIES = re.compile(r"向([^。；，,]{2,60}?)申请行政复议")
_DEPARTMENT = re.compile(r"(?:局|厅|委员会|委|办公室|部)$")
_CN = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


@dataclass
class ReplyResult:
    received: dt.date | None
    replied: dt.date | None
    types: list[str]
    due: dt.date | None = None
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"received": self.received.isoformat() if self.received else None,
                "replied": self.replied.isoformat() if self.replied else None,
                "due": self.due.isoformat() if self.due else None, "types": self.types,
                "findings": [f.to_dict() for f in self.findings]}


def _cn_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + _CN.get(s[1:], 0)
    if "十" in s:
        a, _, b = s.partition("十")
        return _CN.get(a, 0) * 10 + (_CN.get(b, 0) if b else 0)
    return _CN.get(s, 0)


def _d(m) -> dt.date | None:
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _sentence(text: str, pos: int) -> str:
    a = max(text.rfind("。", 0, pos), text.rfind("\n", 0, pos)) + 1
    b = min([i for i in (text.find("。", pos), text.find("\n", pos)) if i >= 0] or [len(text)])
    return text[a:b + 1].strip()[:200]


def _paragraph(text: str, pos: int) -> int:
    """The 1-based number of the (non-empty) paragraph holding text[pos]."""
    return sum(1 for line in text[:pos].split("\n")[:-1] if line.strip()) + 1


def check_reply(text: str, received: dt.date | None = None, replied: dt.date | None = None,
                issuer: str = "", rules: RuleSet | None = None, file: str = "") -> ReplyResult:
    """issuer: the replying agency's name (a vertical body such as 税务 may name its 上一级主管部门);
    file: the letter's file name (the findings' subject and location)."""
    rs = rules or RuleSet.load()
    rules = rs["replies"]
    text = re.sub(r"[ \t\u3000]+", "", text)
    if received is None:
        m = _RECEIVED.search(text) or _RECEIVED2.search(text)
        received = _d(m) if m else None
    if replied is None:
        dates = [d for d in (_d(m) for m in _SIGNATURE_DATE.finditer(text)) if d]
        replied = dates[-1] if dates else None
    types = [t for t, pats in rules["types"].items() if any(re.search(p, text) for p in pats)]
    res = ReplyResult(received, replied, types)
    subject = Subject(kind="reply", ref=file, unit=issuer)

    def add(rule, detail, pos=None, match=""):
        sentence = _sentence(text, pos) if pos is not None else ""
        res.findings.append(Finding(
            rule=rule, detail=(f"答复书《{file}》" if file else "") + detail, subject=subject,
            location=Location(file=file, paragraph=_paragraph(text, pos) if pos is not None else None),
            facts={"file": file, "sentence": sentence, "received": iso(received), "replied": iso(replied)},
            evidence=Evidence(excerpt=sentence), match=match))

    if received and replied:
        extended = "延长" in text
        n = rules["reply_workdays"] + (rules["extension_workdays"] if extended else 0)
        try:
            res.due = rs.calendar.add_workdays(received, n)
            if replied > res.due:
                add("reply.late", f"{received:%Y年%m月%d日}收到申请，{replied:%Y年%m月%d日}答复，超过{n}个工作日的答复期限（{res.due:%Y年%m月%d日}）"
                    + ("（已计入延长期限）" if extended else ""))
        except UnknownYear:
            pass  # no holiday data for that year: no deadline finding, never a guess
    if not types:
        add("reply.type_unclear", "答复内容无法对应条例第三十六条规定的任何一种答复情形")
    has_review, has_suit = _REVIEW.search(text), _SUIT.search(text)
    if not has_review and not has_suit:
        add("reply.remedy_missing", "未告知申请人行政复议、行政诉讼的救济途径")
    m = _REVIEW_PERIOD.search(text)
    if m:
        n, unit = _cn_int(m.group(1)), m.group(2)
        if not (unit in ("日", "天") and n == 60):
            add("reply.remedy_period", f"行政复议期限写为“{m.group(1)}{unit}”，应为收到答复之日起60日内（行政复议法第二十条）", m.start(), "行政复议")
    m = _SUIT_PERIOD.search(text)
    if m and not _REVIEW_PERIOD.search(m.group(0)):
        n, unit = _cn_int(m.group(1)), m.group(2)
        if not ("月" in unit and n == 6) and not (unit in ("日", "天") and n == 15 and "复议决定" in text[max(0, m.start() - 40):m.end()]):
            add("reply.remedy_period", f"行政诉讼期限写为“{m.group(1)}{unit}”，应为6个月（行政诉讼法第四十六条）", m.start(), "行政诉讼")
    since = dt.date.fromisoformat(rules["review_first_since"])
    if replied and replied >= since:
        refusal = "不予公开" in types or "部分公开" in types
        d = _DIRECT_SUIT.search(text)
        if refusal and has_review and d:
            add("reply.review_first", "对不予公开的答复，2024年1月1日起应先申请行政复议（复议前置），不能告知直接提起行政诉讼（行政复议法第二十三条）", d.start())
        u = _UPPER_BODY.search(text)
        if u is None:  # a department named as the 复议 body ("向某市某局或某县人民政府申请行政复议")
            for m in _REVIEW_BODIES.finditer(text):
                names = re.split(r"或者|或|、", m.group(1))
                if any(_DEPARTMENT.search(n.strip()) and "人民政府" not in n for n in names):
                    u = m
                    break
        if u and not any(v in issuer for v in rules["vertical_units"]):
            add("reply.review_body", "2024年1月1日起，地方人民政府工作部门的行政复议机关为本级人民政府，不再是上一级主管部门（行政复议法第二十四条）", u.start())
    if re.search(rules["old_limit_pattern"], text):
        add("reply.outdated_limit", "引用了2007年条例的“15个工作日”期限，现行条例为20个工作日（可延长20个工作日）", text.find("15个工作日"))
    return res


def check_replies(paths: list[Path], rules: RuleSet | None = None) -> tuple[list[Finding], dict]:
    """Reply letter files (.docx .pdf .txt …): every letter's findings and the bulletin's sentence. The replying
    agency is read from the line above the date under the signature."""
    from .content.documents import extract_document

    rules = rules or RuleSet.load()
    findings, unreadable, checked, late, with_problems = [], [], 0, 0, 0
    for path in paths:
        path = Path(path)
        doc = extract_document(path.read_bytes(), path.name)
        if doc.error:
            unreadable.append(f"{path.name}（{doc.error}）")
            continue
        text = "\n".join(x.text for x in doc.segments)
        lines = text.strip().splitlines()
        sign = lines[-2].strip() if len(lines) >= 2 else ""  # the issuing agency signs above the date
        res = check_reply(text, issuer=sign, rules=rules, file=path.name)
        checked += 1
        late += any(f.rule == "reply.late" for f in res.findings)
        with_problems += bool(res.findings)
        findings += res.findings
    stats = {"checked": checked, "unreadable": unreadable, "late": late, "with_problems": with_problems,
             "text": f"抽查依申请公开答复书{checked}份，{with_problems}份存在问题，其中超期答复{late}份。"}
    return findings, stats
