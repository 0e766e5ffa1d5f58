"""Re-check rounds: fetch again what earlier findings need and judge each one fixed, still present or could not check.

A finding is the same problem when its fingerprint is (engine/finding.py); fixed only on positive evidence."""

from __future__ import annotations

import asyncio
import dataclasses

from django.db import transaction
from tqdm import tqdm

from ..engine.checks.freshness import ColumnSpec
from ..engine.fetch import CrawlConfig
from ..engine.fetch.crawler import normalise_url
from ..engine.inspect import inspect_site_async
from ..registry.models import Website
from .jobs import _specs, content_checker
from .models import ColumnCheck, Finding, RecheckResult, Round
from .scoring import round_rules
from .services import _begin, _end, _fresh_dir, _jsonable, recorded, round_dir, rules_for


def recheck_kind(rule: str, rules=None) -> str:
    """What a re-check of the rule needs (rules/catalog.toml `recheck`): page | site | links | account | register |
    none. A rule the catalogue does not declare cannot be re-checked."""
    from ..rules.ruleset import RuleSet

    rules = rules or RuleSet.load()
    return rules["catalog"]["rules"].get(rule, {}).get("recheck", "none")


# rules judged on something a single re-check cannot see again (recheck = "none")
_CANNOT = {
    "site.unreachable": "网站可用性按监测期内多次访问的记录判断，一次复查不能证明已整改",
    "content.backdated": "伪造发稿日期须与上一轮抓取对比判断，复查不能自动判定已整改",
    "site.defaced": "首页篡改须与上一轮抓取对比判断，复查不能自动判定已整改",
}
# content found on a page: deleting the page removes it (a deleted column, by contrast, is not a fixed column)
DELETABLE = ("privacy.", "content.")
_FEED_RULES_SEE_REGISTRY = {"newmedia.not_filed", "newmedia.no_interaction", "newmedia.duplicate_account"}


def _is_page(u) -> bool:
    return isinstance(u, str) and u.startswith(("http://", "https://"))


def _referrer_pages(f: Finding) -> list[str]:
    """The pages a link finding was seen on."""
    ev = f.facts or {}
    pages = [r.get("page") or r.get("url") for r in ev.get("referrers") or [] if isinstance(r, dict)]
    pages.append(ev.get("page"))
    return sorted({normalise_url(p) for p in pages if _is_page(p)})


def _pages_of(f: Finding, rules) -> set[str]:
    """The pages a re-check must fetch successfully before it may call the finding fixed: where it was seen (links:
    the pages that link to it), and for site rules the other pages the rule read (sampled inner pages, a document's
    解读 ...)."""
    kind = recheck_kind(f.rule, rules)
    if kind == "links":
        return set(_referrer_pages(f))
    pages = {f.url} if _is_page(f.url) else set()
    if kind == "site":
        ev = f.facts or {}
        for key in ("inner_sampled", "articles_sampled", "linked", "listed"):
            pages.update(u for u in ev.get(key) or [] if _is_page(u))
    return {normalise_url(u) for u in pages}


def _seeds_of(f: Finding, rules) -> set[str]:
    """What a re-check fetches for a finding: the pages it needs, and a link's target (fetched when on the site)."""
    return _pages_of(f, rules) | ({normalise_url(f.url)} if recheck_kind(f.rule, rules) == "links" and _is_page(f.url) else set())


