"""The registry: who is inspected (units, websites, columns, new-media accounts, leaders)."""

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

UNIT_KINDS = [("区县", "区县"), ("部门", "部门"), ("乡镇", "乡镇")]
PLATFORMS = [(p, p) for p in ("微信公众号", "微博", "抖音", "今日头条", "快手", "视频号", "客户端", "小程序", "其他")]
COLUMN_CATEGORIES = [
    ("dynamic", "动态要闻类"), ("notice", "通知公告类"), ("policy", "政策文件类"), ("personnel", "人事信息类"),
    ("plan", "规划计划类"), ("fiscal", "财政信息类"), ("interpretation", "政策解读类"), ("interaction", "互动交流类"), ("disclosure", "信息公开类"),
    ("info", "基本信息类"), ("other", "其他栏目"),
]
site_code_validator = RegexValidator(r"^(\d{10}|bm\d{8})$", "网站标识码应为10位数字，或 bm 加8位数字")


class Unit(models.Model):
    name = models.CharField("单位名称", max_length=100, unique=True)
    kind = models.CharField("单位类型", max_length=10, choices=UNIT_KINDS)
    parent = models.ForeignKey("self", verbose_name="上级单位", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    short_name = models.CharField("简称", max_length=30, blank=True, help_text="通报正文中的称呼，如“卫健局”；留空用全称")
    region = models.CharField("所属区域", max_length=50, blank=True,
                              help_text="通报附件“区域”列，如“襄州区”；留空则沿上级单位查找，区县单位取名称去掉“人民政府”")
    supervisor = models.CharField("主管单位", max_length=100, blank=True,
                                  help_text="通报附件“主管单位”列，如“襄州区政府办公室”；留空则沿上级单位查找，再没有则为本单位")
    contact_name = models.CharField("联系人", max_length=50, blank=True, help_text="政务公开工作联系人；平台账号据此创建")
    contact_phone = models.CharField("联系电话", max_length=50, blank=True)
    contact_email = models.EmailField("联系邮箱", blank=True, help_text="整改提醒发往此邮箱")

    class Meta:
        verbose_name = verbose_name_plural = "单位"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def chain(self):
        """This unit and its parents, nearest first (a cycle entered by hand stops the walk)."""
        seen, u = set(), self
        while u is not None and u.pk not in seen:
            seen.add(u.pk)
            yield u
            u = u.parent

    def region_unit(self):
        """The unit naming this unit's 区域: the first with a region set, else the 区县/乡镇 directly under the top of
        the tree (the top is the inspecting government: a district's towns and offices share the district's 区域, a
        county's towns are their own); None for the top government's own units (县直/市直部门)."""
        chain = list(self.chain())
        for u in chain:
            if u.region:
                return u
        below_top = chain[-2] if len(chain) > 1 else None
        return below_top if below_top is not None and below_top.kind in ("区县", "乡镇") else None

    def supervisor_label(self) -> str:
        """The bulletin's 主管单位: the first supervisor set on the chain, else the unit itself."""
        return next((u.supervisor for u in self.chain() if u.supervisor), self.name)


class Website(models.Model):
    name = models.CharField("网站名称", max_length=100)
    home_url = models.URLField("首页地址", max_length=500, unique=True)
    site_code = models.CharField("网站标识码", max_length=10, blank=True, validators=[site_code_validator])
    owner = models.ForeignKey(Unit, verbose_name="主办单位", on_delete=models.PROTECT, related_name="websites")
    is_portal = models.BooleanField("门户网站", default=False)
    extra_hosts = models.CharField("附加域名", max_length=500, blank=True, help_text="同属本网站的其他主机名，逗号分隔")
    max_pages = models.PositiveIntegerField(
        "抓取页面上限", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="本网站一轮最多抓取的页面数（安全上限）；留空用 round --max-pages（默认50000）。超出的页面不抓取，报告写明未检查的页面数")

    class Meta:
        verbose_name = verbose_name_plural = "政府网站"
        ordering = ["-is_portal", "name"]

    def __str__(self):
        return self.name

    @property
    def extra_host_list(self) -> list[str]:
        return [h.strip() for h in self.extra_hosts.split(",") if h.strip()]


class Column(models.Model):
    site = models.ForeignKey(Website, verbose_name="网站", on_delete=models.CASCADE, related_name="columns")
    name = models.CharField("栏目名称", max_length=100)
    url = models.URLField("栏目地址", max_length=500)
    category = models.CharField("栏目类别", max_length=20, choices=COLUMN_CATEGORIES, blank=True, help_text="留空则按栏目名称自动归类")
    responsible_unit = models.ForeignKey(Unit, verbose_name="责任单位", null=True, blank=True, on_delete=models.SET_NULL)
    window_override = models.CharField("更新周期（覆盖）", max_length=10, blank=True, help_text="如 14d、6m、1y；留空用类别默认值",
                                       validators=[RegexValidator(r"^\d+[dmy]$", "更新周期应写作 14d、6m 或 1y")])
    level = models.PositiveSmallIntegerField("栏目层级", default=1)

    class Meta:
        verbose_name = verbose_name_plural = "栏目"
        unique_together = [("site", "url")]
        ordering = ["site", "id"]

    def __str__(self):
        return f"{self.site.name} / {self.name}"


class Account(models.Model):
    platform = models.CharField("平台", max_length=20, choices=PLATFORMS)
    name = models.CharField("账号名称", max_length=100)
    owner = models.ForeignKey(Unit, verbose_name="开办单位", on_delete=models.PROTECT, related_name="accounts")
    filed = models.BooleanField("已备案", default=False)
    account_id = models.CharField("账号ID", max_length=200, blank=True)
    source = models.CharField("内容来源", max_length=1000, blank=True,
                              help_text="发布内容的来源：RSS/Atom 地址（如自建 RSSHub），或导出的 CSV/XLSX/JSON 文件路径")
    interaction = models.BooleanField("有互动功能", null=True, blank=True, help_text="留言、评论、私信或咨询入口；空为未核实")

    class Meta:
        verbose_name = verbose_name_plural = "政务新媒体账号"
        unique_together = [("platform", "name")]
        ordering = ["owner", "platform", "name"]

    def __str__(self):
        return f"{self.name}（{self.platform}）"


class Leader(models.Model):
    name = models.CharField("姓名", max_length=50)
    title = models.CharField("职务", max_length=100)
    unit = models.ForeignKey(Unit, verbose_name="单位", on_delete=models.CASCADE, related_name="leaders")
    start = models.DateField("任职开始")
    end = models.DateField("任职结束", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "领导信息"
        unique_together = [("name", "unit", "title", "start")]
        ordering = ["unit", "start"]

    def __str__(self):
        return f"{self.name} {self.title}"


class WorkdayOverride(models.Model):
    """An operator's entry in the working-day calendar (a holiday on a weekday, or a working weekend day).

    Wins over rules/workdays.toml and chinesecalendar; entering the days of a year neither knows (e.g. when
    the State Council publishes next year's arrangement) makes that year computable."""

    date = models.DateField("日期", unique=True)
    is_workday = models.BooleanField("上班", help_text="勾选：调休上班的周末；不勾选：放假的工作日")
    note = models.CharField("说明", max_length=200, blank=True, help_text="如：国办发明电〔2026〕×号 春节调休")

    class Meta:
        verbose_name = verbose_name_plural = "节假日和调休"
        ordering = ["date"]

    @classmethod
    def table(cls) -> dict:
        """{date: is_workday}, for RuleSet.load(calendar=...): the admin's table becomes part of a round's rules."""
        return {o.date: o.is_workday for o in cls.objects.all()}

    def __str__(self):
        return f"{self.date} {'上班' if self.is_workday else '放假'}"
