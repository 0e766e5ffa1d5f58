"""The bulletin (通报) as .docx in the layout of official documents (GB/T 9704 basics).

compose(data) turns round data into text blocks (pure, tested on its own); write_bulletin renders
them with python-docx: A4, 37/35/28/26 mm margins, title in 小标宋 二号, body in 仿宋_GB2312 三号 with
two-character indent and fixed 28.95 pt lines, 一、 headings in 黑体, （一） in 楷体, page numbers
"— N —" in the footer, each 附件 on a new page.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from ..rules import RulesError, load_rules
from .tables import attachment_tables, merged_runs, rule_names

CN_NUM = "一二三四五六七八九十"
def cn_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十 (section numbers)."""
    if n <= 10:
        return CN_NUM[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_NUM[tens - 1] if tens > 1 else "") + "十" + (CN_NUM[ones - 1] if ones else "")


def cn_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _anchor(f: dict) -> str:
    refs = f["evidence"].get("referrers") or []
    return next((r["text"] for r in refs if r.get("text")), f["url"])


_SPECIAL = {"site.homepage_stale", "site.veto_columns", "column.stale", "column.empty", "link.illegal", "link.hidden", "link.dead"}


_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}  # worst examples first


def _fill(template: str, fields: dict) -> str:
    """An operator-edited template from bulletin.toml, with a clear error for an unknown {field}."""
    try:
        return template.format_map(fields)
    except KeyError as e:
        raise RulesError(f"bulletin.toml 中的模板“{template[:30]}…”用了不存在的字段 {e}（可用：{'、'.join(sorted(fields))}）") from None


def ranking(checked: list[dict], cfg: dict, fields: dict) -> str:
    """Seed 003's praise and criticism by publication volume: units summed over their websites, ranked within towns
    and within departments (ties keep registry order). Portals publish for everyone and are not ranked."""
    per_unit: dict[str, list] = {}
    for x in checked:
        if x["is_portal"]:
            continue
        o = x["org"]
        entry = per_unit.setdefault(o["unit"], [o["short"], o["kind"], o["unit_order"], 0])
        entry[3] += x.get("publication_count") or 0
    units = sorted(per_unit.values(), key=lambda e: (-e[3], e[2]))
    n = cfg["top"]
    tops, who = [], []
    for kind, key, label in (("乡镇", "towns", "镇"), ("部门", "departments", "部门")):
        best = [e for e in units if e[1] == kind][:n]
        if len(best) == n:
            tops.append(_fill(cfg[key], {"names": "、".join(e[0] for e in best), "n": cn_number(n)}))
            who.append(label)
    praised = {e[0] for e in units if any(e[0] in t for t in tops)}
    low = sorted((e for e in units if e[3] < cfg["low_below"] and e[1] in ("乡镇", "部门") and e[0] not in praised),
                 key=lambda e: (e[3], e[2]))
    if not tops and not low:
        return ""
    text = _fill(cfg["paragraph"], {**fields, "sites_counted": sum(not x["is_portal"] for x in checked),
                                    "published": sum(e[3] for e in units)})
    if tops:
        text += _fill(cfg["praise"], {"tops": "，".join(tops), "who": "和".join(who)})
    if low:
        text += _fill(cfg["criticise"], {"names": "、".join(e[0] for e in low)})
    return text


def recheck_table(rc: dict, title: str) -> dict:
    """附件 of a re-check round: every re-checked finding that is not fixed, then the fixed ones."""
    label = {"present": "仍存在", "unknown": "未能复查", "fixed": "已整改"}
    order = {"present": 0, "unknown": 1, "fixed": 2}
    items = sorted(rc["items"], key=lambda i: (order[i["state"]], i["org"]["region_order"], i["org"]["unit_order"], i["finding"]))
    rows = [[str(n), i["org"]["region"], i["org"]["unit"], f"{i['where']}：{i['detail']}" if i["where"] else i["detail"],
             label[i["state"]] + ("" if i["state"] != "unknown" else f"（{i['reason']}）"), i["org"]["supervisor"]]
            for n, i in enumerate(items, start=1)]
    return {"key": "recheck", "label": "附件1", "title": title, "headers": ["序号", "区域", "责任单位", "问题", "复查结果", "主管单位"],
            "rows": rows, "widths": [10, 22, 36, 90, 26, 30], "merge": []}


