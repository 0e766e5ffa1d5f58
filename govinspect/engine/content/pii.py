"""Personal data in published text: resident ID numbers, mobile numbers, bank card numbers.

One regex pass finds candidates; hand-rolled checks validate them (GB 11643 check digit, a real date,
a known province prefix; Luhn and a card prefix; mobile number blocks). Masked forms
(1305**********123X, 138****1234) are recognised as compliant. A finding never carries the full
value: Hit.text is masked the way bulletins print it.
"""

from __future__ import annotations

import datetime as dt
import re

from .lexicon import Hit

PROVINCES = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54,
             61, 62, 63, 64, 65, 71, 81, 82}
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_FULLWIDTH_DIGITS = re.compile("[\uff10-\uff19\uff38\uff58]")
_FW = {c: c - 0xFEE0 for c in range(0xFF10, 0xFF1A)} | {0xFF38: ord("X"), 0xFF58: ord("x")}
# cheap pre-filters (hundreds of MB/s): the exact patterns below then run only on these windows
_RUNS = re.compile(r"[0-9][0-9 -]{10,}", re.ASCII)
_STARS = re.compile(r"\*{4,}")
_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z*])(?:(?P<card>(?:\d{4}[ -]){3}\d{4}(?:[ -]?\d{1,3})?)|(?P<num>\d{11,19}[Xx]?))(?![0-9A-Za-z*])",
    re.ASCII)
_MASKED = re.compile(
    r"(?<![0-9A-Za-z*])(?:(?P<id>\d{1,6}\*{6,14}\d{0,4}[\dXx]?)|(?P<mobile>1\d{2}\*{4}\d{4})|(?P<card>\d{4,6}\*{6,13}\d{4}))(?![0-9A-Za-z*])",
    re.ASCII)
_ID_CONTEXT = re.compile(r"身份证|证件号|公民身份|身份号码")
_CARD_CONTEXT = re.compile(r"卡号|银行|账号|帐号|账户|帐户|开户|储蓄卡|借记卡|信用卡|社保卡|一卡通")
MOBILE_PREFIX = re.compile(r"1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}$")
CARD_PREFIX = re.compile(r"(?:62|4|5[1-5]|2[2-7]|35|9\d)")


def id_valid(v: str) -> bool:
    """18-digit resident ID: province prefix, birth date, GB 11643 check digit."""
    if len(v) != 18 or not v[:17].isdigit() or int(v[:2]) not in PROVINCES:
        return False
    try:
        born = dt.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    if not (dt.date(1900, 1, 1) <= born <= dt.date.today()):
        return False
    return _CHECK[sum(int(a) * w for a, w in zip(v[:17], _W)) % 11] == v[17].upper()


def id15_valid(v: str) -> bool:
    """15-digit ID (issued before 1999): province prefix and birth date 19YYMMDD; no check digit."""
    if len(v) != 15 or not v.isdigit() or int(v[:2]) not in PROVINCES:
        return False
    try:
        dt.date(1900 + int(v[6:8]), int(v[8:10]), int(v[10:12]))
    except ValueError:
        return False
    return True


def luhn_valid(v: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(v)):
        n = ord(ch) - 48
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def mask(kind: str, v: str) -> str:
    if kind == "id":
        return v[:4] + "*" * (len(v) - 8) + v[-4:]
    if kind == "mobile":
        return v[:3] + "****" + v[-4:]
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


RULES = {"id": ("privacy.id_number", "身份证号码"), "mobile": ("privacy.mobile", "手机号码"),
         "card": ("privacy.bank_card", "银行卡号")}
SUGGESTION = {"id": "隐去出生日期等中间位，如 {m}", "mobile": "隐去中间四位，如 {m}", "card": "仅保留前六位和后四位，如 {m}"}


def _hit(kind: str, start: int, end: int, value: str) -> Hit:
    rule, label = RULES[kind]
    m = mask(kind, value)
    return Hit(rule=rule, start=start, end=end, text=m, suggestion=SUGGESTION[kind].format(m=m), category=label,
               severity="high", note=f"完整{label}")


def scan(text: str, table_context: str = "") -> tuple[list[Hit], list[Hit]]:
    """(violations, compliant masked values). table_context: header text of the table the text comes
    from (an ID column header makes a bare 15-digit number an ID number)."""
    if _FULLWIDTH_DIGITS.search(text):
        text = text.translate(_FW)
    hits: list[Hit] = []
    n = len(text)
    for run in _RUNS.finditer(text):
        for m in _CANDIDATE.finditer(text, run.start(), min(n, run.end() + 2)):
            raw = m.group("card") or m.group("num")
            digits = raw.replace(" ", "").replace("-", "")
            s, e = m.span()
            before = text[max(0, s - 30):s]
            if len(digits) == 18 and id_valid(digits):
                hits.append(_hit("id", s, e, digits.upper()))
            elif len(digits) == 11 and MOBILE_PREFIX.match(digits):
                hits.append(_hit("mobile", s, e, digits))
            elif len(digits) == 15 and id15_valid(digits) and (_ID_CONTEXT.search(before) or _ID_CONTEXT.search(table_context)):
                hits.append(_hit("id", s, e, digits))
            elif (16 <= len(digits) <= 19 and digits.isdigit() and CARD_PREFIX.match(digits) and luhn_valid(digits)
                  and (_CARD_CONTEXT.search(before) or _CARD_CONTEXT.search(table_context))):
                hits.append(_hit("card", s, e, digits))
    masked = []
    last = -1
    for star in (_STARS.finditer(text) if "****" in text else ()):  # the substring test is 10x cheaper
        for m in _MASKED.finditer(text, max(last, star.start() - 7), min(n, star.end() + 7)):
            if m.start() < last:
                continue
            last = m.end()
            kind = m.lastgroup
            rule, label = RULES[kind]
            masked.append(Hit(rule=rule, start=m.start(), end=m.end(), text=m.group(), suggestion="", category=label,
                              severity="info", note=f"{label}已脱敏（合规）"))
    return hits, masked


_LONG_RUN = re.compile(r"\d{11,}[Xx]?|(?:\d{4}[ -]){3}\d{4}(?:[ -]?\d{1,3})?")


def mask_runs(text: str) -> str:
    """Every long digit run masked, valid or not (context snippets shown as evidence: a number cut
    off at the snippet's edge cannot be validated, and must not leak either)."""
    if _FULLWIDTH_DIGITS.search(text):
        text = text.translate(_FW)
    return _LONG_RUN.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 7) + m.group()[-4:], text)
