"""Government new-media accounts (政务新媒体): posts from pluggable sources, and the account checks.

Sources (each reports its own health; a broken source makes the account "could not check", never
"not updated"):
- an RSS/Atom feed URL (e.g. a self-hosted RSSHub route), fetched through the guarded request path;
- a CSV/XLSX export (columns 发布时间, 标题, 内容, 链接, 是否原创/来源; GBK CSV is fine) or a JSON list of posts
  ({"published", "title", "text", "url", "original"}) given as a file path.

Checks (thresholds in rules/newmedia.toml, a scheme's [newmedia_rules] applied by the RuleSet): no post in the
update window (NV-2), silent for more than 3 months (ND-7 僵尸), original share below the local minimum (ND-8), no
interaction function (NV-3, from the registry), not filed (ND-5), several accounts of one unit on one platform
(NM-3), and every content rule on the posts' text. Findings are engine.finding.Finding on the account; which are
veto and the account's score are the scheme's business (rounds score in one place).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..rules.ruleset import RuleSet
from .checks.freshness import cutoff
from .finding import Evidence, Finding, Location, Subject


@dataclass
class Post:
    published: dt.datetime
    title: str = ""
    text: str = ""
    url: str = ""
    original: bool | None = None  # None: decide from the text


@dataclass
class Source:
    ok: bool
    posts: list[Post] = field(default_factory=list)
    reason: str = ""
    kind: str = ""


@dataclass
class AccountSpec:
    platform: str
    name: str
    owner: str
    filed: bool = True
    interaction: bool | None = None
    source: str = ""

    @property
    def subject(self) -> Subject:
        """The account's identity in findings (it has no page URL of its own)."""
        return Subject(kind="account", account=f"{self.platform}/{self.name}", unit=self.owner)


@dataclass
class AccountResult:
    account: AccountSpec
    status: str  # checked | could_not_check
    reason: str = ""
    last_post: dt.datetime | None = None
    posts_in_window: int = 0
    original_share: float | None = None
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict:
        a = self.account
        return {"platform": a.platform, "name": a.name, "owner": a.owner, "status": self.status,
                "reason": self.reason, "last_post": self.last_post.isoformat() if self.last_post else None,
                "posts_in_window": self.posts_in_window, "original_share": self.original_share,
                "findings": [f.to_dict() for f in self.findings]}


# ------------------------------------------------------------------------------------------ sources
def parse_feed(body: bytes) -> Source:
    import feedparser

    from ..office import declares_entities

    if declares_entities(body):  # billion laughs, external entities: never handed to a parser
        return Source(False, reason="订阅源含有实体声明（疑似 XML 炸弹或外部实体攻击），未检查", kind="feed")
    d = feedparser.parse(body)
    if d.bozo and not d.entries:
        return Source(False, reason=f"订阅源无法解析（{type(d.bozo_exception).__name__}）", kind="feed")
    posts = []
    for e in d.entries:
        t = e.get("published_parsed") or e.get("updated_parsed")
        if not t:
            continue
        text = re.sub(r"<[^>]+>", " ", e.get("summary", "") or "")
        posts.append(Post(dt.datetime(*t[:6]) + dt.timedelta(hours=8), e.get("title", ""), text, e.get("link", "")))
    if d.entries and not posts:
        return Source(False, reason="订阅源中的内容都没有发布时间", kind="feed")
    return Source(True, posts, kind="feed")


