"""The sandbox county as a registry workbook (the documented import template)."""

from __future__ import annotations

from pathlib import Path

from ..registry.models import COLUMN_CATEGORIES
from .county import COUNTY, County

_LABEL = dict(COLUMN_CATEGORIES)


# the units' 政务公开 contacts (made up; the platform creates each unit's account from them)
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = ["建华", "秀英", "志强", "丽娟", "海涛", "晓燕", "国庆", "文静", "振宇", "红梅", "立新", "雪梅"]


def unit_contact(i: int) -> list[str]:
    """联系人, 联系电话, 联系邮箱 of the i-th unit of the sandbox registry (stable for a given i)."""
    name = _SURNAMES[i % len(_SURNAMES)] + _GIVEN[(i * 7) % len(_GIVEN)]
    return [name, f"0314-86{(i * 3917) % 100000:05d}", f"gk{i:02d}@example.gov.cn"]


def registry_rows(county: County, urls: dict[str, str]) -> dict[str, list[list]]:
    units = [[f"{COUNTY}人民政府", "区县", ""]]
    for s in county.sites:
        if s.unit != units[0][0]:
            units.append([s.unit, s.unit_kind, f"{COUNTY}人民政府"])
    # 所属区域, 主管单位, 简称 empty (derived from the tree), then the contacts
    units = [u + ["", "", ""] + unit_contact(i) for i, u in enumerate(units)]
    sites, columns, accounts, leaders = [], [], [], []
    for s in county.sites:
        base = urls[s.key].rstrip("/")
        sites.append([s.name, urls[s.key], s.site_code, s.unit, "是" if s.kind == "portal" else "否", ""])
        for c in s.columns:
            # an unrecognised name is registered without a category, as an office would before confirming one
            columns.append([urls[s.key], c.name, base + c.path, _LABEL.get(c.category, ""), s.unit, "", 1])
        for a in s.accounts:
            accounts.append([a["platform"], a["name"], a["owner"], "是" if a["filed"] else "否", "",
                             base + "/rss.xml" if a["feed"] else "", "是" if a["interaction"] else "否"])
        for l in s.leaders:
            leaders.append([l["name"], l["title"], l["unit"], l["start"], l["end"] or ""])
    return {"单位": units, "网站": sites, "栏目": columns, "新媒体账号": accounts, "领导": leaders}


def write_registry(county: County, urls: dict[str, str], path: str | Path) -> Path:
    from ..registry.xlsx import write_template

    return write_template(path, registry_rows(county, urls))
