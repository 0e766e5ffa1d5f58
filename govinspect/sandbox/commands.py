"""Sandbox commands: sandbox serve, sandbox eval, demo. They keep the sandbox's own date: the county is built for it."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from ..cliutil import CliError, _date, _print_json, _setup_django
from .demo import _check_county_accounts, _discovered_eval, _inspect_county, cmd_demo

AS_OF = dt.date(2026, 11, 23)  # the check date the sandbox county is built for


def register(sub) -> None:
    d = sub.add_parser("demo", help="在内置沙盒县上完整运行一轮检查并生成通报")
    d.add_argument("--out", default="out/demo", help="输出目录（通报.docx、附件.xlsx、round.json）")
    _county_args(d)
    d.add_argument("--quiet", action="store_true", help="不显示进度条")
    d.set_defaults(func=cmd_demo)

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


def _county_args(p) -> None:
    p.add_argument("--seed", type=int, default=2026, help="随机种子（同一种子生成完全相同的沙盒）")
    p.add_argument("--as-of", type=_date, default=AS_OF, help="检查时点 YYYY-MM-DD")
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

    from . import generate_county
    from .serve import SandboxServer
    from .truth import ground_truth

    county = generate_county(a.seed, a.as_of, a.sites, a.pages, faults=_parse_faults(a.fault), no_default_faults=a.no_faults)
    with SandboxServer(county, port_base=a.port_base) as srv:
        truth = ground_truth(county, srv.urls)
        if a.ground_truth:
            _print_json(truth, a.ground_truth)
        if a.registry:
            _setup_django(migrate=False)
            from .registry import write_registry

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


def cmd_sandbox_eval(a) -> int:
    from ..rules.ruleset import RuleSet
    from .evaluate import TARGET, evaluate, format_columns, format_table

    implemented = sorted(RuleSet.load()["catalog"]["rules"])
    if a.round_json:
        data = json.loads(Path(a.round_json).read_text(encoding="utf-8"))
        truth = json.loads(Path(a.truth).read_text(encoding="utf-8"))
        findings = data["findings"]
    else:
        from . import generate_county
        from .serve import SandboxServer
        from .truth import ground_truth

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