def problems_config() -> dict:
    """bulletin.toml [problems], checked: a typo in a group name would silently move problems under 其他问题."""
    cfg = load_rules("bulletin").get("problems") or {}
    examples, sections = cfg.get("examples", 2), cfg.get("sections")
    if not isinstance(examples, int) or isinstance(examples, bool) or examples < 1:
        raise RulesError(f"bulletin.toml [problems] examples 应为不小于1的整数，现为 {examples!r}")
    shape = "每项应为 { title = \"标题\", groups = [\"规则组\", …] }"
    if not isinstance(sections, list) or not all(isinstance(x, dict) and isinstance(x.get("title"), str) and x["title"]
                                                 and isinstance(x.get("groups"), list) for x in sections):
        raise RulesError(f"bulletin.toml [problems] sections {shape}")
    known = {m["group"] for m in load_rules("catalog")["rules"].values()}
    for sec in sections:
        bad = [g for g in sec["groups"] if g not in known]
        if bad:
            raise RulesError(f"bulletin.toml [problems] “{sec['title']}”中的规则组 {'、'.join(map(str, bad))} 不存在"
                             f"（可用：{'、'.join(sorted(known))}）")
    return {**cfg, "examples": examples, "none": cfg.get("none", "本轮检查未发现突出问题。")}


def group_titles() -> dict[str, str]:
    """Catalog rule group -> the 二、存在的主要问题 section it is written under (bulletin.toml [problems])."""
    return {g: sec["title"] for sec in problems_config()["sections"] for g in sec["groups"]}


def _pick(items: list, k: int, key) -> list:
    """The first k items with distinct keys (two accounts of one duplicate pair are one example, not two)."""
    seen, out = set(), []
    for it in items:
        kk = key(it)
        if kk not in seen:
            seen.add(kk)
            out.append(it)
            if len(out) == k:
                break
    return out


def _quoted(site: str, detail: str):
    return site, frozenset(re.findall(r"“([^”]+)”", detail)) or detail


