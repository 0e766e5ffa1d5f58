"""Column freshness (栏目更新): indicators WV-3 (home page) and WV-4 (columns), GEN-7.

Pure functions over a crawl result: for each column, the newest item date against its category's
window at the as-of date; empty columns; the home page; the single-veto counts. A column whose page
could not be fetched, or whose items carry no dates we can read, is "unknown" (could not check),
never "stale".
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ...rules import RulesError
from ..finding import Finding, iso
from .registry import check

STATUS_LABELS = {"ok": "正常", "stale": "未按期更新", "empty": "空白栏目", "unknown": "未能检查"}


@dataclass
class ColumnSpec:
    name: str
    url: str
    category: str | None = None  # None: classify by name
    window: str | None = None  # threshold override, e.g. "30d"
    level: int = 1
    unit: str | None = None  # responsible unit (责任单位)


@dataclass
class ColumnResult:
    name: str
    url: str
    category: str
    category_label: str
    window: str
    level: int
    status: str  # ok | stale | empty | unknown
    newest_date: dt.date | None = None
    newest_title: str | None = None
    newest_url: str | None = None
    item_count: int = 0
    reason: str = ""
    unit: str | None = None
    pages: list[str] = field(default_factory=list)

    @property
    def stale(self) -> bool | None:
        return None if self.status == "unknown" else self.status == "stale"

    @property
    def empty(self) -> bool | None:
        return None if self.status == "unknown" else self.status == "empty"

    def to_dict(self) -> dict:
        return {
            "name": self.name, "url": self.url, "category": self.category, "category_label": self.category_label,
            "window": self.window, "level": self.level, "status": self.status, "newest_date": iso(self.newest_date),
            "newest_title": self.newest_title, "newest_url": self.newest_url, "item_count": self.item_count,
            "stale": self.stale, "empty": self.empty, "reason": self.reason, "unit": self.unit,
        }


@dataclass
class HomeResult:
    url: str
    status: str  # ok | stale | unknown
    newest_date: dt.date | None = None
    source: str = ""  # home | columns (navigation-only home page)
    reason: str = ""


_WINDOW = re.compile(r"^\s*(\d+)\s*([dmy])\s*$")


def cutoff(as_of: dt.date, window: str) -> dt.date:
    """The oldest date that still counts as updated within `window` before as_of."""
    m = _WINDOW.match(window or "")
    if not m:
        raise RulesError(f"无法识别的时间窗口 {window!r}（应为 14d、6m、1y 这样的写法）")
    n, unit = int(m.group(1)), m.group(2)
    if unit == "d":
        return as_of - dt.timedelta(days=n)
    months = n if unit == "m" else 12 * n
    y, mth = divmod(as_of.month - 1 - months, 12)
    y, mth = as_of.year + y, mth + 1
    return dt.date(y, mth, min(as_of.day, calendar.monthrange(y, mth)[1]))


def window_label(window: str) -> str:
    m = _WINDOW.match(window or "")
    if not m:
        return "无更新要求"
    n, unit = int(m.group(1)), m.group(2)
    if unit == "d":
        return "2周" if n == 14 else f"{n}天"
    if unit == "m":
        return f"{n}个月"
    return f"{n}年"


def categories(rules: dict) -> list[dict]:
    """rules: the freshness rule file (RuleSet["freshness"])."""
    return rules["category"]


def category_by_id(cat_id: str, rules: dict) -> dict:
    for c in categories(rules):
        if c["id"] == cat_id:
            return c
    raise RulesError(f"未知的栏目类别 {cat_id!r}")


UNKNOWN = "unknown"  # a name that no category's keywords recognise: never judged (could not check)


def classify(name: str, rules: dict) -> dict:
    """The category a column name belongs to (rules/freshness.toml): the longest keyword found in the name
    decides, equal lengths go to the category listed first; no keyword at all gives the `unknown` category."""
    best, best_len = None, 0
    for c in categories(rules):
        n = max((len(k) for k in c.get("keywords", []) if k and k in (name or "")), default=0)
        if n > best_len:
            best, best_len = c, n
    return best or category_by_id(UNKNOWN, rules)


@dataclass
class ColumnList:
    """What a column's pages say: its own items, the pages read, the first page's record, and why the own list
    could not be read (a stub to an external platform, side bars only, several lists that cannot be told apart)."""
    items: list | None
    pages: list[str]
    first: object
    reason: str = ""


_REPEATED_DIRS = 3  # a block showing the same items on pages in this many directories is repeated across columns


def _dir(url: str) -> str:
    path = urlsplit(url).path or "/"
    return path[: path.rfind("/") + 1]


def _item_dirs(crawl) -> dict:
    """(block, item URL) -> directories of the (non-home) pages that show the item in that block (the same place
    of the template); worked out once a crawl."""
    idx = getattr(crawl, "_govinspect_item_dirs", None)
    if idx is None:
        idx = {}
        for rec in crawl.records.values():
            if rec.page is None or not rec.page.items or rec.url == getattr(crawl, "site_url", None):
                continue
            d = _dir(rec.url)
            for it in rec.page.items:
                idx.setdefault((it.box, it.url), set()).add(d)
        crawl._govinspect_item_dirs = idx
    return idx


def _own_items(crawl, col_url: str, items: list) -> tuple[list, str]:
    """The column's own list among the items of its pages: (items, why they cannot be told apart or "").

    Items are grouped by the block they sit in (Item.box). A block whose items mostly lie under the column's
    path is the column's own; otherwise side bars, related / popular boxes and boxes repeated on the pages of
    several other directories are left out and the largest remaining block is the list, unless another block
    nearly as large would give a different newest date (then the column cannot be checked: never a guess)."""
    boxes: dict[str, list] = {}
    for it in items:
        boxes.setdefault(it.box, []).append(it)
    if len(boxes) == 1 and not next(iter(boxes)).startswith("side:"):
        return items, ""
    col_dir = _dir(col_url)
    if col_dir != "/":
        own = [b for b, its in boxes.items() if 2 * sum(_dir(i.url).startswith(col_dir) for i in its) > len(its)]
        if own:
            return [i for b in own for i in boxes[b]], ""
    dirs = _item_dirs(crawl)

    def repeated(its) -> bool:
        return 2 * sum(len(dirs.get((i.box, i.url), ())) >= _REPEATED_DIRS for i in its) > len(its)

    cands = sorted(((b, its) for b, its in boxes.items() if not b.startswith("side:") and not repeated(its)),
                   key=lambda x: -len(x[1]))
    if not cands:
        return [], "栏目页面只有侧栏、相关信息或各栏目共有的信息框，未找到本栏目自身的信息列表"
    best = cands[0][1]
    newest = max((i.date for i in best if i.date), default=None)
    for _, its in cands[1:]:
        if 2 * len(its) >= len(best) and max((i.date for i in its if i.date), default=None) != newest:
            return [], "栏目页面有多个信息列表，无法确定哪一个是本栏目自身的列表"
    return best, ""


def column_list(crawl, url: str, max_pages: int = 200) -> ColumnList:
    """A column's own items: its first page (after a redirect stub within the site) and its pagination, as crawled."""
    first = crawl.get(url)
    for _hop in range(3):  # a stub page (meta refresh, location.href=) stands for the page it sends readers to
        if first is None or not first.ok or first.page is None or not first.page.redirect_to:
            break
        target = first.page.redirect_to
        if not crawl.in_scope(target):
            return ColumnList(None, [url], first, f"跳转至外部平台 {urlsplit(target).hostname or target}")
        url, first = target, crawl.get(target)
    if first is None or not first.ok or first.page is None:
        return ColumnList(None, [], first)
    items, pages, todo, seen = [], [], [url], set()
    while todo and len(pages) < max_pages:
        u = todo.pop(0)
        rec = crawl.get(u)
        if u in seen or rec is None or not rec.ok or rec.page is None:
            seen.add(u)
            continue
        seen.add(u)
        pages.append(u)
        items.extend(rec.page.items)
        todo.extend(n for n in rec.page.next_pages if n not in seen)
    uniq = {}
    for it in items:
        uniq.setdefault((it.url, it.box), it)
    own, reason = _own_items(crawl, url, list(uniq.values())) if uniq else ([], "")
    once = {}
    for it in own:
        if it.url not in once or (it.date and (once[it.url].date is None or it.date > once[it.url].date)):
            once[it.url] = it
    return ColumnList(list(once.values()), pages, first, reason)


