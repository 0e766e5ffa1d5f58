"""govinspect command line. `govinspect --help` lists the commands; messages are in Chinese."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

DEFAULT_AS_OF = "2026-11-23"


class CliError(Exception):
    pass


def _date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD：{s!r}") from None


def _max_pages(s: str) -> int:
    """--max-pages: the safety limit of one site's crawl, a positive whole number of pages."""
    n = s.strip().replace(",", "")
    if not n.isdigit() or int(n) < 1:
        raise argparse.ArgumentTypeError(f"页面上限应为正整数，如 50000：{s!r}")
    return int(n)


def _network(s: str) -> str:
    """--allow-network: one network in CIDR notation (a single address is a /32 or /128)."""
    import ipaddress

    try:
        return str(ipaddress.ip_network(s.strip(), strict=False))
    except ValueError:
        raise argparse.ArgumentTypeError(f"网段格式应为 CIDR，如 10.1.0.0/16 或 192.168.3.7：{s!r}") from None


# what the deprecated --allow-private opens: loopback and private ranges, never link-local (169.254.169.254)
_LEGACY_PRIVATE = ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7")


def _allow_networks(a) -> tuple[str, ...]:
    nets = list(getattr(a, "allow_network", None) or [])
    if getattr(a, "allow_private", False):
        print("警告：--allow-private 已停用，请改用 --allow-network 网段（可多次使用）；本次按放行 "
              + "、".join(_LEGACY_PRIVATE) + " 处理（不含 169.254.0.0/16 等链路本地地址）", file=sys.stderr)
        nets += [n for n in _LEGACY_PRIVATE if n not in nets]
    return tuple(nets)


def _add_network_args(p: argparse.ArgumentParser, what: str) -> None:
    """The network arguments of every command that fetches."""
    p.add_argument("--allow-network", action="append", type=_network, default=[], metavar="网段",
                   help=f"允许{what}的内网网段（CIDR，如 10.1.0.0/16，可多次使用）；默认禁止本机、内网和链路本地地址")
    p.add_argument("--allow-private", action="store_true", help=argparse.SUPPRESS)  # deprecated: see _allow_networks


