"""The findings browser and the safe evidence viewer.

    /findings/                  the findings the user may see, filtered (round, unit, site, column, group, rule, state,
                                severity, veto) and paged: one count, one page query and a few small look-ups
    /findings/<id>/             one finding: the rule in Chinese with its basis, the excerpt with the hit marked, the
                                evidence, its history across rounds (by fingerprint), the ignore record
    /findings/<id>/page/        the page as captured, from its WARC record, for a sandboxed frame: a strict CSP of its
                                own (sandbox, nothing loaded from anywhere), meta refresh neutralised
    /findings/<id>/ignore/      “不是问题” (office only, audited by rounds.ignores)
    /findings/<id>/unignore/    revoke that ignore (office only)

Every finding is looked up through access.findings(user): outside the user's scope it is a 404, whatever the view.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from csp.decorators import csp

from ...rounds.models import IGNORE_SCOPES, SEVERITIES, Finding, Ignore, RecheckResult, Round
from .. import access
from . import int_param

PAGE_SIZE = 50
STATES = {"new": "新发现", "still": "仍存在", "ignored": "已忽略", "open": "未忽略"}
SEVERITY_NAMES = dict(SEVERITIES)

# fields of Round not needed to list or pick rounds (the rule snapshot is large: read only when the rules are needed)
_HEAVY = ("rules_snapshot", "registers", "run_options", "owner", "error", "allow_networks")


# --------------------------------------------------------------------------------------------------- rounds and rules
def _all_rounds() -> list[Round]:
    return list(Round.objects.defer(*_HEAVY).order_by("-as_of", "-id"))


def previous_round(rnd: Round, rounds: list[Round]) -> Round | None:
    """The round a round's findings are compared with: the one it re-checks, else the latest done (non re-check) round
    with an earlier as-of date. `rounds`: every round (from _all_rounds)."""
    if rnd.recheck_of_id:
        return next((r for r in rounds if r.pk == rnd.recheck_of_id), None)
    earlier = [r for r in rounds if r.status == "done" and r.comparable and r.as_of < rnd.as_of]
    return max(earlier, key=lambda r: (r.as_of, r.pk), default=None)


@lru_cache(maxsize=16)
def _rules_for(round_id: int, rules_hash: str, scheme: str):
    """The round's RuleSet (its snapshot, else its scheme's shipped rules), kept per round and rule-set digest."""
    from ...rounds.scoring import round_rules

    rnd = Round.objects.only("id", "scheme", "rules_snapshot").get(pk=round_id)
    return round_rules(rnd)


def rules_of(rnd: Round):
    return _rules_for(rnd.pk, rnd.rules_hash or "", rnd.scheme)


def _catalog(rules) -> dict[str, dict]:
    return rules["catalog"]["rules"]


def _group_titles() -> dict[str, str]:
    from ...reports.bulletin import group_titles

    return group_titles()


def _group_choices(catalog: dict, titles: dict) -> list[tuple[str, str]]:
    groups = sorted({e.get("group", "") for e in catalog.values()} - {""}, key=lambda g: (titles.get(g, g), g))
    counts: dict[str, int] = {}
    for g in groups:
        counts[titles.get(g, g)] = counts.get(titles.get(g, g), 0) + 1
    out = []
    for g in groups:
        t = titles.get(g, g)
        if g == "veto":
            t += "（单项否决）"
        elif counts[t] > 1:
            t += f"（{g}）"
        out.append((g, t))
    return out


# --------------------------------------------------------------------------------------------------- the list
def _of_unit(qs, unit_id: int):
    """The findings of one unit, as access.findings assigns them (responsible unit, else the site's/account's owner),
    written the way access.findings is so that SQLite answers each branch from an index."""
    from ...rounds.models import RoundAccount, RoundSite

    owned = (Q(round_site__in=RoundSite.objects.filter(website__owner_id=unit_id).values("pk"))
             | Q(round_account__in=RoundAccount.objects.filter(account__owner_id=unit_id).values("pk")))
    return qs.filter(responsible_unit_id=unit_id) | qs.filter(owned, responsible_unit__isnull=True)


def filter_findings(user, rnd: Round, prev: Round | None, params, catalog: dict):
    """The user's findings of the round narrowed by the GET filters; (queryset, the filters that applied)."""
    qs = access.findings(user, Finding.objects.filter(round=rnd))
    f: dict = {}
    unit = int_param(params.get("unit"))
    if unit is not None:
        qs, f["unit"] = _of_unit(qs, unit), unit
    site = int_param(params.get("site"))
    if site is not None:
        qs, f["site"] = qs.filter(round_site__website_id=site), site
    column = (params.get("column") or "").strip()
    if column:
        qs, f["column"] = qs.filter(column_name=column), column
    group = params.get("group") or ""
    if group:
        qs, f["group"] = qs.filter(rule__in=[r for r, e in catalog.items() if e.get("group") == group]), group
    rule = params.get("rule") or ""
    if rule:
        qs, f["rule"] = qs.filter(rule=rule), rule
    severity = params.get("severity") or ""
    if severity in SEVERITY_NAMES:
        qs, f["severity"] = qs.filter(severity=severity), severity
    veto = params.get("veto") or ""
    if veto in ("1", "0"):
        qs, f["veto"] = qs.filter(veto=veto == "1"), veto
    state = params.get("state") or ""
    if state in ("new", "still"):
        # by fingerprint, against the previous round (index (round, fingerprint)); no previous round: all are new
        if prev is None:
            qs = qs if state == "new" else qs.none()
        else:
            seen = Exists(Finding.objects.filter(round=prev, fingerprint=OuterRef("fingerprint"))
                          .exclude(fingerprint=""))
            qs = qs.filter(seen) if state == "still" else qs.exclude(seen)
        f["state"] = state
    elif state == "ignored":
        qs, f["state"] = qs.filter(ignored_by__isnull=False), state
    elif state == "open":
        qs, f["state"] = qs.filter(ignored_by__isnull=True), state
    return qs, f


