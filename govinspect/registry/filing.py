"""Import the national new-media filing list (全国政务新媒体信息报送系统 export) into the registry.

Rows name platform, account name and 主办单位. Accounts on the list are marked filed (and added when the
unit is in the registry); registry accounts missing from the list are marked not filed. Rows whose unit
is unknown or whose platform is not one of the registry's are reported with their reason; good rows go on.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from ..engine.letters import LettersError, RowError, find_columns, read_table
from .models import PLATFORMS, Account, Unit

HEADERS = {"platform": ["平台", "平台类型", "账号类型", "类型"], "name": ["账号名称", "名称", "账号"],
           "owner": ["主办单位", "开办单位", "单位名称", "主管单位"], "status": ["备案状态", "状态"]}
PLATFORM_ALIASES = {"微信": "微信公众号", "公众号": "微信公众号", "微信公众号": "微信公众号", "微博": "微博", "新浪微博": "微博",
                    "抖音": "抖音", "今日头条": "今日头条", "头条号": "今日头条", "快手": "快手", "视频号": "视频号",
                    "微信视频号": "视频号", "客户端": "客户端", "移动客户端": "客户端", "小程序": "小程序"}


@transaction.atomic
def import_filing_list(path: Path) -> dict:
    headers, rows, first = read_table(Path(path))
    col = find_columns(headers, HEADERS)
    if not {"platform", "name", "owner"} <= set(col):
        raise LettersError(f"备案清单缺少“平台”“账号名称”“主办单位”列（表头：{'、'.join(h for h in headers if h)}）")
    units = {u.name: u for u in Unit.objects.all()}
    platforms = {p for p, _ in PLATFORMS}
    errors, listed, added = [], set(), 0
    for n, row in enumerate(rows, start=first):
        get = lambda f: str(row[col[f]] or "").strip() if f in col and col[f] < len(row) and row[col[f]] is not None else ""
        if not any(str(v or "").strip() for v in row):
            continue
        if "status" in col and any(w in get("status") for w in ("注销", "关停", "未通过")):
            continue  # closed accounts are not filed ones
        plat = PLATFORM_ALIASES.get(get("platform"), get("platform"))
        if plat not in platforms:
            errors.append(RowError(n, "平台", f"未知平台“{get('platform')}”"))
            continue
        owner = units.get(get("owner"))
        acc = Account.objects.filter(platform=plat, name=get("name")).first()
        if acc is None:
            if owner is None:
                errors.append(RowError(n, "主办单位", f"名录中没有单位“{get('owner')}”，账号“{get('name')}”未导入（请先在名录中添加该单位）"))
                continue
            acc = Account.objects.create(platform=plat, name=get("name"), owner=owner, filed=True)
            added += 1
        listed.add(acc.pk)
    updated_true = Account.objects.filter(pk__in=listed, filed=False).update(filed=True)
    not_listed = list(Account.objects.exclude(pk__in=listed).values_list("platform", "name"))
    Account.objects.exclude(pk__in=listed).update(filed=False)
    return {"listed": len(listed), "added": added, "now_filed": updated_true, "not_on_list": not_listed,
            "errors": [str(e) for e in errors]}
