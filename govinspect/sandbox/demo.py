"""The demo: a whole round on the sandbox county (registry, letters, crawl, registers, reports) scored against its
ground truth; and the county inspections `sandbox eval` shares with it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from ..cliutil import _setup_django


def _inspect_county(county, srv, discovered: bool = False, content: bool = True) -> list:
    """Inspect every sandbox site. discovered: hand no columns (names, URLs or categories): each site's columns
    are found in its navigation and classified by name, as on a site nobody registered."""
    import asyncio

    from ..engine.checks.freshness import ColumnSpec
    from ..engine.inspect import inspect_site_async

    from ..engine.content import ContentChecker
    from ..engine.content.leaders import Roster

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

    from ..engine.content import ContentChecker
    from ..engine.newmedia import AccountSpec, check_accounts

    specs = [AccountSpec(x["platform"], x["name"], x["owner"], x["filed"], x["interaction"],
                         srv.url(s.key, "/rss.xml") if x["feed"] else "") for s in county.sites for x in s.accounts]
    return asyncio.run(check_accounts(specs, county.as_of, srv.crawl_config(), ContentChecker(typos=False)))


def _discovered_eval(county, reports, truth) -> dict:
    """Figures of a run with no registry (columns discovered and classified by name) against the sandbox truth:
    discovery, classification, the column rules; below_target: each figure under the issue's target."""
    from .evaluate import COLUMN_RULES, TARGET, evaluate, evaluate_columns

    by_site = {s.key: [c.to_dict() for c in r.columns] for s, r in zip(county.sites, reports)}
    cols = evaluate_columns(by_site, truth)
    rules = evaluate([f.to_dict() for r in reports for f in r.findings], truth, COLUMN_RULES)
    figures = {"discovery_recall": cols["discovery_recall"], "classification_accuracy": cols["classification_accuracy"]}
    for r in ("column.stale", "column.empty"):
        figures[f"{r} precision"], figures[f"{r} recall"] = rules[r]["precision"], rules[r]["recall"]
    return {"columns": cols, "rules": rules, "below_target": {k: v for k, v in figures.items() if v is not None and v < TARGET}}