def _site_choices(user, rnd: Round):
    """The websites the filter offers: the round's sites the user may see, and the sites its findings are on (a unit's
    column on the portal)."""
    from ...registry.models import Website

    rs = access.round_sites(user).filter(round=rnd).values("website_id")
    q = Q(pk__in=rs)
    if access.unit_ids(user) is not None:
        q |= Q(pk__in=access.findings(user, Finding.objects.filter(round=rnd)).values("round_site__website_id"))
    return list(Website.objects.filter(q).order_by("-is_portal", "name").values_list("id", "name"))


@access.login_required_view
@require_GET
def index(request):
    user = request.user
    rounds = _all_rounds()
    listed = [r for r in rounds if r.recheck_of_id is None]
    rid = int_param(request.GET.get("round"))
    if rid is not None:
        rnd = next((r for r in rounds if r.pk == rid), None)
        if rnd is None:
            raise Http404("没有这个检查轮次")
    else:
        rnd = next((r for r in listed if r.status == "done"), None) or (listed[0] if listed else None)
    if rnd is None:
        return render(request, "web/findings/list.html", {"round": None, "rounds": []})
    prev = previous_round(rnd, rounds)
    rules = rules_of(rnd)
    catalog = _catalog(rules)
    titles = _group_titles()
    qs, applied = filter_findings(user, rnd, prev, request.GET, catalog)
    # unit, then rule, then id (a site's findings are stored together, so within a rule they come site by site): the
    # index (round, responsible_unit, rule) gives this order whole, so any page of 200,000 findings costs a few ms
    # (unit, site, rule needs a sort: ~250 ms at page 2,000)
    qs = qs.order_by("responsible_unit_id", "rule", "id")
    # the page's ids first (from the index alone), then those 50 rows with their site and unit: joined, a deep page
    # would join every row it skips (~200 ms at page 2,000)
    page = Paginator(qs.values_list("id", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    ids = list(page.object_list)
    by_id = Finding.objects.select_related("round_site__website", "round_account__account", "responsible_unit",
                                           "ignored_by").in_bulk(ids)
    rows = [by_id[i] for i in ids if i in by_id]
    still = set()
    if prev is not None:
        fps = {r.fingerprint for r in rows if r.fingerprint}
        still = set(Finding.objects.filter(round=prev, fingerprint__in=fps).values_list("fingerprint", flat=True))
    for r in rows:
        entry = catalog.get(r.rule, {})
        r.rule_name = entry.get("name", r.rule)
        r.group_title = titles.get(entry.get("group", ""), "")
        r.state = "still" if r.fingerprint and r.fingerprint in still else "new"  # no previous round: all new, as the filter says
        r.where = r.location.describe()
        acc = r.round_account.account if r.round_account_id else None
        r.site_name = (r.round_site.website.name if r.round_site_id else f"{acc.platform}·{acc.name}" if acc else "")
    rule_choices = sorted(((k, e.get("name", k), e.get("group", "")) for k, e in catalog.items()),
                          key=lambda t: (t[2], t[1]))
    return render(request, "web/findings/list.html", {
        "round": rnd, "previous": prev, "rounds": listed, "page": page, "rows": rows, "applied": applied,
        "units": list(access.units(user).values_list("id", "name")), "sites": _site_choices(user, rnd),
        "groups": _group_choices(catalog, titles), "rules": rule_choices, "states": STATES,
        "severities": SEVERITIES,
    })


# --------------------------------------------------------------------------------------------------- one finding
def _scoped(request, pk: int) -> Finding:
    qs = access.findings(request.user, Finding.objects.select_related(
        "round", "round_site__website", "round_account__account", "responsible_unit", "ignored_by"))
    return get_object_or_404(qs, pk=pk)


def _has_capture(f: Finding) -> bool:
    from ...rounds.evidence import _NOT_WEB

    ev = f.evidence or {}
    return (f.subject_kind not in _NOT_WEB and (f.subject or {}).get("kind") not in _NOT_WEB
            and bool(ev.get("warc_file")) and ev.get("warc_offset") is not None)


def _history(user, f: Finding, rounds: list[Round]) -> list[dict]:
    """The same problem (fingerprint) in every round the user can see it in, newest first, with its state there (new
    or still against that round's previous round, ignored, re-check results), and the later rounds where it was gone."""
    if not f.fingerprint:
        return []
    same = list(access.findings(user, Finding.objects.filter(fingerprint=f.fingerprint))
                .select_related("ignored_by").only("id", "round_id", "ignored_by__id", "fingerprint"))
    by_round = {x.round_id: x for x in same}
    rechecks: dict[int, list] = {}
    found = RecheckResult.objects.filter(finding__in=[x.pk for x in same]).select_related("round")
    for rr in found.order_by("round__as_of"):
        rechecks.setdefault(rr.finding_id, []).append(rr)
    first = min((r.as_of for r in rounds if r.pk in by_round), default=None)
    out = []
    for r in rounds:  # newest first
        if r.recheck_of_id is not None or first is None or r.as_of < first:
            continue
        x = by_round.get(r.pk)
        if x is None:
            if r.status == "done":
                out.append({"round": r, "finding": None, "state": "gone", "state_name": "未再发现"})
            continue
        prev = previous_round(r, rounds)
        state = "still" if prev is not None and prev.pk in by_round else "new"
        out.append({"round": r, "finding": x, "state": state, "state_name": STATES[state], "current": x.pk == f.pk,
                    "ignored": x.ignored_by_id is not None, "rechecks": rechecks.get(x.pk, [])})
    return out


# the facts' names (rules/catalog.toml `facts`) in Chinese; a name not listed is shown as it is
FACT_LABELS = {
    "a": "a 项计数", "b": "b 项计数", "c": "c 项计数", "account": "账号", "also_on": "同时出现于",
    "article_missing": "缺少的文章", "articles_sampled": "抽查文章数", "attachment": "附件", "category": "类别",
    "columns": "栏目", "css": "样式表", "days": "天数", "deadline": "期限", "document_date": "成文日期",
    "due": "应办结日期", "due_year": "应办年度", "dynamic_stale": "动态要闻类未更新栏目数", "empty": "空白栏目数",
    "excluded_network": "排除的网段", "expected_title": "应有标题", "external": "外部链接", "failed": "失败",
    "failures": "失败次数", "file": "文件", "finished": "完成时间", "first_probe": "第一次探测",
    "footer_text": "页面底部文字", "format": "格式", "groups": "分组", "groups_not_judged": "未判断的分组",
    "hits": "命中", "home_missing": "首页缺少", "host": "主机", "illegal": "违法违规", "inner_missing": "内页缺少",
    "inner_sampled": "抽查内页数", "interpretation_date": "解读发布日期", "item_count": "信息条数", "key": "标识",
    "kind": "类型", "label": "标签", "last_post": "最近发布", "line": "行", "linked": "已链接", "listed": "已列出",
    "mean_ms": "平均响应（毫秒）", "missing": "缺少", "new_links": "新增链接", "newest_date": "最新信息日期",
    "newest_title": "最新信息标题", "newest_url": "最新信息地址", "note": "说明",
    "notice_policy_top_stale": "通知公告、政策文件类一级栏目未更新数", "number": "编号", "occurrences": "出现次数",
    "original_share": "原创占比", "others": "其他", "p95_ms": "95% 响应（毫秒）", "page": "页面", "page_title": "页面标题",
    "page_url": "页面地址", "platform": "平台", "posts": "发布数", "present": "存在", "previous_crawl": "上次抓取",
    "previous_list_covered_from": "上次列表覆盖起始", "previous_list_url": "上次列表地址", "previous_title": "上次标题",
    "probe": "探测", "probes": "探测记录", "publish_date": "发布日期", "query": "查询", "reason": "原因",
    "reasons": "理由", "received": "收到日期", "referrer_count": "引用页面数", "referrers": "引用页面",
    "replied": "答复日期", "results": "结果", "row": "行", "search_url": "搜索地址", "second_probe": "第二次探测",
    "sentence": "句子", "severity": "严重程度", "share": "占比", "should_update_stale": "应更新栏目未更新数",
    "source": "来源", "stated_date": "标注日期", "status": "状态", "suggestion": "建议", "text": "命中文字",
    "title": "标题", "unit": "单位", "unknown": "未能检查数", "valid": "有效", "window": "更新周期",
    "workdays": "工作日数", "years_found": "发现年份",
}


def _fact_value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dict):
        return "；".join(f"{FACT_LABELS.get(str(a), a)}：{_fact_value(b)}" for a, b in v.items())
    if isinstance(v, (list, tuple)):
        return "、".join(_fact_value(i) for i in v)
    return str(v)


def _fact_of(name: str, v) -> str:
    """A fact's value for people: column categories and update windows in words, not their codes."""
    if name == "category" and isinstance(v, str):
        from ...registry.models import COLUMN_CATEGORIES

        return dict(COLUMN_CATEGORIES).get(v, v)
    if name == "window" and isinstance(v, str) and v:
        from ...engine.checks.freshness import window_label

        try:
            return window_label(v)
        except (ValueError, KeyError):
            return v
    return _fact_value(v)


def _facts(facts: dict) -> list[tuple[str, str, str]]:
    """(label, name, value) of each fact that has a value, as text: the template escapes it."""
    return [(FACT_LABELS.get(str(k), str(k)), str(k), _fact_of(str(k), v)) for k, v in (facts or {}).items()
            if v not in (None, "", [], {})]


@access.login_required_view
@require_GET
def detail(request, pk: int):
    from ...rounds.ignores import describe_scope

    f = _scoped(request, pk)
    rounds = _all_rounds()
    rules = rules_of(f.round)
    entry = rules.rule(f.rule)
    titles = _group_titles()
    ev = f.evidence or {}
    prev = previous_round(f.round, rounds)
    ignores = list(Ignore.objects.filter(Q(source_finding=f) | Q(pk=f.ignored_by_id or 0)).order_by("-created_at"))
    for ig in ignores:
        ig.described = describe_scope(ig)
    history = _history(request.user, f, rounds)
    state = next((h["state"] for h in history if h.get("current")), "")
    scopes = [(k, v) for k, v in IGNORE_SCOPES if k != "site" or f.match]
    return render(request, "web/findings/detail.html", {
        "f": f, "entry": entry, "rule_name": entry.get("name", f.rule),
        "group_title": titles.get(entry.get("group", ""), ""),
        "ev": ev, "hit": ev.get("hit"), "where": f.location.describe(), "facts": _facts(f.facts), "previous": prev,
        "has_capture": _has_capture(f), "history": history, "state": state, "state_name": STATES.get(state, ""),
        "ignores": ignores, "can_change": access.can_change(request.user), "scopes": scopes,
        "may_ignore": f.round_site_id is not None and f.ignored_by_id is None,
        "unit_name": f.responsible_unit.name if f.responsible_unit_id else "",
    })


# --------------------------------------------------------------------------------------------------- the captured page
# The captured page gets a policy of its own instead of the site's: `sandbox` (an opaque origin: no scripts, no forms,
# no popups, no cookies, even when the URL is opened directly rather than in the frame), nothing loaded from anywhere
# but data: URLs and inline styles, framed only by our own pages.
PAGE_CSP = {
    "sandbox": [True],
    "default-src": ["'none'"],
    "img-src": ["data:"],
    "style-src": ["'unsafe-inline'"],
    "font-src": ["data:"],
    "frame-ancestors": ["'self'"],
    "form-action": ["'none'"],
    "base-uri": ["'none'"],
}

_META_REFRESH = re.compile(
    rb"<meta\b(?:\"[^\"]*\"|'[^']*'|[^\"'>])*?http-equiv\s*=\s*"
    rb"(?:\"\s*refresh\s*\"|'\s*refresh\s*'|refresh(?=[\s/>]))(?:\"[^\"]*\"|'[^']*'|[^\"'>])*>",
    re.I)
_HTTP_EQUIV = re.compile(rb"http-equiv", re.I)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.I)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def neutralise_refresh(body: bytes) -> bytes:
    """A sandboxed frame may still navigate itself, and <meta http-equiv="refresh" content="0;url=…"> would make it
    load (and so request) an outside page with no click. Every such tag is removed (a bytes-level rewrite that keeps the
    rest of the capture byte for byte); then any http-equiv attribute left anywhere (a tag the pattern could not
    delimit, e.g. a stray quote) is renamed, so no http-equiv pragma of the capture applies. The charset comes from the
    response's header, which outranks a meta pragma, so renaming one costs nothing."""
    body = _META_REFRESH.sub(b"", body)
    return _HTTP_EQUIV.sub(b"data-govinspect-removed-equiv", body)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None


