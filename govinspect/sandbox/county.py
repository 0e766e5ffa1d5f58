"""The sandbox county model: sites, columns, articles, attachments, planted problems, ground truth.

Everything is a deterministic function of (seed, as_of, n_sites, pages_per_site, faults). The model
holds no ports: URLs are paths; serve.py binds each site to a port and ground_truth() turns paths
into full URLs.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from dataclasses import dataclass, field

from . import ids

COUNTY = "清河县"
TOPICS = ["安全生产", "森林防火", "乡村振兴", "优化营商环境", "河湖长制", "农村人居环境整治", "就业创业", "义务教育",
          "医保参保", "冬春农田水利", "防汛抗旱", "燃气安全", "消防安全", "文明城市创建", "耕地保护", "重点项目建设",
          "招商引资", "人才引进", "老旧小区改造", "秸秆禁烧", "食品安全", "扫黑除恶", "信访维稳", "民生实事"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "华", "喆"]

# (name, category, slug, kind) kind: list | static
PORTAL_COLUMNS = [
    ("政务要闻", "dynamic", "zwyw", "list"), ("部门动态", "dynamic", "bmdt", "list"), ("乡镇动态", "dynamic", "xzdt", "list"),
    ("图片新闻", "dynamic", "tpxw", "list"), ("通知公告", "notice", "tzgg", "list"), ("公示公告", "notice", "gsgg", "list"),
    ("政策文件", "policy", "zcwj", "list"), ("规范性文件", "policy", "gfxwj", "list"), ("政策解读", "interpretation", "zcjd", "list"),
    ("人事信息", "personnel", "rsxx", "list"), ("招考录用", "personnel", "zkly", "list"), ("规划计划", "plan", "ghjh", "list"),
    ("工作总结", "plan", "gzzj", "list"), ("县情概况", "info", "xqgk", "static"), ("机构职能", "info", "jgzn", "static"),
    ("领导信息", "info", "ldxx", "static"), ("政府信息公开指南", "disclosure", "gkzn", "list"),
    ("政府信息公开年报", "disclosure", "gknb", "list"), ("政府信息公开制度", "disclosure", "gkzd", "list"),
    ("政务咨询", "interaction", "zwzx", "list"), ("征集调查", "interaction", "zjdc", "list"), ("财政预决算", "fiscal", "czyjs", "list"),
    ("政府采购", "other", "zfcg", "list"), ("行政许可", "other", "xzxk", "list"), ("行政处罚", "other", "xzcf", "list"),
    ("统计信息", "other", "tjxx", "list"), ("应急管理", "other", "yjgl", "list"), ("建议提案办理", "other", "jyta", "list"),
    ("重大项目", "other", "zdxm", "list"), ("双随机一公开", "other", "ssj", "list"), ("魅力清河", "unknown", "mlqh", "list"),
]
DEPT_COLUMNS = [
    ("工作动态", "dynamic", "gzdt", "list"), ("图片新闻", "dynamic", "tpxw", "list"), ("通知公告", "notice", "tzgg", "list"),
    ("公示公告", "notice", "gsgg", "list"), ("政策文件", "policy", "zcwj", "list"), ("部门文件", "policy", "bmwj", "list"),
    ("政策解读", "interpretation", "zcjd", "list"), ("人事信息", "personnel", "rsxx", "list"), ("招考录用", "personnel", "zkly", "list"),
    ("规划计划", "plan", "ghjh", "list"), ("工作总结", "plan", "gzzj", "list"), ("机构概况", "info", "jggk", "static"),
    ("机构职能", "info", "jgzn", "static"), ("领导信息", "info", "ldxx", "static"), ("政府信息公开指南", "disclosure", "gkzn", "list"),
    ("政府信息公开年报", "disclosure", "gknb", "list"), ("政务咨询", "interaction", "zwzx", "list"), ("财政预决算", "fiscal", "czyjs", "list"),
    ("行政许可", "other", "xzxk", "list"), ("行政处罚", "other", "xzcf", "list"), ("统计信息", "other", "tjxx", "list"),
    ("双随机一公开", "other", "ssj", "list"), ("建议提案办理", "other", "jyta", "list"), ("业务专题", "unknown", "ywzt", "list"),
]
TOWN_COLUMNS = [
    ("乡镇动态", "dynamic", "xzdt", "list"), ("图片新闻", "dynamic", "tpxw", "list"), ("通知公告", "notice", "tzgg", "list"),
    ("政策文件", "policy", "zcwj", "list"), ("政策解读", "interpretation", "zcjd", "list"), ("人事信息", "personnel", "rsxx", "list"),
    ("规划计划", "plan", "ghjh", "list"), ("乡镇概况", "info", "xzgk", "static"), ("机构职能", "info", "jgzn", "static"),
    ("领导信息", "info", "ldxx", "static"), ("政府信息公开指南", "disclosure", "gkzn", "list"),
    ("政府信息公开年报", "disclosure", "gknb", "list"), ("政务咨询", "interaction", "zwzx", "list"),
    ("财政预决算", "fiscal", "czyjs", "list"), ("惠民补贴", "other", "hmbt", "list"), ("村务公开", "other", "cwgk", "list"),
    ("美丽乡村", "unknown", "mlxc", "list"),
]
# The names real portals give the same column (realdata navigation, real-portals.md): site i takes
# NAMES[slug][i % len]. Category "unknown" columns carry names that say nothing of what they hold (专题, 园地,
# a place's slogan): the checker must leave them unjudged (类别未识别) until the office sets their category.
NAMES = {
    "bmdt": ["部门动态", "部门信息"], "xzdt": ["乡镇动态", "镇村动态", "工作动态"],
    "gzdt": ["工作动态", "部门动态", "工作信息", "新闻动态"], "tpxw": ["图片新闻", "视频新闻"],
    "tzgg": ["通知公告", "公告通知"], "gsgg": ["公示公告", "公告公示"],
    "zcwj": ["政策文件", "政府文件", "县政府办文件", "规范性文件"], "gfxwj": ["县政府办文件"],
    "bmwj": ["部门文件", "本级文件", "文件资料"], "zcjd": ["政策解读", "文件解读", "图解政策"],
    "rsxx": ["人事信息", "人事任免"], "zkly": ["招考录用", "招聘信息"], "ghjh": ["规划计划", "发展规划", "规划信息"],
    "gzzj": ["工作总结", "计划总结"], "jggk": ["机构概况", "单位概况"], "xzgk": ["乡镇概况", "镇情概况"],
    "jgzn": ["机构职能", "机构设置"], "ldxx": ["领导信息", "领导之窗", "负责人信息"],
    "gkzn": ["政府信息公开指南", "信息公开指南"], "gknb": ["政府信息公开年报", "信息公开年度报告"],
    "zwzx": ["政务咨询", "在线咨询", "局长信箱"], "zjdc": ["征集调查", "意见征集"],
    "czyjs": ["财政预决算", "部门预决算", "预决算公开", "财政资金", "三公经费"],
    "xzcf": ["行政处罚", "行政执法"], "tjxx": ["统计信息", "统计数据"], "jyta": ["建议提案办理", "建议提案"],
    "zdxm": ["重大项目", "重点项目"], "ywzt": ["业务专题", "专题专栏", "党建园地"], "mlxc": ["美丽乡村", "产业发展", "特色产业"],
}
DOC_KINDS = ["实施方案", "工作方案", "管理办法", "行动计划", "实施细则", "考核办法", "工作要点", "专项整治方案"]
WINDOWS = {"dynamic": "14d", "notice": "6m", "policy": "6m", "personnel": "1y", "plan": "1y", "fiscal": "1y"}
SHOULD_UPDATE = ("dynamic", "notice", "policy", "personnel", "plan")  # WV-4b "应更新" (2015 普查)
DIRECTORY_CATEGORIES = ("notice", "policy", "interpretation", "personnel", "plan", "fiscal", "disclosure", "other")
SPACING = {"dynamic": (1, 6), "notice": (4, 30), "policy": (10, 50), "personnel": (20, 90), "plan": (30, 120),
           "interpretation": (10, 50), "interaction": (3, 20), "disclosure": (200, 400), "other": (10, 60),
           "fiscal": (60, 200), "unknown": (5, 40)}
WEIGHT = {"dynamic": 4, "notice": 2, "policy": 2, "interpretation": 2, "interaction": 2}

# The sandbox "internet": external hosts the pages link to, served on loopback through a resolver map
# (tests never touch real DNS). Hosts not listed here do not resolve (e.g. *.invalid).
EXTERNAL_HOSTS = {
    "www.gov.cn": ("ok", "中国政府网"),
    "www.hebei.gov.cn": ("ok", "河北省人民政府"),
    "bszs.conac.cn": ("ok", "党政机关网站标识证书"),
    "zfwzgl.www.gov.cn": ("ok", "我为政府网站找错"),
    "www.xpj-casino888.com": ("gambling", "澳门新葡京娱乐场 真人视讯 百家乐 注册送彩金"),
    "www.tyc-ad-888.com": ("gambling", "太阳城娱乐 体育投注 注册即送彩金"),
    "www.qinghe-lvyou.com": ("gambling", "澳门博彩 真人百家乐 老虎机 网上赌场"),  # expired travel site, now a casino
    "www.qhxw.net": ("missing", "页面不存在"),
    "www.hebei-wenhua.cn": ("ok", "河北文化娱乐资讯"),  # legitimate: 文化娱乐 is not gambling
}

# Site plans. profile names what is planted; family names the CMS template.
SITE_PLANS = [
    dict(key="portal", name="清河县人民政府", unit="清河县人民政府办公室", unit_kind="区县", kind="portal", family="trs", profile="portal"),
    dict(key="jyj", name="清河县教育局", unit="清河县教育局", unit_kind="部门", kind="department", family="trs", profile="veto_a"),
    dict(key="wjw", name="清河县卫生健康委员会", unit="清河县卫生健康委员会", unit_kind="部门", kind="department", family="hanweb", profile="minor"),
    dict(key="zrzyj", name="清河县自然资源局", unit="清河县自然资源局", unit_kind="部门", kind="department", family="hanweb", profile="veto_c"),
    dict(key="rsj", name="清河县人力资源和社会保障局", unit="清河县人力资源和社会保障局", unit_kind="部门", kind="department", family="legacy", profile="veto_b"),
    dict(key="cgz", name="清河县城关镇人民政府", unit="清河县城关镇人民政府", unit_kind="乡镇", kind="department", family="trs", profile="home_stale"),
    dict(key="bmz", name="清河县白马镇人民政府", unit="清河县白马镇人民政府", unit_kind="乡镇", kind="department", family="hanweb", profile="privacy"),
    dict(key="nyj", name="清河县农业农村局", unit="清河县农业农村局", unit_kind="部门", kind="department", family="legacy_nometa", profile="minor2"),
    dict(key="fgj", name="清河县发展和改革局", unit="清河县发展和改革局", unit_kind="部门", kind="department", family="trs", profile="down"),
]
EXTRA_UNITS = ["财政局", "民政局", "住房和城乡建设局", "交通运输局", "水利局", "市场监督管理局", "文化广电旅游局", "退役军人事务局",
               "应急管理局", "司法局", "统计局", "医疗保障局", "林业局", "商务局", "审计局", "科学技术局", "工业和信息化局", "城市管理局"]
EXTRA_TOWNS = ["东关镇", "西河乡", "南宫镇", "北陈乡", "马屯镇", "王官庄镇", "葛仙庄镇", "连庄镇", "油坊镇", "谢炉镇"]
FAMILIES = ["trs", "hanweb", "legacy", "trs", "hanweb"]
EXTRA_PROFILES = ["healthy", "minor", "healthy", "veto_a", "minor2", "healthy", "veto_c", "home_stale", "healthy", "veto_b"]


@dataclass
class Attachment:
    name: str
    path: str
    kind: str  # xlsx | docx | pdf
    rows: list[list[str]] = field(default_factory=list)  # xlsx: rows; docx/pdf: paragraphs in rows[i][0]


@dataclass
class Article:
    aid: int
    title: str
    date: dt.date
    path: str
    column_slug: str
    paragraphs: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    related: list[tuple[str, str]] = field(default_factory=list)  # (label, path)
    extra_html: str = ""
    letter: dict | None = None  # for 政务咨询: {asker, received, answered, reply}
    doc_no: str = ""


@dataclass
class Column:
    cid: int
    name: str
    category: str
    slug: str
    kind: str  # list | static
    path: str
    planted: str = "fresh"  # fresh | stale | empty | static
    articles: list[Article] = field(default_factory=list)
    static_text: list[str] = field(default_factory=list)

    @property
    def newest(self) -> dt.date | None:
        return max((a.date for a in self.articles), default=None)


@dataclass
class Site:
    index: int
    key: str
    name: str
    unit: str
    unit_kind: str
    kind: str
    family: str
    profile: str
    site_code: str
    columns: list[Column] = field(default_factory=list)
    footer: dict = field(default_factory=dict)
    inner_footer: dict = field(default_factory=dict)  # overrides of `footer` on article pages
    faults: dict = field(default_factory=dict)
    meta_tags: bool = True
    home_extra_html: str = ""
    home_title: str | None = None  # overrides the site name in the home page <title> (defacement tests)
    extra_routes: dict = field(default_factory=dict)  # path -> (kind, payload)
    # slugs of the columns listed only on the site's 政务公开 目录 page (two clicks from the home page), not in its menu
    directory: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    decoys: list[dict] = field(default_factory=list)
    leaders: list[dict] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)  # new-media accounts and their posts (sandbox/newmedia.py)

    def article_by_path(self) -> dict[str, Article]:
        return {a.path: a for c in self.columns for a in c.articles}

    def column(self, slug: str) -> Column:
        return next(c for c in self.columns if c.slug == slug)

    @property
    def home_path(self) -> str:
        return "/"

    @property
    def directory_path(self) -> str | None:
        """The 政务公开 目录 page listing the directory columns (None: every column is in the menu)."""
        if not self.directory:
            return None
        return "/zwgk.asp" if self.family.startswith("legacy") else "/zwgk/index.html"


@dataclass
class County:
    seed: int
    as_of: dt.date
    sites: list[Site]
    pages_per_site: int

    def site(self, key: str) -> Site:
        return next(s for s in self.sites if s.key == key)


def _minus_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 - months, 12)
    y, m = d.year + y, m + 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def annual_report_deadline(year: int, government: bool) -> dt.date:
    """条例 Art. 49: the report on `year` is due by 31 January (departments) or 31 March (governments)."""
    return dt.date(year + 1, 3, 31) if government else dt.date(year + 1, 1, 31)


def window_cutoff(as_of: dt.date, window: str) -> dt.date:
    n, unit = int(window[:-1]), window[-1]
    if unit == "d":
        return as_of - dt.timedelta(days=n)
    return _minus_months(as_of, n if unit == "m" else 12 * n)


# ---------------------------------------------------------------------------------------- paths
def column_path(family: str, slug: str, cid: int) -> str:
    if family == "trs":
        return f"/{slug}/index.html"
    if family == "hanweb":
        return f"/col/col{cid}/index.html"
    return f"/list.asp?classid={cid}"


def article_path(family: str, slug: str, cid: int, aid: int, d: dt.date) -> str:
    if family == "trs":
        return f"/{slug}/{d:%Y%m}/t{d:%Y%m%d}_{aid}.html"
    if family == "hanweb":
        return f"/art/{d.year}/{d.month}/{d.day}/art_{cid}_{aid}.html"
    return f"/show.asp?id={aid}"


def attachment_path(family: str, slug: str, aid: int, n: int, ext: str, d: dt.date) -> str:
    if family == "trs":
        return f"/{slug}/{d:%Y%m}/P0{d:%Y%m%d}{aid}{n}.{ext}"
    if family == "hanweb":
        return f"/module/download/att_{aid}_{n}.{ext}"
    return f"/upload/{d:%Y%m}/{aid}{n}.{ext}"


# ---------------------------------------------------------------------------------------- text
def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _paragraphs(rng: random.Random, topic: str, unit: str, n: int = 3) -> list[str]:
    pool = [
        f"为深入贯彻落实党中央、国务院决策部署，扎实推进{topic}工作，{unit}结合实际，认真研究部署相关工作任务。",
        f"会议强调，各单位要提高政治站位，压实工作责任，细化工作措施，确保{topic}各项任务落到实处、取得实效。",
        f"下一步，{unit}将持续加大工作力度，健全长效机制，加强督促检查，推动{topic}工作再上新台阶。",
        "各乡镇、各有关部门要加强协调配合，形成工作合力，及时报送工作进展情况。",
        f"此次活动共发放宣传资料{rng.randint(200, 3000)}余份，解答群众咨询{rng.randint(20, 300)}人次，取得了良好效果。",
        f"截至目前，全县已累计完成{topic}相关项目{rng.randint(3, 60)}个，完成投资{rng.randint(100, 9000)}万元。",
    ]
    rng.shuffle(pool)
    return pool[:n]


def _title(rng: random.Random, category: str, unit: str, topic: str, d: dt.date) -> str:
    short = unit.replace(COUNTY, "").replace("人民政府", "") or "县政府"
    return {
        "dynamic": rng.choice([f"{short}召开{topic}工作推进会", f"{short}开展{topic}专项行动", f"{short}部署{topic}重点工作", f"{short}调研督导{topic}工作"]),
        "notice": rng.choice([f"关于做好{topic}工作的通知", f"关于开展{topic}检查的公告", f"关于{topic}有关事项的公示"]),
        "policy": f"{unit}关于印发《{COUNTY}{d.year}年{topic}{rng.choice(DOC_KINDS)}》的通知",
        "interpretation": f"《{COUNTY}{topic}实施方案》政策解读",
        "personnel": rng.choice([f"{unit}关于{_person(rng)}等同志职务任免的通知", f"{d.year}年{unit}公开招聘工作人员公告"]),
        "plan": rng.choice([f"{unit}{d.year}年{topic}工作计划", f"{unit}{d.year}年上半年工作总结"]),
        "interaction": f"关于{topic}有关问题的咨询",
        "other": rng.choice([f"{unit}{d.year}年{topic}相关信息公开", f"{unit}{topic}事项公开（{d.year}年第{rng.randint(1, 12)}期）"]),
        "fiscal": rng.choice([f"{unit}{d.year}年部门预算公开", f"{unit}{d.year - 1}年部门决算公开", f"{unit}{d.year - 1}年度“三公”经费决算情况说明"]),
        "unknown": rng.choice([f"{short}扎实推进{topic}", f"{topic}巡礼：{short}在行动", f"{short}{topic}工作纪实"]),
        "disclosure": f"{unit}政府信息公开制度",
    }[category]


# ---------------------------------------------------------------------------------------- plans
def _plan_statuses(site: Site, rng: random.Random) -> dict[str, str]:
    """Which columns are planted stale or empty, by site profile. Unlisted list columns are fresh."""
    p = site.profile
    if p == "portal":  # mlqh: an unrecognised column two years old (never accused)
        return {"mlqh": "old", "tpxw": "stale", "tzgg": "stale_edge", "zwyw": "fresh_edge", "gsgg": "fresh_edge", "gzzj": "empty", "rsxx": "stale"}
    if p == "veto_a":
        return {"gzdt": "stale", "tpxw": "stale", "tzgg": "stale", "zcwj": "stale", "bmwj": "stale_edge", "ghjh": "empty",
                "czyjs": "stale"}  # a 财政预决算-type column over a year old (1-year window, not an 应更新 column)
    if p == "minor":
        return {"rsxx": "stale", "ghjh": "empty", "gzdt": "fresh_edge"}
    if p == "veto_c":
        return {"ghjh": "empty", "rsxx": "empty", "tjxx": "empty", "ssj": "empty", "jyta": "empty", "tpxw": "stale", "ywzt": "empty"}
    if p == "veto_b":
        return {s: "stale" for s in ("gzdt", "tpxw", "tzgg", "gsgg", "zcwj", "bmwj", "rsxx", "zkly", "ghjh", "gzzj")}
    if p == "home_stale":
        return {"xzdt": "stale", "tpxw": "stale", "__home_stale__": "1"}
    if p == "privacy":
        return {"ghjh": "stale"}
    if p == "minor2":
        return {"tzgg": "stale", "zkly": "empty"}
    if p == "down":
        return {"gzdt": "stale", "tzgg": "stale"}
    return {}  # healthy


def _newest_for(status: str, category: str, as_of: dt.date, rng: random.Random, home_stale: bool) -> dt.date:
    window = WINDOWS.get(category)
    if status == "old":
        return as_of - dt.timedelta(days=rng.randint(400, 700))
    if window:
        cut = window_cutoff(as_of, window)
        if status == "stale":
            return cut - dt.timedelta(days=rng.randint(5, 120))
        if status == "stale_edge":
            return cut - dt.timedelta(days=1)
        if status == "fresh_edge":
            return cut
        span = (as_of - cut).days
        newest = as_of - dt.timedelta(days=rng.randint(0, max(0, span // 2)))
    else:
        newest = as_of - dt.timedelta(days=rng.randint(3, 90))
    if home_stale:  # nothing anywhere on the site within the home-page window
        newest = min(newest, as_of - dt.timedelta(days=rng.randint(16, 40)))
    return newest


def _build_site(index: int, plan: dict, seed: int, as_of: dt.date, pages_per_site: int) -> Site:
    rng = random.Random(f"{seed}:{plan['key']}:{index}")
    site = Site(index=index, key=plan["key"], name=plan["name"], unit=plan["unit"], unit_kind=plan["unit_kind"],
                kind=plan["kind"], family=plan["family"], profile=plan["profile"],
                site_code=f"1305{35 + index // 100:02d}{index % 100:04d}")
    table = PORTAL_COLUMNS if site.kind == "portal" else TOWN_COLUMNS if site.unit_kind == "乡镇" else DEPT_COLUMNS
    if site.kind == "portal" or index % 3 == 1:  # as on many real portals: the disclosure columns sit in a 目录
        site.directory = [slug for _, cat, slug, kind in table if kind == "list" and cat in DIRECTORY_CATEGORIES]
    if site.profile == "minor2":  # plant: no 负责人信息 column (GL-4)
        table = [t for t in table if t[2] != "ldxx"]
        site.problems.append(dict(rule="site.required_column_missing", path="/", detail="网站缺少“负责人信息”栏目"))
    statuses = _plan_statuses(site, rng)
    home_stale = "__home_stale__" in statuses
    fam = "legacy" if site.family.startswith("legacy") else site.family
    weights = {slug: (0 if statuses.get(slug) == "empty" or kind == "static" else WEIGHT.get(cat, 1)) for _, cat, slug, kind in table}
    total_w = sum(weights.values()) or 1
    aid = 1000 * (index + 1)
    used_titles: set[str] = set()
    for cid_off, (name, cat, slug, kind) in enumerate(table):
        cid = 100 + index * 50 + cid_off
        names = NAMES.get(slug, [name])
        name = names[index % len(names)]
        col = Column(cid=cid, name=name, category=cat, slug=slug, kind=kind, path=column_path(fam, slug, cid))
        site.columns.append(col)
        if kind == "static":
            col.planted = "static"
            col.static_text = _paragraphs(rng, "机构建设", site.unit, 3) + [f"办公地址：{COUNTY}人民路{rng.randint(1, 200)}号", f"联系电话：0319-{rng.randint(6000000, 6999999)}"]
            continue
        st = statuses.get(slug, "fresh")
        col.planted = "empty" if st == "empty" else ("stale" if st.startswith("stale") else "fresh")
        if st == "empty":
            continue
        n = max(1, round(pages_per_site * weights[slug] / total_w))
        if cat == "disclosure":
            n = 3 if slug == "gknb" else 1
        d = _newest_for(st, cat, as_of, rng, home_stale)
        lo, hi = SPACING[cat]
        for k in range(n):
            if k:
                d = d - dt.timedelta(days=rng.randint(lo, hi))
            aid += 1
            topic = rng.choice(TOPICS)
            title = _title(rng, cat, site.unit, topic, d)
            while cat == "policy" and title in used_titles:  # two documents never share a name
                title = _title(rng, cat, site.unit, rng.choice(TOPICS), d)
            used_titles.add(title)
            art = Article(aid=aid, title=title, date=d,
                          path=article_path(fam, slug, cid, aid, d), column_slug=slug,
                          paragraphs=_paragraphs(rng, topic, site.unit, rng.randint(2, 4)))
            col.articles.append(art)
    _plan_leaders(site, rng, as_of)
    _plan_content(site, rng, as_of)
    _plan_footer_and_faults(site, rng)
    return site


def _plan_leaders(site: Site, rng: random.Random, as_of: dt.date) -> None:
    """The roster: a former head (term ended) and the current one."""
    title = "局长" if site.unit_kind == "部门" else ("县长" if site.kind == "portal" else "镇长")
    changed = dt.date(as_of.year - 1, 6, 1)
    unit = f"{COUNTY}人民政府" if site.kind == "portal" else site.unit
    former = _person(rng)
    current = _person(rng)
    while current == former:  # two heads of one name would make the planted wrong title a right one
        current = _person(rng)
    site.leaders = [dict(name=former, title=title, unit=unit, start=dt.date(2019, 6, 1), end=changed - dt.timedelta(days=1)),
                    dict(name=current, title=title, unit=unit, start=changed, end=None)]


def _plan_content(site: Site, rng: random.Random, as_of: dt.date) -> None:
    """Disclosure columns, letters, policy/interpretation pairs, and the content problems."""
    fam = "legacy" if site.family.startswith("legacy") else site.family
    prev_year = as_of.year - 1
    # 政策文件 <-> 政策解读 pairs: every policy document has its interpretation, linked both ways,
    # except one planted document on the portal and on the privacy town
    policies = [c for c in site.columns if c.category == "policy" and c.articles]
    interp = next((c for c in site.columns if c.category == "interpretation"), None)
    if policies and interp:
        interp.articles = []
        skip_pair = site.profile in ("portal", "privacy")
        for ci, policy in enumerate(policies):
            for i, doc in enumerate(policy.articles):
                doc.doc_no = f"清{'政' if site.kind == 'portal' else '办'}发〔{doc.date.year}〕{doc.aid % 97 + 1}号"
                if skip_pair and ci == 0 and i == 0:
                    site.problems.append(dict(rule="policy.interpretation_missing", path=doc.path, column=policy.name,
                                              detail=f"政策文件《{doc.title}》未发布政策解读"))
                    continue
                d = doc.date if site.profile == "home_stale" else min(doc.date + dt.timedelta(days=rng.randint(0, 1)), as_of)
                if site.profile == "veto_a" and ci == 0 and i == 1 and (as_of - doc.date).days > 40:
                    d = doc.date + dt.timedelta(days=30)  # plant: 解读 a month after the document
                    site.problems.append(dict(rule="policy.interpretation_late", path=doc.path, column=policy.name,
                                              detail=f"政策文件《{doc.title}》的解读晚于规定时限发布"))
                title = doc.title.replace(f"{site.unit}关于印发", "").replace("的通知", "") + "政策解读"
                site_aid = doc.aid + 50000
                ia = Article(aid=site_aid, title=title, date=d, path=article_path(fam, interp.slug, interp.cid, site_aid, d),
                             column_slug=interp.slug, paragraphs=[f"一、起草背景：为贯彻落实上级有关部署，制定{doc.title}。", "二、主要内容：明确了目标任务、重点举措和保障措施。"])
                # plant: the 解读 does not link back (the oldest document: never in a "newest" box by chance)
                if site.profile == "minor" and ci == 0 and i == len(policy.articles) - 1:
                    site.problems.append(dict(rule="policy.interpretation_unlinked", path=doc.path, column=policy.name,
                                              detail=f"政策文件《{doc.title}》与其解读未相互链接"))
                else:
                    ia.related.append(("原文件", doc.path))
                doc.related.append(("相关解读", ia.path))
                interp.articles.append(ia)
        interp.articles.sort(key=lambda a: a.date, reverse=True)
        if not interp.articles:
            interp.planted = "empty"
    # 信息公开指南 with or without year
    guide = next((c for c in site.columns if c.slug == "gkzn"), None)
    if guide and guide.articles:
        a = guide.articles[0]
        if site.profile in ("veto_c", "minor2"):
            a.title = f"{site.unit}政府信息公开指南"
            site.problems.append(dict(rule="disclosure.guide_no_year", path=a.path, column=guide.name, detail="政府信息公开指南未标注年度版本"))
        else:
            a.title = f"{site.unit}政府信息公开指南（{prev_year}年版）"
        a.paragraphs = ["一、主动公开：本机关主动公开的政府信息通过政府网站、政务新媒体等渠道发布。",
                        "二、依申请公开：公民、法人或者其他组织可以向本机关申请获取政府信息。",
                        f"三、办公地址：{COUNTY}人民路{rng.randint(1, 99)}号；办公时间：工作日上午8:30-12:00，下午14:30-17:30；"
                        f"联系电话：0319-{rng.randint(6000000, 6999999)}；传真：0319-{rng.randint(6000000, 6999999)}。"]
        if site.profile == "minor":  # plant: a guide without office hours and fax (条例 Art. 12)
            a.paragraphs[2] = f"三、办公地址：{COUNTY}人民路{rng.randint(1, 99)}号；联系电话：0319-{rng.randint(6000000, 6999999)}。"
            site.problems.append(dict(rule="disclosure.guide_incomplete", path=a.path, column=guide.name,
                                      detail="政府信息公开指南缺少办公时间、传真"))
    # 政府信息公开年报 (条例 Art. 49): departments by 31 January, governments by 31 March. The report
    # due at the as-of date is last year's once the deadline has passed, else the one before.
    report = next((c for c in site.columns if c.slug == "gknb"), None)
    if report and report.articles:
        month = 3 if site.unit_kind in ("区县", "乡镇") else 1
        due = prev_year if as_of > annual_report_deadline(prev_year, month == 3) else prev_year - 1
        years = [due, due - 1, due - 2]
        if site.profile == "home_stale":
            years = [due - 1, due - 2, due - 3]
            site.problems.append(dict(rule="disclosure.annual_report_missing", path=report.path, column=report.name,
                                      detail=f"未发布{due}年政府信息公开工作年度报告"))
        for a, y in zip(report.articles, years):
            a.title = f"{site.unit}{y}年政府信息公开工作年度报告"
            a.date = min(dt.date(y + 1, month, rng.randint(10, 28)), as_of)
            a.path = article_path(fam, report.slug, report.cid, a.aid, a.date)
            a.paragraphs = ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况", "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]
        report.articles.sort(key=lambda a: a.date, reverse=True)
    # 政务咨询 letters
    consult = next((c for c in site.columns if c.slug == "zwzx"), None)
    if consult:
        for a in consult.articles:
            received = a.date
            answered = received + dt.timedelta(days=rng.randint(1, 6))
            a.letter = dict(asker=_person(rng)[0] + "**", received=received, answered=min(answered, as_of), reply="您好，您反映的问题已转相关单位办理，现答复如下：……")
        if site.profile in ("portal", "privacy") and consult.articles:
            old = consult.articles[-1] if len(consult.articles) > 1 else consult.articles[0]
            old.letter["answered"] = None
            old.letter["reply"] = ""
            if (as_of - old.date).days > 92 and (as_of - old.date).days <= 365:
                site.problems.append(dict(rule="interaction.unanswered", path=old.path, column=consult.name,
                                          detail=f"{old.date:%Y-%m-%d}收到的群众留言超过3个月未回复"))
            else:  # keep the planted letter inside the window: re-date it 4 months back
                old.date = _minus_months(as_of, 4)
                old.letter["received"] = old.date
                old.path = article_path(fam, consult.slug, consult.cid, old.aid, old.date)
                site.problems.append(dict(rule="interaction.unanswered", path=old.path, column=consult.name,
                                          detail=f"{old.date:%Y-%m-%d}收到的群众留言超过3个月未回复"))
            recent = consult.articles[0]
            if recent is not old and (as_of - recent.date).days < 30:
                recent.letter["answered"] = None
                recent.letter["reply"] = ""
                site.decoys.append(dict(rule="interaction.unanswered", path=recent.path, text="未回复（收到不足3个月）", why="尚在办理期限内，不是问题"))
    _plant_text_problems(site, rng, as_of)


def _first_article(site: Site, categories=("dynamic", "notice", "other")) -> Article | None:
    for c in site.columns:
        if c.category in categories and c.articles:
            return c.articles[0]
    return None


def _plant_text_problems(site: Site, rng: random.Random, as_of: dt.date) -> None:
    p = site.profile
    arts = [a for c in site.columns if c.category in ("dynamic", "notice", "other") for a in c.articles]
    if not arts:
        return

    def plant(rule, text, detail, art=None, decoy=False, why=""):
        art = art or rng.choice(arts)
        art.paragraphs.insert(1, text)
        (site.decoys if decoy else site.problems).append(dict(rule=rule, path=art.path, text=text, detail=detail, why=why) if decoy
                                                         else dict(rule=rule, path=art.path, text=text, detail=detail))

    if p in ("minor", "portal"):
        plant("content.expression", "全县上下要坚持以习近平新时代中国特色社会主意思想为指导，凝心聚力推动高质量发展。", "固定表述错误：“社会主意思想”应为“社会主义思想”")
        plant("content.expression", "坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神。", "", decoy=True, why="正确表述")
        plant("content.misspelling", "希望大家再接再励，争取更大成绩。", "错别字：“再接再励”应为“再接再厉”")
        plant("content.misspelling", "请于截止日期前提交材料，逾期不予受理。", "", decoy=True, why="“截止日期”是正确用法")
        plant("content.misspelling", "截止2025年底，全县累计完成改造任务1200户。", "用词不当：“截止2025年底”应为“截至2025年底”")
        plant("content.sensitive", "进一步优化城区主要路口交通信号配时。", "", decoy=True, why="“路口交通”不含敏感词，朴素匹配会误报")
    if p == "minor":
        plant("content.sensitive", "网友留言：加微信领取彩金，网上博彩天天赢。", "页面含赌博类违法违规词语（博彩）")
    if p == "portal":
        former = site.leaders[0]
        plant("content.leader", f"{former['name']}县长出席会议并讲话。",
              f"领导职务错误：{former['name']}已于{former['end']:%Y年%m月}离任县长，不应再以现职称呼", art=arts[0])
    if p == "veto_c":
        plant("content.institution_name", "县国土资源局联合县林业局开展耕地保护专项检查。", "机构名称过时：2018年机构改革后“国土资源局”已改为“自然资源局”")
    if p in ("privacy", "portal"):
        pid = ids.make_id(rng)
        plant("privacy.id_number", f"经审核，{_person(rng)}（身份证号：{pid}）符合申请条件，现予公示。", "公示信息含完整身份证号码")
        masked = ids.mask_id(ids.make_id(rng))
        plant("privacy.id_number", f"{_person(rng)}（身份证号：{masked}）同时予以公示。", "", decoy=True, why="已脱敏")
        bad = ids.make_bad_id(rng)
        plant("privacy.id_number", f"项目编号：{bad}。", "", decoy=True, why="校验位不符，不是身份证号")
        mob = ids.make_mobile(rng)
        plant("privacy.mobile", f"申请人：{_person(rng)}，联系电话：{mob}。", "公示信息含完整手机号码")
        plant("privacy.mobile", f"联系人：{_person(rng)[0]}**，联系电话：{ids.mask_mobile(ids.make_mobile(rng))}。", "", decoy=True, why="已脱敏")
        card = ids.make_card(rng)
        plant("privacy.bank_card", f"补贴资金已发放至{_person(rng)}银行卡（卡号{card}）。", "公示信息含完整银行卡号")
        plant("privacy.bank_card", f"合同编号{ids.make_bad_card(rng)}。", "", decoy=True, why="不符合Luhn校验")
    # attachments
    fam = "legacy" if site.family.startswith("legacy") else site.family
    if p == "privacy":
        art = next((a for c in site.columns if c.category == "notice" for a in c.articles), arts[0])
        art.title = f"关于{as_of.year}年耕地地力保护补贴发放名单的公示"
        rows = [["序号", "姓名", "身份证号码", "联系电话", "银行卡号", "补贴金额（元）"]]
        for i in range(1, 7):
            full = i in (1, 3, 5)
            idv = ids.make_id(rng) if full else ids.mask_id(ids.make_id(rng))
            rows.append([str(i), _person(rng), idv, ids.mask_mobile(ids.make_mobile(rng)), ids.make_card(rng) if i == 3 else "", f"{rng.randint(200, 2000)}.00"])
        path = attachment_path(fam, art.column_slug, art.aid, 1, "xlsx", art.date)
        att = Attachment(name="耕地地力保护补贴发放名单.xlsx", path=path, kind="xlsx", rows=rows)
        art.attachments.append(att)
        for r_i, row in enumerate(rows[1:], start=2):
            if "*" not in row[2]:
                site.problems.append(dict(rule="privacy.id_number", path=path, text=row[2], detail=f"附件{att.name}第{r_i}行含完整身份证号码", cell=f"C{r_i}"))
            else:
                site.decoys.append(dict(rule="privacy.id_number", path=path, text=row[2], why="已脱敏", cell=f"C{r_i}"))
            if row[4]:
                site.problems.append(dict(rule="privacy.bank_card", path=path, text=row[4], detail=f"附件{att.name}第{r_i}行含完整银行卡号", cell=f"E{r_i}"))
    if p == "portal":
        art = next((a for c in site.columns if c.category == "notice" for a in c.articles), arts[0])
        pid = ids.make_id(rng)
        paras = [[f"关于{as_of.year}年度城乡低保对象的公示"], [f"经入户调查、民主评议，拟将{_person(rng)}（身份证号{pid}）等纳入低保范围。"],
                 [f"{_person(rng)}（身份证号{ids.mask_id(ids.make_id(rng))}）同时公示。"], ["公示期7天。"]]
        path = attachment_path(fam, art.column_slug, art.aid, 1, "pdf", art.date)
        art.attachments.append(Attachment(name="低保对象公示.pdf", path=path, kind="pdf", rows=paras))
        site.problems.append(dict(rule="privacy.id_number", path=path, text=pid, detail="PDF附件含完整身份证号码"))
    if p == "minor2":
        art = arts[0]
        mob = ids.make_mobile(rng)
        paras = [["农机购置补贴申请表"], [f"申请人：{_person(rng)}  联系电话：{mob}"], [f"经办人联系电话：{ids.mask_mobile(ids.make_mobile(rng))}"]]
        path = attachment_path(fam, art.column_slug, art.aid, 1, "docx", art.date)
        art.attachments.append(Attachment(name="农机购置补贴申请表.docx", path=path, kind="docx", rows=paras))
        site.problems.append(dict(rule="privacy.mobile", path=path, text=mob, detail="Word附件含完整手机号码"))
        plant("content.misspelling", "各村要认真按装调试设备，确保正常运行。", "错别字：“按装”应为“安装”")
        plant("content.typo", "要进一步加强安全生产监督管里，确保不发生重大事故。", "疑似错别字：“管里”应为“管理”")


def _plan_footer_and_faults(site: Site, rng: random.Random) -> None:
    site.footer = dict(conac=True, site_code=True, icp=True, police=True, host=True, jiucuo=True)
    site.meta_tags = site.family == "trs" or (site.family == "hanweb" and site.index % 2 == 0)
    if not site.meta_tags:
        site.problems.append(dict(rule="site.meta_missing", path="/", detail="网页元数据标签不全"))
    p = site.profile
    if p == "veto_b":
        site.footer.update(conac=False, site_code=False)
        site.problems.append(dict(rule="site.footer_missing", path="/", detail="页面底部缺少党政机关网站标识、网站标识码"))
        site.home_extra_html = ('<div style="display:none"><a href="http://www.xpj-casino888.com/">澳门新葡京娱乐场</a></div>'
                                '<p style="position:absolute;left:-3000px"><a href="http://www.xpj-casino888.com/reg.html">真人视讯</a></p>')
        for u in ("http://www.xpj-casino888.com/", "http://www.xpj-casino888.com/reg.html"):
            site.problems.append(dict(rule="link.hidden", path="/", url=u, detail="首页含隐藏链接（暗链）指向博彩网站"))
            site.problems.append(dict(rule="link.illegal", path="/", url=u, detail="首页链接指向博彩网站"))
        site.problems.append(dict(rule="content.sensitive", path="/", detail="首页隐藏链接的文字含博彩词语（澳门新葡京、真人视讯）"))
    if p == "minor2":
        site.footer.update(icp=False)
        site.problems.append(dict(rule="site.footer_missing", path="/", detail="页面底部缺少ICP备案编号"))
    if p == "home_stale":  # the home page footer is complete; article pages lack two identifiers
        site.inner_footer.update(conac=False, site_code=False)
        site.problems.append(dict(rule="site.footer_missing", path="/", detail="内页底部缺少党政机关网站标识、网站标识码"))
    if p == "veto_a":
        site.faults.setdefault("redirect_loop", True)
        site.extra_routes["/xwzx/202401/t20240110_99999.html"] = ("missing", None)
        site.home_extra_html += '<div class="tips"><a href="/xwzx/202401/t20240110_99999.html">关于寒假安全教育的通知</a></div>'
        site.problems.append(dict(rule="link.dead", path="/xwzx/202401/t20240110_99999.html", detail="首页链接指向的页面不存在（404）", parent="/"))
        site.problems.append(dict(rule="link.dead", path="/loop/a.html", detail="首页链接指向的页面循环重定向，无法打开", parent="/"))
    if p == "veto_c":
        site.faults.setdefault("oversize", True)
        site.faults.setdefault("search_broken", True)
        site.problems.append(dict(rule="site.search", path="/", detail="站内搜索不可用"))
        site.home_extra_html += '<div class="yqlj"><a href="http://www.old-bureau.qinghe.gov.cn.invalid/">原县国土资源局网站</a></div>'
        site.problems.append(dict(rule="link.dead", path="/", url="http://www.old-bureau.qinghe.gov.cn.invalid/", detail="友情链接指向的外部网站域名无法解析"))
    if p == "minor":
        site.faults.setdefault("traps", True)
        site.home_extra_html += ('<div class="yqlj"><a href="http://www.tyc-ad-888.com/">网上娱乐 注册送彩金</a> '
                                 '<a href="http://www.hebei-wenhua.cn/">河北文化娱乐资讯</a></div>')
        site.problems.append(dict(rule="link.illegal", path="/", url="http://www.tyc-ad-888.com/", detail="友情链接区域含博彩推广链接"))
        site.problems.append(dict(rule="content.sensitive", path="/", detail="首页友情链接文字含博彩推广词语（注册送彩金）"))
        site.decoys.append(dict(rule="link.illegal", path="/", url="http://www.hebei-wenhua.cn/", why="“文化娱乐”不是博彩"))
    if p == "privacy":
        site.home_extra_html += '<div class="yqlj"><a href="http://www.qinghe-lvyou.com/">清河旅游网</a></div>'
        site.problems.append(dict(rule="link.illegal", path="/", url="http://www.qinghe-lvyou.com/",
                                  detail="友情链接“清河旅游网”域名已被赌博网站使用"))
    if p == "home_stale":
        site.home_extra_html += '<div class="tips"><a href="http://www.qhxw.net/news/2019/123.html">清河新闻网专题报道</a></div>'
        site.problems.append(dict(rule="link.dead", path="/", url="http://www.qhxw.net/news/2019/123.html", detail="外部链接页面不存在（404）"))
    if p == "portal":
        # a drop-down menu hidden until hover: display:none links to legitimate sites are not 暗链
        site.home_extra_html += ('<div class="dropdown" style="display:none"><a href="http://www.hebei.gov.cn/">河北省人民政府</a>'
                                 '<a href="http://www.gov.cn/">中国政府网</a></div>')
        site.decoys.append(dict(rule="link.hidden", path="/", url="http://www.hebei.gov.cn/", why="下拉菜单中的正常链接"))
        site.extra_routes["/zt/flaky.html"] = ("flaky", None)
        site.home_extra_html += '<div class="tips"><a href="/zt/flaky.html">专题：优化营商环境</a></div>'
        site.decoys.append(dict(rule="link.dead", path="/zt/flaky.html", why="第一次访问失败、复查时正常，不是死链"))
        rs = site.column("rsxx")
        site.faults.setdefault("robots_disallow", [rs.path.rsplit("/", 1)[0] + "/"])
    if p == "down":
        site.faults.setdefault("down", 1.0)


def generate_county(seed: int = 2026, as_of: dt.date | str = dt.date(2026, 11, 23), n_sites: int = 9,
                    pages_per_site: int = 120, faults: dict[str, dict] | None = None, no_default_faults: bool = False) -> County:
    """Build the county. `faults` maps site key -> fault dict and overrides the defaults."""
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    if n_sites < 1:
        raise ValueError("n_sites must be at least 1")
    plans = list(SITE_PLANS[:n_sites])
    extra = 0
    while len(plans) < n_sites:
        i = extra
        is_town = i % 4 == 3
        base = EXTRA_TOWNS[(i // 4) % len(EXTRA_TOWNS)] if is_town else EXTRA_UNITS[i % len(EXTRA_UNITS)]
        suffix = "" if i < len(EXTRA_UNITS) else str(i // len(EXTRA_UNITS) + 1)
        name = f"{COUNTY}{base}{'人民政府' if is_town else ''}{suffix}"
        plans.append(dict(key=f"x{i:03d}", name=name, unit=name, unit_kind="乡镇" if is_town else "部门", kind="department",
                          family=FAMILIES[i % len(FAMILIES)], profile=EXTRA_PROFILES[i % len(EXTRA_PROFILES)]))
        extra += 1
    sites = [_build_site(i, plan, seed, as_of, pages_per_site) for i, plan in enumerate(plans)]
    from .newmedia import plan_accounts

    for s in sites:
        plan_accounts(s, COUNTY, as_of, seed)
    for s in sites:
        if no_default_faults:
            s.faults = {}
        if faults and s.key in faults:
            s.faults.update(faults[s.key])
    return County(seed=seed, as_of=as_of, sites=sites, pages_per_site=pages_per_site)