def run_recheck(rnd: Round, crawl: dict | None = None, progress: bool = False) -> dict:
    """Re-check the findings of rnd.recheck_of, each as its rule declares (recheck_kind): fetch again the pages the
    findings are on, and for site rules every column list of the site (no general crawl); run the same checks on them;
    record each finding as fixed only on positive evidence (the pages it needs fetched, the rule no longer holding),
    still present, or could not check with the reason. New problems seen on the way are not recorded: a re-check
    answers for the earlier findings only."""
    prev = rnd.recheck_of
    if prev is None:
        raise ValueError("not a re-check round")
    only = (rnd.run_options or {}).get("findings") if rnd.item_recheck else None  # an item re-check: these findings
    rnd.run_options = {**(rnd.run_options or {}), "crawl": _jsonable(crawl), "recheck": True}
    _fresh_dir(rnd)  # a re-check answers afresh every time it runs
    _begin(rnd, "start", f"复查第{prev.pk}轮发现的问题")
    allow = rnd.allowed_networks
    base = round_dir(rnd)
    # an item re-check answers for the findings its items asked about, even one ignored since (else no answer ever
    # comes: 未能复查 at every retry); a full re-check skips what was ignored
    old = prev.findings.filter(pk__in=only) if only is not None else prev.findings.filter(ignored_by__isnull=True)
    old = list(old.select_related("round_site__website__owner", "round_account__account__owner"))
    by_site: dict[int, list[Finding]] = {}
    by_account: dict[int, list[Finding]] = {}
    for f in old:
        if f.round_site_id:
            by_site.setdefault(f.round_site.website_id, []).append(f)
        elif f.round_account_id:
            by_account.setdefault(f.round_account.account_id, []).append(f)
    if prev.rules_snapshot:  # the same rules as the round it re-checks: the same problem has the same fingerprint
        rules = round_rules(prev)
        rnd.rules_snapshot, rnd.rules_hash = prev.rules_snapshot, prev.rules_hash
        rnd.save(update_fields=["rules_snapshot", "rules_hash"])
    else:
        rules = rules_for(rnd)
    checker = content_checker(rnd.as_of, rules)
    results: list[RecheckResult] = []
    bar = tqdm(total=len(by_site) + bool(by_account), desc="复查", unit="站", disable=not progress, dynamic_ncols=True)

    async def one(site: Website, specs: list[ColumnSpec], seeds: set[str]):
        cfg = dataclasses.replace(CrawlConfig(allow_networks=allow, extra_hosts=tuple(site.extra_host_list), follow_links=False),
                                  **(crawl or {}))
        try:
            return await inspect_site_async(site.home_url, rnd.as_of, cfg, specs or None, base / f"site-{site.pk}", rnd.period_start,
                                            government=site.owner.kind in ("区县", "乡镇"), site_code=site.site_code or None,
                                            is_portal=site.is_portal, content=checker, rules=rules, seeds=sorted(seeds))
        finally:
            bar.update(1)

    async def main(sites, plan):
        return await asyncio.gather(*(one(s, *plan[s.pk][:2]) for s in sites), return_exceptions=True)

    try:
        with recorded(rnd, "复查被操作员中断（Ctrl+C 或终止信号）"):
            sites = list(Website.objects.filter(pk__in=by_site).select_related("owner"))
            plan = {}
            for s in sites:  # the database is read here, not in the async checks
                rs = prev.sites.filter(website=s).first()
                before = list(rs.columns.all()) if rs else []
                # the round's columns: registered, else those the round found (a re-check judges the same columns)
                specs = _specs(s) or [ColumnSpec(name=c.name, url=c.url, category=c.category or None, level=c.level) for c in before]
                fs = by_site[s.pk]
                seeds = set().union(*(_seeds_of(f, rules) for f in fs))
                if any(recheck_kind(f.rule, rules) == "site" for f in fs):  # the site's lists, as the rule read them
                    seeds |= {normalise_url(c.url) for c in specs}
                plan[s.pk] = (specs, seeds, before)
            for site, rep in zip(sites, asyncio.run(main(sites, plan))):
                results += _judge(rnd, by_site[site.pk], rep, plan[site.pk][2], rules)
            if by_account:
                results += _recheck_accounts(rnd, by_account, dataclasses.replace(CrawlConfig(allow_networks=allow), **(crawl or {})),
                                             checker, rules)
                bar.update(1)
            for f in old:
                if not f.round_site_id and not f.round_account_id:  # registers and reply letters: submitted again, not fetched
                    results.append(RecheckResult(round=rnd, finding=f, state="unknown", reason="台账和答复书类问题需重新提交材料后检查"))
            with transaction.atomic():
                RecheckResult.objects.filter(round=rnd).delete()
                RecheckResult.objects.bulk_create(results)
    finally:
        bar.close()
    counts = {s: sum(r.state == s for r in results) for s in ("fixed", "present", "unknown")}
    _end(rnd, "done", f"已整改{counts['fixed']}个，仍存在{counts['present']}个，未能复查{counts['unknown']}个")
    return counts