def problem_groups(data: dict, checked: list, unknown: list, rc: dict, as_of: dt.date, tpl: dict) -> list[tuple[str, str]]:
    """二、存在的主要问题: (section title, paragraph) in the order of bulletin.toml [problems].sections. Each kind of
    problem is one sentence with its count and its worst examples (oldest stale column, illegal link first …)."""
    cfg = problems_config()
    k = cfg["examples"]
    titles = group_titles()
    sentences: dict[str, list[str]] = {}

    def add(group: str, sentence: str) -> None:
        sentences.setdefault(titles.get(group, "其他问题"), []).append(sentence.rstrip("。"))

    home_stale = [(x, f) for x in checked for f in x["findings"] if f["rule"] == "site.homepage_stale"]
    if home_stale:
        home_stale.sort(key=lambda p: p[1]["evidence"].get("newest_date") or "")
        ex = "；".join(f"{x['name']}首页最新信息发布于{cn_date(dt.date.fromisoformat(f['evidence']['newest_date']))}"
                      for x, f in home_stale[:k])
        add("homepage", f"{len(home_stale)}个网站首页超过2周未更新，如{ex}")
    stale = [(x, f) for x in checked for f in x["findings"] if f["rule"] == "column.stale"]
    if stale:
        vetoed = [x for x in checked if any(f["rule"] == "site.veto_columns" for f in x["findings"])]
        stale.sort(key=lambda p: p[1]["evidence"].get("newest_date") or "")
        examples = []
        for x, f in _pick(stale, k, lambda p: p[0]["name"]):  # the oldest column of the k worst sites
            d = dt.date.fromisoformat(f["evidence"]["newest_date"])
            examples.append(f"{x['name']}“{f['column']}”栏目最新信息发布于{cn_date(d)}，已{(as_of - d).days}天未更新")
        text = f"{len({x['name'] for x, _ in stale})}个网站存在栏目更新不及时问题，共{len(stale)}个栏目"
        if vetoed:
            text += f"，其中{'、'.join(x['name'] for x in vetoed)}栏目不更新问题达到单项否决标准"
        add("stale", text + "。如" + "；".join(examples))
    empty = [(x, f) for x in checked for f in x["findings"] if f["rule"] == "column.empty"]
    if empty:
        by_site: dict[str, list] = {}
        for x, f in empty:
            by_site.setdefault(x["name"], []).append(f["column"])
        worst = sorted(by_site.items(), key=lambda kv: -len(kv[1]))[:k]
        ex = "；".join(f"{name}{''.join(f'“{c}”' for c in cols[:3])}{'等' if len(cols) > 3 else ''}栏目无任何信息" for name, cols in worst)
        add("empty", f"{len(by_site)}个网站存在空白栏目，共{len(empty)}个，如{ex}")
    illegal = [(x, f) for x in checked for f in x["findings"] if f["rule"] in ("link.illegal", "link.hidden")]
    if illegal:
        shown = _pick([(x, f) for x, f in illegal if f["rule"] == "link.illegal"], k, lambda p: (p[0]["name"], _anchor(p[1])))
        ex = "；".join(f"{x['name']}链接“{_anchor(f)}”（{f['url']}）指向{f['evidence']['label']}网站" for x, f in shown)
        add("links", f"{len({x['name'] for x, _ in illegal})}个网站存在指向赌博等违法违规网站的链接或隐藏链接（暗链）"
            + (f"，如{ex}" if ex else "") + "。此类问题属于严重安全问题，相关单位须立即删除并排查原因")
    dead = [(x, f) for x in checked for f in x["findings"] if f["rule"] == "link.dead"]
    if dead:
        ex = "；".join(f"{x['name']}{f['detail'].split('，共')[0]}" for x, f in dead[:k])  # "…无法访问（原因）"
        add("links", f"{len({x['name'] for x, _ in dead})}个网站共有{len(dead)}个链接经两次检测均无法访问，如{ex}")
    names = rule_names()
    catalog = load_rules("catalog")["rules"]
    for rule, meta in catalog.items():
        if rule in _SPECIAL:
            continue
        hits = [(x, f) for x in checked for f in x["findings"] if f["rule"] == rule]
        hits.sort(key=lambda xf: _SEVERITY_ORDER.get(xf[1]["evidence"].get("severity"), 1))  # worst examples first (stable)
        if hits:
            ex = "；".join(f"{x['name']}{f['detail']}" for x, f in _pick(hits, k, lambda p: _quoted(p[0]["name"], p[1]["detail"])))
            add(meta["group"], f"{len({x['name'] for x, _ in hits})}个网站存在{names[rule]}问题（{len(hits)}处），如{ex}")
    other: dict[str, list] = {}
    for a in data.get("accounts", []):
        for f in a["findings"]:
            other.setdefault(f["rule"], []).append(f)
    for f in data.get("office_findings", []):  # document register, proposals, reply letters
        other.setdefault(f["rule"], []).append(f)
    order = list(catalog)
    for rule, fs in sorted(other.items(), key=lambda kv: (not catalog.get(kv[0], {}).get("veto"), order.index(kv[0]) if kv[0] in order else 999)):
        if rule in names:
            unit = "个" if rule.startswith("newmedia.") else "处"
            ex = "；".join(f["detail"] for f in _pick(fs, k, lambda f: _quoted("", f["detail"])))
            add(catalog.get(rule, {}).get("group", "newmedia"), f"{names[rule]}{len(fs)}{unit}，如{ex}")
    if unknown:
        ex = "；".join(f"{x['name']}（{x['reason']}）" for x in unknown[:5])
        add("availability", f"{len(unknown)}个网站在检查期间无法访问，本轮未能完成检查，将在复查中重新检查：{ex}")
    order_titles = list(dict.fromkeys(sec["title"] for sec in cfg["sections"]))
    groups = [(t, "。".join(sentences.pop(t)) + "。") for t in order_titles if t in sentences]
    groups += [(t, "。".join(v) + "。") for t, v in sentences.items()]  # 其他问题
    present = [i for i in rc.get("items", []) if i["state"] == "present"]
    if present:
        ex = "；".join(f"{i['org']['unit']}{'（' + i['where'] + '）' if i['where'] and i['where'] != i['org']['unit'] else ''}{i['detail']}"
                      for i in present[:k])
        groups.append((tpl["recheck"]["group"], _fill(tpl["recheck"]["group_text"], {
            "units": len({i["org"]["unit"] for i in present}), "present": len(present), "examples": ex})))
    return groups or [("未发现突出问题", cfg["none"])]


