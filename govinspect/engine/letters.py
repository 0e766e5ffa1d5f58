"""Letters (领导信箱/网民留言), 12345 tickets and simulated test letters: import, deadlines, statistics.

Pure (no Django): read_table() reads a CSV/XLSX/XLS export, map_columns() finds the columns by their
Chinese headers (or an explicit mapping), parse_rows() validates every row — a bad row is reported
with its row number, column and reason, good rows go on, nothing is dropped silently. Deadlines are
working days by letter type (rules/letters.toml, or the scheme's [letters]) over the RuleSet's calendar;
statistics give what bulletins print (seed 001: 回复率; seed 003: 办结率, 按时办结率 by type and unit, hot topics),
every rate rounded the scheme's way (RuleSet.rate). letter_findings() turns letters and 12345 tickets finished
late or still open past their deadline into `letter.overdue` / `ticket.overdue` findings on the handling unit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..rules.ruleset import RuleSet
from .finding import Finding, Location, Subject, iso
from .workdays import UnknownYear

FIELDS = ("ref", "unit", "type", "title", "content", "received", "replied", "status")
REQUIRED = ("received",)
HEADERS = {  # canonical field -> headers seen in mailbox and 12345 exports
    "ref": ["编号", "信件编号", "工单编号", "工单号", "受理编号", "序号", "留言编号", "案件编号"],
    "unit": ["承办单位", "办理单位", "责任单位", "处理单位", "转办单位", "交办单位", "单位", "承办部门"],
    "type": ["类型", "信件类型", "诉求类型", "工单类型", "留言类型", "类别", "诉求类别", "问题类型"],
    "title": ["标题", "信件标题", "留言标题", "主题", "诉求标题"],
    "content": ["内容", "信件内容", "留言内容", "诉求内容", "问题描述", "来电内容", "诉求描述"],
    "received": ["来信时间", "留言时间", "受理时间", "来电时间", "提交时间", "收到时间", "派单时间", "登记时间", "发送时间", "写信时间"],
    "replied": ["回复时间", "答复时间", "办结时间", "反馈时间", "处理时间", "回复日期", "办结日期"],
    "status": ["状态", "办理状态", "处理状态", "工单状态", "是否办结"],
}
MAX_ROWS = 1_000_000
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_TEXT_CHARS = 100_000_000  # characters of an .xlsx export (100,000 tickets of 1,000 characters)


class LettersError(ValueError):
    pass


@dataclass
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self):
        return f"第{self.row}行" + (f"“{self.column}”列" if self.column else "") + f"：{self.reason}"


@dataclass
class Letter:
    row: int
    received: dt.datetime
    ref: str = ""
    unit: str = ""
    type: str = "其他"
    title: str = ""
    content: str = ""
    replied: dt.datetime | None = None
    status: str = ""
    warnings: list[str] = field(default_factory=list)
    channel: str = ""  # mailbox | hotline | simulated (letters/models.py CHANNELS)
    file: str = ""  # the import file's name


# ------------------------------------------------------------------------------------------ reading
def read_table(path: Path) -> tuple[list[str], list[list], int]:
    """(headers, data rows, number of the first data row in the file). CSV in UTF-8 (with or without
    BOM) or GBK/GB18030 (as Excel exports it); .xlsx; .xls."""
    path = Path(path)
    if not path.is_file():
        raise LettersError(f"文件不存在：{path}")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LettersError(f"文件过大（{size} 字节，上限 {MAX_FILE_BYTES}）")
    body = path.read_bytes()
    if body.startswith(b"PK\x03\x04"):
        from ..office import Limits, OfficeFileError, load_workbook

        try:  # bounded before and while reading: zip and XML bombs, shared strings, rows, cells, characters
            with load_workbook(body, Limits(file_bytes=MAX_FILE_BYTES, rows=MAX_ROWS + 20, text_chars=MAX_TEXT_CHARS)) as wb:
                if not wb.worksheets:
                    raise LettersError("文件中没有工作表")
                rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        except OfficeFileError as e:
            raise LettersError(str(e)) from None
    elif body.startswith(b"\xd0\xcf\x11\xe0"):
        import xlrd

        try:
            sh = xlrd.open_workbook(file_contents=body).sheet_by_index(0)
        except xlrd.XLRDError as e:
            raise LettersError(f"不是有效的 .xls 文件（{e}）") from e
        rows = []
        for i in range(sh.nrows):
            row = []
            for c in sh.row(i):
                if c.ctype == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate.xldate_as_datetime(c.value, sh.book.datemode))
                else:
                    row.append(c.value)
            rows.append(row)
    else:
        text = _decode(body)
        rows = list(csv.reader(io.StringIO(text)))
    header_i = next((i for i, r in enumerate(rows[:20]) if sum(1 for v in r if str(v or "").strip()) >= 2), None)
    if header_i is None:
        raise LettersError("文件中没有找到表头行（前20行内至少两列有内容的一行）")
    headers = [str(v or "").strip() for v in rows[header_i]]
    data = rows[header_i + 1:]
    if len(data) > MAX_ROWS:
        raise LettersError(f"行数超过上限 {MAX_ROWS}")
    return headers, data, header_i + 2


def _decode(body: bytes) -> str:
    if b"\x00" in body[:2000]:
        raise LettersError("不是文本格式的 CSV 文件（含二进制内容）；请导出为 .csv 或 .xlsx")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return body.decode(enc)
        except UnicodeDecodeError:
            continue
    raise LettersError("无法识别 CSV 文件编码（既不是 UTF-8 也不是 GBK）")


def find_columns(headers: list[str], spec: dict[str, list[str]]) -> dict[str, int]:
    """Field -> index of the first header (spaces ignored) that names it, per spec {field: [header names]}."""
    norm = [re.sub(r"\s+", "", h) for h in headers]
    out: dict[str, int] = {}
    for fname, names in spec.items():
        i = next((norm.index(n) for n in names if n in norm and norm.index(n) not in out.values()), None)
        if i is not None:
            out[fname] = i
    return out


def map_columns(headers: list[str], mapping: dict[str, str] | None = None) -> dict[str, int]:
    """Field -> column index. mapping: {header text: field} given by the operator wins over the
    built-in header names. Missing required fields raise LettersError naming what was found."""
    out: dict[str, int] = {}
    norm = [re.sub(r"\s+", "", h) for h in headers]
    for header, fname in (mapping or {}).items():
        if fname not in FIELDS:
            raise LettersError(f"未知字段“{fname}”（可用：{'、'.join(FIELDS)}）")
        h = re.sub(r"\s+", "", header)
        if h not in norm:
            raise LettersError(f"表头中没有“{header}”列（表头：{'、'.join(h for h in headers if h)}）")
        out[fname] = norm.index(h)
    for fname, i in find_columns(headers, {f: n for f, n in HEADERS.items() if f not in out}).items():
        if i not in out.values():
            out[fname] = i
    missing = [f for f in REQUIRED if f not in out]
    if missing:
        raise LettersError(f"找不到“收到时间”列（可用 --map 表头=received 指定；表头：{'、'.join(h for h in headers if h)}）")
    return out


# ------------------------------------------------------------------------------------------ parsing
_DT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?")


def parse_datetime(v) -> dt.datetime | None:
    """Excel datetimes, Excel serial numbers, '2025-10-08 09:30', '2025/10/8', '2025年10月8日 9时30分'.
    Empty -> None; anything else raises ValueError."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day)
    if isinstance(v, (int, float)):
        if 20000 < v < 80000:  # an Excel serial date
            return dt.datetime(1899, 12, 30) + dt.timedelta(days=float(v))
        raise ValueError(f"不是日期：{v!r}")
    m = _DT.search(str(v))
    if not m:
        raise ValueError(f"无法识别的日期“{str(v)[:30]}”")
    y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    try:
        return dt.datetime(y, mo, d, h, mi, s)
    except ValueError:
        raise ValueError(f"无法识别的日期“{str(v)[:30]}”（日期不存在）") from None