def _judge(rnd: Round, old: list[Finding], rep, before: list[ColumnCheck] = (), rules=None) -> list[RecheckResult]:
    """Each finding of one site against its re-check (rep): present when found again; fixed only when everything the
    rule needs was fetched and the rule no longer holds; otherwise could not check, with the reason."""
    rules = rules or round_rules(rnd)

    def result(f, state, reason):
        return RecheckResult(round=rnd, finding=f, state=state, reason=reason[:1000], evidence=_after(f, state, rep, rules))

    if isinstance(rep, BaseException):
        return [result(f, "unknown", f"复查程序内部错误，该网站未能复查（{type(rep).__name__}）") for f in old]
    if rep.status != "checked":
        return [result(f, "unknown", rep.reason or "网站未能复查") for f in old]
    now = {f.fingerprint for f in rep.findings}
    fetched = rep.fetched_ok
    columns = {normalise_url(c.url): c for c in rep.columns}
    # site rules read the site's lists: every column the round could read must have been read again
    lost = [c.name for c in before if c.status != "unknown"
            and (columns.get(normalise_url(c.url)) is None or columns[normalise_url(c.url)].status == "unknown")]
    # pages and attachments the content checks could not read this time (an unreadable file is not a clean one)
    unreadable = {normalise_url(u["url"]): u.get("reason", "") for u in rep.check_stats.get("content_unreadable") or []
                  if _is_page(u.get("url"))}
    out = []
    for f in old:
        kind = recheck_kind(f.rule, rules)
        if f.fingerprint in now:
            out.append(result(f, "present", "复查时问题仍然存在"))
            continue
        if kind == "none":
            out.append(result(f, "unknown", _CANNOT.get(f.rule, "该类问题不能自动复查，请人工核实")))
            continue
        if f.rule in rep.undecided:
            out.append(result(f, "unknown", rep.undecided[f.rule]))
            continue
        missing = sorted(u for u in _pages_of(f, rules) if u not in fetched)
        if missing and f.rule.startswith(DELETABLE) and kind == "page" and set(missing) <= (rep.gone or set()):
            # the page (or attachment) carrying the text is deleted: the site answers it 404/410 while its home page
            # opens — the content is no longer published
            out.append(result(f, "fixed", "复查时该页面已删除（网站答复“页面不存在”），问题内容已不再公开"))
            continue
        if missing:
            out.append(result(f, "unknown", f"复查时未能取得判断所需的页面：{missing[0]}" + (f" 等{len(missing)}个" if len(missing) > 1 else "")))
            continue
        if kind == "page":
            col = columns.get(normalise_url(f.url))
            elsewhere = _seen_elsewhere(f, rep)
            if f.rule.startswith("column.") and (col is None or col.status == "unknown"):
                out.append(result(f, "unknown", (col.reason if col else "") or "栏目未能复查"))
            elif elsewhere:
                out.append(result(f, *elsewhere))
            elif normalise_url(f.url) in unreadable:
                out.append(result(f, "unknown", f"复查时未能读取该页面或附件的内容（{unreadable[normalise_url(f.url)]}）"))
            else:
                out.append(result(f, "fixed", "复查时重新取得该页面，问题已不存在"))
        elif kind == "site":
            unseen = _unsampled(f, rep)
            if unseen:
                out.append(result(f, "unknown", f"复查抽查的页面未包括原来有问题的页面（如{unseen[0]}），无法判断"))
            elif lost:
                out.append(result(f, "unknown", f"该问题要结合全站栏目判断，复查时未能重新读取“{lost[0]}”" + (f"等{len(lost)}个栏目" if len(lost) > 1 else "栏目")))
            else:
                out.append(result(f, "fixed", "复查时重新读取了全部栏目和相关页面，问题已不存在"))
        elif kind == "links":
            out.append(_judge_link(f, rep, result))
        else:
            out.append(result(f, "unknown", "该类问题不能在网站上复查"))
    return out


def _after(f: Finding, state: str, rep, rules) -> dict:
    """The re-check's evidence for a finding (the "after" beside the finding's own "before"): for a problem still there,
    the new finding's capture and excerpt; otherwise the capture of the page it was on (a link: the first page that
    carried it), when the re-check fetched it."""
    from ..storage import storage

    if isinstance(rep, BaseException) or rep is None:
        return {}
    store = storage()
    if state == "present":
        g = next((g for g in rep.findings if g.fingerprint == f.fingerprint), None)
        if g is not None:
            ev = {k: v for k, v in g.evidence.to_dict().items() if v not in (None, "", [], {})}
            # the URL shown with the capture is the page captured (a link finding's is the page carrying the link,
            # not the link's target, whose HTTP status this is not)
            page = next((c["url"] for c in (rep.captures or {}).values() if ev.get("warc_file")
                         and (c.get("warc_file"), c.get("warc_offset")) == (ev["warc_file"], ev.get("warc_offset"))), None)
            if page is None and recheck_kind(f.rule, rules) == "links":
                page = next((r for r in _referrer_pages(f) if normalise_url(g.url) in rep.page_links.get(r, ())), None)
            if ev.get("warc_file"):
                ev["warc_file"] = store.key_or_path(ev["warc_file"])
            out = {"url": page or g.url, **ev}
            if page and normalise_url(page) != normalise_url(g.url):
                out["target"] = g.url
            return out
    pages = _referrer_pages(f) if recheck_kind(f.rule, rules) == "links" else [normalise_url(f.url)] if _is_page(f.url) else []
    for p in pages:
        cap = (rep.captures or {}).get(p)
        if cap:
            return {**cap, "warc_file": store.key_or_path(cap["warc_file"])}
    return {}