def compose(data: dict) -> dict:
    r, s = data["round"], data["summary"]
    as_of = dt.date.fromisoformat(r["as_of"])
    tpl = load_rules("bulletin")
    deadline = cn_date(as_of + dt.timedelta(days=tpl["rectify_days"]))
    region, office, quarter = r["region"], r["office"], r["quarter"]
    sites = data["sites"]
    checked = [x for x in sites if x["status"] == "checked"]
    unknown = [x for x in sites if x["status"] != "checked"]
    portals = sum(1 for x in sites if x["is_portal"])

    ov = tpl["overview"]
    fields = {**s, "region": region, "office": office, "quarter": quarter, "period": r.get("quarter_short", quarter),
              "sites_total": len(sites), "sites_unknown": len(unknown), "portals": portals,
              "accounts_unknown": s.get("accounts_total", 0) - s.get("accounts_checked", 0),
              "accounts_unfiled": sum(1 for a in data.get("accounts", []) for f in a["findings"] if f["rule"] == "newmedia.not_filed"),
              "mailbox_name": ov["mailbox_name"], "hotline_name": ov["hotline_name"],
              "filing_systems": tpl.get("attachments", {}).get("filing_systems", "“全国政务新媒体信息报送系统”")}
    paras: list[str] = []
    if sites:
        text = _fill(ov["website"], fields) if checked else f"政府网站。对{region}{len(sites)}个政府网站进行检查，本轮没有完成检查的网站。"
        paras.append(text + (_fill(ov["website_unknown"], fields) if unknown and checked else ""))
        if s["columns_checked"]:
            paras.append(_fill(ov["columns"], fields) + (_fill(ov["columns_unknown"], fields) if s["columns_unknown"] else ""))
    if s.get("accounts_total"):
        paras.append(_fill(ov["newmedia"], fields) + (_fill(ov["newmedia_unknown"], fields) if fields["accounts_unknown"] else "")
                     + (_fill(ov["newmedia_unfiled"], fields) if fields["accounts_unfiled"] else ""))
    rank = ranking(checked, tpl["ranking"], fields) if r.get("period_start") else ""  # no period, no volumes
    if rank:
        paras.append(rank)
    rc = data.get("recheck") or {}
    if rc.get("total"):
        rcf = {**fields, **{k: v for k, v in rc.items() if k != "items"}}
        text = _fill(tpl["recheck"]["all_fixed" if rc["fixed"] == rc["total"] else "partly"], rcf)
        paras.append(text + (_fill(tpl["recheck"]["unknown"], rcf) if rc["unknown"] else ""))
    overview = [f"（{cn_number(i + 1)}）{p}" for i, p in enumerate(paras)]
    reg = data.get("registers") or {}
    for key, head in (("documents", "公文公开"), ("proposals", "建议提案办理"), ("replies", "依申请公开答复")):
        if reg.get(key):
            overview.append(f"（{cn_number(len(overview) + 1)}）{head}。{reg[key]['text']}")
    for channel in ("mailbox", "hotline"):
        if data.get("letters", {}).get(channel):
            text = _fill(ov[channel], {**fields, "letters": data["letters"][channel]["text"]})
            overview.append(f"（{cn_number(len(overview) + 1)}）{text}")

    groups = problem_groups(data, checked, unknown, rc, as_of, tpl)

    attachments = attachment_tables(data, {"quarter": quarter, "name": r["name"], "region": region})
    title = f"关于{quarter}{region}政府网站检查情况的通报"
    intro = (f"根据政府网站监管工作要求，{office}以{cn_date(as_of)}为检查时点，对{region}政府网站开展了{quarter}检查。"
             "现将有关情况通报如下：")
    if r.get("recheck_of") and rc:  # a re-check round's own bulletin: the re-check and what is still there
        rcf = {"previous": rc["previous"], "office": office, "date": cn_date(as_of)}
        title, intro = _fill(tpl["recheck"]["title"], rcf), _fill(tpl["recheck"]["intro"], rcf)
        attachments = [recheck_table(rc, _fill(tpl["recheck"]["table_title"], rcf))] if rc["total"] else []
    return {
        "title": title,
        "intro": intro,
        "overview": overview,
        "groups": [(f"（{cn_number(i + 1)}）{name}。", text) for i, (name, text) in enumerate(groups)],
        "requirements": [p.format(office=office, deadline=deadline) for p in tpl["requirements"]],
        "attachment_list": [f"{i}.{a['title']}" for i, a in enumerate(attachments, start=1)],
        "office": office,
        "date": cn_date(as_of),
        "deadline": deadline,
        "attachments": attachments,
    }