def parse_rows(rows: list[list], colmap: dict[str, int], first_row: int = 2, as_of: dt.date | None = None,
               rules: RuleSet | None = None) -> tuple[list[Letter], list[RowError]]:
    aliases = {a: t for t, names in (rules or RuleSet.load())["letters"]["type_aliases"].items() for a in names}
    good, bad = [], []
    for n, row in enumerate(rows, start=first_row):
        if not any(str(v or "").strip() for v in row):
            continue  # blank line
        cell = lambda f: row[colmap[f]] if f in colmap and colmap[f] < len(row) else None
        try:
            received = parse_datetime(cell("received"))
        except ValueError as e:
            bad.append(RowError(n, _LABEL["received"], str(e)))
            continue
        if received is None:
            bad.append(RowError(n, _LABEL["received"], "收到时间为空"))
            continue
        try:
            replied = parse_datetime(cell("replied"))
        except ValueError as e:
            bad.append(RowError(n, _LABEL["replied"], str(e)))
            continue
        if replied is not None and replied < received:
            bad.append(RowError(n, _LABEL["replied"], f"回复时间 {replied:%Y-%m-%d %H:%M} 早于收到时间 {received:%Y-%m-%d %H:%M}"))
            continue
        if as_of is not None and received.date() > as_of:
            bad.append(RowError(n, _LABEL["received"], f"收到时间 {received:%Y-%m-%d} 晚于统计截止日 {as_of}"))
            continue
        raw_type = str(cell("type") or "").strip()
        warnings = []
        typ = aliases.get(raw_type) or next((t for a, t in aliases.items() if a and a in raw_type), None)
        if typ is None:
            typ = "其他"
            if raw_type:
                warnings.append(f"类型“{raw_type}”不认识，按“其他”计（可在 rules/letters.toml 的 type_aliases 中补充）")
        good.append(Letter(row=n, received=received, replied=replied, type=typ, warnings=warnings,
                           **{f: str(cell(f) or "").strip() for f in ("ref", "unit", "title", "content", "status")}))
    return good, bad


