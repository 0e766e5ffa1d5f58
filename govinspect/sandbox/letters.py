"""Sandbox exports of mailbox letters and 12345 tickets, spanning holiday periods, with ground truth.

The truth's deadlines come from the holiday tables below, copied from the State Council notices
(国办发明电) for 2024, 2025 and 2026 — written independently of engine/workdays.py (chinesecalendar), so
the import, the deadline arithmetic and the statistics are checked against a separate source.
Bad rows are planted with the reason an importer must give.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

D = dt.date
# days off on weekdays, and adjusted working weekend days (调休), per the State Council notices
HOLIDAYS = {
    2024: ({D(2024, 1, 1)} | {D(2024, 2, d) for d in range(10, 18)} | {D(2024, 4, d) for d in (4, 5, 6)}
           | {D(2024, 5, d) for d in range(1, 6)} | {D(2024, 6, 10)} | {D(2024, 9, d) for d in (15, 16, 17)}
           | {D(2024, 10, d) for d in range(1, 8)}),
    2025: ({D(2025, 1, 1)} | {D(2025, 1, d) for d in range(28, 32)} | {D(2025, 2, d) for d in range(1, 5)}
           | {D(2025, 4, d) for d in (4, 5, 6)} | {D(2025, 5, d) for d in range(1, 6)} | {D(2025, 5, 31), D(2025, 6, 1), D(2025, 6, 2)}
           | {D(2025, 10, d) for d in range(1, 9)}),
    2026: ({D(2026, 1, 1), D(2026, 1, 2)} | {D(2026, 2, d) for d in (16, 17, 18, 19, 20, 23)} | {D(2026, 4, 6)}
           | {D(2026, 5, d) for d in (1, 4, 5)} | {D(2026, 6, 19), D(2026, 9, 25)} | {D(2026, 10, d) for d in (1, 2, 5, 6, 7)}),
}
ADJUSTED = {
    2024: {D(2024, 2, 4), D(2024, 2, 18), D(2024, 4, 7), D(2024, 4, 28), D(2024, 5, 11), D(2024, 9, 14), D(2024, 9, 29), D(2024, 10, 12)},
    2025: {D(2025, 1, 26), D(2025, 2, 8), D(2025, 4, 27), D(2025, 9, 28), D(2025, 10, 11)},
    2026: {D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)},
}
DEADLINE = {"咨询": 2, "建议": 2, "投诉": 5, "求助": 5, "举报": 5}
UNITS = ["县住建局", "县城管局", "县人社局", "县自然资源局", "县农业农村局", "县教育局", "县卫健局", "城关镇", "白马镇", "南宫镇"]
TEXTS = {
    "城市管理": ["小区门口占道经营严重，影响通行", "夜间施工噪音扰民，请求处理", "渣土车抛洒遗漏造成扬尘污染", "路灯损坏多日无人维修"],
    "农村事务": ["村组道路硬化何时实施", "宅基地审批进度咨询", "退耕还林补助未发放", "养殖场异味影响村民生活"],
    "劳资社保": ["用人单位拖欠工资三个月", "失业金申领条件咨询", "养老保险转移接续办理", "医保缴费基数问题"],
    "房产物业": ["房产证迟迟未办理", "物业费收费标准是否合规", "楼道杂物堆放无人清理", "开发商未按期交房"],
}


def is_workday(d: dt.date) -> bool:
    if d in ADJUSTED[d.year]:
        return True
    return d.weekday() < 5 and d not in HOLIDAYS[d.year]


def due(received: dt.date, n: int) -> dt.date:
    d = received
    while n:
        d += dt.timedelta(days=1)
        n -= is_workday(d)
    return d


def generate_letters(n: int = 120, seed: int = 2026, start: dt.date = D(2025, 9, 1), end: dt.date = D(2025, 10, 31),
                     prefix: str = "XX") -> tuple[list[list], dict]:
    """Rows (header first) of a mailbox/12345 export around the 2025 National Day holiday, and the truth."""
    rng = random.Random(seed)
    header = ["工单编号", "受理时间", "诉求类型", "承办单位", "诉求标题", "诉求内容", "办结时间", "办理状态"]
    rows, truth = [header], {"letters": {}, "bad_rows": {}}
    span = (end - start).days
    types = list(DEADLINE)
    for i in range(n):
        typ = rng.choice(types)
        topic = rng.choice(list(TEXTS))
        title = rng.choice(TEXTS[topic])
        received = dt.datetime.combine(start + dt.timedelta(days=rng.randint(0, span)), dt.time(rng.randint(8, 20), rng.randint(0, 59)))
        limit = due(received.date(), DEADLINE[typ])
        kind = rng.random()
        if kind < 0.75:  # on time: on a working day up to the deadline
            days = [d for d in (received.date() + dt.timedelta(k) for k in range(0, (limit - received.date()).days + 1))]
            replied_day = rng.choice(days)
            state = "on_time"
        elif kind < 0.9:  # late: after the deadline
            replied_day = limit + dt.timedelta(days=rng.randint(1, 10))
            state = "late"
        else:
            replied_day = None
            state = "open"
        replied = None
        if replied_day is not None:
            replied = dt.datetime.combine(replied_day, dt.time(rng.randint(8, 18), rng.randint(0, 59)))
            if replied < received:
                replied = received + dt.timedelta(hours=1)
        ref = f"{prefix}{received:%Y%m%d}{i:04d}"
        rows.append([ref, f"{received:%Y-%m-%d %H:%M}", typ, rng.choice(UNITS), title, f"{title}。请有关部门尽快处理。",
                     f"{replied:%Y-%m-%d %H:%M}" if replied else "", "已办结" if replied else "办理中"])
        truth["letters"][ref] = {"type": typ, "received": received.isoformat(), "due": limit.isoformat(), "state": state,
                                 "topic": topic, "row": len(rows)}
    # planted bad rows: the importer must reject each, with this reason
    bad = [
        (["BAD0001", "2025-02-30 09:00", "咨询", "县住建局", "日期错误", "", "", "办理中"], "无法识别的日期|day is out of range"),
        (["BAD0002", "", "投诉", "县城管局", "缺少受理时间", "", "", "办理中"], "收到时间为空"),
        (["BAD0003", "2025-09-10 09:00", "投诉", "县人社局", "回复早于受理", "", "2025-09-09 10:00", "已办结"], "早于收到时间"),
        ([rows[1][0], *rows[1][1:]], "重复"),
    ]
    for row, reason in bad:
        rows.append(row)
        truth["bad_rows"][len(rows)] = reason
    return rows, truth


def export_csv_gbk(rows: list[list]) -> bytes:
    """As Excel's "CSV" export writes it on a Chinese Windows: GBK, CRLF."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode("gbk")


def export_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单")
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def overdue_truth(truth: dict, file_name: str, rule: str, as_of: dt.date) -> list[dict]:
    """The ground truth of a round's letters job: every letter answered after its deadline, or still open when its
    deadline passed before as_of, is `rule` (letter.overdue / ticket.overdue) at its row of the export."""
    out = []
    for t in truth["letters"].values():
        if t["state"] == "late" or (t["state"] == "open" and dt.date.fromisoformat(t["due"]) < as_of):
            out.append({"rule": rule, "url": f"file:{file_name}#{t['row']}"})
    return out
