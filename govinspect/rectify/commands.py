"""Commands of the rectification loop (整改): issue a round, list items, import a returned 整改清单, the scheduled
housekeeping, follow items through a round, export the audit trail.

Exit codes: 0 done; 1 an import that refused some rows (the others were applied); 2 an error (nothing done)."""

from __future__ import annotations

import sys

from ..cliutil import CliError, _date, _operator, _print_json, _setup_django


def register(sub) -> None:
    rc = sub.add_parser("rectify", help="整改：下发通报、整改事项、导入整改清单、定时任务、审计导出")
    rs = rc.add_subparsers(dest="rectify_command", required=True)

    p = rs.add_parser("issue", help="下发一轮检查的通报：生成整改事项（整改期限按工作日计算）并冻结下发的文件")
    p.add_argument("round", type=int, metavar="轮次编号")
    p.add_argument("--date", type=_date, help="通报日期 YYYY-MM-DD（整改期限从这一天起按工作日计算，默认今天）")
    p.add_argument("--days", type=int, help="整改期限（工作日，默认考核方案 rules/rectify.toml 的 days）")
    p.add_argument("--by", help="操作人（默认当前系统用户）")
    p.set_defaults(func=cmd_issue)

    p = rs.add_parser("list", help="列出整改事项")
    p.add_argument("--unit", metavar="单位名称", help="只列该责任单位的事项")
    p.add_argument("--state", metavar="状态", help="只列该状态的事项：待整改、已反馈、已整改、仍存在、未能复查、申诉中、逾期、申诉成立")
    p.add_argument("--round", type=int, metavar="轮次编号", help="只列该轮下发的事项")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    p.set_defaults(func=cmd_list)

    p = rs.add_parser("import", help="导入责任单位填写后交回的整改清单（.xlsx）：“整改情况”一栏作为整改反馈或申诉")
    p.add_argument("file", metavar="整改清单.xlsx")
    p.add_argument("--unit", metavar="单位名称", help="以该单位的身份导入（其他单位的事项被拒绝）")
    p.add_argument("--by", help="操作人（默认当前系统用户）")
    p.set_defaults(func=cmd_import)

    p = rs.add_parser("tick", help="定时任务（供 cron 调用）：标记逾期、发送到期提醒、重试未能复查的事项")
    p.add_argument("--today", type=_date, help="按这一天计算（YYYY-MM-DD，默认今天）")
    p.set_defaults(func=cmd_tick)

    p = rs.add_parser("sync", help="按一轮检查的结果核对此前各轮的整改事项（再次发现为仍存在，重新检查未发现为已整改）")
    p.add_argument("round", type=int, metavar="轮次编号")
    p.add_argument("--by", help="操作人（默认 system）")
    p.set_defaults(func=cmd_sync)

    p = rs.add_parser("audit", help="导出整改记录（全部操作、状态变化、复查证据和材料）为 .xlsx")
    p.add_argument("--out", required=True, metavar="文件.xlsx")
    p.add_argument("--round", type=int, metavar="轮次编号", help="只导出该轮下发的事项")
    p.set_defaults(func=cmd_audit)


def _labels() -> list[str]:
    from .models import STATES

    return [label for _, label in STATES]


def _round(pk: int):
    from ..rounds.models import Round

    rnd = Round.objects.filter(pk=pk).first()
    if rnd is None:
        raise CliError(f"没有编号为 {pk} 的检查轮次")
    return rnd


def _unit(name: str | None):
    if name is None:
        return None
    from ..registry.models import Unit

    name = name.strip()
    unit = Unit.objects.filter(name=name).first() or Unit.objects.filter(short_name=name).first()
    if unit is None:
        raise CliError(f"名录中没有名为“{name}”的单位")
    return unit


def _state(value: str | None) -> str | None:
    from .models import STATES

    if value is None:
        return None
    value = value.strip()
    for key, label in STATES:
        if value in (key, label):
            return key
    raise CliError(f"没有“{value}”这一整改状态（可用：{'、'.join(_labels())}）")