_LABEL = {"received": "收到时间", "replied": "回复时间"}


# ------------------------------------------------------------------------------------------ deadlines
@dataclass
class Assessment:
    due: dt.date | None
    state: str  # on_time | late | open | overdue_open | unknown
    workdays_taken: int | None = None
    reason: str = ""


def deadline_workdays(letter: Letter, rules) -> int:
    limits = rules["letters"]["deadline_workdays"]
    return limits.get(letter.type, limits["其他"])


def assess(letter: Letter, as_of: dt.date, rules: RuleSet | None = None) -> Assessment:
    """The letter's deadline and state at as_of. A year without holiday data gives "unknown" (never a guess).
    workdays_taken: working days to the reply, or (still open) to as_of."""
    rules = rules or RuleSet.load()
    cal = rules.calendar
    try:
        due = cal.add_workdays(letter.received.date(), deadline_workdays(letter, rules))
        if letter.replied is not None:
            taken = cal.workdays_between(letter.received.date(), letter.replied.date())
            return Assessment(due, "on_time" if letter.replied.date() <= due else "late", taken)
        return Assessment(due, "overdue_open" if as_of > due else "open", cal.workdays_between(letter.received.date(), as_of))
    except UnknownYear as e:
        return Assessment(None, "unknown", reason=str(e))


def letter_findings(letters: list[Letter], as_of: dt.date, period: tuple[dt.date, dt.date] | None = None,
                    rules: RuleSet | None = None) -> list[Finding]:
    """`letter.overdue` (mailbox letters) / `ticket.overdue` (12345 tickets) for every letter received in period
    (all when None) that was finished after its deadline or is still open past it at as_of. Simulated test letters
    are measured by simulated_bands, not found here. A year without holiday data gives no finding."""
    rules = rules or RuleSet.load()
    out = []
    for l in letters:
        if l.channel == "simulated" or (period and not period[0] <= l.received.date() <= period[1]):
            continue
        a = assess(l, as_of, rules)
        if a.state not in ("late", "overdue_open"):
            continue
        kind = "ticket" if l.channel == "hotline" else "letter"
        n = deadline_workdays(l, rules)
        what = ("12345工单" if kind == "ticket" else "信件") + (l.ref or f"（第{l.row}行）")
        when = (f"{l.replied:%Y年%m月%d日}办结，用时{a.workdays_taken}个工作日" if l.replied
                else f"截至{as_of:%Y年%m月%d日}仍未办结")
        detail = (f"{l.unit or '承办单位未注明'}承办的{l.type}类{what}{l.received:%Y年%m月%d日}收到，应于{a.due:%Y年%m月%d日}前办结"
                  f"（{n}个工作日），{when}")
        out.append(Finding(
            rule=f"{kind}.overdue", detail=detail, subject=Subject(kind=kind, unit=l.unit, ref=l.ref),
            location=Location(file=l.file, row=l.row) if l.file else Location(),
            facts={"number": l.ref, "kind": l.type, "unit": l.unit, "received": l.received.isoformat(sep=" "),
                   "due": iso(a.due), "finished": l.replied.isoformat(sep=" ") if l.replied else None, "workdays": n,
                   "taken": a.workdays_taken}))
    return out


# ------------------------------------------------------------------------------------------ statistics
def rate(num: int, den: int, rules: RuleSet | None = None) -> str:
    """A percentage as bulletins print it: RuleSet.rate (the scheme's rounding: 29/31 -> 93.54 truncated, 93.55
    half up), a whole number without decimals ("100"), "—" over nothing."""
    r = (rules or RuleSet.load()).rate(num, den)
    if r is None:
        return "—"
    return r.rstrip("0").rstrip(".") if "." in r and not r.split(".")[1].strip("0") else r