def parse_export(path: Path) -> Source:
    from .letters import LettersError, parse_datetime, read_table

    if path.suffix.lower() == ".json":
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
            posts = [Post(parse_datetime(i["published"]), i.get("title", ""), i.get("text", ""), i.get("url", ""), i.get("original"))
                     for i in items]
        except (ValueError, KeyError, TypeError) as e:
            return Source(False, reason=f"JSON 文件格式不对（{e}）", kind="json")
        return Source(True, posts, kind="json")
    try:
        headers, rows, _ = read_table(path)
    except LettersError as e:
        return Source(False, reason=str(e), kind="export")
    col = {h: i for i, h in enumerate(headers)}
    pick = lambda *names: next((col[n] for n in names if n in col), None)
    c_pub, c_title, c_text = pick("发布时间", "发文时间", "时间"), pick("标题"), pick("内容", "正文", "摘要")
    c_url, c_orig = pick("链接", "网址", "URL"), pick("是否原创", "原创")
    if c_pub is None:
        return Source(False, reason=f"导出文件中没有“发布时间”列（表头：{'、'.join(headers)}）", kind="export")
    posts, bad = [], 0
    for row in rows:
        try:
            pub = parse_datetime(row[c_pub] if c_pub < len(row) else None)
        except ValueError:
            bad += 1
            continue
        if pub is None:
            continue
        get = lambda c: str(row[c] or "").strip() if c is not None and c < len(row) else ""
        orig = get(c_orig)
        posts.append(Post(pub, get(c_title), get(c_text), get(c_url), None if not orig else orig in ("是", "原创", "1", "Y", "y")))
    reason = f"{bad}行发布时间无法识别，已跳过" if bad else ""
    return Source(True, posts, reason=reason, kind="export")


async def load_source(spec: AccountSpec, cfg=None) -> Source:
    src = spec.source.strip()
    if not src:
        return Source(False, reason="名录中没有登记内容来源（RSS 地址或导出文件）", kind="none")
    if src.startswith(("http://", "https://")):
        import aiohttp

        from .fetch import CrawlConfig
        from .fetch.crawler import _read_limited
        from .fetch.guard import AddressGuard, BlockedAddress, RedirectRefused, guarded_connector, guarded_request

        cfg = cfg or CrawlConfig()
        guard = AddressGuard(cfg.allow_networks)
        try:  # the guarded request path: every redirect hop is checked (a feed never leads into the intranet)
            async with aiohttp.ClientSession(connector=guarded_connector(guard, cfg.resolve_map, cfg.offline_dns),
                                             timeout=aiohttp.ClientTimeout(total=cfg.timeout),
                                             headers={"User-Agent": cfg.user_agent}) as s:
                async with guarded_request(s, guard, "GET", src, max_redirects=cfg.max_redirects) as (r, _):
                    if r.status != 200:
                        return Source(False, reason=f"订阅源无法访问（HTTP {r.status}）", kind="feed")
                    body, truncated = await _read_limited(r, cfg.max_bytes)
                    if truncated:
                        return Source(False, reason="订阅源过大", kind="feed")
        except BlockedAddress as e:
            return Source(False, reason=f"订阅源地址被禁止访问（{e}）", kind="feed")
        except RedirectRefused:
            return Source(False, reason="订阅源无法访问（重定向次数过多或循环重定向）", kind="feed")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as e:
            return Source(False, reason=f"订阅源无法访问（{type(e).__name__}）", kind="feed")
        return parse_feed(body)
    path = Path(src)
    if not path.is_file():
        return Source(False, reason=f"内容来源文件不存在：{src}", kind="export")
    if path.suffix.lower() in (".xml", ".rss", ".atom"):
        return parse_feed(path.read_bytes())
    return parse_export(path)


# ------------------------------------------------------------------------------------------ checks
def _fingerprint(p: Post) -> str:
    return re.sub(r"\W+", "", p.text or p.title)[:200]


def _is_repost(p: Post, spec: AccountSpec, markers: re.Pattern, copies: set | None = None) -> bool:
    if p.original is not None:
        return not p.original
    if copies and id(p) in copies:  # the same text was posted earlier by another account
        return True
    m = markers.search(p.title + " " + p.text)
    if not m:
        return False
    src = m.group("src") or ""
    return not (src and (src in spec.name or src in spec.owner or spec.owner.endswith(src)))