def detect_charset(body: bytes, content_type: str | None) -> str:
    """The page's charset as a browser would take it: BOM, the captured Content-Type, a meta charset in the first
    kilobytes, else charset-normalizer's guess; utf-8 when nothing tells."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    m = _CT_CHARSET.search(content_type or "")
    name = _codec(m.group(1)) if m else None
    if name:
        return name
    m = _META_CHARSET.search(body[:4096])
    name = _codec(m.group(1).decode("ascii", "replace")) if m else None
    if name:
        return name
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    return _codec(best.encoding if best else None) or "utf-8"


def read_capture(ev: dict) -> tuple[bytes, str | None]:
    """(body, the response's Content-Type) of the WARC record the evidence names. FileNotFoundError when the WARC file
    is gone; ValueError when the key or the record is not usable."""
    from warcio.archiveiterator import ArchiveIterator

    from ...storage import StorageError, storage

    try:
        p = storage().resolve(ev["warc_file"])
    except StorageError as e:
        raise ValueError(str(e)) from None
    if not p.is_file():
        raise FileNotFoundError(str(p))
    with open(p, "rb") as fh:
        fh.seek(int(ev["warc_offset"]))
        for rec in ArchiveIterator(fh):
            ct = rec.http_headers.get_header("Content-Type") if rec.http_headers else None
            return rec.content_stream().read(), ct
    raise ValueError("no WARC record at this offset")


def _message_page(request, status: int, title: str, text: str, where: str = "") -> HttpResponse:
    return render(request, "web/findings/page_message.html", {"title": title, "text": text, "where": where},
                  status=status)


def _framed(resp: HttpResponse) -> HttpResponse:
    resp["Referrer-Policy"] = "no-referrer"
    resp["X-Content-Type-Options"] = "nosniff"
    resp["X-DNS-Prefetch-Control"] = "off"
    resp["Cache-Control"] = "private, no-store"
    return resp


@access.login_required_view
@require_GET
@xframe_options_sameorigin
@csp(PAGE_CSP)
def captured_page(request, pk: int):
    f = _scoped(request, pk)
    where = f.location.describe()
    if not _has_capture(f):
        return _framed(_message_page(request, 200, "没有网页存档",
                                     "这一问题不是在网页上发现的（如台账、答复书、信件），或抓取时没有保存网页存档，因此没有可显示的页面。",
                                     where or "未记录"))
    try:
        body, content_type = read_capture(f.evidence)
    except FileNotFoundError:
        return _framed(_message_page(request, 404, "网页存档已不存在",
                                     "这一问题的网页存档文件已被清理或移动，无法显示抓取时的页面。问题记录本身仍然有效。", where))
    except Exception:  # a damaged file, a wrong offset, a key outside the store: say so, no traceback
        return _framed(_message_page(request, 404, "网页存档无法读取",
                                     "这一问题的网页存档文件已损坏或记录位置不正确，无法显示抓取时的页面。", where))
    if request.GET.get("download") == "1":
        # the captured bytes as a file (evidence to keep or to open in a viewer): never rendered by the browser
        resp = HttpResponse(body, content_type="application/octet-stream")
        resp["Content-Disposition"] = f'attachment; filename="{_download_name(f)}"'
        return _framed(resp)
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime and mime not in _PAGE_TYPES:
        return _framed(_message_page(
            request, 200, "存档的是附件，不是网页",
            f"抓取时取得的是 {mime} 文件（{len(body):,} 字节），不能在此显示；可在问题页面下载存档原件后用相应软件查看。", where))
    charset = detect_charset(body, content_type)
    if charset.startswith(("utf-16", "utf-32")):  # not ASCII-compatible: rewrite as text, serve as utf-8
        body = body.decode(charset, "replace").encode("utf-8")
        charset = "utf-8"
    body = neutralise_refresh(body)
    kind = "text/plain" if mime == "text/plain" else "text/html"
    return _framed(HttpResponse(body, content_type=f"{kind}; charset={charset}"))


# what is shown as a page in the frame; anything else (PDF, Word, images …) is offered for download instead
_PAGE_TYPES = {"text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml"}


def _download_name(f: Finding) -> str:
    """An ASCII file name for the download: the URL's last segment if it is plain, else finding-<id>."""
    from urllib.parse import urlsplit

    last = urlsplit(f.url or "").path.rsplit("/", 1)[-1]
    return last if re.fullmatch(r"[A-Za-z0-9._-]{1,100}", last or "") else f"finding-{f.pk}.bin"


# --------------------------------------------------------------------------------------------------- ignore / revoke
@access.office_required
@require_POST
def ignore(request, pk: int):
    from ...rounds.ignores import IgnoreError, ignore_finding

    f = _scoped(request, pk)
    reason = (request.POST.get("reason") or "").strip()
    scope = request.POST.get("scope") or "hit"
    if not reason:
        messages.error(request, "请填写“不是问题”的理由")
    else:
        try:
            ig = ignore_finding(f, scope, reason, by=request.user.get_username())
        except IgnoreError as e:
            messages.error(request, str(e))
        else:
            n = ig.findings.count()
            messages.success(request, f"已标记为“不是问题”（本轮涉及 {n} 条问题），操作已记录")
    return redirect("web:finding", pk=f.pk)


@access.office_required
@require_POST
def unignore(request, pk: int):
    from ...rounds.ignores import revoke_ignore

    f = _scoped(request, pk)
    ig = get_object_or_404(Ignore, pk=int_param(request.POST.get("ignore")) or f.ignored_by_id or 0)
    if ig.source_finding_id != f.pk and ig.pk != f.ignored_by_id:
        raise PermissionDenied("该忽略记录与此问题无关")
    if ig.revoked_at is not None:
        messages.error(request, "该忽略记录已被撤销")
    else:
        revoke_ignore(ig, by=request.user.get_username())
        messages.success(request, "已撤销“不是问题”，相关问题恢复为待整改")
    return redirect("web:finding", pk=f.pk)


def list_url(**params) -> str:
    """/findings/?… for links from other pages (dashboard, portal)."""
    from urllib.parse import urlencode

    return reverse("web:findings") + ("?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})
                                      if params else "")


urlpatterns = [
    path("findings/", index, name="findings"),
    path("findings/<int:pk>/", detail, name="finding"),
    path("findings/<int:pk>/page/", captured_page, name="finding_page"),
    path("findings/<int:pk>/ignore/", ignore, name="finding_ignore"),
    path("findings/<int:pk>/unignore/", unignore, name="finding_unignore"),
]