def _column_items(crawl, url: str, max_pages: int = 200):
    """(own items, pages, first record) of a column: see column_list."""
    cl = column_list(crawl, url, max_pages)
    return cl.items, cl.pages, cl.first


def _unknown_reason(rec) -> str:
    if rec is None:
        return "栏目页面未抓取到（超出抓取范围或数量限制）"
    if rec.error:
        return f"栏目页面无法访问：{rec.error}"
    return f"栏目页面返回 HTTP {rec.status}"


def check_column(crawl, spec: ColumnSpec, as_of: dt.date, rules: dict) -> ColumnResult:
    cat = category_by_id(spec.category, rules) if spec.category else classify(spec.name, rules)
    window = spec.window if spec.window else cat.get("window", "")
    res = ColumnResult(name=spec.name, url=spec.url, category=cat["id"], category_label=cat["label"], window=window,
                       level=spec.level, status="unknown", unit=spec.unit)
    cl = column_list(crawl, spec.url)
    items, pages, first = cl.items, cl.pages, cl.first
    res.pages = pages
    if items is None:
        res.reason = cl.reason or _unknown_reason(first)
        return res
    if cl.reason:  # items there, but not the column's own list for sure: could not check, never fresh
        res.reason = cl.reason
        return res
    if cat["id"] == UNKNOWN:  # what the column should be is not known: neither stale nor empty is judged
        res.reason, res.item_count = cat.get("reason") or "类别未识别，未判断更新情况", len(items)
        return res
    page = first.page
    res.item_count = len(items)
    if not items:
        if page.yearless >= 2:  # a list there, dated "03-10" with no year anywhere: never guessed
            res.reason = "栏目信息的日期只有月日、没有年份，无法判断更新情况"
        elif page.empty_marker:
            res.status, res.reason = "empty", "栏目无任何信息"
        elif page.paragraph_chars >= 50:
            res.status, res.reason = "ok", "单页栏目，有内容"
        else:  # neither a list nor prose we can see: do not accuse
            res.reason = "未能识别栏目内容结构"
        return res
    # item dates; an item without a list date takes its article page's publish date
    dated, future = [], 0
    for it in items:
        d = it.date
        if d is None:
            rec = crawl.get(it.url)
            d = rec.page.publish_date if rec is not None and rec.ok and rec.page is not None else None
        if d is None:
            continue
        if d > as_of:
            future += 1
            continue
        dated.append((d, it))
    if not dated:
        res.reason = "栏目信息均无可识别的发布日期" + (f"（{future}条日期晚于检查时点）" if future else "")
        return res
    newest, newest_item = max(dated, key=lambda x: x[0])
    res.newest_date, res.newest_title, res.newest_url = newest, newest_item.title, newest_item.url
    if future:
        res.reason = f"{future}条信息日期晚于检查时点，已忽略"
    if not window:
        res.status = "ok"
        return res
    res.status = "stale" if newest < cutoff(as_of, window) else "ok"
    return res


