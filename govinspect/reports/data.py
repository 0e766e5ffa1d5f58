"""Round data: everything the reports print, as one plain dict (also written as round.json).

Made from the typed round result (rounds.result.round_result); what the rectification loop adds (the items of the
round and of earlier rounds, the deadline, the office's chosen examples) is read by round_data. Every finding
carries the contract (fingerprint, subject, typed location, facts, capture evidence, severity, veto); reports read a
finding's facts, never its detail text, and the round's RuleSet gives veto and every rate.

The bulletin and the attachment workbook are pure functions of this dict, so `govinspect report`
regenerates the documents from stored results without crawling again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from ..rules import RulesError, load_rules
from ..safetext import xml_text

# ------------------------------------------------------------------------------------------ wording
# One place for how every report writes dates, reasons, metadata names and illegal addresses.


def cn_date(d: dt.date | str) -> str:
    """The one date format of the reports, as the real bulletins print it: 2026年2月23日 (no zero padding)."""
    d = dt.date.fromisoformat(d[:10]) if isinstance(d, str) else d
    return f"{d.year}年{d.month}月{d.day}日"


_PADDED_DATE = re.compile(r"(\d{4})年0*(\d{1,2})月(?:0*(\d{1,2})日)?")
_ISO_DATE = re.compile(r"(?<![\w/.:=%-])(\d{4})-(\d{2})-(\d{2})(?![\w/:%-])")
_DOUBLED = re.compile(r"(网站|栏目)\1+")


def cn_text(s):
    """Text bound for a report: characters XML cannot hold removed, dates in the one format (2026年02月03日 and
    2026-02-03 become 2026年2月3日), doubled words collapsed (门户网站 + 网站《…》 is not 门户网站网站). Non-strings pass."""
    if not isinstance(s, str):
        return s
    s = xml_text(s)
    s = _PADDED_DATE.sub(lambda m: f"{m[1]}年{int(m[2])}月" + (f"{int(m[3])}日" if m[3] else ""), s)
    s = _ISO_DATE.sub(lambda m: f"{m[1]}年{int(m[2])}月{int(m[3])}日", s)
    return _DOUBLED.sub(r"\1", s)


def defang(url: str) -> str:
    """An illegal link as reports show it: its domain only, never a live address (www[.]xxx[.]top)."""
    host = urlsplit(url if "//" in url else "//" + url).hostname or url
    return host.replace(".", "[.]")


_URL = re.compile(r"(?:https?://|www\.)[^\s，。；、“”（）()]+")
_TECHNICAL = re.compile(r"(?<![A-Za-z])(?!HTTP\b)[A-Za-z][A-Za-z_-]{2,}")


def _reason_rules() -> tuple[list[dict], str]:
    cfg = load_rules("bulletin").get("reasons")
    if cfg is None:  # an office's own bulletin.toml from before [reasons]: the shipped translations
        import tomllib

        from ..rules import RULES_DIR

        cfg = tomllib.loads((RULES_DIR / "bulletin.toml").read_text(encoding="utf-8")).get("reasons") or {}
    rules = cfg.get("map") or []
    for i, r in enumerate(rules, start=1):
        if not isinstance(r, dict) or not isinstance(r.get("match"), str) or not isinstance(r.get("text"), str) or not r["text"]:
            raise RulesError(f"bulletin.toml 第{i}个 [[reasons.map]] 需要 match（正则表达式）和 text（中文原因）")
        try:
            re.compile(r["match"])
        except re.error as e:
            raise RulesError(f"bulletin.toml 第{i}个 [[reasons.map]] 的 match “{r['match']}” 不是有效的正则表达式：{e}") from None
    return rules, cfg.get("fallback") or "访问出错"


def explain(reason: str | None) -> tuple[str, bool]:
    """(the reason in Chinese, whether the cause is on the website's side). An engine reason such as
    "首页无法访问（blocked: 拒绝访问内网…），本轮未能检查" becomes "首页无法访问（网站地址属于内网或本机地址，检查设置未放行）";
    Chinese reasons pass unchanged; the closing "，本轮未能检查" is left to the sentence that cites the reason."""
    text = (reason or "").strip()
    text = re.sub(r"[，,]?\s*本轮未能(完成)?检查[。]?$", "", text)
    masked = _URL.sub(lambda u: "#" * len(u[0]), text)  # an address cited in a reason is not technical text
    m = _TECHNICAL.search(masked)
    if not m:
        return text, True
    rules, fallback = _reason_rules()
    hit = next((r for r in rules if re.search(r["match"], text, re.I)), None)
    cause = hit["text"] if hit else fallback
    prefix = re.sub(r"[（(：:\s]+$", "", text[:m.start()])
    if not prefix or (hit and hit.get("ours")):  # not allowed to look: not "首页无法访问"
        out = cause
    else:
        out = prefix if cause in prefix else f"{prefix}（{cause}）"
    return out, not (hit and hit.get("ours"))


def cn_reason(reason: str | None) -> str:
    return explain(reason)[0]


def _with_terms(text: str, terms: dict[str, str]) -> str:
    for k in sorted(terms, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z]){re.escape(k)}(?![A-Za-z])", terms[k], text)
    text = re.sub(r"(?<=[\u4e00-\u9fff])\s*,\s*(?=[\u4e00-\u9fff])", "、", text)
    return re.sub(r"(?<=[\u4e00-\u9fff]) +(?=[\u4e00-\u9fff])", "", text)


# bulletin.toml [links] as shipped: an office's own copy of the file without the section still reads in Chinese
_LINK_WORDS = {"illegal": "指向{label}网站", "hidden": "为隐藏链接（暗链）", "dead": "无法访问", "evidence": "页面存档：{file}",
               "evidence_missing": "页面存档未找到"}


def link_words(cfg: dict | None = None) -> dict:
    """The words for a link's problems (bulletin.toml [links]), the shipped ones where a key is missing."""
    return {**_LINK_WORDS, **((cfg if cfg is not None else load_rules("bulletin")).get("links") or {})}


ILLEGAL_RULES = ("link.illegal", "link.hidden")
LINK_RULES = ("link.illegal", "link.hidden", "link.dead")  # most serious first: one link, one entry


def illegal_addresses(f: dict) -> list[str]:
    """The illegal or hidden link addresses a finding's sentence may name: its own address for link.illegal and
    link.hidden, the links a defaced home page gained for site.defaced."""
    if f["rule"] in ILLEGAL_RULES:
        return [f["url"]] if f.get("url") else []
    if f["rule"] == "site.defaced":
        return [u for u in (f.get("facts") or {}).get("new_links") or [] if isinstance(u, str)]
    return []


def display_detail(f: dict, terms: dict) -> str:
    """A finding's sentence as reports print it: Chinese names for technical terms (catalog `terms` by rule), an
    illegal or hidden link's address and domain defanged, the one date format."""
    text = f.get("detail") or ""
    if f["rule"] in terms:
        text = _with_terms(text, terms[f["rule"]])
    urls = sorted(illegal_addresses(f), key=len, reverse=True)
    for url in urls:  # whole addresses first, then any other mention of their hosts
        text = text.replace(url, defang(url))
    for host in {urlsplit(u).hostname for u in urls} - {None}:
        text = re.sub(rf"(?<![\w\[]){re.escape(host)}", defang(host), text)
    if urls:  # what is left of an address around a defanged host (scheme, path) goes too
        text = re.sub(r"(?:https?://)?([\w-]+(?:\[\.\][\w-]+)+)[^\s，。；、“”（）()]*", r"\1", text)
    if f["rule"] == "link.dead" and f.get("facts"):  # its facts in bulletin.toml's words, not the probe's technical text
        text = dead_link_sentence(f["facts"], f.get("url") or "")
    return cn_text(text)


def sentences(cfg: dict | None = None) -> dict:
    """bulletin.toml [sentences] (an office's entries over the shipped ones: a copy made before a rule existed still
    writes its sentence)."""
    import tomllib

    from ..rules import RULES_DIR

    shipped = tomllib.loads((RULES_DIR / "bulletin.toml").read_text(encoding="utf-8")).get("sentences") or {}
    return {**shipped, **((cfg if cfg is not None else load_rules("bulletin")).get("sentences") or {})}


def dead_link_sentence(facts: dict, url: str, cfg: dict | None = None) -> str:
    """A dead link as one sentence from its facts (bulletin.toml [sentences."link.dead"] line): 站内链接“旧通知”无法访问
    （页面不存在，HTTP 404），共1处引用，如 http://…"""
    refs = [r for r in facts.get("referrers") or [] if isinstance(r, dict)]
    why = _probe_reason(facts.get("second_probe") or facts.get("first_probe") or {})
    fields = {"scope": "外部" if facts.get("external") else "站内", "why": f"（{why}）" if why else "",
              "anchor": next((r["text"] for r in refs if r.get("text")), "") or url,
              "referrer_count": facts.get("referrer_count") or len(refs), "page": next((r["page"] for r in refs if r.get("page")), "")}
    try:
        return sentences(cfg)["link.dead"]["line"].format_map(fields)
    except KeyError as e:
        raise RulesError(f"bulletin.toml [sentences.\"link.dead\"] line 用了不存在的字段 {e}") from None


# ------------------------------------------------------------------------------------------ evidence
# An illegal or hidden link is evidenced by our archived copy of the page that carries it (the site's WARC file),
# written beside the bulletin as 证据/<file>.html — the page source shown as text, never a live page.

def _capture(warc: str, page: str) -> tuple[str, int] | None:
    """(WARC file, offset) of the response record of `page` when the finding does not name its record: from the
    crawl's own index (crawl-state.sqlite beside the site's WARC, which also points into an earlier crawl's file for
    a page that was not modified), else by reading the WARC file."""
    wp = Path(warc)
    state = wp.parent / "crawl-state.sqlite"
    if state.is_file():
        try:
            db = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
            try:
                row = db.execute("SELECT warc_file, warc_offset FROM fetched WHERE (url=? OR final_url=?) AND warc_file IS NOT NULL "
                                 "AND warc_offset IS NOT NULL AND status BETWEEN 200 AND 299 ORDER BY url=? DESC LIMIT 1",
                                 (page, page, page)).fetchone()
            finally:
                db.close()
            if row and _resolve(row[0]).is_file():
                return str(_resolve(row[0])), int(row[1])
        except sqlite3.Error:
            pass
    if not wp.is_file():
        return None
    from warcio.archiveiterator import ArchiveIterator

    found = None
    try:
        with open(wp, "rb") as fh:
            it = ArchiveIterator(fh)
            for rec in it:
                if rec.rec_type == "response" and rec.rec_headers.get_header("WARC-Target-URI") == page:
                    found = (str(wp), it.get_record_offset())
    except Exception:  # a damaged archive: no capture rather than no report
        return found
    return found


def _resolve(key_or_path: str) -> Path:
    """A stored WARC key (or a path kept from before keys) as a local path."""
    from ..storage import StorageError, storage

    try:
        return storage().resolve(key_or_path)
    except StorageError:
        return Path(key_or_path)


def evidence_name(site_id: int, page: str) -> str:
    return f"证据/网站{site_id}-{hashlib.sha1(page.encode('utf-8')).hexdigest()[:10]}.html"


def _captures(findings: list[dict], site_id: int, warc: str) -> dict[str, dict]:
    """For each illegal or hidden link finding: the archived page carrying it (f["evidence_file"], None when the
    archive does not hold it) — the WARC record its evidence names, else the page found through the site's crawl.
    Returns {evidence file: capture} for the writer."""
    out: dict[str, dict] = {}
    cache: dict[str, tuple | None] = {}
    site_warc = str(_resolve(warc)) if warc else ""
    for f in findings:
        if f["rule"] not in ILLEGAL_RULES:
            continue
        facts, ev = f.get("facts") or {}, f.get("evidence") or {}
        pages = [r["page"] for r in facts.get("referrers") or [] if r.get("page")] or ([facts["page"]] if facts.get("page") else [])
        f["evidence_file"] = None
        if ev.get("warc_file") and ev.get("warc_offset") is not None and pages:  # the record the finding names
            cache.setdefault(pages[0], (str(_resolve(ev["warc_file"])), int(ev["warc_offset"])))
        for page in pages:
            if page not in cache:
                cache[page] = _capture(site_warc, page) if site_warc else None
            if cache[page] and Path(cache[page][0]).is_file():
                name = evidence_name(site_id, page)
                cap = out.setdefault(name, {"file": name, "page": page, "warc": cache[page][0], "offset": cache[page][1],
                                            "site": f["site"], "hosts": []})
                host = urlsplit(f["url"]).hostname or ""
                if host and host not in cap["hosts"]:
                    cap["hosts"].append(host)
                f["evidence_file"] = name
                break
    return out


def _display(findings: list[dict], terms: dict) -> None:
    """Each finding's sentence as printed (display_detail); the stored sentence stays in detail_raw when they differ.
    An illegal or hidden link's address is shown defanged (shown_url); url keeps the address itself (machine data)."""
    for f in findings:
        shown = display_detail(f, terms)
        if shown != f["detail"]:
            f["detail_raw"] = f["detail"]
            f["detail"] = shown
        f["shown_url"] = defang(f["url"]) if f["rule"] in ILLEGAL_RULES else f["url"]


def fail_reasons(verdict: str, score, findings: list[dict], scheme, names: dict) -> list[str]:
    """Why a checked website failed, in Chinese: its single-veto problems (the scheme's), else its score under the
    pass line."""
    if verdict != "fail":
        return []
    part = scheme.data["website"]
    vetoes = list(dict.fromkeys(f["rule"] for f in findings if f["rule"] in set(part.get("veto", []))))
    out = ["单项否决：" + "、".join(names.get(r, r).replace("（单项否决）", "") for r in vetoes)] if vetoes else []
    if score is not None and score < part["pass_score"]:
        out.append(f"得分{score}分，低于合格分数{part['pass_score']}分")
    return out


def problem_lines(findings: list[dict]) -> list[dict]:
    """One problem, one line: the findings of one link (illegal, hidden and dead are three findings) become one
    line with every reason; every other finding is its own line. Each line: the first finding's fields (rule: the
    most serious), rules, finding_ids, detail (all the link's problems in one sentence) and evidence_link (the
    archived page for an illegal or hidden link, never the illegal address; else the finding's address); an illegal
    or hidden link's url is its defanged domain. For the rectification lists and the attachment tables."""
    cfg = link_words()
    lines: list[dict] = []
    by_link: dict[tuple, dict] = {}
    for f in findings:
        if f["rule"] in LINK_RULES:
            key = (f.get("site"), f.get("responsible_unit"), f["url"])
            line = by_link.get(key)
            if line is None:
                line = by_link[key] = {**f, "rules": [], "finding_ids": [], "parts": {}}
                lines.append(line)
            line["rules"].append(f["rule"])
            line["finding_ids"].append(f["id"])
            line["parts"][f["rule"]] = f
            continue
        lines.append({**f, "rules": [f["rule"]], "finding_ids": [f["id"]],
                      "evidence_link": f.get("evidence_file") or f["url"]})
    for line in by_link.values():
        parts = line.pop("parts")
        main = next(parts[r] for r in LINK_RULES if r in parts)
        line.update({k: main[k] for k in ("id", "rule", "detail", "facts", "evidence", "fingerprint") if k in main})
        line["rules"] = [r for r in LINK_RULES if r in parts]
        illegal = any(r in parts for r in ILLEGAL_RULES)
        line["shown_url"] = defang(line["url"]) if illegal else line["url"]
        files = [parts[r].get("evidence_file") for r in ILLEGAL_RULES if r in parts]
        line["evidence_file"] = next((x for x in files if x), None)
        line["evidence_link"] = line["evidence_file"] or ("" if illegal else line["url"])
        line.update(_link_facts(parts, cfg))
        if illegal:  # the dead link's own sentence names the address: an illegal link's is rewritten
            where = f"；所在页面：{line['page']}" if line["page"] else ""
            line["detail"] = cn_text(f"{line['link']}{'，'.join(line['reasons'])}{where}")
            line["url"] = line["shown_url"]  # the address itself stays in round.json's findings (finding_ids), not here
    return lines


def _link_facts(parts: dict, cfg: dict) -> dict:
    """One link's facts: link (链接“文字”（www[.]x[.]top）), reasons in the words of bulletin.toml [links], most
    serious first (指向赌博网站, 为隐藏链接（暗链）, 无法访问（域名无法解析）), the page carrying it and its label."""
    main = next(parts[r] for r in LINK_RULES if r in parts)
    illegal = any(r in parts for r in ILLEGAL_RULES)
    refs = [r for p in parts.values() for r in (p["facts"].get("referrers") or [])]
    anchor = cn_text(next((r["text"] for r in refs if r.get("text")), "")).strip()
    shown = defang(main["url"]) if illegal else main["url"]
    if illegal and anchor:
        anchor = anchor.replace(main["url"], shown).replace(urlsplit(main["url"]).hostname or shown, shown)
    ev = {r: parts[r]["facts"] for r in parts}
    label = (ev.get("link.illegal", {}).get("label") or (ev.get("link.hidden", {}).get("illegal") or {}).get("label") or "违法违规")
    reasons = []
    for r in LINK_RULES:
        if r in parts:
            text = cfg.get(r.split(".")[1], r).format(label=label)
            if r == "link.dead":
                why = _probe_reason(ev[r].get("second_probe") or {})
                text += f"（{why}）" if why else ""
            reasons.append(text)
    return {"link": f"链接“{anchor}”（{shown}）" if anchor and anchor != shown else f"链接{shown}", "anchor": anchor,
            "reasons": reasons, "label": label if illegal and label != "违法违规" else "",
            "page": next((r["page"] for r in refs if r.get("page")), "")}


def _probe_reason(probe: dict) -> str:
    """A failed probe (engine.fetch.linkcheck LinkProbe.to_dict) in the words of a bulletin."""
    if not probe:
        return ""
    if probe.get("error"):
        return cn_reason(probe["error"])
    status = probe.get("status")
    if status in (404, 410):
        return f"页面不存在，HTTP {status}"
    if status and status >= 500:
        return f"服务器错误，HTTP {status}"
    return f"HTTP {status}" if status else ""


def quarter_label(d: dt.date) -> str:
    return f"{d.year}年第{'一二三四'[(d.month - 1) // 3]}季度"


def org(unit, direct: str, fallback: str = "", office: str = "") -> dict:
    """Where a unit (rounds.result.UnitRef) stands in the bulletin's attachment tables: 区域, 主管单位 and registry
    order. The issuing office's own units count as 县直/市直 even when registered as a 区县 unit."""
    if unit is None:
        return {"unit": fallback, "short": fallback, "kind": "", "region": direct, "region_order": 0, "unit_order": 0, "supervisor": fallback}
    own = unit.region_id is None or unit.region_name == office
    return {"unit": unit.name, "short": unit.short, "kind": unit.kind, "region": direct if own else unit.region_label,
            "region_order": 0 if own else unit.region_id, "unit_order": unit.id, "supervisor": unit.supervisor}


def finding_dict(sf, site: str, unit: str, responsible: str) -> dict:
    """A stored finding as round.json carries it: the contract (fingerprint, subject, typed location, facts, capture
    evidence, severity, veto) and where the reports place it (site or account, unit, responsible unit)."""
    f = sf.finding
    return {"id": sf.id, "rule": f.rule, "fingerprint": f.fingerprint, "subject": f.subject.to_dict(),
            "location": f.location.to_dict(), "url": f.url, "column": f.column, "detail": f.detail, "match": f.match,
            "facts": f.facts, "evidence": f.evidence.to_dict(), "severity": sf.severity, "veto": sf.veto,
            "responsible_unit": responsible, "site": site, "unit": unit}


def round_data(rnd) -> dict:
    """round.json of a stored round (rounds.result.round_result: the typed result), with what the rectification loop
    adds (issue 18): the typical examples the office chose, the deadline and the items of this round, and how the items
    of the earlier rounds stand (rectification_data)."""
    from ..rounds.result import round_result

    data = result_data(round_result(rnd))
    data["round"]["examples"] = chosen_examples(rnd, data)
    data["rectify"] = rectify_info(rnd)
    data["rectification"] = rectification_data(rnd)
    return data


# ------------------------------------------------------------------------------------------ rectification (issue 18)
# The documents are written from this dict; what the rectification items say is read here from the database once.
ITEM_COUNTS = ("fixed", "present", "overdue", "unverified", "accepted", "disputed", "claimed", "open")


def chosen_examples(rnd, data: dict) -> dict[str, list[int]]:
    """Round.examples ({rule: [finding ids]}, picked by the office before issuing), kept only where the ids are
    findings of this round that the reports show (not ignored) and of that rule: a stale choice is dropped, never
    printed."""
    shown = {f["id"]: f["rule"] for f in data["findings"]}
    out = {}
    for rule, ids in (rnd.examples or {}).items():
        if not isinstance(ids, list):
            continue
        good = list(dict.fromkeys(i for i in ids if isinstance(i, int) and not isinstance(i, bool) and shown.get(i) == rule))
        if good:
            out[rule] = good
    return out


def _issue_events(rnd):
    """The events of this round's issue (rectify.services.issue_round): an item issued or carried (`issue`, its
    evidence names a finding of the round) or reopened and issued again with it (`reopen`, the item's round_issued
    becomes the round; a reopen by sync_with_round leaves round_issued alone and is no issue)."""
    from django.db.models import Q

    from ..rectify.models import ItemEvent

    return ItemEvent.objects.filter(Q(action="issue") | Q(action="reopen", item__round_issued=rnd), evidence__round=rnd.pk)


def issued_at(rnd):
    """When the round's bulletin was issued (its Issuance, or the last event of its items' issue), None before."""
    from django.db.models import Max

    from ..rectify.models import Issuance

    times = [t for t in (Issuance.objects.filter(round=rnd).values_list("issued_at", flat=True).first(),
                         _issue_events(rnd).aggregate(t=Max("at"))["t"]) if t is not None]
    return max(times) if times else None


def bulletin_deadline(rnd, carried: bool = True) -> tuple[dt.date | None, int, str]:
    """(deadline, working days, why there is no deadline) of the round's bulletin, the one rule for every place that
    shows it (the bulletin, the 整改清单, the web pages).

    Issued (an Issuance): issued_on + the issued working days, by the round's calendar (the items' own deadline).
    Issued without an Issuance record yet (rectify.issue.issue writes the documents before its row, or
    rectify.services.issue_round alone): the deadline of the items it created, else (`carried`: every item carried
    from earlier rounds, found by their issue events) the period from the day of the issue. Before issue: the round's
    working days (rectify.services.rectify_days) from the as-of date. A year the working-day calendar does not know
    gives no date, with the reason (never a guessed date). One query (two with `carried` before issue)."""
    from django.db.models import Min, OuterRef, Subquery
    from django.utils import timezone

    from ..engine.workdays import UnknownYear
    from ..rectify.models import Item
    from ..rounds.models import Round
    from ..rules.ruleset import RuleSet

    own = Item.objects.filter(round_issued=OuterRef("pk")).order_by("-deadline").values("deadline")[:1]
    row = Round.objects.filter(pk=rnd.pk).annotate(own=Subquery(own)).values(
        "issuance__issued_on", "issuance__rectify_days", "own", "rules_snapshot", "scheme", "rectify_days").first()
    if row is None:
        return None, 0, f"没有编号为 {rnd.pk} 的检查轮次"
    # the round's rules as rounds.scoring.round_rules and rectify.services.rectify_days read them (read here with the
    # rest: a round loaded without its snapshot costs no second query)
    rules = RuleSet.from_snapshot(row["rules_snapshot"]) if row["rules_snapshot"] else RuleSet.load(row["scheme"])
    on = row["issuance__issued_on"]
    days = int(row["issuance__rectify_days"] if on is not None else
               row["rectify_days"] or (rules.get("rectify") or load_rules("rectify"))["days"])
    try:
        if on is not None:
            return rules.calendar.add_workdays(on, days), days, ""
        if row["own"] is not None:  # created or reopened by this round's issue
            return row["own"], days, ""
        first = _issue_events(rnd).aggregate(t=Min("at"))["t"] if carried else None
        start = timezone.localdate(first) if first is not None else rnd.as_of
        return rules.calendar.add_workdays(start, days), days, ""
    except UnknownYear as e:
        return None, days, str(e)


def rectify_info(rnd) -> dict:
    """The rectification deadline the bulletin prints (bulletin_deadline) and, once the round is issued, its items
    by finding for the 整改清单 (item id, deadline, state)."""
    from ..rectify.models import Issuance

    items = _round_items(rnd)
    due, days, why = bulletin_deadline(rnd)
    iss = Issuance.objects.filter(round=rnd).first()
    return {"issued": iss is not None or bool(items), "issued_on": iss.issued_on.isoformat() if iss else None,
            "days": days, "deadline": due.isoformat() if due else None, "deadline_error": why,
            "items": {str(fid): it for fid, it in items.items()}}


def _round_items(rnd) -> dict[int, dict]:
    """Finding id of this round -> {id, deadline, state} of the item its issue created or carried (by the issue
    events, so an item later followed into other rounds still maps to this round's finding)."""
    from ..rectify.models import Item
    from ..rounds.models import Finding

    fids = set(Finding.objects.filter(round=rnd).values_list("id", flat=True))
    by_finding: dict[int, int] = {}
    for item_id, ev in _issue_events(rnd).order_by("at", "id").values_list("item_id", "evidence"):
        f = (ev or {}).get("finding")
        if f in fids:
            by_finding[f] = item_id
    for item_id, f in Item.objects.filter(round_issued=rnd, finding__round=rnd).values_list("id", "finding_id"):
        by_finding.setdefault(f, item_id)
    items = {i.pk: i for i in Item.objects.filter(pk__in=set(by_finding.values()))}
    same = {}  # a finding without its own event: the item of the same problem (one item per fingerprint and unit)
    keys = {(i.fingerprint, i.unit_id): i for i in items.values()}
    for fid, fp, unit in Finding.objects.filter(round=rnd, ignored_by__isnull=True).exclude(fingerprint="") \
            .values_list("id", "fingerprint", "responsible_unit_id"):
        if fid not in by_finding and (fp, unit) in keys:
            same[fid] = keys[(fp, unit)].pk
    by_finding.update(same)
    return {fid: {"id": iid, "deadline": items[iid].deadline.isoformat(), "state": items[iid].state}
            for fid, iid in sorted(by_finding.items())}


def _state_at(events: list, when) -> str | None:
    """An item's state at `when` from its events (ordered): the last one at or before it; None: it did not exist."""
    state = None
    for at, to in events:
        if when is not None and at > when:
            break
        state = to
    return state


def rectification_data(rnd) -> dict:
    """复查整改情况 of this round's bulletin: the items issued by earlier rounds, as they stood when this bulletin was
    issued (now, before issue), counted by state, per unit, with the annual-assessment deduction for overdue items
    (rules/rectify.toml [overdue]: points per item, at most cap per unit). Items already closed when the previous
    bulletin was issued were reported by it and are left out. {} when there are no such items.

    Counted as fixed only what a re-check or a later round verified (已整改): 已反馈 and 未能复查 never are."""
    from django.db.models import Q

    from ..rectify.models import Item, ItemEvent
    from ..rectify.services import settings_for
    from ..rounds.models import Round

    if rnd.item_recheck:
        return {}
    earlier = Q(round_issued__as_of__lt=rnd.as_of) | Q(round_issued__as_of=rnd.as_of, round_issued_id__lt=rnd.pk)
    items = list(Item.objects.filter(earlier).select_related("unit", "round_issued", "finding__round_site__website")
                 .order_by("id"))
    if not items:
        return {}
    now = issued_at(rnd)
    issued_rounds = {i.round_issued for i in items}
    # the previous bulletin: the latest earlier round that issued items (its own or carried ones)
    cands = issued_rounds | set(Round.objects.filter(Q(issuance__isnull=False), Q(as_of__lt=rnd.as_of) |
                                                     Q(as_of=rnd.as_of, pk__lt=rnd.pk)))
    prev = max(cands, key=lambda r: (r.as_of, r.pk))
    prev_at = issued_at(prev)
    events: dict[int, list] = {}
    for item_id, at, to in ItemEvent.objects.filter(item__in=[i.pk for i in items]).order_by("at", "id") \
            .values_list("item_id", "at", "to_state"):
        events.setdefault(item_id, []).append((at, to))
    rows = []
    for i in items:
        evs = events.get(i.pk, [])
        state = _state_at(evs, now) if now is not None else i.state
        if state is None:
            continue
        if prev_at is not None and i.round_issued_id != prev.pk and _state_at(evs, prev_at) in ("fixed", "accepted"):
            continue  # closed before the previous bulletin: it reported them
        rows.append((i, state))
    if not rows:
        return {}
    cfg = (settings_for(rnd).get("overdue") or {})
    points, cap = float(cfg.get("points", 0) or 0), float(cfg.get("cap", 0) or 0)
    units: dict[int, dict] = {}
    total = Counter()
    unfixed = []
    for i, state in rows:
        u = units.setdefault(i.unit_id, {"unit": i.unit.name, "unit_id": i.unit_id, "total": 0, **{k: 0 for k in ITEM_COUNTS}})
        u["total"] += 1
        u[state] += 1
        total[state] += 1
        if state in ("present", "overdue"):
            site = i.finding.round_site.website.name if i.finding and i.finding.round_site_id else ""
            unfixed.append({"item": i.pk, "unit": i.unit.name, "site": site, "rule": i.rule, "state": state,
                            "detail": xml_text(i.finding.detail) if i.finding else ""})
    for u in units.values():
        d = u["overdue"] * points
        u["deduction"] = _num(min(d, cap) if cap else d)
    names = [r.name for r in sorted({i.round_issued for i, _ in rows}, key=lambda r: (r.as_of, r.pk))]
    previous = names[0] if len(names) == 1 else "和".join(names) if len(names) == 2 else f"{names[0]}以来各轮检查"
    return {"previous": previous, "rounds": sorted({i.round_issued_id for i, _ in rows}),
            "as_at": (now.isoformat() if now is not None else None), "issued": now is not None,
            "total": len(rows), **{k: total[k] for k in ITEM_COUNTS},
            "overdue_points": _num(points), "overdue_cap": _num(cap),
            "units": sorted(units.values(), key=lambda u: u["unit_id"]),
            "deductions": [{"unit": u["unit"], "overdue": u["overdue"], "points": u["deduction"]}
                           for u in sorted(units.values(), key=lambda u: (-u["overdue"], u["unit_id"])) if u["overdue"]],
            "unfixed": sorted(unfixed, key=lambda x: (x["state"] != "overdue", x["item"]))}


def _num(x: float):
    """1.0 -> 1, 0.5 stays: points as a bulletin prints them."""
    return int(x) if float(x).is_integer() else x


def result_data(res) -> dict:
    from ..engine.checks.freshness import UNKNOWN, category_by_id

    rules = res.rules
    UNCLASSIFIED = category_by_id(UNKNOWN, rules["freshness"])
    scheme = rules.scheme
    direct = load_rules("bulletin").get("attachments", {}).get("direct_units", "")
    catalog = rules["catalog"]["rules"]
    terms = {k: v["terms"] for k, v in catalog.items() if v.get("terms")}
    names = {k: v["name"] for k, v in catalog.items()}
    sites = []
    all_findings = []
    captures: dict[str, dict] = {}
    for s in res.sites:
        findings = [finding_dict(sf, s.name, s.owner.name, sf.unit.name if sf.unit else s.owner.name)
                    for sf in s.findings if not sf.ignored]
        _display(findings, terms)
        captures.update(_captures(findings, s.id, s.warc))
        all_findings += findings
        reason, site_fault = explain(s.reason)
        sites.append({
            "id": s.id, "name": s.name, "unit": s.owner.name, "unit_kind": s.owner.kind, "url": s.url,
            "org": org(s.owner, direct, office=res.office), "site_code": s.site_code, "is_portal": s.is_portal,
            "status": s.status, "reason": reason, "reason_raw": s.reason, "site_fault": site_fault, "verdict": s.verdict,
            "fail_reasons": fail_reasons(s.verdict, s.score, findings, scheme, names) if s.status == "checked" else [],
            "score": s.score, "deductions": s.deductions, "pages_fetched": s.pages_fetched,
            "findings_ignored": sum(sf.ignored for sf in s.findings),
            "home_newest": s.home_newest.isoformat() if s.home_newest else None, "home_status": s.home_status,
            "publication_count": s.publication_count, "columns_discovered": s.columns_discovered, "veto": s.veto,
            "availability": s.availability, "warc": s.warc, "crawl_log": s.log, "crawl": s.crawl_stats,
            "coverage": s.coverage, "links_external": s.check_stats.get("links_external") or {},
            "columns": [{
                "name": c.name, "url": c.url, "category": c.category, "window": c.window, "level": c.level,
                "status": c.status, "newest_date": c.newest_date.isoformat() if c.newest_date else None,
                "newest_title": c.newest_title, "item_count": c.item_count, "reason": cn_reason(c.reason),
                "stale": None if c.status == "unknown" else c.status == "stale",
                "empty": None if c.status == "unknown" else c.status == "empty",
                "unclassified": c.status == "unknown" and c.category == UNCLASSIFIED["id"] and c.reason == UNCLASSIFIED["reason"],
            } for c in s.columns],
            "findings": findings,
        })
    accounts = []
    for a in res.accounts:
        fs = [finding_dict(sf, a.name, a.owner.name, a.owner.name) for sf in a.findings if not sf.ignored]
        _display(fs, terms)
        all_findings += fs
        accounts.append({"id": a.id, "org": org(a.owner, direct, office=res.office), "platform": a.platform, "name": a.name,
                         "unit": a.owner.name, "status": a.status, "verdict": a.verdict, "reason": cn_reason(a.reason),
                         "last_post": a.last_post.isoformat() if a.last_post else None,
                         "posts_in_window": a.posts_in_window, "original_share": a.original_share, "score": a.score,
                         "findings": fs})
    office_findings = []
    for sf in res.office_findings:
        if sf.ignored:
            continue
        f = finding_dict(sf, "", res.office, sf.unit.name if sf.unit else res.office)
        f["org"] = org(sf.unit, direct, res.office, res.office)
        office_findings.append(f)
    _display(office_findings, terms)
    all_findings += office_findings
    checked = [s for s in sites if s["status"] == "checked"]
    passed = [s for s in checked if s["verdict"] == "pass"]
    cols = [c for s in checked for c in s["columns"]]
    by_kind: dict[str, list[int]] = {}
    for s in checked:
        k = by_kind.setdefault(s["unit_kind"] or "其他", [0, 0])
        k[0] += s["verdict"] == "pass"
        k[1] += 1
    summary = {
        "sites_total": len(sites), "sites_checked": len(checked), "sites_unknown": len(sites) - len(checked),
        "pass": len(passed), "fail": len(checked) - len(passed), "pass_rate": rules.rate(len(passed), len(checked)),
        # the pass rate per kind of unit (the bulletin's chart 1)
        "pass_rate_by_kind": {k: rules.rate(p, n) for k, (p, n) in sorted(by_kind.items())},
        "findings": len(all_findings), "findings_by_rule": dict(Counter(f["rule"] for f in all_findings)),
        "columns_checked": len(cols), "columns_stale": sum(c["status"] == "stale" for c in cols),
        "columns_empty": sum(c["status"] == "empty" for c in cols), "columns_unknown": sum(c["status"] == "unknown" for c in cols),
        # of those, columns read but whose name says no category (类别未识别，未判断更新情况)
        "columns_unclassified": sum(c["status"] == "unknown" and c["unclassified"] for c in cols),
        "accounts_total": len(accounts), "accounts_checked": sum(a["verdict"] != "unknown" for a in accounts),
        "accounts_pass": sum(a["verdict"] == "pass" for a in accounts), "accounts_fail": sum(a["verdict"] == "fail" for a in accounts),
        "accounts_pass_rate": rules.rate(sum(a["verdict"] == "pass" for a in accounts), sum(a["verdict"] != "unknown" for a in accounts)),
    }
    as_of = res.as_of
    return {
        "round": {"id": res.id, "name": res.name, "recheck_of": res.recheck_of, "region": res.region, "office": res.office,
                  "as_of": as_of.isoformat(), "recipients": res.recipients, "doc_number": res.doc_number,
                  "period_start": res.period_start.isoformat() if res.period_start else None, "status": res.status,
                  "quarter": quarter_label(as_of), "quarter_short": f"{'一二三四'[(as_of.month - 1) // 3]}季度",
                  "scheme": {"key": scheme.key, "name": scheme.name, "version": scheme.version}, "rules_hash": res.rules_hash,
                  "started_at": res.started_at.isoformat() if res.started_at else None,
                  "finished_at": res.finished_at.isoformat() if res.finished_at else None},
        "summary": summary, "sites": sites, "findings": all_findings, "problems": problem_lines(all_findings),
        "captures": sorted(captures.values(), key=lambda c: c["file"]), "letters": letters_data(res),
        "accounts": accounts, "registers": res.registers, "office_findings": office_findings,
        "recheck": recheck_data(res, direct, terms),
        "history": [{"round": h.round_id, "name": h.name, "as_of": h.as_of.isoformat(), "pass_rate": rules.rate(h.passed, h.checked)}
                    for h in res.history],
    }


def recheck_data(res, direct: str, terms: dict) -> dict:
    """The re-check this round reports (rounds.result: its own, or the latest one since the round it re-checked)."""
    rc = res.recheck
    if rc is None:
        return {}
    items = []
    for i in rc.items:
        f = i.finding.finding
        items.append({"finding": i.finding.id, "rule": f.rule, "url": f.url, "fingerprint": f.fingerprint, "where": i.where,
                      "state": i.state, "detail": display_detail({"rule": f.rule, "url": f.url, "detail": f.detail, "facts": f.facts}, terms),
                      "reason": cn_reason(i.reason), "org": org(i.unit, direct, rc.office, rc.office)})
    n = Counter(i["state"] for i in items)
    return {"round": rc.round_id, "previous": rc.previous, "previous_id": rc.previous_id, "as_of": rc.as_of.isoformat(),
            "total": len(items), "fixed": n["fixed"], "present": n["present"], "unknown": n["unknown"],
            "fixed_rate": res.rules.rate(n["fixed"], n["fixed"] + n["present"]), "items": items}


def letters_data(res) -> dict:
    """Letter and 12345 statistics of the round's period, as the bulletin words them (rounds.result computed them with
    the round's letters rules)."""
    from ..engine import letters as L

    out = {}
    for channel, label in (("mailbox", "网民留言"), ("hotline", "12345热线工单")):
        got = res.letters.get(channel)
        if not got:
            continue
        st = got["stats"]
        text = L.prose(st, label, topics=channel == "hotline")
        # a rate over nothing (no letter closed yet) is not printed: never "按时办结率None%" or "—%"
        text = re.sub(r"，(?:按时)?办结率(?:None|—|-|)%", "", text)
        out[channel] = {"period_start": got["period_start"].isoformat(), "text": text, **st}
    return out