# ------------------------------------------------------------------------------------------ docx
def _font(run, east: str, size: float, bold: bool = False, latin: str | None = None) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = latin or load_rules("bulletin")["fonts"]["latin"]
    rpr = run._element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east)


def _para(doc, text: str, east: str, size: float = 16, align=None, indent: bool = True, bold: bool = False, space_before: float = 0):
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(28.95)
    fmt.space_after = Pt(0)
    fmt.space_before = Pt(space_before)
    if indent:
        fmt.first_line_indent = Pt(size * 2)
    if align is not None:
        p.alignment = align
    _font(p.add_run(text), east, size, bold)
    return p


def _page_number_footer(section, fonts) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("— "), "宋体", 14)
    run = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)
    _font(run, "宋体", 14)
    _font(p.add_run(" —"), "宋体", 14)


def _page_setup(doc, fonts) -> None:
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    _page_number_footer(sec, fonts)


def default_template(path: str | Path | None = None):
    """The bulletin template (docxtpl: Jinja tags in a .docx). Operators save it with `govinspect report-template`,
    edit wording, fonts and layout in Word or WPS, and point GOVINSPECT_BULLETIN_TEMPLATE (or --template) at it.
    Tags: title intro overview[] groups[].head/.text requirements[] attachment_list[] office date charts[].image/.caption;
    the 附件 tables are appended after the template's last paragraph."""
    fonts = load_rules("bulletin")["fonts"]
    doc = Document()
    _page_setup(doc, fonts)
    _para(doc, "{{ title }}", fonts["title"], 22, WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _para(doc, "", fonts["body"], 16, indent=False)
    _para(doc, "{{ intro }}", fonts["body"])
    _para(doc, "一、总体情况", fonts["heading1"])
    _para(doc, "{%p for t in overview %}", fonts["body"])
    _para(doc, "{{ t }}", fonts["body"])
    _para(doc, "{%p endfor %}", fonts["body"])
    _para(doc, "{%p for c in charts %}", fonts["body"])
    _para(doc, "{{ c.image }}", fonts["body"], align=WD_ALIGN_PARAGRAPH.CENTER, indent=False).paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    _para(doc, "{{ c.caption }}", fonts["heading2"], 14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _para(doc, "{%p endfor %}", fonts["body"])
    _para(doc, "二、存在的主要问题", fonts["heading1"])
    _para(doc, "{%p for g in groups %}", fonts["body"])
    p = _para(doc, "", fonts["body"])
    _font(p.add_run("{{ g.head }}"), fonts["heading2"], 16)
    _font(p.add_run("{{ g.text }}"), fonts["body"], 16)
    _para(doc, "{%p endfor %}", fonts["body"])
    _para(doc, "三、下一步工作要求", fonts["heading1"])
    _para(doc, "{%p for t in requirements %}", fonts["body"])
    _para(doc, "{{ t }}", fonts["body"])
    _para(doc, "{%p endfor %}", fonts["body"])
    _para(doc, "", fonts["body"])
    _para(doc, "{%p for a in attachment_list %}", fonts["body"])
    _para(doc, "{{ a }}", fonts["body"])
    _para(doc, "{%p endfor %}", fonts["body"])
    _para(doc, "", fonts["body"])
    _para(doc, "{{ office }}", fonts["body"], align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _para(doc, "{{ date }}", fonts["body"], align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        doc.save(path)
        return Path(path)
    import io

    buf = io.BytesIO()
    doc.save(buf)
    buf.seek(0)
    return buf


def template_path(explicit: str | Path | None = None) -> Path | None:
    """--template, else GOVINSPECT_BULLETIN_TEMPLATE, else DATA_DIR/templates/通报模板.docx when present."""
    import os

    from django.conf import settings

    for cand in (explicit, os.environ.get("GOVINSPECT_BULLETIN_TEMPLATE")):
        if cand:
            if not Path(cand).is_file():
                raise RulesError(f"通报模板 {cand} 不存在")
            return Path(cand)
    own = Path(settings.DATA_DIR) / "templates" / "通报模板.docx"
    return own if own.is_file() else None


def write_bulletin(data: dict, path: str | Path, template: str | Path | None = None, charts: list[dict] | None = None,
                   composed: dict | None = None) -> Path:
    """Render the bulletin: the (operator's) docxtpl template for the body, then the 附件 tables."""
    from docxtpl import DocxTemplate, InlineImage
    from jinja2 import TemplateError

    c = composed or compose(data)
    fonts = load_rules("bulletin")["fonts"]
    chosen = template_path(template)
    tpl = DocxTemplate(chosen if chosen is not None else default_template())
    prefixed = [("附件：" if i == 0 else "　　　") + a for i, a in enumerate(c["attachment_list"])]
    context = {**c, "groups": [{"head": h, "text": t} for h, t in c["groups"]], "attachment_list": prefixed,
               "charts": [{"image": InlineImage(tpl, str(ch["path"]), width=Mm(140)), "caption": f"图{i} {ch['caption']}"}
                          for i, ch in enumerate(charts or [], start=1)]}
    try:
        tpl.render(context, autoescape=True)
    except TemplateError as e:
        raise RulesError(f"通报模板 {chosen} 有误：{e}") from None
    doc = tpl.docx
    for att in c["attachments"]:
        _append_attachment(doc, att, fonts)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


def _append_attachment(doc, att: dict, fonts: dict) -> None:
    """Each attachment starts a new section (new page); wide tables get a landscape page."""
    new = doc.add_section(WD_SECTION.NEW_PAGE)
    wide = len(att["headers"]) > 5
    new.orientation = WD_ORIENT.LANDSCAPE if wide else WD_ORIENT.PORTRAIT
    new.page_width, new.page_height = (Mm(297), Mm(210)) if wide else (Mm(210), Mm(297))
    new.top_margin, new.bottom_margin = (Mm(28), Mm(26)) if wide else (Mm(37), Mm(35))
    new.left_margin, new.right_margin = (Mm(37), Mm(35)) if wide else (Mm(28), Mm(26))
    text_width = 225 if wide else 156
    _para(doc, att["label"], fonts["heading1"], indent=False)
    _para(doc, att["title"], fonts["title"], 18, WD_ALIGN_PARAGRAPH.CENTER, indent=False, space_before=6)
    table = doc.add_table(rows=1, cols=len(att["headers"]))
    try:
        table.style = "Table Grid"
    except KeyError:  # an operator's template without Word's built-in table style: draw the grid ourselves
        borders = OxmlElement("w:tblBorders")
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            b = OxmlElement(f"w:{side}")
            for k, v in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "000000")):
                b.set(qn(f"w:{k}"), v)
            borders.append(b)
        table._tbl.tblPr.append(borders)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, h in zip(table.rows[0].cells, att["headers"]):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(h), fonts["heading1"], 12)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for row in att["rows"]:
        cells = table.add_row().cells
        for cell, v in zip(cells, row):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(str(v)), fonts["body"], 12)
    for col, runs in merged_runs(att["rows"], att.get("merge", [])).items():
        for first, last in runs:  # equal 区域 / 主管单位 cells become one, as in the seeds
            top = table.cell(first + 1, col)
            top.merge(table.cell(last + 1, col))
            for extra in top.paragraphs[1:]:  # merge() keeps every cell's paragraph: keep one
                extra._element.getparent().remove(extra._element)
    total = sum(att["widths"])
    table.autofit = False
    for col, w in zip(table.columns, att["widths"]):
        col.width = Mm(text_width * w / total)
    for row in table.rows:
        for cell, w in zip(row.cells, att["widths"]):
            cell.width = Mm(text_width * w / total)
