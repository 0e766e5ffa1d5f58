"""Rounds: one inspection at one as-of date, its per-site results, column checks and findings."""

import json

from django.db import models

from ..registry.models import Account, Column, Unit, Website


class OrderedJSONField(models.JSONField):
    """A JSONField whose objects keep their key order on PostgreSQL too: jsonb sorts an object's keys (shortest first),
    so a rule set read back would list its fields in another order than the files it came from (and, say, a finding's
    text would name the missing items in another order than on SQLite). On PostgreSQL the value is kept as its JSON
    text inside the column; not for fields queried by key. Migrations see a plain JSONField (same column)."""

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor == "postgresql" and isinstance(value, dict):
            value = json.dumps(value, cls=self.encoder, ensure_ascii=False)
        return super().get_db_prep_value(value, connection, prepared)

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        if connection.vendor == "postgresql" and isinstance(value, str) and value.startswith("{"):
            value = json.loads(value, cls=self.decoder)
        return value

    def deconstruct(self):
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs

ROUND_STATUS = [("pending", "待检查"), ("queued", "排队中"), ("running", "检查中"), ("done", "已完成"), ("failed", "失败"),
                ("interrupted", "已中断"), ("cancelled", "已取消")]
SITE_STATUS = [("pending", "待检查"), ("checked", "已检查"), ("could_not_check", "未能检查")]
VERDICTS = [("pass", "合格"), ("fail", "不合格"), ("unknown", "未能检查")]
COLUMN_STATUS = [("ok", "正常"), ("stale", "未按期更新"), ("empty", "空白栏目"), ("unknown", "未能检查")]


class Round(models.Model):
    """A checking round. Besides full rounds there are re-check rounds (recheck_of), item re-checks answering units'
    claims (item_recheck) and daily incremental passes (daily); FULL_ROUNDS selects the full ones."""

    name = models.CharField("轮次名称", max_length=200)
    region = models.CharField("检查范围", max_length=100, default="全县")
    office = models.CharField("发文单位", max_length=100, default="县人民政府办公室")
    as_of = models.DateField("检查时点")
    period_start = models.DateField("统计期起", null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=ROUND_STATUS, default="pending")
    allow_networks = models.CharField("允许访问的内网网段", max_length=200, blank=True,
                                      help_text="默认禁止抓取本机和内网地址；确需检查内网网站时填写网段，逗号分隔")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    scheme = models.CharField("考核方案", max_length=100, default="national-2019",
                              help_text="govinspect/rules/schemes/ 中的方案文件名（不含 .toml）")
    registers = models.JSONField("台账与答复书检查", default=dict, blank=True,
                                 help_text="随本轮提交的公文台账、建议提案台账和依申请公开答复书的统计")
    recipients = models.CharField("主送", max_length=300, blank=True,
                                  help_text="通报的主送单位，如“各乡镇人民政府，县政府各部门”")
    doc_number = models.CharField("文号", max_length=100, blank=True, help_text="通报文号，如“清政办〔2026〕12号”")
    owner = models.JSONField("运行进程", default=dict, blank=True, editable=False,
                             help_text="正在运行本轮的进程（主机、进程号、启动时刻）：进程已不存在的“检查中”轮次记为已中断")
    run_options = models.JSONField("运行参数", default=dict, blank=True, editable=False,
                                   help_text="抓取参数和并发设置，继续被中断的轮次时沿用")
    rules_hash = models.CharField("规则集摘要", max_length=64, blank=True, editable=False,
                                  help_text="本轮使用的规则、词表、考核方案和工作日表的 SHA-256 摘要：摘要相同，检查结果可复现")
    rules_snapshot = OrderedJSONField("规则集", default=dict, blank=True, editable=False,
                                       help_text="本轮开始时确定的全部规则（继续或重跑本轮时原样使用）")
    recheck_of = models.ForeignKey("self", verbose_name="复查的轮次", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="rechecks", help_text="复查轮次只重新抓取上一轮问题所在页面，逐条判断是否已整改")
    scope_unit = models.ForeignKey(Unit, verbose_name="检查范围（单位）", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="只检查该单位及其下级单位的网站和账号；空为整个名录")
    cancel_requested = models.DateTimeField("请求取消时间", null=True, blank=True, editable=False,
                                            help_text="检查单位在平台上取消了本轮：本地运行器停止正在运行的检查任务")
    item_recheck = models.BooleanField("整改事项复查", default=False, editable=False,
                                       help_text="单位反馈已整改后为个别事项立即运行的复查（只复查 run_options.findings 中的问题）")
    daily = models.BooleanField("日常监测", default=False, editable=False,
                                help_text="每日增量抓取的轮次（monitor/daily.py）：只检查新增和变化的页面，不评分、不下发、不作为对比基准")
    rectify_days = models.PositiveSmallIntegerField("整改期限（工作日）", null=True, blank=True,
                                                    help_text="空为考核方案或通报设置中的天数")
    examples = models.JSONField("典型问题", default=dict, blank=True,
                                help_text="通报中各类问题举例的问题编号 {规则: [编号, …]}，下发前由检查单位挑选；空为自动选取")

    class Meta:
        verbose_name = verbose_name_plural = "检查轮次"
        ordering = ["-as_of", "-id"]

    def __str__(self):
        return f"{self.name}（{self.as_of}）"

    def looked_at(self):
        """What this round checked: THE rule of "checked again" whenever two rounds are compared (the dashboard's fixed
        versus could-not-re-check, rectification items followed into a later round): (websites whose site was checked,
        accounts checked, kinds of job done), each a lazy flat values_list (a subquery, or a set when iterated)."""
        return (self.sites.filter(status="checked").values_list("website", flat=True),
                self.accounts.filter(status="checked").values_list("account", flat=True),
                self.jobs.filter(state="done").values_list("kind", flat=True).distinct())

    @property
    def comparable(self) -> bool:
        """A round of the whole registry's state (full round): not a re-check, an item re-check or a daily pass."""
        return self.recheck_of_id is None and not self.item_recheck and not self.daily

    @property
    def allowed_networks(self) -> tuple[str, ...]:
        """The private networks the operator allowed this round to fetch from (allow_networks, comma-separated)."""
        return tuple(n.strip() for n in self.allow_networks.split(",") if n.strip())


