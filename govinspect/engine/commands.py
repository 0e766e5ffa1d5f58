"""Commands of the engine (no database): check-site, check-text, extract, replies, documents, scheme, workdays."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from pathlib import Path

from ..cliutil import CliError, _add_network_args, _allow_networks, _date, _max_pages, _print_json, _setup_django


def register(sub) -> None:
    c = sub.add_parser("check-site", help="抓取并检查一个网站，输出 JSON")
    c.add_argument("url")
    c.add_argument("--as-of", type=_date, required=True, help="检查时点 YYYY-MM-DD")
    _add_network_args(c, "抓取")
    c.add_argument("--out", help="写入 JSON 文件（默认输出到屏幕）")
    c.add_argument("--max-pages", type=_max_pages, metavar="页数",
                   help="安全上限：最多抓取的页面数（默认50000，约占200 MB内存；不用 --warc-dir 时抓取记录放在临时目录，"
                        "检查结束后删除）。默认抓取全站；超出上限时不抓取其余页面，输出的 coverage 写明未检查的页面数"),
    c.add_argument("--delay", type=float, default=0.5, help="同一主机两次请求的间隔秒数（默认0.5）")
    c.add_argument("--concurrency", type=int, default=2, help="同一主机同时进行的请求数（默认2）")
    c.add_argument("--resolve", action="append", help="自行解析主机名：主机名=IP[:端口]，可多次使用（内网无DNS时）")
    c.add_argument("--offline-dns", action="store_true", help="只按 --resolve 解析，不查询任何DNS服务器")
    c.add_argument("--no-links", action="store_true", help="不检查链接（死链、违法链接、暗链）")
    c.add_argument("--scheme", default="national-2019", help="考核方案（计算得分和合格与否）")
    c.add_argument("--no-content", action="store_true", help="不做内容检查（错敏词、个人信息、错别字）")
    c.add_argument("--no-typos", action="store_true", help="不做错别字（content.typo）检测：大网站上它最耗时")
    c.add_argument("--link-recheck", type=float, default=None, help="死链复测间隔秒数（默认见 rules/links.toml，15秒）")
    c.add_argument("--reference", action="append", metavar="网址",
                   help="参照地址：外部链接失败时先访问它，也无法访问则不判断外部链接（默认见 rules/availability.toml）")
    c.add_argument("--timeout", type=float, default=15.0)
    c.add_argument("--warc-dir", help="保存 WARC 快照、抓取日志和抓取状态的目录；中断后用同一目录再次运行即从断点继续")
    c.add_argument("--previous", help="上一次检查的 --warc-dir：未变化的页面用条件请求复用（增量抓取）")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=cmd_check_site)

    ct = sub.add_parser("check-text", help="对文本或附件文件运行内容检查（错敏词、固定表述、个人信息、错别字）")
    ct.add_argument("file", nargs="?", default="-", help="文本文件或附件（.txt .csv .docx .doc .xlsx .xls .pdf）；- 或省略为标准输入")
    ct.add_argument("--json", action="store_true", help="输出 JSON 数组")
    ct.add_argument("--rules", help="只运行编号以这些前缀开头的规则，逗号分隔，如 privacy,content.misspelling")
    ct.add_argument("--no-typos", action="store_true", help="不运行错别字（content.typo）检测")
    ct.add_argument("--fail-on-findings", action="store_true", help="发现问题时退出码为 1")
    ct.set_defaults(func=cmd_check_text)

    e = sub.add_parser("extract", help="解析一个 HTML 文件，输出页面模型 JSON")
    e.add_argument("file")
    e.add_argument("--url", help="页面原始地址（用于解析相对链接和地址中的日期）")
    e.add_argument("--out")
    e.set_defaults(func=cmd_extract)

    wd = sub.add_parser("workdays", help="工作日计算（法定节假日和调休）").add_subparsers(dest="action", required=True)
    wa = wd.add_parser("add", help="输出某日之后第 N 个工作日的日期")
    wa.add_argument("start", type=_date)
    wa.add_argument("n", type=int)
    wa.set_defaults(func=cmd_workdays)

    rq = sub.add_parser("replies", help="检查依申请公开答复书（.docx .pdf .txt）：答复期限、答复情形、救济途径表述")
    rq.add_argument("files", nargs="+")
    rq.add_argument("--issuer", help="答复机关名称（税务、海关等垂直管理部门可向上一级主管部门申请复议）")
    rq.add_argument("--json", action="store_true")
    rq.set_defaults(func=cmd_replies)

    dc = sub.add_parser("documents", help="检查公文公开属性台账：公开是否及时、不公开是否说明理由、解读是否及时")
    dc.add_argument("file", help="台账文件（.xlsx .xls .csv）")
    dc.add_argument("--as-of", type=_date, default=dt.date.today(), help="检查时点 YYYY-MM-DD（默认今天）")
    dc.add_argument("--json", action="store_true")
    dc.add_argument("--proposals", action="store_true", help="文件是人大代表建议、政协提案办理台账")
    dc.set_defaults(func=cmd_documents)

    sc = sub.add_parser("scheme", help="校验并显示考核方案（单项否决、扣分项、合格线、比率取舍）")
    sc.add_argument("name", nargs="?", default="national-2019")
    sc.set_defaults(func=cmd_scheme)


def cmd_extract(a) -> int:
    from .extract import decode_html, extract_page

    p = Path(a.file)
    if not p.is_file():
        raise CliError(f"文件不存在：{p}")
    body = p.read_bytes()
    text, enc = decode_html(body, None)
    page = extract_page(text, a.url or p.resolve().as_uri())
    d = page.to_dict()
    d["encoding"] = enc
    keys = ["kind", "title", "publish_date", "date_source", "items", "newest_date", "next_pages", "links", "attachments", "meta", "encoding"]
    _print_json({k: d[k] for k in keys}, a.out)
    return 0


def cmd_check_text(a) -> int:
    from .content import ContentChecker, hit_evidence
    from .content.documents import extract_document

    only = tuple(a.rules.split(",")) if a.rules else None
    try:
        checker = ContentChecker(only=only, typos=not a.no_typos)
    except ValueError as e:
        raise CliError(str(e)) from None
    if a.file in (None, "-"):
        text, name, segments = sys.stdin.read(), "-", None
    else:
        p = Path(a.file)
        if not p.is_file():
            raise CliError(f"文件不存在：{p}")
        body = p.read_bytes()
        doc = extract_document(body, p.name)
        if doc.error:
            raise CliError(f"{p.name}：{doc.error}")
        text, starts = doc.joined()
        name, segments = p.name, (doc, starts)
    hits, masked = checker.check_all(text, table_context=segments[0].header() if segments else "")
    out = []
    for h in hits:
        d = hit_evidence(h, text)
        if segments:
            doc, starts = segments
            d["location"] = doc.locate(starts, h.start)[0].location
        out.append(d)
    if a.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
    else:
        for d in out:
            loc = "".join(f" {k}={v}" for k, v in d.get("location", {}).items())
            sug = f" → {d['suggestion']}" if d["suggestion"] else ""
            print(f"{d['start']}-{d['end']}{loc} [{d['rule']}|{d['category']}|{d['severity']}] {d['text']}{sug}\n    {d['context']}")
        print(f"共 {len(out)} 处问题；已脱敏的个人信息 {len(masked)} 处（合规）", file=sys.stderr)
    return 1 if out and a.fail_on_findings else 0


def cmd_check_site(a) -> int:
    from .fetch import CrawlConfig
    from .inspect import inspect_site

    resolve = {}
    for item in a.resolve or []:
        host, _, target = item.partition("=")
        ip, _, port = target.partition(":")
        if not host or not ip or (port and not port.isdigit()):
            raise CliError(f"--resolve 的格式应为 主机名=IP[:端口]：{item!r}")
        resolve[host.strip().lower()] = (ip.strip(), int(port) if port else 0)
    limit = {"max_pages": a.max_pages} if a.max_pages else {}  # else the crawler's safety default
    cfg = CrawlConfig(allow_networks=_allow_networks(a), **limit, delay=a.delay, progress=not a.quiet,
                      timeout=a.timeout, concurrency_per_host=a.concurrency, resolve_map=resolve,
                      offline_dns=a.offline_dns, check_links=not a.no_links, link_recheck_interval=a.link_recheck,
                      reference_urls=tuple(a.reference) if a.reference else None)
    out_dir = Path(a.warc_dir) if a.warc_dir else None
    if a.previous and not (Path(a.previous) / "crawl-state.sqlite").exists():
        raise CliError(f"--previous 目录中没有已完成的抓取记录：{a.previous}")
    from ..rules import RulesError
    from ..rules.ruleset import RuleSet

    try:
        rules = RuleSet.load(a.scheme, os.environ.get("GOVINSPECT_RULES_DIR") or None)
        rules.scheme
    except RulesError as e:
        raise CliError(str(e)) from None
    content = False
    if not a.no_content:
        from .content import ContentChecker

        content = ContentChecker(rules, typos=not a.no_typos)
    import tempfile

    # without --warc-dir the crawl is kept in a temporary directory, not in memory (a whole site can be 50,000 pages)
    with tempfile.TemporaryDirectory(prefix="govinspect-check-") if out_dir is None else contextlib.nullcontext() as tmp:
        rep = inspect_site(a.url, a.as_of, cfg, None, out_dir or Path(tmp), previous=Path(a.previous) if a.previous else None,
                           content=content, rules=rules)
        rep.verdict, rep.score, rep.deductions = rules.scheme.judge(rep.status, [f.rule for f in rep.findings], "website")
        out = rep.to_dict()
        out["rules_hash"] = rules.hash
    if out_dir is None:  # nothing of the temporary directory is left to point at
        out["warc"] = out["crawl_log"] = None
        for f in out["findings"]:
            for k in ("warc_file", "warc_offset"):
                (f.get("evidence") or {}).pop(k, None)
    _print_json(out, a.out)
    if rep.status != "checked":
        print(f"未能检查：{rep.reason}", file=sys.stderr)
    elif not out["coverage"]["complete"]:
        print(f"注意：{out['coverage']['note']}（可用 --max-pages 调高上限）", file=sys.stderr)
    return 0


def cmd_replies(a) -> int:
    from .content.documents import extract_document
    from .replies import check_reply

    out, failed = [], 0
    for name in a.files:
        p = Path(name)
        if not p.is_file():
            raise CliError(f"文件不存在：{p}")
        doc = extract_document(p.read_bytes(), p.name, ocr=True)
        if doc.error:
            print(f"{p.name}：未能检查（{doc.error}）", file=sys.stderr)
            failed += 1
            continue
        res = check_reply("\n".join(s.text for s in doc.segments), issuer=a.issuer or "", file=p.name)
        out.append({"file": p.name, **res.to_dict()})
    if a.json:
        _print_json(out, None)
    else:
        for r in out:
            head = f"{r['file']}：收到 {r['received'] or '未识别'}，答复 {r['replied'] or '未识别'}，答复情形：{'、'.join(r['types']) or '无法识别'}"
            print(head)
            for f in r["findings"]:
                quote = (f.get("evidence") or {}).get("excerpt")
                print(f"    [{f['rule']}] {f['detail']}" + (f"\n        原文：{quote}" if quote else ""))
            if not r["findings"]:
                print("    未发现问题")
    return 2 if failed and not out else 0


def cmd_documents(a) -> int:
    from .letters import LettersError
    from .register import check_proposals, check_register, read_register

    try:
        if a.proposals:
            findings, stats, errors = check_proposals(Path(a.file))
        else:
            docs, errors = read_register(Path(a.file))
            findings, stats = check_register(docs, a.as_of)
    except LettersError as e:
        raise CliError(str(e)) from None
    if a.json:
        _print_json({"stats": stats, "findings": [f.to_dict() for f in findings], "errors": [str(e) for e in errors]}, None)
        return 0
    print(stats["text"])
    for f in findings:
        print(f"  [{f.rule}] {f.location.describe()}：{f.detail}")
    for e in errors:
        print(f"  未能检查：{e}")
    return 0


def cmd_scheme(a) -> int:
    from .scheme import SchemeError, load_scheme

    try:
        s = load_scheme(a.name)
    except SchemeError as e:
        raise CliError(str(e)) from None
    print(f"{s.name}（{s.key}，版本 {s.version}）：校验通过")
    for part, label in (("website", "政府网站"), ("newmedia", "政务新媒体")):
        p = s.data[part]
        print(f"{label}：满分{p['full_score']}，{p['pass_score']}分以下不合格；单项否决：{'、'.join(p.get('veto', []))}")
        for d in p.get("deduction", []):
            flag = "" if d.get("confirmed", True) else "（默认值，未经核实）"
            print(f"  {d['id']} {d['name']}：每处扣{d['points']}分，最多{d['cap']}分{flag}")
    r = s.data["rates"]
    print(f"比率：保留{r['decimals']}位小数，{'截尾' if r['rounding'] == 'truncate' else '四舍五入'}")
    return 0


def cmd_workdays(a) -> int:
    _setup_django()
    from ..registry.models import WorkdayOverride
    from ..rules.ruleset import RuleSet
    from .workdays import UnknownYear

    try:
        print(RuleSet.load(calendar=WorkdayOverride.table()).calendar.add_workdays(a.start, a.n).isoformat())
    except UnknownYear as e:
        raise CliError(str(e)) from None
    return 0