def check_account(spec: AccountSpec, source: Source, as_of: dt.date, rules: RuleSet | None = None,
                  duplicates: list[str] | None = None, content=None, copies: set | None = None) -> AccountResult:
    """duplicates: names of the unit's other accounts on the same platform; content: a ContentChecker;
    copies: ids of this account's posts whose text another account posted earlier (see check_accounts)."""
    rules = (rules or RuleSet.load())["newmedia"]
    res = AccountResult(spec, "checked")
    f = lambda rule, detail, **facts: Finding(rule=rule, detail=detail, subject=spec.subject,
                                              facts={"account": spec.name, "platform": spec.platform, **facts})
    # registry-based findings stand whatever the source says
    if not spec.filed:
        res.findings.append(f("newmedia.not_filed", f"“{spec.name}”（{spec.platform}）未在全国政务新媒体信息报送系统备案"))
    if spec.interaction is False:
        res.findings.append(f("newmedia.no_interaction", f"“{spec.name}”（{spec.platform}）无有效互动功能（无留言、评论、私信或咨询入口）"))
    if duplicates:
        res.findings.append(f("newmedia.duplicate_account", f"{spec.owner}在{spec.platform}开设多个账号：“{spec.name}”与“{'”“'.join(duplicates)}”",
                              others=duplicates))
    if not source.ok:
        res.status, res.reason = "could_not_check", source.reason
    else:
        posts = [p for p in source.posts if p.published.date() <= as_of]
        res.last_post = max((p.published for p in posts), default=None)
        update_cut = cutoff(as_of, rules["update"]["window"])
        zombie_cut = cutoff(as_of, rules["zombie"]["window"])
        last = res.last_post.date() if res.last_post else None
        if last is None or last < update_cut:
            when = f"最近一次发布于{last:%Y年%m月%d日}" if last else "没有任何发布"
            res.findings.append(f("newmedia.not_updated", f"“{spec.name}”（{spec.platform}）{when}，检查时点前{rules['update']['label']}内未更新",
                                  last_post=last.isoformat() if last else None))
        if last is None or last < zombie_cut:
            res.findings.append(f("newmedia.zombie", f"“{spec.name}”（{spec.platform}）超过{rules['zombie']['label']}未更新（“僵尸”账号），应整改或关停注销",
                                  last_post=last.isoformat() if last else None))
        o = rules["original"]
        window = [p for p in posts if p.published.date() >= cutoff(as_of, o["window"])]
        res.posts_in_window = len(window)
        if len(window) >= o["min_posts"]:
            markers = re.compile(o["repost_markers"])
            share = sum(1 for p in window if not _is_repost(p, spec, markers, copies)) / len(window)
            res.original_share = round(share, 4)
            if share < o["min_share"]:
                res.findings.append(f("newmedia.original_low", f"“{spec.name}”（{spec.platform}）近{o['label']}原创信息占比{share:.0%}，低于{o['min_share']:.0%}",
                                      original_share=res.original_share, posts=len(window)))
        if content is not None:
            from .content import context

            for p in window:
                text = f"{p.title}\n{p.text}"
                for h in content.check(text, published=p.published.date()):
                    excerpt = context(text, h.start, h.end, h.text)
                    at = excerpt.index("【" + h.text + "】") + 1
                    res.findings.append(Finding(
                        rule=h.rule, subject=spec.subject, location=Location(url=p.url), match=h.text,
                        detail=f"“{spec.name}”发布的《{p.title[:40]}》中{h.category}“{h.text}”"
                               + (f"，应为“{h.suggestion}”" if h.suggestion and not h.rule.startswith("privacy") else ""),
                        facts={"account": spec.name, "platform": spec.platform, "title": p.title[:200], "text": h.text,
                               "suggestion": h.suggestion, "category": h.category},
                        evidence=Evidence(excerpt=excerpt, hit=(at, at + len(h.text)))))
    return res


async def check_accounts(specs: list[AccountSpec], as_of: dt.date, cfg=None, content=None,
                         rules: RuleSet | None = None) -> list[AccountResult]:
    rules = rules or RuleSet.load()
    sources = await asyncio.gather(*(load_source(s, cfg) for s in specs))
    groups: dict[tuple, list[str]] = {}
    for s in specs:
        groups.setdefault((s.owner, s.platform), []).append(s.name)
    # a post whose text another account published earlier is that account's, not original here
    first: dict[str, tuple[dt.datetime, int]] = {}
    for i, src in enumerate(sources):
        for p in src.posts if src.ok else []:
            fp = _fingerprint(p)
            if len(fp) >= 20 and (fp not in first or p.published < first[fp][0]):
                first[fp] = (p.published, i)
    out = []
    for i, (s, src) in enumerate(zip(specs, sources)):
        others = [n for n in groups[(s.owner, s.platform)] if n != s.name]
        copies = {id(p) for p in (src.posts if src.ok else []) if (fp := _fingerprint(p)) in first and first[fp][1] != i}
        out.append(check_account(s, src, as_of, rules, others, content, copies))
    return out