def cmd_issue(a) -> int:
    _setup_django()
    from .issue import IssueError, issue
    from .services import deadline_for

    rnd = _round(a.round)
    if a.days is not None and a.days < 1:
        raise CliError(f"整改期限应为正整数个工作日，现为 {a.days}")
    try:
        iss = issue(rnd, a.by or _operator(), a.date, a.days)
    except (IssueError, ValueError) as e:  # UnknownYear (a year without a working-day calendar) is a ValueError
        raise CliError(str(e)) from None
    rnd.refresh_from_db()
    due = deadline_for(rnd, iss.issued_on)
    print(f"第{rnd.pk}轮“{rnd.name}”已下发：通报日期 {iss.issued_on}，整改期限 {iss.rectify_days} 个工作日（至 {due}），"
          f"新建整改事项 {iss.items_created} 项，下发文件 {len(iss.files)} 个已冻结")
    return 0


def cmd_list(a) -> int:
    _setup_django()
    from ..reports.tables import rule_names
    from .models import Item

    qs = Item.objects.select_related("unit", "finding").order_by("deadline", "id")
    unit, state = _unit(a.unit), _state(a.state)
    if unit is not None:
        qs = qs.filter(unit=unit)
    if state is not None:
        qs = qs.filter(state=state)
    if a.round is not None:
        qs = qs.filter(round_issued=_round(a.round))
    names = rule_names()
    rows = [{"id": i.pk, "state": i.get_state_display(), "unit": i.unit.name, "rule": i.rule,
             "rule_name": names.get(i.rule, i.rule), "deadline": i.deadline.isoformat(), "round_issued": i.round_issued_id,
             "detail": i.finding.detail if i.finding else ""} for i in qs]
    if a.json:
        _print_json(rows, None)
        return 0
    if not rows:
        print("没有符合条件的整改事项")
        return 0
    print("编号\t状态\t责任单位\t问题类型\t整改期限\t问题")
    for r in rows:
        print(f"{r['id']}\t{r['state']}\t{r['unit']}\t{r['rule_name']}\t{r['deadline']}\t{r['detail']}")
    print(f"共 {len(rows)} 项")
    return 0


def cmd_import(a) -> int:
    _setup_django()
    from .workbook import ClaimImportError, import_claims

    unit = _unit(a.unit)
    try:
        got = import_claims(a.file, a.by or _operator(), unit)
    except ClaimImportError as e:
        raise CliError(str(e)) from None
    print(f"已导入整改清单 {a.file}：填写整改情况 {got['rows']} 行，反馈已整改 {got['claimed']} 项（已排队复查），"
          f"申诉 {got['disputed']} 项，此前已导入未变 {got['unchanged']} 项，未处理 {len(got['errors'])} 处")
    for e in got["errors"]:
        print(f"  第{e['row']}行：{e['reason']}", file=sys.stderr)
    return 1 if got["errors"] else 0


def cmd_tick(a) -> int:
    _setup_django()
    from .services import housekeeping

    got = housekeeping(a.today)
    print(f"整改定时任务：标记逾期 {got['overdue']} 项，发送提醒 {got['reminders']} 条，重新排队复查 {got['retried']} 项")
    return 0


def cmd_sync(a) -> int:
    _setup_django()
    from .services import TransitionError, sync_with_round

    rnd = _round(a.round)
    if rnd.item_recheck:
        raise CliError(f"第{rnd.pk}轮是整改事项复查，其结果已直接写入各事项，无需核对")
    try:
        got = sync_with_round(rnd, a.by or "system")
    except TransitionError as e:
        raise CliError(str(e)) from None
    print(f"按第{rnd.pk}轮“{rnd.name}”核对整改事项：仍存在 {got['present']} 项，已整改 {got['fixed']} 项，"
          f"重新打开 {got['reopened']} 项，未变 {got['unchanged']} 项，本轮未重新检查 {got['not_checked']} 项")
    return 0


def cmd_audit(a) -> int:
    _setup_django()
    from .audit import write_audit
    from .models import Item

    items = Item.objects.all()
    if a.round is not None:
        items = items.filter(round_issued=_round(a.round))
    if not items.exists():
        raise CliError("没有整改事项可导出" + (f"（第{a.round}轮没有下发整改事项）" if a.round is not None else ""))
    if not a.out.lower().endswith(".xlsx"):
        raise CliError(f"导出文件应为 .xlsx：{a.out}")
    try:
        path = write_audit(items, a.out)
    except OSError as e:
        raise CliError(f"无法写入 {a.out}：{e.strerror or e}") from None
    print(f"已导出 {items.count()} 项整改事项的整改记录：{path}")
    return 0