# full rounds: what dashboards compare, histories chart and bulletins follow (Round.comparable, as a filter)
FULL_ROUNDS = models.Q(recheck_of__isnull=True, item_recheck=False, daily=False)

JOB_KINDS = [("site", "网站"), ("accounts", "新媒体账号"), ("registers", "台账与答复书"), ("letters", "信件与工单")]
JOB_STATES = [("queued", "排队中"), ("running", "运行中"), ("done", "已完成"), ("could_not_check", "未能检查"),
              ("failed", "失败")]


class RoundJob(models.Model):
    """One target of a round (a website, a new-media account, the round's registers, its letters): run by run_job(id)
    in any process, its results committed in one transaction when it finishes."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField("类型", max_length=12, choices=JOB_KINDS)
    target = models.PositiveIntegerField("对象编号", default=0, help_text="网站或账号的编号；台账和信件为 0")
    label = models.CharField("对象", max_length=300, blank=True)
    params = models.JSONField("参数", default=dict, blank=True, help_text="台账文件等随本轮提交的材料（存储中的位置）")
    state = models.CharField("状态", max_length=16, choices=JOB_STATES, default="queued", db_index=True)
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    owner = models.CharField("运行进程", max_length=200, blank=True, help_text="主机:进程号:进程启动时刻")
    heartbeat = models.DateTimeField("最近心跳", null=True, blank=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    progress = models.JSONField("进度", default=dict, blank=True, help_text="已抓取页面数等")
    reason = models.TextField("说明", blank=True, help_text="未能检查的原因或失败的错误")
    artifacts = models.JSONField("存储的材料", default=dict, blank=True,
                                 help_text="本对象的抓取状态、WARC 快照和日志在存储中的位置")

    class Meta:
        verbose_name = verbose_name_plural = "检查任务"
        unique_together = [("round", "kind", "target")]
        ordering = ["round", "id"]

    def __str__(self):
        return f"{self.round_id} {self.get_kind_display()} {self.label or self.target}（{self.get_state_display()}）"


ROUND_EVENTS = [("start", "开始"), ("resume", "继续"), ("finish", "完成"), ("fail", "失败"), ("interrupt", "中断"),
                ("report", "生成报告"), ("queue", "排队"), ("cancel", "取消")]


class RoundEvent(models.Model):
    """The lifecycle of a round, append-only: every start, resume, end, failure and interruption."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField("时间", auto_now_add=True)
    kind = models.CharField("事件", max_length=10, choices=ROUND_EVENTS)
    detail = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "轮次记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.round_id} {self.get_kind_display()} {self.at:%Y-%m-%d %H:%M:%S}"


