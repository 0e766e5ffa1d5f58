"""Registry import/export through one documented .xlsx template (docs/registry-template.md).

Import is all or nothing: every sheet and row is validated first and every error is collected (not only the first);
if anything is wrong nothing is written and RegistryImportError.errors lists each one with sheet, row, column and
reason (the CLI prints them, the web import page shows them as a table). The writes run in one transaction: a
database error while writing rolls everything back and is reported the same way. Rows are upserted by their natural key
(unit name, site home URL, site + column URL, platform + account name, leader name + unit + title + start).
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ..safetext import append_row

from .. import office
from .models import COLUMN_CATEGORIES, PLATFORMS, UNIT_KINDS, Account, Column, Leader, Unit, Website

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
MAX_UNCOMPRESSED = 500 * 1024 * 1024  # zip-bomb guard for the .xlsx container
OFFICE_LIMITS = office.Limits(file_bytes=MAX_FILE_BYTES, total_uncompressed=MAX_UNCOMPRESSED)

# sheet -> [(header, key, required)]
TEMPLATE = {
    "单位": [("单位名称", "name", True), ("单位类型", "kind", True), ("上级单位", "parent", False), ("所属区域", "region", False),
           ("主管单位", "supervisor", False), ("简称", "short_name", False), ("联系人", "contact_name", False),
           ("联系电话", "contact_phone", False), ("联系邮箱", "contact_email", False)],
    "网站": [("网站名称", "name", True), ("首页地址", "home_url", True), ("网站标识码", "site_code", False),
            ("主办单位", "owner", True), ("门户网站", "is_portal", False), ("附加域名", "extra_hosts", False),
            ("抓取页面上限", "max_pages", False)],
    "栏目": [("网站首页地址", "site", True), ("栏目名称", "name", True), ("栏目地址", "url", True), ("栏目类别", "category", False),
            ("责任单位", "responsible_unit", False), ("更新周期", "window_override", False), ("栏目层级", "level", False)],
    "新媒体账号": [("平台", "platform", True), ("账号名称", "name", True), ("开办单位", "owner", True), ("已备案", "filed", False),
                ("账号ID", "account_id", False), ("内容来源", "source", False), ("互动功能", "interaction", False)],
    "领导": [("姓名", "name", True), ("职务", "title", True), ("单位", "unit", True), ("任职开始", "start", True), ("任职结束", "end", False)],
}
_CATEGORY_BY_LABEL = {label: key for key, label in COLUMN_CATEGORIES} | {key: key for key, _ in COLUMN_CATEGORIES}
# what makes two rows of a sheet the same record (the key rows are upserted by)
_KEY_LABEL = {"栏目": "网站首页地址和栏目地址", "新媒体账号": "平台和账号名称", "领导": "姓名、职务、单位和任职开始"}
_CONTACTS = ("contact_name", "contact_phone", "contact_email")
_YES = {"是", "y", "yes", "true", "1", "√"}
_NO = {"否", "n", "no", "false", "0", ""}


@dataclass
class CellError:
    sheet: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"工作表「{self.sheet}」第{self.row}行「{self.column}」：{self.reason}"


class RegistryImportError(Exception):
    def __init__(self, errors: list[CellError]):
        self.errors = errors
        lines = [str(e) for e in errors[:50]]
        if len(errors) > 50:
            lines.append(f"……另有{len(errors) - 50}处错误")
        super().__init__("名录文件有误，未导入任何数据：\n" + "\n".join(lines))


def _str(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _check_container(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise RegistryImportError([CellError("-", 0, "-", f"文件过大（{size} 字节，上限 {MAX_FILE_BYTES}）")])
    if not zipfile.is_zipfile(path):
        raise RegistryImportError([CellError("-", 0, "-", "不是有效的 .xlsx 文件（请用本系统导出的模板填写）")])


def read_rows(path: Path) -> tuple[dict[str, list[tuple[int, dict]]], list[CellError]]:
    _check_container(path)
    try:  # bounded reading (zip and XML bombs, shared strings, rows, cells): govinspect.office
        with office.load_workbook(path, OFFICE_LIMITS) as wb:
            return _sheet_rows(wb)
    except office.OfficeFileError as e:
        raise RegistryImportError([CellError("-", 0, "-", f"无法读取 .xlsx 文件：{e}")]) from None


def _sheet_rows(wb) -> tuple[dict[str, list[tuple[int, dict]]], list[CellError]]:
    errors: list[CellError] = []
    data: dict[str, list[tuple[int, dict]]] = {}
    known = [s for s in wb.sheetnames if s in TEMPLATE]
    if not known:
        errors.append(CellError("-", 0, "-", f"文件中没有模板工作表（应包含：{'、'.join(TEMPLATE)}）"))
    for sheet in known:
        ws = wb[sheet]
        rows = ws.iter_rows(values_only=True)
        header = [_str(h) for h in next(rows, ())]
        spec = TEMPLATE[sheet]
        index = {}
        for title, key, required in spec:
            if title in header:
                index[key] = header.index(title)
            elif required:
                errors.append(CellError(sheet, 1, title, "缺少必填列"))
        out = []
        for n, row in enumerate(rows, start=2):
            if n > MAX_ROWS:
                errors.append(CellError(sheet, n, "-", f"行数超过上限 {MAX_ROWS}"))
                break
            if row is None or all(_str(v) == "" for v in row):
                continue
            rec = {key: (row[i] if i < len(row) else None) for key, i in index.items()}
            out.append((n, rec))
        data[sheet] = out
    return data, errors


def _bool(v, sheet, n, col, errors) -> bool:
    s = _str(v).lower()
    if s in _YES:
        return True
    if s in _NO:
        return False
    errors.append(CellError(sheet, n, col, f"应填“是”或“否”，实际为“{_str(v)}”"))
    return False


def _date(v, sheet, n, col, errors, required=True):
    if v in (None, ""):
        if required:
            errors.append(CellError(sheet, n, col, "必填"))
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(_str(v).replace("/", "-").replace(".", "-"))
    except ValueError:
        errors.append(CellError(sheet, n, col, f"日期格式应为 YYYY-MM-DD，实际为“{_str(v)}”"))
        return None


def _url(v, sheet, n, col, errors) -> str:
    s = _str(v)
    p = urlsplit(s)
    if p.scheme not in ("http", "https") or not p.netloc:
        errors.append(CellError(sheet, n, col, f"不是有效的网址（应以 http:// 或 https:// 开头）：“{s}”"))
    return s


def _title(sheet: str, key: str) -> str:
    return next(t for t, k, _ in TEMPLATE[sheet] if k == key)


def _model_errors(obj, sheet, n, errors, exclude=()) -> None:
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False)
    except ValidationError as e:
        for field, msgs in e.message_dict.items():
            col = next((t for t, k, _ in TEMPLATE[sheet] if k == field), field)
            for m in msgs:
                errors.append(CellError(sheet, n, col, m))


def import_registry(path: str | Path) -> dict[str, int]:
    """Validate everything, then write everything in one transaction. Returns counts per sheet."""
    path = Path(path)
    if not path.exists():
        raise RegistryImportError([CellError("-", 0, "-", f"文件不存在：{path}")])
    data, errors = read_rows(path)
    req = {s: {k for _, k, r in spec if r} for s, spec in TEMPLATE.items()}

    def need(sheet, n, rec):
        for k in req[sheet]:
            if _str(rec.get(k)) == "":
                errors.append(CellError(sheet, n, _title(sheet, k), "必填"))

    kinds = {k for k, _ in UNIT_KINDS}
    units: dict[str, dict] = {}
    for n, rec in data.get("单位", []):
        need("单位", n, rec)
        name = _str(rec.get("name"))
        if name in units:
            errors.append(CellError("单位", n, "单位名称", f"与第{units[name]['row']}行重复"))
        if _str(rec.get("kind")) and _str(rec.get("kind")) not in kinds:
            errors.append(CellError("单位", n, "单位类型", f"应为 {'/'.join(sorted(kinds))} 之一，实际为“{_str(rec.get('kind'))}”"))
        units[name] = {"row": n, "kind": _str(rec.get("kind")), "parent": _str(rec.get("parent")),
                       "region": _str(rec.get("region")), "supervisor": _str(rec.get("supervisor")),
                       "short_name": _str(rec.get("short_name")),
                       # a file without the contact columns (a template from before them) keeps the contacts registered
                       "contacts": {k: _str(rec.get(k)) for k in _CONTACTS if k in rec}}
        obj = Unit(name=name, kind=_str(rec.get("kind")) or "部门", region=units[name]["region"],
                   supervisor=units[name]["supervisor"], short_name=units[name]["short_name"], **units[name]["contacts"])
        _model_errors(obj, "单位", n, errors, exclude=("parent", "kind") + (() if name else ("name",)))
    existing_units = set(Unit.objects.values_list("name", flat=True))
    unit_names = existing_units | set(units)

    def unit_ref(v, sheet, n, col, required=True):
        s = _str(v)
        if not s:
            if required:
                errors.append(CellError(sheet, n, col, "必填"))
            return None
        if s not in unit_names:
            errors.append(CellError(sheet, n, col, f"单位“{s}”不在“单位”工作表或已有名录中"))
        return s

    for name, u in units.items():
        if u["parent"]:
            unit_ref(u["parent"], "单位", u["row"], "上级单位")
            if u["parent"] == name:
                errors.append(CellError("单位", u["row"], "上级单位", "上级单位不能是本单位"))
    # a parent chain that comes back to a unit would loop the region, supervisor and scoping walks
    parent_of = dict(Unit.objects.filter(parent__isnull=False).values_list("name", "parent__name"))
    parent_of.update({name: u["parent"] for name, u in units.items() if u["parent"]})
    for name, u in units.items():
        seen, cur = [name], u["parent"]
        while cur and cur != name and cur not in seen:
            seen.append(cur)
            cur = parent_of.get(cur)
        if cur == name and u["parent"] != name:
            errors.append(CellError("单位", u["row"], "上级单位", "上级单位形成循环：" + " → ".join(seen + [name])))

    sites: dict[str, dict] = {}
    for n, rec in data.get("网站", []):
        need("网站", n, rec)
        before = len(errors)
        url = _url(rec.get("home_url"), "网站", n, "首页地址", errors) if _str(rec.get("home_url")) else ""
        bad_url = len(errors) > before  # said once, not again by the model's URL validator
        if url in sites:
            errors.append(CellError("网站", n, "首页地址", f"与第{sites[url]['row']}行重复"))
        owner = unit_ref(rec.get("owner"), "网站", n, "主办单位")
        portal = _bool(rec.get("is_portal"), "网站", n, "门户网站", errors)
        limit = _str(rec.get("max_pages")).replace(",", "").replace("，", "")  # 50,000 as typed
        max_pages = int(limit) if limit.isdigit() and int(limit) >= 1 else None
        if limit and max_pages is None:
            errors.append(CellError("网站", n, "抓取页面上限", f"应为正整数（页数，如 50000）或留空，实际为“{_str(rec.get('max_pages'))}”"))
        obj = Website(name=_str(rec.get("name")), home_url=url, site_code=_str(rec.get("site_code")), is_portal=portal,
                      extra_hosts=_str(rec.get("extra_hosts")), max_pages=max_pages)
        _model_errors(obj, "网站", n, errors, exclude=("owner",) + (("home_url",) if bad_url or not url else ()))
        # a file without the column (a template from before it) keeps the limit already registered
        sites[url] = {"row": n, "obj": obj, "owner": owner, "has_limit": "max_pages" in rec}
    site_urls = set(Website.objects.values_list("home_url", flat=True)) | set(sites)

    seen: dict[tuple, int] = {}

    def duplicate(sheet, n, col, key):
        """A second row with the same natural key would silently overwrite the first: a row error."""
        if key is None:
            return
        first = seen.setdefault((sheet, key), n)
        if first != n:
            errors.append(CellError(sheet, n, col, f"与第{first}行重复（{_KEY_LABEL[sheet]}相同）"))

    columns = []
    for n, rec in data.get("栏目", []):
        need("栏目", n, rec)
        site = _str(rec.get("site"))
        if site and site not in site_urls:
            errors.append(CellError("栏目", n, "网站首页地址", f"网站“{site}”不在“网站”工作表或已有名录中"))
        before = len(errors)
        url = _url(rec.get("url"), "栏目", n, "栏目地址", errors) if _str(rec.get("url")) else ""
        bad_url = len(errors) > before
        cat = _str(rec.get("category"))
        if cat and cat not in _CATEGORY_BY_LABEL:
            errors.append(CellError("栏目", n, "栏目类别", f"未知类别“{cat}”（可选：{'、'.join(l for _, l in COLUMN_CATEGORIES)}）"))
        level = _str(rec.get("level")) or "1"
        if not level.isdigit():
            errors.append(CellError("栏目", n, "栏目层级", f"应为正整数，实际为“{level}”"))
        resp = unit_ref(rec.get("responsible_unit"), "栏目", n, "责任单位", required=False)
        obj = Column(name=_str(rec.get("name")), url=url, category=_CATEGORY_BY_LABEL.get(cat, ""),
                     window_override=_str(rec.get("window_override")), level=int(level) if level.isdigit() else 1)
        _model_errors(obj, "栏目", n, errors, exclude=("site", "responsible_unit") + (("url",) if bad_url or not url else ()))
        columns.append({"row": n, "obj": obj, "site": site, "resp": resp})
        duplicate("栏目", n, "栏目地址", (site, url) if site and url else None)

    platforms = {p for p, _ in PLATFORMS}
    accounts = []
    for n, rec in data.get("新媒体账号", []):
        need("新媒体账号", n, rec)
        plat = _str(rec.get("platform"))
        if plat and plat not in platforms:
            errors.append(CellError("新媒体账号", n, "平台", f"未知平台“{plat}”（可选：{'、'.join(sorted(platforms))}）"))
        owner = unit_ref(rec.get("owner"), "新媒体账号", n, "开办单位")
        filed = _bool(rec.get("filed"), "新媒体账号", n, "已备案", errors)
        inter = None if not _str(rec.get("interaction")) else _bool(rec.get("interaction"), "新媒体账号", n, "互动功能", errors)
        accounts.append({"row": n, "platform": plat, "name": _str(rec.get("name")), "owner": owner, "filed": filed,
                         "account_id": _str(rec.get("account_id")), "source": _str(rec.get("source")), "interaction": inter})
        duplicate("新媒体账号", n, "账号名称", (plat, _str(rec.get("name"))) if plat and _str(rec.get("name")) else None)

    leaders = []
    for n, rec in data.get("领导", []):
        need("领导", n, rec)
        unit = unit_ref(rec.get("unit"), "领导", n, "单位")
        start = _date(rec.get("start"), "领导", n, "任职开始", errors)
        end = _date(rec.get("end"), "领导", n, "任职结束", errors, required=False)
        if start and end and end < start:
            errors.append(CellError("领导", n, "任职结束", "任职结束早于任职开始"))
        leaders.append({"name": _str(rec.get("name")), "title": _str(rec.get("title")), "unit": unit, "start": start, "end": end})
        key = (leaders[-1]["name"], leaders[-1]["title"], unit, start)
        duplicate("领导", n, "姓名", key if all(key) else None)

    if errors:
        raise RegistryImportError(errors)
    try:
        with transaction.atomic():
            _write(units, sites, columns, accounts, leaders)
    except DatabaseError as e:  # rolled back: nothing half-imported
        raise RegistryImportError([CellError("-", 0, "-", f"写入数据库失败，已全部撤销：{e}")]) from None
    return {"单位": len(units), "网站": len(sites), "栏目": len(columns), "新媒体账号": len(accounts), "领导": len(leaders)}


def _write(units, sites, columns, accounts, leaders) -> None:
    """The validated rows, upserted by their natural keys (inside the caller's transaction)."""
    unit_objs = {u.name: u for u in Unit.objects.all()}
    for name, u in units.items():
        obj, _ = Unit.objects.update_or_create(name=name, defaults={"kind": u["kind"], "region": u["region"], "supervisor": u["supervisor"],
                                                                      "short_name": u["short_name"], **u["contacts"]})
        unit_objs[name] = obj
    for name, u in units.items():
        if u["parent"]:
            Unit.objects.filter(pk=unit_objs[name].pk).update(parent=unit_objs[u["parent"]])
    site_objs = {s.home_url: s for s in Website.objects.all()}
    for url, s in sites.items():
        o = s["obj"]
        obj, _ = Website.objects.update_or_create(home_url=url, defaults={
            "name": o.name, "site_code": o.site_code, "is_portal": o.is_portal, "extra_hosts": o.extra_hosts,
            "owner": unit_objs[s["owner"]], **({"max_pages": o.max_pages} if s["has_limit"] else {})})
        site_objs[url] = obj
    for c in columns:
        o = c["obj"]
        Column.objects.update_or_create(site=site_objs[c["site"]], url=o.url, defaults={
            "name": o.name, "category": o.category, "window_override": o.window_override, "level": o.level,
            "responsible_unit": unit_objs.get(c["resp"]) if c["resp"] else None})
    for a in accounts:
        Account.objects.update_or_create(platform=a["platform"], name=a["name"], defaults={
            "owner": unit_objs[a["owner"]], "filed": a["filed"], "account_id": a["account_id"], "source": a["source"],
            "interaction": a["interaction"]})
    for l in leaders:
        Leader.objects.update_or_create(name=l["name"], unit=unit_objs[l["unit"]], title=l["title"], start=l["start"],
                                        defaults={"end": l["end"]})


def write_template(path: str | Path, rows: dict[str, list[list]] | None = None) -> Path:
    """Write the template (headers, widths, frozen header row), optionally with data rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, spec in TEMPLATE.items():
        ws = wb.create_sheet(sheet)
        append_row(ws, [t for t, _, _ in spec])
        for row in (rows or {}).get(sheet, []):
            append_row(ws, row)
        ws.freeze_panes = "A2"
        for i, (t, _, _) in enumerate(spec, start=1):
            ws.column_dimensions[get_column_letter(i)].width = 40 if "地址" in t or "域名" in t else 18
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        wb.save(tmp)
        os.replace(tmp, path)  # a run that dies leaves the previous file, not half of a new one
    finally:
        tmp.unlink(missing_ok=True)
    return path


def export_registry(path: str | Path) -> Path:
    cat_label = dict(COLUMN_CATEGORIES)
    rows = {
        "单位": [[u.name, u.kind, u.parent.name if u.parent else "", u.region, u.supervisor, u.short_name, u.contact_name,
                u.contact_phone, u.contact_email] for u in Unit.objects.select_related("parent")],
        "网站": [[s.name, s.home_url, s.site_code, s.owner.name, "是" if s.is_portal else "否", s.extra_hosts, s.max_pages or ""]
               for s in Website.objects.select_related("owner")],
        "栏目": [[c.site.home_url, c.name, c.url, cat_label.get(c.category, ""), c.responsible_unit.name if c.responsible_unit else "",
                c.window_override, c.level] for c in Column.objects.select_related("site", "responsible_unit")],
        "新媒体账号": [[a.platform, a.name, a.owner.name, "是" if a.filed else "否", a.account_id, a.source,
                    "" if a.interaction is None else "是" if a.interaction else "否"] for a in Account.objects.select_related("owner")],
        "领导": [[l.name, l.title, l.unit.name, l.start, l.end or ""] for l in Leader.objects.select_related("unit")],
    }
    return write_template(path, rows)