def check_home(crawl, home_url: str, columns: list[ColumnResult], as_of: dt.date, rules: dict) -> HomeResult:
    rec = crawl.get(home_url)
    res = HomeResult(url=home_url, status="unknown")
    if rec is None or not rec.ok or rec.page is None:
        res.reason = _unknown_reason(rec).replace("栏目", "首页")
        return res
    ds = [i.date for i in rec.page.items if i.date and i.date <= as_of]
    if ds:
        res.newest_date, res.source = max(ds), "home"
    else:  # a navigation-only home page: WV-3 then looks at the second-level pages
        cds = [c.newest_date for c in columns if c.newest_date]
        if not cds:
            res.reason = "首页及栏目均无可识别的发布日期"
            return res
        res.newest_date, res.source = max(cds), "columns"
    res.status = "stale" if res.newest_date < cutoff(as_of, rules["homepage"]["window"]) else "ok"
    return res


def veto_counts(columns: list[ColumnResult], rules: dict) -> dict:
    cats = {c["id"]: c for c in categories(rules)}
    stale = [c for c in columns if c.status == "stale"]
    dyn = [c for c in stale if cats[c.category].get("veto_group") == "dynamic"]
    notice_top = [c for c in stale if cats[c.category].get("veto_group") == "notice_policy" and c.level == 1]
    should = [c for c in stale if cats[c.category].get("should_update")]
    empty = [c for c in columns if c.status == "empty"]
    v = rules["veto"]
    return {
        "dynamic_stale": len(dyn), "notice_policy_top_stale": len(notice_top), "should_update_stale": len(should),
        "empty": len(empty), "unknown": sum(1 for c in columns if c.status == "unknown"),
        "a": len(dyn) + len(notice_top) >= v["dynamic_plus_notice"],
        "b": len(should) >= v["should_update"],
        "c": len(empty) >= v["empty"],
    }