def cmd_demo(a) -> int:
    out = Path(a.out).resolve()
    data_dir = out / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)  # every demo starts from an empty database: same input, same bulletin
    out.mkdir(parents=True, exist_ok=True)
    _setup_django(str(data_dir))
    from ..registry.xlsx import import_registry
    from ..reports import write_reports
    from ..rounds.models import Round
    from ..rounds.services import run_round
    from . import generate_county
    from .county import COUNTY
    from .evaluate import evaluate, format_columns, format_table
    from .registry import write_registry
    from .serve import SandboxServer
    from .truth import ground_truth
    from ..rules.ruleset import RuleSet

    county = generate_county(a.seed, a.as_of, a.sites, a.pages)
    print(f"1/4 启动沙盒县：{len(county.sites)}个政府网站，检查时点 {county.as_of}")
    with SandboxServer(county) as srv:
        truth = ground_truth(county, srv.urls)
        reg = write_registry(county, srv.urls, out / "名录.xlsx")
        counts = import_registry(reg)
        print("2/4 导入检查对象名录：" + "，".join(f"{k}{v}条" for k, v in counts.items()))
        from ..letters.services import import_letters
        from .letters import export_csv_gbk, export_xlsx, generate_letters, overdue_truth

        q_start = dt.date(county.as_of.year, 3 * ((county.as_of.month - 1) // 3) + 1, 1)
        letter_truth = []
        for channel, n, fmt, name in (("mailbox", 31, "xlsx", "领导信箱导出.xlsx"), ("hotline", 240, "csv", "12345工单导出.csv")):
            rows, lt = generate_letters(n=n, seed=a.seed + n, start=q_start, end=county.as_of - dt.timedelta(days=1),
                                        prefix=channel[:2].upper())
            letter_truth += overdue_truth(lt, name, "letter.overdue" if channel == "mailbox" else "ticket.overdue", county.as_of)
            f = out / name
            f.write_bytes(export_xlsx(rows) if fmt == "xlsx" else export_csv_gbk(rows))
            b = import_letters(f, channel, as_of=county.as_of)
            print(f"    导入{name}：{b.rows_ok}行，错误行{b.rows_bad}行（逐行说明见管理后台“导入批次”）")
        rnd = Round.objects.create(name=f"{county.as_of.year}年第{(county.as_of.month - 1) // 3 + 1}季度政府网站检查（演示）",
                                   region=COUNTY, office=f"{COUNTY}人民政府办公室", as_of=county.as_of,
                                   period_start=county.as_of - dt.timedelta(days=91), allow_networks="127.0.0.0/8",
                                   recipients="各乡镇人民政府，县政府各部门", doc_number=f"清政办〔{county.as_of.year}〕12号")
        from .registers import document_register, proposal_register, register_truth
        from .replies import LETTERS, letter_bytes

        (out / "公文公开属性台账.xlsx").write_bytes(export_xlsx(document_register()[0]))
        (out / "建议提案办理台账.xlsx").write_bytes(export_xlsx(proposal_register()[0]))
        replies_dir = out / "答复书"
        replies_dir.mkdir(exist_ok=True)
        for name in LETTERS:
            (replies_dir / name).write_bytes(letter_bytes(name))
        registers = {"documents": out / "公文公开属性台账.xlsx", "proposals": out / "建议提案办理台账.xlsx",
                     "replies": sorted(replies_dir.iterdir())}
        print("3/4 检查各网站、政务新媒体账号、公文台账、建议提案台账、依申请公开答复书和信件办理：")
        run_round(rnd, progress=not a.quiet, crawl=srv.crawl_settings(), registers=registers, letters=True)
        truth["problems"] += register_truth("公文公开属性台账.xlsx", "建议提案办理台账.xlsx", LETTERS) + letter_truth
        (out / "ground-truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        # the same county with no registry: columns found in the navigation and classified by name
        found = _inspect_county(county, srv, discovered=True, content=False)
    # the round is issued as an office would after review: its problems become rectification items (整改事项) with
    # deadlines, and the documents are frozen; the 整改清单 written below carry the item ids
    from ..rectify.issue import issue

    iss = issue(rnd, by="演示检查单位", issued_on=county.as_of)
    paths = write_reports(rnd, out)
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    res = evaluate(data["findings"] + data["office_findings"], truth, sorted(RuleSet.load()["catalog"]["rules"]))
    (out / "eval.json").write_text(json.dumps(res, ensure_ascii=False, indent=1), encoding="utf-8")
    s = data["summary"]
    print(f"4/4 生成通报：{paths['bulletin']}\n    附件表格：{paths['workbook']}\n    检查数据：{paths['json']}")
    print(f"    下发整改：{iss.items_created}个整改事项，整改期限{iss.rectify_days}个工作日（通报日期 {iss.issued_on}）")
    print(f"\n检查网站{s['sites_total']}个，完成检查{s['sites_checked']}个，合格{s['pass']}个，不合格{s['fail']}个，"
          f"合格率{s['pass_rate']}%；未能检查{s['sites_unknown']}个。发现问题{s['findings']}个。")
    print("\n与沙盒标准答案对比（精确率/召回率）：\n" + format_table(res))
    disc = _discovered_eval(county, found, truth)
    (out / "eval-discovered.json").write_text(json.dumps(disc, ensure_ascii=False, indent=1), encoding="utf-8")
    print("\n" + format_columns(disc["columns"], disc["rules"]))
    _demo_accounts(Path(paths["bulletin"]).parent)
    return 0


def _demo_accounts(out: Path) -> Path:
    """The demo's platform accounts (an office account and one per unit), printed and written to demo-accounts.json
    beside the bulletin."""
    from ..web.accounts import ROLE_LABELS, demo_accounts, write_demo_accounts

    accounts = demo_accounts()
    path = out / "demo-accounts.json"
    write_demo_accounts(accounts, path)
    print(f"\n演示账号（密码也写在 {path}；govinspect serve 后用这些账号登录）：")
    for x in accounts:
        print(f"  {x['username']}\t{x['password']}\t{ROLE_LABELS[x['role']]}{'（' + x['unit'] + '）' if x['unit'] else ''}")
    return path