def classify_topic(text: str, topics: list[dict] | None = None) -> str:
    topics = topics if topics is not None else RuleSet.load()["topics"]["topic"]
    best, best_n = "其他", 0
    for t in topics:
        n = sum(text.count(k) for k in t["keywords"])
        if n > best_n:
            best, best_n = t["name"], n
    return best


def statistics(letters: list[Letter], as_of: dt.date, rules: RuleSet | None = None) -> dict:
    rules = rules or RuleSet.load()
    total = len(letters)
    by_type = Counter(l.type for l in letters)
    states = [assess(l, as_of, rules) for l in letters]
    closed = sum(1 for l in letters if l.replied is not None)
    on_time = sum(1 for s in states if s.state == "on_time")
    late = [(l, s) for l, s in zip(letters, states) if s.state == "late"]
    overdue_open = [(l, s) for l, s in zip(letters, states) if s.state == "overdue_open"]
    units = defaultdict(lambda: Counter())
    for l, s in zip(letters, states):
        u = units[l.unit or "（未注明）"]
        u["received"] += 1
        u[s.state] += 1
        u["closed"] += l.replied is not None
    topic_list = rules["topics"]["topic"]
    topics = Counter(classify_topic(l.title + " " + l.content, topic_list) for l in letters)
    return {
        "received": total, "closed": closed, "open": total - closed, "on_time": on_time, "late": len(late),
        "overdue_open": len(overdue_open), "unknown": sum(1 for s in states if s.state == "unknown"),
        "closed_rate": rate(closed, total, rules), "on_time_rate": rate(on_time, closed, rules),
        "by_type": dict(by_type), "units": len({l.unit for l in letters if l.unit}),
        "by_unit": {u: dict(c, closed_rate=rate(c["closed"], c["received"], rules), on_time_rate=rate(c["on_time"], c["closed"], rules))
                    for u, c in sorted(units.items())},
        "late_by_unit": dict(Counter(l.unit or "（未注明）" for l, _ in late).most_common()),
        "topics": dict(topics.most_common()),
        "topic_share": {t: rate(n, total, rules) for t, n in topics.most_common()},
    }


TYPE_ORDER = ("咨询", "投诉", "建议", "求助", "举报", "其他")


def prose(stats: dict, label: str = "网民留言", topics: bool = False) -> str:
    """The seed-003 sentence: 共收到网民留言31件，办结31件，办结率100%，按时办结率93.54%（住建局超期2件）。其中…
    topics: end with the hot topics (诉求热点) and their shares (12345 tickets)."""
    s = stats
    items = list(s["late_by_unit"].items())
    late = "、".join(f"{u}超期{n}件" for u, n in items[:3]) + (f"等{len(items)}个单位" if len(items) > 3 else "")
    text = (f"共收到{label}{s['received']}件，办结{s['closed']}件，办结率{s['closed_rate']}%，"
            f"按时办结率{s['on_time_rate']}%" + (f"（{late}）" if late else "") + "。")
    parts = [f"{t}类{s['by_type'][t]}件" for t in TYPE_ORDER if s["by_type"].get(t)]
    units = [u for u in s["by_unit"] if u != "（未注明）"]
    towns = [u for u in units if u.endswith(("镇", "乡", "街道", "镇人民政府", "乡人民政府", "街道办事处"))]
    if parts:
        text += "其中，" + "，".join(parts)
        if units:
            text += "，分别交由" + "和".join(x for x in (f"{len(towns)}个镇" if towns else "",
                                                     f"{len(units) - len(towns)}个单位" if len(units) > len(towns) else "") if x) + "办理"
        text += "。"
    if s["open"]:
        text += f"正在办理{s['open']}件" + (f"，其中已超过办理期限{s['overdue_open']}件" if s["overdue_open"] else "") + "。"
    if topics and s.get("topics"):
        text += "诉求热点：" + "；".join(f"{t}{n}件，占比{s['topic_share'][t]}%" for t, n in s["topics"].items()) + "。"
    return text


def simulated_bands(letters: list[Letter], as_of: dt.date, rules: RuleSet | None = None) -> dict:
    """Seed 001: test letters answered within 2 working days, within 5, late, not answered by as_of."""
    rules = rules or RuleSet.load()
    b1, b2 = rules["letters"]["simulated"]["bands"]
    out = Counter()
    for l in letters:
        if l.replied is None:
            out["unanswered"] += 1
            continue
        try:
            taken = rules.calendar.workdays_between(l.received.date(), l.replied.date())
        except UnknownYear:
            out["unknown"] += 1
            continue
        out[f"within_{b1}" if taken <= b1 else f"within_{b2}" if taken <= b2 else "late"] += 1
    return dict(out)