def _seen_elsewhere(f: Finding, rep) -> tuple[str, str] | None:
    """Content found on many pages is one finding on the first page a crawl met (the others a sample): when the re-check
    met the same text first on another page, this page may still carry it. (state, reason), or None when it was not
    seen again anywhere."""
    text = f.match
    if not text:
        return None
    url, unsure = normalise_url(f.url), False
    for g in rep.findings:
        if g.rule == f.rule and g.match == text:
            others = [normalise_url(u) for u in g.facts.get("others") or []]
            if url in others:
                return "present", "复查时问题仍然存在"
            unsure |= (g.facts.get("also_on") or 0) > len(others)
    return ("unknown", "复查时同一内容仍出现在本站其他页面，未能确认该页面已改正") if unsure else None


def _unsampled(f: Finding, rep) -> list[str]:
    """Pages that lacked something when the finding was made but were not among the pages the rule sampled this time
    (a sample of other pages that are fine says nothing about them)."""
    ev = f.facts or {}
    lacked = {normalise_url(u) for us in (ev.get("inner_missing") or {}).values() for u in us if _is_page(u)}
    if ev.get("article_missing"):  # site.meta_missing: which sampled article lacked a tag is not kept, so all of them
        lacked |= {normalise_url(u) for u in ev.get("articles_sampled") or [] if _is_page(u)}
    return sorted(lacked - {normalise_url(u) for u in rep.sampled.get(f.rule, [])})


def _judge_link(f: Finding, rep, result) -> RecheckResult:
    """A link finding not seen again is fixed when the link is gone from every page it was on, or (a dead link on the
    site itself) its target now opens; a link still there that the probes did not confirm is could not check."""
    target = normalise_url(f.url)
    refs = _referrer_pages(f)
    if not refs:
        return result(f, "unknown", "原问题未记录引用该链接的页面，无法复查")
    count = (f.facts or {}).get("referrer_count") or len(refs)
    still = [r for r in refs if target in rep.page_links.get(r, ())]
    if not still and count <= len(refs):
        return result(f, "fixed", "复查时原引用页面均已删除该链接")
    if f.rule == "link.dead" and target in rep.fetched_ok:
        return result(f, "fixed", "复查时链接目标已可正常访问")
    if not still:
        return result(f, "unknown", f"复查的{len(refs)}个页面已删除该链接，但原有{count}处引用，其余页面未复查")
    return result(f, "unknown", "链接仍在页面上，复查未能确认问题已消除")


def _recheck_accounts(rnd: Round, by_account: dict[int, list[Finding]], cfg: CrawlConfig, checker, rules) -> list[RecheckResult]:
    """New-media findings: every registered account is checked again (duplicates are judged over all accounts)."""
    from ..engine.newmedia import AccountSpec, check_accounts
    from ..registry.models import Account

    accounts = list(Account.objects.select_related("owner"))
    specs = [AccountSpec(a.platform, a.name, a.owner.name, a.filed, a.interaction, a.source) for a in accounts]
    results = dict(zip((a.pk for a in accounts), asyncio.run(check_accounts(specs, rnd.as_of, cfg, checker, rules=rules))))
    out = []
    for pk, fs in by_account.items():
        res = results.get(pk)
        now = {f.fingerprint for f in res.findings} if res else set()
        for f in fs:
            if res is None:
                state, why = "unknown", "账号已不在名录中，未能复查"
            elif f.fingerprint in now:
                state, why = "present", "复查时问题仍然存在"
            elif f.rule in _FEED_RULES_SEE_REGISTRY:
                state, why = "fixed", "复查时名录中该账号的登记情况已不再有该问题"
            elif res.status != "checked":
                state, why = "unknown", res.reason or "未能取得发布内容"
            elif not f.rule.startswith("newmedia."):
                state, why = "unknown", "发布内容中的问题须在原文中核实，订阅源中未再出现不能证明已删除"
            else:
                state, why = "fixed", "复查时重新读取了账号发布内容，问题已不存在"
            out.append(RecheckResult(round=rnd, finding=f, state=state, reason=why, evidence=_account_after(res)))
    return out


def _account_after(res) -> dict:
    """A new-media re-check's evidence (no page to keep): the account, its feed's address, what the feed showed, when."""
    if res is None:
        return {}
    from django.utils import timezone

    a, d = res.account, res.to_dict()
    out = {"account": f"{a.platform}/{a.name}", "checked_at": timezone.now().isoformat(timespec="seconds"),
           "status": res.status, "filed": a.filed}
    if _is_page(a.source):
        out["url"] = a.source
    out.update({k: d[k] for k in ("last_post", "posts_in_window", "reason") if d.get(k) not in (None, "")})
    return out
