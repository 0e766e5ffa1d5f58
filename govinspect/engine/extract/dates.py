"""Date parsing and the publish-date heuristics for Chinese government pages.

Order (each step named so tests can say which one decided):
  1. meta      - <meta name="PubDate"> (and the other publish-date meta names CMSs use)
  2. cms       - CMS property blocks kept in comments (e.g. <!--enpproperty <date>...</date>-->)
  3. labelled  - a date right after a label such as 发布日期/发布时间/公开日期 ..., in the page text
  4. url       - URL patterns: t20241013_123.html, /art/2024/10/13/, /2024-10/13/, /202410/13/
  5. title     - the first date within a short distance after the title (gne-style fallback)
Never used: the header clock (今天是…), copyright years, or dates in related-link boxes, because
none of them is labelled, and the title fallback only looks right after the title.
"""

from __future__ import annotations

import datetime as dt
import re

_Y = r"((?:19|20)\d{2})"
DATE_RE = re.compile(
    _Y + r"\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?!\d)\s*日?"
)

# Labels in decreasing trust. "时间"/"日期" alone are weak and only used when nothing stronger exists.
STRONG_LABELS = ("发布日期", "发布时间", "公开日期", "发文日期", "发表时间", "发稿时间", "公布日期", "印发日期", "发表日期", "上传时间")
WEAK_LABELS = ("日期", "时间", "更新时间")
# Labels that look like dates of something else: never a publish date.
_NOT_PUBLISH = ("留言时间", "答复时间", "回复时间", "访问时间", "办结时间", "受理时间", "截止时间", "截止日期", "成文日期", "生效时间", "终止时间", "会议时间", "报名时间")
_CLOCK_PREFIX = re.compile(r"(今天是|今日|当前时间|现在时间|星期)")

_LABEL_RE = re.compile(
    r"(" + "|".join(map(re.escape, _NOT_PUBLISH + STRONG_LABELS + WEAK_LABELS)) + r")\s*[:：]?\s*(?:[\[【(（]\s*)?"
    + DATE_RE.pattern
)

_URL_PATTERNS = [
    re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_\d+"),
    re.compile(r"/art/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"),
    re.compile(r"/((?:19|20)\d{2})-(\d{2})/(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})/(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})(\d{2})/"),
]
_CMS_COMMENT_DATE = re.compile(r"<date>\s*" + DATE_RE.pattern)


def make_date(y: str, m: str, d: str) -> dt.date | None:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


CLOCK_RE = re.compile(r"(今天是|今日是|今天|当前时间|现在时间|现在是)\s*[:：]?\s*" + DATE_RE.pattern + r"(\s*星期[一二三四五六日天])?")


def strip_clock(text: str) -> str:
    """Remove header clocks ("今天是：2026年11月23日 星期一"): never a publication date."""
    if not text or not ("今" in text or "当前" in text or "现在" in text):
        return text or ""
    return CLOCK_RE.sub(" ", text)


def parse_date(text: str) -> dt.date | None:
    """First valid date in text, or None."""
    for m in DATE_RE.finditer(text or ""):
        d = make_date(*m.groups())
        if d:
            return d
    return None


def all_dates(text: str) -> list[dt.date]:
    out = []
    for m in DATE_RE.finditer(text or ""):
        d = make_date(*m.groups())
        if d:
            out.append(d)
    return out


def labelled_date(text: str) -> dt.date | None:
    """The publish date from labelled occurrences; strong labels first, then weak ones."""
    if not text or ("日期" not in text and "时间" not in text):  # every label has one of them (a substring test: no regex pass)
        return None
    strong = weak = None
    text = strip_clock(text)
    for m in _LABEL_RE.finditer(text):
        label = m.group(1)
        if label in _NOT_PUBLISH:
            continue
        d = make_date(m.group(2), m.group(3), m.group(4))
        if not d:
            continue
        if label in STRONG_LABELS:
            return d
        # a weak label right after a clock prefix ("今天是 日期：...") is the header clock
        if weak is None and not _CLOCK_PREFIX.search(text[max(0, m.start() - 12): m.start()]):
            weak = d
    return strong or weak


def url_date(url: str) -> dt.date | None:
    for pat in _URL_PATTERNS:
        m = pat.search(url or "")
        if m:
            d = make_date(*m.groups())
            if d:
                return d
    return None


def cms_comment_date(html: str) -> dt.date | None:
    m = _CMS_COMMENT_DATE.search(html)
    return make_date(*m.groups()) if m else None

_MONTH_DAY = re.compile(r"(?<![\d.\-/])(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?![\d.\-/])\s*日?")
# /202310/, /20231011/, /2023-10/, EmpireCMS folders /2023-10-11/ (the upload day: only its year is used, and only
# when its month agrees with the list's)
_URL_YEAR_MONTH = re.compile(r"/((?:19|20)\d{2})-?(\d{2})(?:/|-?\d{2}/|_)")


def month_day_with_url_year(text: str, url: str) -> dt.date | None:
    """A list item dated "10-11" (no year): take the year from the item URL when its month agrees.

    Real lists (e.g. class="MM-dd") print only month and day; TRS-style URLs carry /202310/.
    Without a URL year the date is ambiguous and is not guessed.
    """
    m = _MONTH_DAY.search(text or "")
    if not m:
        return None
    month, day = int(m.group(1)), int(m.group(2))
    full = url_date(url)
    if full and full.month == month:
        return make_date(str(full.year), str(month), str(day))
    ym = _URL_YEAR_MONTH.search(url or "")
    if ym and int(ym.group(2)) == month:
        return make_date(ym.group(1), str(month), str(day))
    return None


_HEADING_YEAR = re.compile(r"^[^\d]{0,12}((?:19|20)\d{2})\s*年(?!\s*\d)")


def month_day(text: str) -> tuple[int, int] | None:
    """(month, day) of the first "10-11" / "10月11日" in text, or None."""
    m = _MONTH_DAY.search(text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def heading_year(text: str) -> int | None:
    """The year a short heading names by itself ("2025年", "2025年工作动态"), not a full date ("2025年3月10日")."""
    m = _HEADING_YEAR.match(text or "") if text and len(text) <= 30 else None
    return int(m.group(1)) if m else None
