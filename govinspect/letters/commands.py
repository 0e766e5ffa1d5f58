"""The letters command: import of letter and hotline exports, statistics by period."""

from __future__ import annotations

import sys
from pathlib import Path

from ..cliutil import CliError, _date, _print_json, _setup_django


def register(sub) -> None:
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
    ls.add_argument("--scheme", default="national-2019", help="考核方案（办理期限和比率取舍，默认国家2019指标）")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_letters)


def cmd_letters(a) -> int:
    _setup_django()
    from ..engine import letters as L
    from . import services

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
    from ..registry.models import WorkdayOverride
    from ..rules import RulesError
    from ..rules.ruleset import RuleSet

    try:
        rules = RuleSet.load(a.scheme, calendar=WorkdayOverride.table())
    except RulesError as e:
        raise CliError(str(e)) from None
    rows = services.letters(a.channel, a.start, a.end)
    if a.channel == "simulated":
        out = L.simulated_bands(rows, a.as_of, rules)
        text = (f"模拟测评发出信件{len(rows)}件，2个工作日内答复{out.get('within_2', 0)}件，5个工作日内答复{out.get('within_5', 0)}件，"
                f"超期答复{out.get('late', 0)}件，截至{a.as_of.month}月{a.as_of.day}日仍未答复{out.get('unanswered', 0)}件。")
        stats = {"count": len(rows), "bands": out}
    else:
        stats = L.statistics(rows, a.as_of, rules)
        text = L.prose(stats, "网民留言" if a.channel == "mailbox" else "12345热线工单", topics=True)
    if a.json:
        _print_json({"text": text, **stats}, None)
    else:
        print(text)
    return 0