def _setup_django(data_dir: str | None = None, migrate: bool = True) -> None:
    if data_dir:
        os.environ["GOVINSPECT_DATA_DIR"] = str(Path(data_dir).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govinspect.settings")
    import django
    from django.core.management import call_command

    django.setup()
    if migrate:
        call_command("migrate", verbosity=0, interactive=False)


def _print_json(obj, out: str | None) -> None:
    text = json.dumps(obj, ensure_ascii=False, indent=1, default=str)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
        print(f"已写入 {out}", file=sys.stderr)
    else:
        print(text)


# ------------------------------------------------------------------------------------- commands
def cmd_extract(a) -> int:
    from .engine.extract import decode_html, extract_page

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
    from .engine.content import ContentChecker, hit_evidence
    from .engine.content.documents import extract_document

    rules = tuple(a.rules.split(",")) if a.rules else None
    try:
        checker = ContentChecker(rules, typos=not a.no_typos)
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
    from .engine.fetch import CrawlConfig
    from .engine.inspect import inspect_site

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
    content = False
    if not a.no_content:
        from .engine.content import ContentChecker

        content = ContentChecker(typos=not a.no_typos)
    from .engine.scheme import SchemeError, load_scheme

    try:
        load_scheme(a.scheme)
    except SchemeError as e:
        raise CliError(str(e)) from None
    import tempfile

    # without --warc-dir the crawl is kept in a temporary directory, not in memory (a whole site can be 50,000 pages)
    with tempfile.TemporaryDirectory(prefix="govinspect-check-") if out_dir is None else contextlib.nullcontext() as tmp:
        rep = inspect_site(a.url, a.as_of, cfg, None, out_dir or Path(tmp), previous=Path(a.previous) if a.previous else None,
                           content=content, scheme=a.scheme)
        out = rep.to_dict()
    if out_dir is None:  # nothing of the temporary directory is left to point at
        out["warc"] = out["crawl_log"] = None
        for f in out["findings"]:
            (f.get("evidence") or {}).pop("warc", None)
    _print_json(out, a.out)
    if rep.status != "checked":
        print(f"未能检查：{rep.reason}", file=sys.stderr)
    elif not out["coverage"]["complete"]:
        print(f"注意：{out['coverage']['note']}（可用 --max-pages 调高上限）", file=sys.stderr)
    return 0


def _county_args(p) -> None:
    p.add_argument("--seed", type=int, default=2026, help="随机种子（同一种子生成完全相同的沙盒）")
    p.add_argument("--as-of", type=_date, default=_date(DEFAULT_AS_OF), help="检查时点 YYYY-MM-DD")
    p.add_argument("--sites", type=int, default=9, help="网站数量（默认9）")
    p.add_argument("--pages", type=int, default=120, help="每个网站的文章数（约数）")


def _parse_faults(items: list[str]) -> dict:
    faults: dict = {}
    for item in items or []:
        try:
            key, rest = item.split(":", 1)
            name, _, value = rest.partition("=")
        except ValueError:
            raise CliError(f"故障参数格式应为 站点:故障=值，如 wjw:down=0.3：{item!r}") from None
        if name not in ("down", "slow", "status5xx", "redirect_loop", "oversize", "robots_disallow"):
            raise CliError(f"未知故障类型 {name!r}")
        if name in ("down", "slow"):
            val = float(value)
        elif name in ("status5xx", "robots_disallow"):
            val = "all" if value == "all" else value.split(",")
        else:
            val = True
        faults.setdefault(key, {})[name] = val
    return faults


def cmd_sandbox_serve(a) -> int:
    import time

    from .sandbox import generate_county
    from .sandbox.serve import SandboxServer
    from .sandbox.truth import ground_truth

    county = generate_county(a.seed, a.as_of, a.sites, a.pages, faults=_parse_faults(a.fault), no_default_faults=a.no_faults)
    with SandboxServer(county, port_base=a.port_base) as srv:
        truth = ground_truth(county, srv.urls)
        if a.ground_truth:
            _print_json(truth, a.ground_truth)
        if a.registry:
            _setup_django(migrate=False)
            from .sandbox.registry import write_registry

            print(f"沙盒县的检查对象名录已写入 {write_registry(county, srv.urls, a.registry)}（govinspect registry import 导入）")
        print(f"沙盒县已启动（种子 {a.seed}，检查时点 {county.as_of}），按 Ctrl+C 停止：")
        for s in county.sites:
            print(f"  {srv.urls[s.key]:32} {s.name}（{s.family}）{' 故障：' + json.dumps(s.faults, ensure_ascii=False) if s.faults else ''}")
        sys.stdout.flush()
        try:
            deadline = time.time() + a.duration if a.duration else None
            while deadline is None or time.time() < deadline:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


def _inspect_county(county, srv, discovered: bool = False, content: bool = True) -> list:
    """Inspect every sandbox site. discovered: hand no columns (names, URLs or categories): each site's columns
    are found in its navigation and classified by name, as on a site nobody registered."""
    import asyncio

    from .engine.checks.freshness import ColumnSpec
    from .engine.inspect import inspect_site_async

    from .engine.content import ContentChecker
    from .engine.content.leaders import Roster

    cfg = srv.crawl_config()
    roster = Roster.from_rows([l for s in county.sites for l in s.leaders], county.as_of)
    checker = ContentChecker(roster=roster) if content else False

    async def main():
        sem = asyncio.Semaphore(4)

        async def one(s):
            specs = None if discovered else [ColumnSpec(c.name, srv.url(s.key, c.path), c.category) for c in s.columns]
            async with sem:
                return await inspect_site_async(srv.urls[s.key], county.as_of, cfg, specs,
                                                government=s.unit_kind in ("区县", "乡镇"), site_code=s.site_code,
                                                content=checker)

        return await asyncio.gather(*(one(s) for s in county.sites))

    return asyncio.run(main())


def _check_county_accounts(county, srv) -> list:
    import asyncio

    from .engine.content import ContentChecker
    from .engine.newmedia import AccountSpec, check_accounts

    specs = [AccountSpec(x["platform"], x["name"], x["owner"], x["filed"], x["interaction"],
                         srv.url(s.key, "/rss.xml") if x["feed"] else "") for s in county.sites for x in s.accounts]
    return asyncio.run(check_accounts(specs, county.as_of, srv.crawl_config(), ContentChecker(typos=False)))


def cmd_newmedia(a) -> int:
    _setup_django()
    import asyncio

    from .engine.content import ContentChecker
    from .engine.fetch import CrawlConfig
    from .engine.newmedia import AccountSpec, check_accounts
    from .registry.models import Account

    specs = [AccountSpec(x.platform, x.name, x.owner.name, x.filed, x.interaction, x.source)
             for x in Account.objects.select_related("owner")]
    if not specs:
        raise CliError("名录中没有政务新媒体账号（govinspect registry import 导入名录）")
    cfg = CrawlConfig(allow_networks=_allow_networks(a))
    results = asyncio.run(check_accounts(specs, a.as_of, cfg, ContentChecker(typos=False)))
    if a.json:
        _print_json([r.to_dict() for r in results], a.out)
        return 0
    label = {"pass": "合格", "fail": "不合格", "unknown": "未能检查"}
    for r in results:
        last = f"最近发布 {r.last_post:%Y-%m-%d}" if r.last_post else "无发布记录"
        print(f"{r.account.name}（{r.account.platform}，{r.account.owner}）：{label[r.verdict]}；{last}"
              + (f"；{r.reason}" if r.reason else ""))
        for f in r.findings:
            print(f"    [{f.rule}] {f.detail}")
    return 0


def cmd_replies(a) -> int:
    from .engine.content.documents import extract_document
    from .engine.replies import check_reply

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
        res = check_reply("\n".join(s.text for s in doc.segments), issuer=a.issuer or "")
        out.append({"file": p.name, **res.to_dict()})
    if a.json:
        _print_json(out, None)
    else:
        for r in out:
            head = f"{r['file']}：收到 {r['received'] or '未识别'}，答复 {r['replied'] or '未识别'}，答复情形：{'、'.join(r['types']) or '无法识别'}"
            print(head)
            for f in r["findings"]:
                print(f"    [{f['rule']}] {f['detail']}" + (f"\n        原文：{f['evidence']}" if f["evidence"] else ""))
            if not r["findings"]:
                print("    未发现问题")
    return 2 if failed and not out else 0


def cmd_documents(a) -> int:
    from .engine.letters import LettersError
    from .engine.register import check_proposals, check_register, read_register

    try:
        if a.proposals:
            findings, stats, errors = check_proposals(Path(a.file))
        else:
            docs, errors = read_register(Path(a.file))
            findings, stats = check_register(docs, a.as_of)
    except LettersError as e:
        raise CliError(str(e)) from None
    if a.json:
        _print_json({"stats": stats, "findings": findings, "errors": [str(e) for e in errors]}, None)
        return 0
    print(stats["text"])
    for f in findings:
        print(f"  [{f['rule']}] 第{f['row']}行：{f['detail']}")
    for e in errors:
        print(f"  未能检查：{e}")
    return 0


def cmd_sandbox_eval(a) -> int:
    from .rules import load_rules
    from .sandbox.evaluate import TARGET, evaluate, format_columns, format_table

    implemented = sorted(load_rules("catalog")["rules"])
    if a.round_json:
        data = json.loads(Path(a.round_json).read_text(encoding="utf-8"))
        truth = json.loads(Path(a.truth).read_text(encoding="utf-8"))
        findings = data["findings"]
    else:
        from .sandbox import generate_county
        from .sandbox.serve import SandboxServer
        from .sandbox.truth import ground_truth

        county = generate_county(a.seed, a.as_of, a.sites, a.pages)
        with SandboxServer(county) as srv:
            truth = ground_truth(county, srv.urls)
            reports = _inspect_county(county, srv)
            accounts = _check_county_accounts(county, srv)
            found = _inspect_county(county, srv, discovered=True, content=False)  # no registry: columns from navigation
        findings = [f.to_dict() for r in reports for f in r.findings] + [f.to_dict() for r in accounts for f in r.findings]
    res = evaluate(findings, truth, implemented)
    print("按名录（提供栏目及类别）检查：\n" + format_table(res))
    pending = sorted({p["rule"] for p in truth["problems"]} - set(implemented))
    if pending:
        print(f"\n沙盒中还植入了以下尚未实现检查的问题类型（后续版本）：{', '.join(pending)}")
    if a.out:
        _print_json(res, a.out)
    bad = [r for r, v in res.items() if (v["precision"] is not None and v["precision"] < 1) or (v["recall"] is not None and v["recall"] < 1)]
    if not a.round_json:
        disc = _discovered_eval(county, found, truth)
        print("\n" + format_columns(disc["columns"], disc["rules"]))
        if disc["below_target"]:
            print("低于目标值（" + "，".join(f"{k} {v:.3f} < {TARGET}" for k, v in disc["below_target"].items()) + "）")
        bad += list(disc["below_target"])
        if a.out_discovered:
            _print_json(disc, a.out_discovered)
    return 1 if a.strict and bad else 0


def _discovered_eval(county, reports, truth) -> dict:
    """Figures of a run with no registry (columns discovered and classified by name) against the sandbox truth:
    discovery, classification, the column rules; below_target: each figure under the issue's target."""
    from .sandbox.evaluate import COLUMN_RULES, TARGET, evaluate, evaluate_columns

    by_site = {s.key: [c.to_dict() for c in r.columns] for s, r in zip(county.sites, reports)}
    cols = evaluate_columns(by_site, truth)
    rules = evaluate([f.to_dict() for r in reports for f in r.findings], truth, COLUMN_RULES)
    figures = {"discovery_recall": cols["discovery_recall"], "classification_accuracy": cols["classification_accuracy"]}
    for r in ("column.stale", "column.empty"):
        figures[f"{r} precision"], figures[f"{r} recall"] = rules[r]["precision"], rules[r]["recall"]
    return {"columns": cols, "rules": rules, "below_target": {k: v for k, v in figures.items() if v is not None and v < TARGET}}


def cmd_registry(a) -> int:
    _setup_django()
    from .registry.xlsx import RegistryImportError, export_registry, import_registry, write_template

    if a.action == "import":
        try:
            counts = import_registry(a.file)
        except RegistryImportError as e:
            raise CliError(str(e)) from None
        print("导入完成：" + "，".join(f"{k}{v}条" for k, v in counts.items()))
    elif a.action == "filing-list":
        from .engine.letters import LettersError
        from .registry.filing import import_filing_list

        try:
            r = import_filing_list(Path(a.file))
        except LettersError as e:
            raise CliError(str(e)) from None
        print(f"备案清单中的账号 {r['listed']} 个（新增到名录 {r['added']} 个，改为已备案 {r['now_filed']} 个）；"
              f"名录中不在清单上、记为未备案的账号 {len(r['not_on_list'])} 个")
        for plat, name in r["not_on_list"][:20]:
            print(f"  未备案：{name}（{plat}）")
        for e in r["errors"]:
            print(f"  未导入：{e}")
    else:
        try:
            path = export_registry(a.file) if a.action == "export" else write_template(a.file)
        except OSError as e:
            raise CliError(f"无法写入 {a.file}：{e.strerror or e}") from None
        print(f"已导出到 {path}" if a.action == "export" else f"空白模板已写入 {path}")
    return 0


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt  # a round stopped by `kill` is recorded as interrupted, like Ctrl+C


def cmd_round(a) -> int:
    _setup_django()
    import signal

    from .reports import write_reports
    from .rounds.models import Round
    from .rounds.services import crawl_options, mark_interrupted, owner_alive, resume_round, run_recheck, run_round

    from .engine.scheme import SchemeError, load_scheme

    mark_interrupted()  # rounds whose process is gone are "interrupted", never "running" for ever
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    if a.resume is not None:
        rnd = Round.objects.filter(pk=a.resume).first()
        if rnd is None:
            raise CliError(f"没有编号为 {a.resume} 的检查轮次")
        if rnd.status == "done":
            raise CliError(f"第{rnd.pk}轮已完成，无需继续（重新生成报告用 govinspect report {rnd.pk} --out 目录）")
        if rnd.status == "running" and owner_alive(rnd.owner) is not False and rnd.owner:
            o = rnd.owner
            raise CliError(f"第{rnd.pk}轮正由进程 {o.get('pid')}（主机 {o.get('host')}）运行，不能同时继续；"
                           "该进程结束或被中断后再用 --resume 继续")
        if rnd.recheck_of_id:
            counts = run_recheck(rnd, crawl=crawl_options(rnd) or {"delay": a.delay}, progress=not a.quiet)  # answers afresh
        else:
            resume_round(rnd, progress=not a.quiet)
    else:
        try:
            load_scheme(a.scheme)
        except SchemeError as e:
            raise CliError(str(e)) from None
        if not a.name or a.as_of is None:
            raise CliError("新的检查轮次需要 --name 和 --as-of（继续被中断的轮次用 --resume 轮次编号）")
        from .registry.models import Website

        if a.recheck is None and not Website.objects.exists():
            raise CliError("名录中没有网站，请先用 govinspect registry import 导入检查对象名录")
        earlier = None
        if a.recheck is not None:
            earlier = Round.objects.filter(pk=a.recheck, status="done", recheck_of__isnull=True).first()
            if earlier is None:
                raise CliError(f"没有编号为 {a.recheck} 的已完成检查轮次可供复查（复查轮次本身不能再复查）")
            if a.as_of < earlier.as_of:
                raise CliError(f"复查时点 {a.as_of} 早于被复查轮次的检查时点 {earlier.as_of}")
        rnd = Round.objects.create(name=a.name, region=a.region, office=a.office, as_of=a.as_of, scheme=a.scheme, recheck_of=earlier,
                                   recipients=a.recipients, doc_number=a.doc_number,
                                   period_start=a.as_of - dt.timedelta(days=91), allow_networks=",".join(_allow_networks(a)))
        if earlier is not None:
            counts = run_recheck(rnd, crawl={"delay": a.delay}, progress=not a.quiet)
        else:
            if a.documents or a.proposals or a.replies:  # first: a bad file stops before any crawling; a resume keeps them
                from .engine.letters import LettersError
                from .rounds.services import attach_registers

                try:
                    attach_registers(rnd, a.documents, a.proposals, [Path(p) for p in a.replies or []])
                except LettersError as e:
                    rnd.delete()
                    raise CliError(str(e)) from None
            limit = {"max_pages": a.max_pages} if a.max_pages else {}  # else the crawler's safety default
            run_round(rnd, progress=not a.quiet, site_concurrency=a.site_concurrency, processes=a.processes,
                      crawl={"delay": a.delay, **limit})
    paths = write_reports(rnd, a.out or Path("out") / f"round-{rnd.pk}")
    where = "报告：" + "，".join(str(p) for p in paths.values())
    if rnd.recheck_of_id:
        print(f"第{rnd.pk}轮复查完成：已整改{counts['fixed']}个，仍存在{counts['present']}个，未能复查{counts['unknown']}个。" + where)
        return 0
    sites = list(rnd.sites.select_related("website"))
    if sites and not any(s.status == "checked" for s in sites):
        eg = next((s for s in sites if s.reason), None)
        hint = "" if eg and "--allow-network" in eg.reason else "；检查内网网站时用 --allow-network 网段 放行"
        raise CliError(f"第{rnd.pk}轮没有检查到任何网站：{len(sites)}个网站均未能检查" + (f"（如{eg.website.name}：{eg.reason}）" if eg else "")
                       + f"。请确认检查机能访问这些网站{hint}。" + where)
    print(f"第{rnd.pk}轮检查完成，报告：" + "，".join(str(p) for p in paths.values()))
    return 0


def cmd_scheme(a) -> int:
    from .engine.scheme import SchemeError, load_scheme

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


def cmd_monitor(a) -> int:
    _setup_django()
    from .engine.fetch import CrawlConfig
    from .monitor.services import run_monitor
    from .registry.models import Website

    if not Website.objects.exists():
        raise CliError("名录中没有网站，请先用 govinspect registry import 导入")
    cfg = CrawlConfig(allow_networks=_allow_networks(a))
    print(f"开始监测{Website.objects.count()}个网站，每{a.interval:g}秒一轮" + ("" if a.cycles else "，按 Ctrl+C 停止"))
    run_monitor(cfg, a.interval, a.cycles, a.reference, a.timeout)
    return 0


def cmd_workdays(a) -> int:
    from .engine.workdays import UnknownYear, add_workdays

    try:
        print(add_workdays(a.start, a.n).isoformat())
    except UnknownYear as e:
        raise CliError(str(e)) from None
    return 0


def cmd_report(a) -> int:
    _setup_django()
    from .reports import DRAFT_MARK, ReportError, write_reports
    from .rounds.models import Round
    from .rounds.services import mark_interrupted

    mark_interrupted()  # a round whose process is gone is reported as interrupted, not as running
    rnd = Round.objects.filter(pk=a.round).first()
    if rnd is None:
        raise CliError(f"没有编号为 {a.round} 的检查轮次（可用 govinspect manage shell 查看）")
    from .rules import RulesError

    try:
        paths = write_reports(rnd, a.out, a.template, draft=a.draft)
    except (RulesError, ReportError) as e:
        raise CliError(str(e)) from None
    note = f"（第{rnd.pk}轮检查未完成，报告已标注“{DRAFT_MARK}”）" if rnd.status != "done" else ""
    print("已生成：" + "，".join(str(p) for p in paths.values()) + note)
    return 0


def cmd_report_template(a) -> int:
    _setup_django(migrate=False)
    from .reports.bulletin import default_template

    path = default_template(a.out)
    print(f"已写出通报模板：{path}。用 Word/WPS 修改文字、字体和版式（保留 {{{{ }}}} 和 {{%p %}} 标记），"
          "再用 govinspect report 轮次 --template 模板 生成，或放到 数据目录/templates/通报模板.docx 作为默认模板")
    return 0


def cmd_ignore(a) -> int:
    _setup_django()
    from .rounds.models import Finding, Ignore
    from .rounds.ignores import IgnoreError, describe_scope, ignore_finding, new_ignore, preview, revoke_ignore

    if a.list:
        for ig in Ignore.objects.select_related("website"):
            state = f"已撤销（{ig.revoked_by} {ig.revoked_at:%Y-%m-%d %H:%M}）" if ig.revoked_at else "有效"
            print(f"{ig.pk}\t{ig.rule}\t{ig.get_scope_display()}\t{ig.website.name}\t{ig.text or ig.url}\t{ig.reason}"
                  f"\t{ig.created_by} {ig.created_at:%Y-%m-%d %H:%M}\t{state}")
        return 0
    if a.revoke:
        ig = Ignore.objects.filter(pk=a.revoke).first()
        if ig is None:
            raise CliError(f"没有编号为 {a.revoke} 的忽略记录")
        revoke_ignore(ig, a.by or _operator())
        print(f"已撤销忽略 {ig.pk}")
        return 0
    if a.finding is None:
        raise CliError("请给出问题编号（round.json 中 findings 的 id），或使用 --list / --revoke")
    f = Finding.objects.select_related("round", "round_site__website").filter(pk=a.finding).first()
    if f is None:
        raise CliError(f"没有编号为 {a.finding} 的问题")
    by = a.by or _operator()
    try:
        planned = new_ignore(f, a.scope, a.reason or "", by)
    except IgnoreError as e:
        raise CliError(str(e)) from None
    pv = preview(planned, f)
    # what the ignore would hide, before anything changes
    print(f"将忽略问题 {f.pk}（{f.rule}，范围：{describe_scope(planned)}），涉及 {pv.count} 条问题："
          f"本轮隐藏 {len(pv.this_round)} 条；以往各轮同样的、尚未整改的问题 {len(pv.earlier)} 条（已生成的报告不变）；"
          "以后各轮同样的问题不再报告。" + ("例如：" if pv.count else ""))
    for x in pv.examples(5):
        text = x.evidence.get("text", "") if isinstance(x.evidence, dict) else ""
        print(f"  问题 {x.pk}（{x.round.name}）{x.url}" + (f"「{text}」" if text else "") + f"：{x.detail[:60]}")
    if not a.yes:
        if not sys.stdin.isatty():
            raise CliError("未确认，未做任何更改：没有终端可供确认，核对以上问题后加 --yes 再运行")
        if input("确认忽略以上问题？[y/N] ").strip().lower() not in ("y", "yes", "是"):
            print("已取消，未做任何更改")
            return 1
    try:
        ig = ignore_finding(f, a.scope, a.reason or "", by)
    except IgnoreError as e:
        raise CliError(str(e)) from None
    n = ig.findings.count()
    print(f"已忽略（编号 {ig.pk}，范围：{describe_scope(ig)}），本轮 {n} 条问题标记为忽略；以后各轮继续有效")
    return 0


def _operator() -> str:
    """Who runs the command, for audit records: the login name (LOGNAME, USER ...), else the uid's account name
    (root in a container without $USER), else "root"."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no variable and no passwd entry for the uid
        return "root"


def cmd_letters(a) -> int:
    _setup_django()
    from .engine import letters as L
    from .letters import services

    if a.action == "import":
        mapping = {}
        for item in a.map or []:
            header, sep, field = item.partition("=")
            if not sep or not header.strip() or not field.strip():
                raise CliError(f"--map 的格式应为 表头=字段（字段：{'、'.join(L.FIELDS)}）：{item!r}")
            mapping[header.strip()] = field.strip()
        bar = None
        if not a.quiet:
            from tqdm import tqdm

            bar = tqdm(desc="写入数据库", unit="行", file=sys.stderr)

        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            batch = services.import_letters(Path(a.file), a.channel, mapping, a.as_of, progress if bar is not None else None)
        except L.LettersError as e:
            raise CliError(str(e)) from None
        finally:
            if bar is not None:  # a tqdm without a total has no truth value
                bar.close()
        print(f"已导入 {batch.rows_ok} 行；有错误未导入 {batch.rows_bad} 行（批次编号 {batch.pk}）")
        print("列对应：" + "，".join(f"{f}←“{h}”" for f, h in batch.mapping.items()))
        for e in batch.errors[:20]:
            print("  " + str(L.RowError(e["row"], e["column"], e["reason"])))
        if len(batch.errors) > 20:
            print(f"  ……共 {len(batch.errors)} 行错误" + ("，全部见 " + a.errors if a.errors else "，用 --errors 文件.csv 导出全部"))
        for w in batch.warnings[:5]:
            print(f"  提示：第{w['row']}行：{w['warning']}")
        if a.errors:
            import csv

            with open(a.errors, "w", newline="", encoding="utf-8-sig") as f:
                w = csv.writer(f)
                w.writerow(["行号", "列", "原因"])
                w.writerows([e["row"], e["column"], e["reason"]] for e in batch.errors)
        return 0
    rows = services.letters(a.channel, a.start, a.end)
    if a.channel == "simulated":
        out = L.simulated_bands(rows, a.as_of)
        text = (f"模拟测评发出信件{len(rows)}件，2个工作日内答复{out.get('within_2', 0)}件，5个工作日内答复{out.get('within_5', 0)}件，"
                f"超期答复{out.get('late', 0)}件，截至{a.as_of.month}月{a.as_of.day}日仍未答复{out.get('unanswered', 0)}件。")
        stats = {"count": len(rows), "bands": out}
    else:
        stats = L.statistics(rows, a.as_of)
        text = L.prose(stats, "网民留言" if a.channel == "mailbox" else "12345热线工单")
        if stats["received"]:
            text += "诉求热点：" + "；".join(f"{t}{n}件，占比{stats['topic_share'][t]}%" for t, n in stats["topics"].items()) + "。"
    if a.json:
        _print_json({"text": text, **stats}, None)
    else:
        print(text)
    return 0


def cmd_demo(a) -> int:
    out = Path(a.out).resolve()
    data_dir = out / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)  # every demo starts from an empty database: same input, same bulletin
    out.mkdir(parents=True, exist_ok=True)
    _setup_django(str(data_dir))
    from .registry.xlsx import import_registry
    from .reports import write_reports
    from .rounds.models import Round
    from .rounds.services import run_round
    from .sandbox import generate_county
    from .sandbox.county import COUNTY
    from .sandbox.evaluate import evaluate, format_columns, format_table
    from .sandbox.registry import write_registry
    from .sandbox.serve import SandboxServer
    from .sandbox.truth import ground_truth
    from .rules import load_rules

    county = generate_county(a.seed, a.as_of, a.sites, a.pages)
    print(f"1/4 启动沙盒县：{len(county.sites)}个政府网站，检查时点 {county.as_of}")
    with SandboxServer(county) as srv:
        truth = ground_truth(county, srv.urls)
        reg = write_registry(county, srv.urls, out / "名录.xlsx")
        counts = import_registry(reg)
        print("2/4 导入检查对象名录：" + "，".join(f"{k}{v}条" for k, v in counts.items()))
        from .letters.services import import_letters
        from .sandbox.letters import export_csv_gbk, export_xlsx, generate_letters

        q_start = dt.date(county.as_of.year, 3 * ((county.as_of.month - 1) // 3) + 1, 1)
        for channel, n, fmt, name in (("mailbox", 31, "xlsx", "领导信箱导出.xlsx"), ("hotline", 240, "csv", "12345工单导出.csv")):
            rows, _ = generate_letters(n=n, seed=a.seed + n, start=q_start, end=county.as_of - dt.timedelta(days=1),
                                       prefix=channel[:2].upper())
            f = out / name
            f.write_bytes(export_xlsx(rows) if fmt == "xlsx" else export_csv_gbk(rows))
            b = import_letters(f, channel, as_of=county.as_of)
            print(f"    导入{name}：{b.rows_ok}行，错误行{b.rows_bad}行（逐行说明见管理后台“导入批次”）")
        rnd = Round.objects.create(name=f"{county.as_of.year}年第{(county.as_of.month - 1) // 3 + 1}季度政府网站检查（演示）",
                                   region=COUNTY, office=f"{COUNTY}人民政府办公室", as_of=county.as_of,
                                   period_start=county.as_of - dt.timedelta(days=91), allow_networks="127.0.0.0/8",
                                   recipients="各乡镇人民政府，县政府各部门", doc_number=f"清政办〔{county.as_of.year}〕12号")
        print("3/4 抓取并检查各网站和政务新媒体账号：")
        run_round(rnd, progress=not a.quiet, crawl=srv.crawl_settings())
        from .rounds.services import attach_registers
        from .sandbox.registers import document_register, proposal_register, register_truth
        from .sandbox.replies import LETTERS, letter_bytes

        (out / "公文公开属性台账.xlsx").write_bytes(export_xlsx(document_register()[0]))
        (out / "建议提案办理台账.xlsx").write_bytes(export_xlsx(proposal_register()[0]))
        replies_dir = out / "答复书"
        replies_dir.mkdir(exist_ok=True)
        for name in LETTERS:
            (replies_dir / name).write_bytes(letter_bytes(name))
        attach_registers(rnd, out / "公文公开属性台账.xlsx", out / "建议提案办理台账.xlsx", sorted(replies_dir.iterdir()))
        truth["problems"] += register_truth("公文公开属性台账.xlsx", "建议提案办理台账.xlsx", LETTERS)
        (out / "ground-truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        print("    公文台账、建议提案台账、依申请公开答复书：已检查")
        # the same county with no registry: columns found in the navigation and classified by name
        found = _inspect_county(county, srv, discovered=True, content=False)
    paths = write_reports(rnd, out)
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    res = evaluate(data["findings"], truth, sorted(load_rules("catalog")["rules"]))
    (out / "eval.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    s = data["summary"]
    print(f"4/4 生成通报：{paths['bulletin']}\n    附件表格：{paths['workbook']}\n    检查数据：{paths['json']}")
    print(f"\n检查网站{s['sites_total']}个，完成检查{s['sites_checked']}个，合格{s['pass']}个，不合格{s['fail']}个，"
          f"合格率{s['pass_rate']}%；未能检查{s['sites_unknown']}个。发现问题{s['findings']}个。")
    print("\n与沙盒标准答案对比（精确率/召回率）：\n" + format_table(res))
    disc = _discovered_eval(county, found, truth)
    (out / "eval-discovered.json").write_text(json.dumps(disc, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n" + format_columns(disc["columns"], disc["rules"]))
    return 0


def cmd_manage(a) -> int:
    _setup_django(migrate=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["govinspect manage"] + a.args)
    return 0


# ------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="govinspect", description="政务公开智能检查平台")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("demo", help="在内置沙盒县上完整运行一轮检查并生成通报")
    d.add_argument("--out", default="out/demo", help="输出目录（通报.docx、附件.xlsx、round.json）")
    _county_args(d)
    d.add_argument("--quiet", action="store_true", help="不显示进度条")
    d.set_defaults(func=cmd_demo)

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

    sb = sub.add_parser("sandbox", help="沙盒县：模拟网站与标准答案").add_subparsers(dest="action", required=True)
    s = sb.add_parser("serve", help="在 127.0.0.1 上提供沙盒网站")
    _county_args(s)
    s.add_argument("--port-base", type=int, default=0, help="第一个网站的端口（默认随机）")
    s.add_argument("--fault", action="append", help="注入故障，如 wjw:down=0.3、jyj:slow=2、portal:robots_disallow=/zwgk/")
    s.add_argument("--no-faults", action="store_true", help="不注入默认故障")
    s.add_argument("--ground-truth", help="把标准答案写入该文件")
    s.add_argument("--registry", help="把沙盒县的检查对象名录（.xlsx，含本次端口的网址）写入该文件")
    s.add_argument("--duration", type=float, default=0, help="运行秒数（默认一直运行）")
    s.set_defaults(func=cmd_sandbox_serve)
    ev = sb.add_parser("eval", help="检查结果与标准答案对比，输出各规则精确率和召回率")
    _county_args(ev)
    ev.add_argument("--round-json", help="已有轮次的 round.json（与 --truth 同用）")
    ev.add_argument("--truth", help="标准答案 JSON")
    ev.add_argument("--out", help="各规则精确率和召回率写入该 JSON 文件（按名录检查）")
    ev.add_argument("--out-discovered", help="不提供名录、从导航发现栏目时的栏目发现率、分类准确率和栏目规则写入该 JSON 文件")
    ev.add_argument("--strict", action="store_true", help="任一规则低于 1.0、或发现栏目时的指标低于 0.95 时返回非零")
    ev.set_defaults(func=cmd_sandbox_eval)

    r = sub.add_parser("registry", help="检查对象名录导入导出")
    r.add_argument("action", choices=["import", "export", "template", "filing-list"], help="filing-list：导入全国政务新媒体信息报送系统的备案清单（更新已备案标记）")
    r.add_argument("file")
    r.set_defaults(func=cmd_registry)

    rd = sub.add_parser("round", help="对名录中的全部网站运行一轮检查并生成报告")
    rd.add_argument("--name", help="轮次名称（新轮次必填）")
    rd.add_argument("--as-of", type=_date, help="检查时点 YYYY-MM-DD（新轮次必填）")
    rd.add_argument("--recipients", default="", help="通报主送单位，如“各乡镇人民政府，县政府各部门”")
    rd.add_argument("--doc-number", default="", help="通报文号，如“清政办〔2026〕12号”")
    rd.add_argument("--resume", type=int, metavar="轮次编号", help="继续一个被中断的轮次（已完成的网站不再抓取）")
    rd.add_argument("--region", default="全县")
    rd.add_argument("--office", default="县人民政府办公室")
    _add_network_args(rd, "抓取")
    rd.add_argument("--delay", type=float, default=0.5, help="同一主机两次请求的间隔秒数（默认0.5）")
    rd.add_argument("--max-pages", type=_max_pages, metavar="页数",
                    help="每个网站最多抓取的页面数（安全上限，默认50000）；名录中填写了“抓取页面上限”的网站以名录为准。"
                         "超出上限的网站在 round.json 的 coverage 和通报中写明未检查的页面数")
    rd.add_argument("--site-concurrency", type=int, default=4, help="同时检查的网站数（默认4）")
    rd.add_argument("--processes", type=int, help="分担检查工作的进程数（默认每个CPU核一个，1 表示只用本进程）")
    rd.add_argument("--out")
    rd.add_argument("--quiet", action="store_true")
    rd.add_argument("--scheme", default="national-2019", help="考核方案（govinspect/rules/schemes/ 中的文件名，默认国家2019指标）")
    rd.add_argument("--documents", help="公文公开属性台账（.xlsx .xls .csv），检查结果写入本轮通报")
    rd.add_argument("--proposals", help="人大代表建议、政协提案办理台账")
    rd.add_argument("--replies", nargs="+", metavar="答复书", help="抽查的依申请公开答复书（.docx .pdf .txt）")
    rd.add_argument("--recheck", type=int, metavar="轮次编号",
                    help="复查：只重新抓取该轮问题所在页面，逐条判断已整改 / 仍存在 / 未能复查（不做全面检查）")
    rd.set_defaults(func=cmd_round)

    mo = sub.add_parser("monitor", help="可用性监测：定时访问名录中全部网站首页并记录（默认每72分钟一轮，即每天20次）")
    mo.add_argument("--interval", type=float, default=4320.0, help="两轮之间的秒数（默认4320）")
    mo.add_argument("--cycles", type=int, default=None, help="运行轮数（默认一直运行）；配合 cron 使用时填 1")
    mo.add_argument("--reference", action="append", help="参照地址（默认见 rules/availability.toml）")
    mo.add_argument("--timeout", type=float, default=None, help="超时秒数（默认15）")
    _add_network_args(mo, "探测")
    mo.set_defaults(func=cmd_monitor)

    wd = sub.add_parser("workdays", help="工作日计算（法定节假日和调休）").add_subparsers(dest="action", required=True)
    wa = wd.add_parser("add", help="输出某日之后第 N 个工作日的日期")
    wa.add_argument("start", type=_date)
    wa.add_argument("n", type=int)
    wa.set_defaults(func=cmd_workdays)

    nm = sub.add_parser("newmedia", help="检查名录中的政务新媒体账号（更新、僵尸账号、原创比例、互动、备案、重复开设、内容）")
    nm.add_argument("--as-of", type=_date, default=_date(DEFAULT_AS_OF), help="检查时点 YYYY-MM-DD")
    nm.add_argument("--json", action="store_true")
    nm.add_argument("--out", help="JSON 写入文件")
    _add_network_args(nm, "访问（如自建 RSSHub 在内网）")
    nm.set_defaults(func=cmd_newmedia)

    rq = sub.add_parser("replies", help="检查依申请公开答复书（.docx .pdf .txt）：答复期限、答复情形、救济途径表述")
    rq.add_argument("files", nargs="+")
    rq.add_argument("--issuer", help="答复机关名称（税务、海关等垂直管理部门可向上一级主管部门申请复议）")
    rq.add_argument("--json", action="store_true")
    rq.set_defaults(func=cmd_replies)

    dc = sub.add_parser("documents", help="检查公文公开属性台账：公开是否及时、不公开是否说明理由、解读是否及时")
    dc.add_argument("file", help="台账文件（.xlsx .xls .csv）")
    dc.add_argument("--as-of", type=_date, default=_date(DEFAULT_AS_OF), help="检查时点 YYYY-MM-DD")
    dc.add_argument("--json", action="store_true")
    dc.add_argument("--proposals", action="store_true", help="文件是人大代表建议、政协提案办理台账")
    dc.set_defaults(func=cmd_documents)

    lt = sub.add_parser("letters", help="信件、12345工单、模拟测评信件：导入与统计").add_subparsers(dest="action", required=True)
    li = lt.add_parser("import", help="导入 CSV/XLSX/XLS 导出文件（按表头自动对应列，错误行逐行报告）")
    li.add_argument("file")
    li.add_argument("--channel", choices=["mailbox", "hotline", "simulated"], required=True,
                    help="mailbox：领导信箱/网民留言；hotline：12345热线；simulated：模拟测评信件")
    li.add_argument("--map", action="append", metavar="表头=字段", help="指定列对应，如 --map 派发时间=received（可多次）")
    li.add_argument("--as-of", type=_date, default=None, help="统计截止日：晚于此日收到的行报错")
    li.add_argument("--errors", help="把全部错误行写入此 CSV 文件")
    li.add_argument("--quiet", action="store_true")
    li.set_defaults(func=cmd_letters)
    ls = lt.add_parser("stats", help="按期间统计：办结率、按时办结率（工作日）、类型、单位、诉求热点")
    ls.add_argument("--channel", choices=["mailbox", "hotline", "simulated"], required=True)
    ls.add_argument("--from", dest="start", type=_date, required=True)
    ls.add_argument("--to", dest="end", type=_date, required=True)
    ls.add_argument("--as-of", type=_date, required=True, help="统计时点（判断是否超期）")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_letters)

    ig = sub.add_parser("ignore", help="把一条问题标记为“忽略”（需填写理由，留痕，以后各轮继续有效）")
    ig.add_argument("finding", nargs="?", type=int, help="问题编号（round.json 中的 id）")
    ig.add_argument("--scope", choices=["hit", "page", "site"], default="hit",
                    help="hit：仅此处（无命中内容的问题：仅此栏目/链接/页面）；page：该页面该规则全部；"
                         "site：全网站同一内容（只用于有命中内容的问题，如错别字、个人信息）（默认 hit）")
    ig.add_argument("--reason", help="忽略理由（必填）")
    ig.add_argument("--yes", action="store_true", help="不再询问确认（先显示将隐藏的问题数和例子；无终端时必须加此项）")
    ig.add_argument("--by", help="操作人（默认当前系统用户）")
    ig.add_argument("--list", action="store_true", help="列出全部忽略记录")
    ig.add_argument("--revoke", type=int, metavar="ID", help="撤销一条忽略记录")
    ig.set_defaults(func=cmd_ignore)

    sc = sub.add_parser("scheme", help="校验并显示考核方案（单项否决、扣分项、合格线、比率取舍）")
    sc.add_argument("name", nargs="?", default="national-2019")
    sc.set_defaults(func=cmd_scheme)

    rp = sub.add_parser("report", help="根据已保存的检查结果重新生成通报（不重新抓取）")
    rp.add_argument("round", type=int)
    rp.add_argument("--out", required=True)
    rp.add_argument("--draft", action="store_true",
                    help="轮次未完成时仍生成报告，每页标注“未完成，仅供内部参考”（默认拒绝为未完成的轮次生成报告）")
    rp.set_defaults(func=cmd_report)
    rp.add_argument("--template", help="自定义通报模板（.docx，docxtpl 格式；用 govinspect report-template 生成默认模板后修改）")
    rt = sub.add_parser("report-template", help="写出默认通报模板（.docx），供修改文字和版式")
    rt.add_argument("--out", required=True)
    rt.set_defaults(func=cmd_report_template)

    m = sub.add_parser("manage", help="Django 管理命令（migrate、createsuperuser、runserver 等）")
    m.add_argument("args", nargs=argparse.REMAINDER)
    m.set_defaults(func=cmd_manage)
    return p


def main(argv: list[str] | None = None) -> int:
    from .rules import RulesError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, RulesError) as e:  # a bad rules file is the operator's input: a clear message, no traceback
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