class RoundSite(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="sites")
    job = models.OneToOneField(RoundJob, null=True, blank=True, on_delete=models.CASCADE, related_name="site_result")
    website = models.ForeignKey(Website, verbose_name="网站", on_delete=models.PROTECT)
    status = models.CharField("状态", max_length=20, choices=SITE_STATUS, default="pending")
    reason = models.TextField("说明", blank=True)
    verdict = models.CharField("结论", max_length=10, choices=VERDICTS, default="unknown")
    score = models.PositiveSmallIntegerField("得分", null=True, blank=True)
    deductions = models.JSONField("扣分明细", default=list, blank=True)
    pages_fetched = models.PositiveIntegerField("抓取页面数", default=0)
    home_newest = models.DateField("首页最新信息日期", null=True, blank=True)
    home_status = models.CharField("首页状态", max_length=10, blank=True)
    publication_count = models.PositiveIntegerField("统计期内发布信息数", default=0)
    columns_discovered = models.BooleanField("栏目为自动发现", default=False)
    veto = models.JSONField("否决项统计", default=dict, blank=True)
    availability = models.JSONField("可用性监测", default=dict, blank=True)
    crawl_stats = models.JSONField("抓取统计", default=dict, blank=True)
    check_stats = models.JSONField("检查统计", default=dict, blank=True,
                                   help_text="各项检查的统计和说明，如外部链接未能检查的原因")
    warc_path = models.CharField("WARC 快照", max_length=500, blank=True)
    log_path = models.CharField("抓取日志", max_length=500, blank=True)
    started_at = models.CharField("抓取开始", max_length=40, blank=True)
    finished_at = models.CharField("抓取结束", max_length=40, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "网站检查结果"
        unique_together = [("round", "website")]

    def __str__(self):
        return f"{self.round} / {self.website}"


class ColumnCheck(models.Model):
    round_site = models.ForeignKey(RoundSite, on_delete=models.CASCADE, related_name="columns")
    column = models.ForeignKey(Column, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField("栏目名称", max_length=100)
    url = models.URLField("栏目地址", max_length=500)
    category = models.CharField("类别", max_length=20)
    window = models.CharField("更新周期", max_length=10, blank=True)
    level = models.PositiveSmallIntegerField("层级", default=1)
    status = models.CharField("状态", max_length=10, choices=COLUMN_STATUS)
    newest_date = models.DateField("最新信息日期", null=True, blank=True)
    newest_title = models.CharField("最新信息标题", max_length=500, blank=True)
    item_count = models.PositiveIntegerField("信息条数", default=0)
    reason = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "栏目检查结果"


class RoundAccount(models.Model):
    """One new-media account's result in a round (engine/newmedia.py)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="accounts")
    account = models.ForeignKey(Account, verbose_name="账号", on_delete=models.PROTECT)
    status = models.CharField("状态", max_length=20, choices=SITE_STATUS, default="pending")
    verdict = models.CharField("结论", max_length=10, choices=VERDICTS, default="unknown")
    reason = models.TextField("说明", blank=True)
    last_post = models.DateTimeField("最近发布时间", null=True, blank=True)
    posts_in_window = models.PositiveIntegerField("统计期内发布数", default=0)
    original_share = models.FloatField("原创占比", null=True, blank=True)
    score = models.PositiveSmallIntegerField("得分", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "新媒体检查结果"
        unique_together = [("round", "account")]

    def __str__(self):
        return f"{self.round} / {self.account}"


SEVERITIES = [("high", "严重"), ("medium", "一般"), ("low", "轻微")]


class Finding(models.Model):
    """A stored engine.finding.Finding (the one contract): typed subject and location, facts, evidence, fingerprint."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="findings")
    job = models.ForeignKey(RoundJob, on_delete=models.CASCADE, related_name="findings", null=True, blank=True)
    round_site = models.ForeignKey(RoundSite, on_delete=models.CASCADE, related_name="findings", null=True, blank=True)
    round_account = models.ForeignKey(RoundAccount, on_delete=models.CASCADE, related_name="findings", null=True, blank=True)
    rule = models.CharField("规则", max_length=60, db_index=True)
    fingerprint = models.CharField("问题指纹", max_length=32, db_index=True, blank=True,
                                   help_text="同一问题在各轮中的标识（规则、对象、位置、命中内容）")
    subject_kind = models.CharField("对象类型", max_length=20, blank=True)
    subject = models.JSONField("对象", default=dict, blank=True)
    url = models.TextField("地址", blank=True)  # whole: the fingerprint is made from it
    file = models.TextField("文件", blank=True)
    sheet = models.CharField("工作表", max_length=100, blank=True)
    row = models.PositiveIntegerField("行", null=True, blank=True)
    cell = models.CharField("单元格", max_length=20, blank=True)
    page_no = models.PositiveIntegerField("页", null=True, blank=True)
    paragraph = models.PositiveIntegerField("段", null=True, blank=True)
    column_name = models.CharField("栏目", max_length=100, blank=True)
    detail = models.TextField("问题描述")
    match = models.TextField("命中内容", blank=True, help_text="个人信息为脱敏后的形式")
    facts = models.JSONField("事实", default=dict, blank=True)
    evidence = models.JSONField("证据", default=dict, blank=True,
                                help_text="抓取时间、HTTP 状态、WARC 文件和记录位置、命中处的摘录")
    severity = models.CharField("严重程度", max_length=10, choices=SEVERITIES, blank=True)
    veto = models.BooleanField("单项否决", default=False)
    responsible_unit = models.ForeignKey(Unit, verbose_name="责任单位", null=True, blank=True, on_delete=models.SET_NULL)
    ignored_by = models.ForeignKey("Ignore", verbose_name="已忽略", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="findings")

    class Meta:
        verbose_name = verbose_name_plural = "发现的问题"
        ordering = ["round_site", "rule", "id"]
        indexes = [models.Index(fields=["round", "fingerprint"]), models.Index(fields=["round", "responsible_unit", "rule"]),
                   # the API's findings list (newest round first, then in stored order) read in index order, not sorted
                   models.Index(fields=["-round", "id"], name="finding_round_desc_id")]

    def __str__(self):
        return f"{self.rule}: {self.detail[:40]}"

    @property
    def location(self):
        from ..engine.finding import Location

        return Location(url=self.url, file=self.file, sheet=self.sheet, row=self.row, cell=self.cell, page=self.page_no,
                        paragraph=self.paragraph)

    @property
    def text(self) -> str:
        """The matched text (content, privacy, typo rules), masked for personal data."""
        return self.match

    def to_engine(self):
        """The engine's Finding (the contract) for this row."""
        from ..engine.finding import Evidence, Finding as EngineFinding, Subject

        subj = dict(self.subject or {})
        return EngineFinding(rule=self.rule, detail=self.detail, subject=Subject(**subj) if subj.get("kind") else
                             Subject(kind=self.subject_kind or "page"), location=self.location, facts=dict(self.facts or {}),
                             evidence=Evidence.from_dict(self.evidence), match=self.match,
                             stored_fingerprint=self.fingerprint)

    @classmethod
    def from_engine(cls, f, rules=None, **kw) -> "Finding":
        """A row for an engine Finding; rules (the round's RuleSet) gives severity and veto."""
        loc = f.location
        entry = rules.rule(f.rule) if rules is not None else {}
        return cls(rule=f.rule, fingerprint=f.fingerprint, subject_kind=f.subject.kind, subject=f.subject.to_dict(),
                   url=loc.url, file=loc.file, sheet=loc.sheet[:100], row=loc.row, cell=loc.cell[:20],
                   page_no=loc.page, paragraph=loc.paragraph, column_name=(f.subject.column or "")[:100], detail=f.detail,
                   match=f.match or "", facts=f.facts, evidence=f.evidence.to_dict(),
                   severity=entry.get("severity", ""), veto=bool(entry.get("veto")), **kw)


class RoundSummary(models.Model):
    """A round's findings counted against the previous round, made once when they become known (the round's end,
    else the first dashboard view of a done round) so that the office dashboard reads a few thousand grouped rows
    instead of comparing 200,000 fingerprints: by responsible unit and rule (found, veto, severe, still present) and
    the previous round's findings not found again by unit and target. Independent of ignores and of who looks (both
    applied when read); `stamp` names what the counts were made from (the previous round, each round's finding count
    and last id): a summary whose stamp no longer matches is made again. See govinspect/web/stats.py."""

    round = models.OneToOneField(Round, on_delete=models.CASCADE, related_name="summary")
    stamp = models.CharField("依据", max_length=200)
    data = models.JSONField("统计", default=dict)
    made_at = models.DateTimeField("统计时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "轮次问题统计"

    def __str__(self):
        return f"{self.round_id} {self.stamp}"


IGNORE_SCOPES = [("hit", "仅此处（同一页面同一内容）"), ("page", "整个页面（该规则）"), ("site", "整个网站（同一内容）")]


class Ignore(models.Model):
    """An operator's decision that a finding is not a problem; it keeps applying in later rounds.

    hit: this rule, this URL, this matched text; page: this rule anywhere on this URL; site: this rule
    and this matched text anywhere on the website (only for rules with matched text: content, privacy, typo).
    For rules without matched text, hit and page both mean the problem's own identity, its URL: the column
    (column rules), the link target (link rules), the page (page rules). Never deleted: revoking records who and when.
    """

    rule = models.CharField("规则", max_length=60, db_index=True)
    scope = models.CharField("范围", max_length=10, choices=IGNORE_SCOPES)
    website = models.ForeignKey(Website, verbose_name="网站", on_delete=models.CASCADE, related_name="ignores")
    url = models.CharField("地址", max_length=1000, blank=True)
    text = models.CharField("命中内容", max_length=500, blank=True, help_text="个人信息为脱敏后的形式")
    fingerprint = models.CharField("问题指纹", max_length=32, blank=True, db_index=True,
                                   help_text="“仅此处”：只忽略指纹相同的这一问题（同一规则、对象、位置和命中内容）")
    detail = models.TextField("问题描述", blank=True,
                              help_text="网站整体判断的问题（页面底部标识、元数据、必备栏目等）只忽略描述相同的这一问题")
    reason = models.TextField("理由")
    source_finding = models.ForeignKey(Finding, verbose_name="来源问题", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    created_by = models.CharField("操作人", max_length=150)
    created_at = models.DateTimeField("操作时间", auto_now_add=True)
    revoked_by = models.CharField("撤销人", max_length=150, blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "忽略的问题"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.rule} {self.get_scope_display()} {self.text or self.url}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.scope == "site" and not self.text:
            raise ValidationError("“整个网站”范围只适用于有命中内容的问题（错别字、敏感词、个人信息等）；"
                                  "其他问题请选择“仅此处”或“整个页面”并填写地址")

    def covers(self, f: "Finding") -> bool:
        """Whether this ignore applies to a stored finding: a "hit" ignore names its problem by fingerprint (the same
        rule, subject, place and matched text, whatever the page's layout); older records by URL and text."""
        if self.revoked_at is not None or f.rule != self.rule:
            return False
        if self.scope == "hit" and self.fingerprint:
            return f.fingerprint == self.fingerprint and (not self.detail or f.detail == self.detail)
        detail = f.detail if f.subject_kind == "site" and not f.match else ""
        return self.matches(f.rule, f.url, f.match, detail)

    def matches(self, rule: str, url: str, text: str, detail: str = "") -> bool:
        if self.revoked_at is not None or rule != self.rule:
            return False
        if self.detail and detail != self.detail:  # a site-level judgement: only this very problem, not the next one
            return False
        if self.text and self.scope == "site":
            return text == self.text
        if self.text and self.scope == "hit":
            return url == self.url and text == self.text
        # page scope, and any ignore of a rule without matched text: the problem's own URL. A site-scope record
        # without text (made before site scope was limited to matched text) keeps only its source finding's URL.
        own = self.url or (self.source_finding.url if self.source_finding_id else "")
        return bool(own) and url == own


RECHECK_STATES = [("fixed", "已整改"), ("present", "仍存在"), ("unknown", "未能复查")]


class RecheckResult(models.Model):
    """What a re-check round found for one finding of the round it re-checks."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="recheck_results")
    finding = models.ForeignKey(Finding, verbose_name="原问题", on_delete=models.CASCADE, related_name="rechecks")
    state = models.CharField("复查结果", max_length=10, choices=RECHECK_STATES)
    reason = models.TextField("说明", blank=True)
    evidence = models.JSONField("复查证据", default=dict, blank=True,
                                help_text="复查时的页面存档：url、warc_file、warc_offset、captured_at、http_status（仍存在时还有摘录）")

    class Meta:
        verbose_name = verbose_name_plural = "复查结果"
        unique_together = [("round", "finding")]

    def __str__(self):
        return f"{self.finding} → {self.get_state_display()}"
