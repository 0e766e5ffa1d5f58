"""Commands of checking rounds: round (new, resumed, recheck), newmedia, ignore."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from ..cliutil import (CliError, _add_network_args, _allow_networks, _date, _max_pages, _operator, _print_json,
                       _setup_django)


def register(sub) -> None:
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
    rd.add_argument("--site-concurrency", type=int, default=4,
                    help="同时运行的检查任务数（每项任务一个工作进程，同一网站只在一个任务中抓取；默认4）")
    rd.add_argument("--processes", type=int, help="1 表示全部任务在本进程中依次运行（不启动工作进程）")
    rd.add_argument("--out")
    rd.add_argument("--quiet", action="store_true")
    rd.add_argument("--scheme", default="national-2019", help="考核方案（govinspect/rules/schemes/ 中的文件名，默认国家2019指标）")
    rd.add_argument("--documents", help="公文公开属性台账（.xlsx .xls .csv），检查结果写入本轮通报")
    rd.add_argument("--proposals", help="人大代表建议、政协提案办理台账")
    rd.add_argument("--replies", nargs="+", metavar="答复书", help="抽查的依申请公开答复书（.docx .pdf .txt）")
    rd.add_argument("--recheck", type=int, metavar="轮次编号",
                    help="复查：只重新抓取该轮问题所在页面，逐条判断已整改 / 仍存在 / 未能复查（不做全面检查）")
    rd.set_defaults(func=cmd_round)

    nm = sub.add_parser("newmedia", help="检查名录中的政务新媒体账号（更新、僵尸账号、原创比例、互动、备案、重复开设、内容）")
    nm.add_argument("--as-of", type=_date, default=dt.date.today(), help="检查时点 YYYY-MM-DD（默认今天）")
    nm.add_argument("--json", action="store_true")
    nm.add_argument("--scheme", default="national-2019", help="考核方案（默认国家2019指标）")
    nm.add_argument("--out", help="JSON 写入文件")
    _add_network_args(nm, "访问（如自建 RSSHub 在内网）")
    nm.set_defaults(func=cmd_newmedia)

    ev = sub.add_parser("evidence", help="显示一条问题的证据（命中处摘录、抓取时间、HTTP 状态），并把抓取时的页面原样写入文件")
    ev.add_argument("finding", type=int, help="问题编号（round.json 中的 id）")
    ev.add_argument("--out", help="页面写入的文件（默认 问题<编号>-页面.html）")
    ev.add_argument("--json", action="store_true", help="以 JSON 输出问题和证据")
    ev.set_defaults(func=cmd_evidence)

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


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt  # a round stopped by `kill` is recorded as interrupted, like Ctrl+C


def cmd_round(a) -> int:
    _setup_django()
    import signal

    from ..reports import write_reports
    from ..rules import RulesError
    from ..rules.ruleset import RuleSet
    from .models import Round
    from .recheck import run_recheck
    from .services import crawl_options, mark_interrupted, owner_alive, resume_round, run_jobs, start_round

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
            RuleSet.load(a.scheme).scheme  # the scheme and every rule file are valid before anything starts
        except RulesError as e:
            raise CliError(str(e)) from None
        if not a.name or a.as_of is None:
            raise CliError("新的检查轮次需要 --name 和 --as-of（继续被中断的轮次用 --resume 轮次编号）")
        from ..registry.models import Website

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
            from ..letters.models import Letter
            from .jobs import run_job

            missing = [p for p in [a.documents, a.proposals, *(a.replies or [])] if p and not Path(p).is_file()]
            if missing:
                rnd.delete()
                raise CliError(f"找不到文件：{missing[0]}")
            registers = {"documents": a.documents, "proposals": a.proposals, "replies": [Path(p) for p in a.replies or []]}
            limit = {"max_pages": a.max_pages} if a.max_pages else {}  # else the crawler's safety default
            jobs = start_round(rnd, crawl={"delay": a.delay, **limit}, registers=registers, letters=Letter.objects.exists(),
                               processes=a.processes, site_concurrency=a.site_concurrency)
            reg = next((j for j in jobs if j.kind == "registers"), None)
            if reg is not None:  # first: a bad register stops the round before any crawling
                reg = run_job(reg.pk)
                if reg.state == "failed":
                    rnd.delete()
                    raise CliError("台账或答复书无法检查：" + reg.reason.split(": ", 1)[-1])
            run_jobs(rnd, progress=not a.quiet)
    rnd.refresh_from_db()
    if rnd.status == "failed":
        raise CliError(f"第{rnd.pk}轮未完成：{rnd.error}")
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


def cmd_newmedia(a) -> int:
    _setup_django()
    import asyncio

    from ..engine.content import ContentChecker
    from ..engine.fetch import CrawlConfig
    from ..engine.newmedia import AccountSpec, check_accounts
    from ..registry.models import Account, WorkdayOverride
    from ..rules.ruleset import RuleSet

    specs = [AccountSpec(x.platform, x.name, x.owner.name, x.filed, x.interaction, x.source)
             for x in Account.objects.select_related("owner")]
    if not specs:
        raise CliError("名录中没有政务新媒体账号（govinspect registry import 导入名录）")
    cfg = CrawlConfig(allow_networks=_allow_networks(a))
    rules = RuleSet.load(a.scheme, calendar=WorkdayOverride.table())
    results = asyncio.run(check_accounts(specs, a.as_of, cfg, ContentChecker(rules, typos=False), rules=rules))
    verdicts = [rules.scheme.judge(r.status, [f.rule for f in r.findings], "newmedia") for r in results]
    if a.json:
        _print_json([{**r.to_dict(), "verdict": v[0], "score": v[1]} for r, v in zip(results, verdicts)], a.out)
        return 0
    label = {"pass": "合格", "fail": "不合格", "unknown": "未能检查"}
    for r, v in zip(results, verdicts):
        last = f"最近发布 {r.last_post:%Y-%m-%d}" if r.last_post else "无发布记录"
        print(f"{r.account.name}（{r.account.platform}，{r.account.owner}）：{label[v[0]]}；{last}"
              + (f"；{r.reason}" if r.reason else ""))
        for f in r.findings:
            print(f"    [{f.rule}] {f.detail}")
    return 0


def cmd_evidence(a) -> int:
    _setup_django()
    from .evidence import _NOT_WEB, EvidenceError, show_evidence

    try:
        info = show_evidence(a.finding, None)
        web = info["subject"]["kind"] not in _NOT_WEB
        if web:
            info = show_evidence(a.finding, a.out or f"问题{a.finding}-页面.html")
    except EvidenceError as e:
        raise CliError(str(e)) from None
    if a.json:
        _print_json(info, None)
        return 0
    ev = info["evidence"]
    print(f"问题 {info['id']}（第{info['round']}轮）：{info['name']}（{info['rule']}）" + ("，单项否决" if info["veto"] else ""))
    print(f"  描述：{info['detail']}")
    print(f"  位置：{info['where'] or '—'}")
    if ev.get("excerpt"):
        x, hit = ev["excerpt"], ev.get("hit")
        print("  摘录：" + (x[:hit[0]] + "【" + x[hit[0]:hit[1]] + "】" + x[hit[1]:] if hit else x))
    if ev.get("captured_at") or ev.get("http_status"):
        print(f"  抓取时间：{ev.get('captured_at') or '—'}，HTTP 状态：{ev.get('http_status') or '—'}")
    if ev.get("coverage"):
        print(f"  说明：{ev['coverage']}")
    print(f"  问题指纹：{info['fingerprint']}")
    if web:
        print(f"  抓取时的页面已写入：{info['page_file']}（{info['page_bytes']} 字节，WARC {ev.get('warc_file')} @ {ev.get('warc_offset')}）")
    else:
        print(f"  该问题来自{_NOT_WEB[info['subject']['kind']]}，不是网页，没有页面存档")
    return 0


def cmd_ignore(a) -> int:
    _setup_django()
    from .models import Finding, Ignore
    from .ignores import IgnoreError, describe_scope, ignore_finding, new_ignore, preview, revoke_ignore

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
        print(f"  问题 {x.pk}（{x.round.name}）{x.location.describe()}" + (f"「{x.match}」" if x.match else "")
              + f"：{x.detail[:60]}")
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