def freshness_findings(home: HomeResult, columns: list[ColumnResult], as_of: dt.date, rules: dict) -> list[Finding]:
    out: list[Finding] = []
    site = home.url
    for c in columns:
        facts = {"newest_date": iso(c.newest_date), "newest_title": c.newest_title, "newest_url": c.newest_url,
                 "item_count": c.item_count, "window": c.window, "category": c.category}
        if c.status == "stale":
            days = (as_of - c.newest_date).days
            out.append(Finding.at_url("column.stale", c.url, f"“{c.name}”栏目（{c.category_label}）最新信息发布于{c.newest_date:%Y年%m月%d日}，"
                                      f"截至检查时点已{days}天未更新（应在{window_label(c.window)}内更新）",
                                      kind="column", site=site, column=c.name, facts=facts))
        elif c.status == "empty":
            out.append(Finding.at_url("column.empty", c.url, f"“{c.name}”栏目为空白栏目，无任何信息", kind="column", site=site,
                                      column=c.name, facts=facts))
    if home.status == "stale":
        days = (as_of - home.newest_date).days
        where = "首页" if home.source == "home" else "首页（导航型）及二级页面"
        out.append(Finding.at_url("site.homepage_stale", home.url, f"{where}最新信息发布于{home.newest_date:%Y年%m月%d日}，"
                                  f"已{days}天无新增信息（应在{window_label(rules['homepage']['window'])}内更新）", kind="site",
                                  facts={"newest_date": iso(home.newest_date), "source": home.source}))
    vc = veto_counts(columns, rules)
    v = rules["veto"]
    reasons = []
    if vc["a"]:
        reasons.append(f"动态要闻类栏目2周内未更新及通知公告、政策文件类一级栏目6个月内未更新的合计{vc['dynamic_stale'] + vc['notice_policy_top_stale']}个（≥{v['dynamic_plus_notice']}个）")
    if vc["b"]:
        reasons.append(f"应更新但长期未更新的栏目{vc['should_update_stale']}个（≥{v['should_update']}个）")
    if vc["c"]:
        reasons.append(f"空白栏目{vc['empty']}个（≥{v['empty']}个）")
    if reasons:
        out.append(Finding.at_url("site.veto_columns", home.url, "栏目不更新单项否决：" + "；".join(reasons), kind="site", facts=vc))
    return out


@check("freshness", rules=("column.stale", "column.empty", "site.homepage_stale", "site.veto_columns"), needs=("crawl",),
       reads=("freshness.category", "freshness.homepage", "freshness.veto"))
def freshness_check(ctx) -> list[Finding]:
    """Columns and the home page against their categories' windows; the single-veto counts."""
    return freshness_findings(ctx.home, ctx.columns, ctx.as_of, ctx.rules["freshness"])
