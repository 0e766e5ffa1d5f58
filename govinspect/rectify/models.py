"""Rectification items (整改事项) and their append-only audit trail (整改记录).

An item is one problem of an issued round assigned to its responsible unit; its identity across rounds is the
finding's fingerprint (with the unit): the same problem found again next round is the same item. States change only
through services.transition(), which writes an ItemEvent in the same transaction. Events are never changed or
deleted: not through a model instance, not through a queryset, not through the admin.
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q

from ..registry.models import Unit
from ..rounds.models import Finding, Round

STATES = [("open", "待整改"), ("claimed", "已反馈"), ("fixed", "已整改"), ("present", "仍存在"), ("unverified", "未能复查"),
          ("disputed", "申诉中"), ("overdue", "逾期"), ("accepted", "申诉成立")]
# states that end an item (closed_at set): verified fixed, or a dispute the office accepted (an audited ignore)
CLOSED_STATES = ("fixed", "accepted")
STATE_LABELS = dict(STATES)


class Item(models.Model):
    fingerprint = models.CharField("问题指纹", max_length=32, db_index=True,
                                   help_text="同一问题在各轮中的标识：下一轮再次发现的同一问题仍是这一事项")
    rule = models.CharField("规则", max_length=60, db_index=True)
    unit = models.ForeignKey(Unit, verbose_name="责任单位", on_delete=models.PROTECT, related_name="rectify_items")
    round_issued = models.ForeignKey(Round, verbose_name="下发轮次", on_delete=models.PROTECT, related_name="rectify_items",
                                     help_text="以其通报下发本事项的轮次")
    finding = models.ForeignKey(Finding, verbose_name="最近发现", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="rectify_items", help_text="最近一次发现该问题的记录")
    last_round = models.ForeignKey(Round, verbose_name="最近核对轮次", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="最近一次据以判断本事项状态的轮次（下发或复查）")
    state = models.CharField("状态", max_length=12, choices=STATES, default="open", db_index=True)
    deadline = models.DateField("整改期限")
    created_at = models.DateTimeField("下发时间", auto_now_add=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    recheck_round = models.ForeignKey(Round, verbose_name="复查任务", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", help_text="为本事项排队或正在运行的复查轮次（单位反馈已整改后立即复查）")
    signed_off_at = models.DateTimeField("确认时间", null=True, blank=True,
                                         help_text="检查单位确认整改的时间（方案要求确认时，复查已整改的事项待确认）")
    signed_off_by = models.CharField("确认人", max_length=150, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "整改事项"
        ordering = ["deadline", "id"]
        constraints = [models.UniqueConstraint(fields=["fingerprint", "unit"], condition=Q(closed_at__isnull=True),
                                               name="rectify_one_open_item_per_problem")]
        indexes = [models.Index(fields=["unit", "state"])]

    def __str__(self):
        return f"{self.pk} {self.rule} {self.get_state_display()}"


ACTIONS = [("issue", "下发"), ("claim", "反馈已整改"), ("recheck", "复查"), ("dispute", "申诉"), ("accept", "同意申诉"),
           ("reject", "驳回申诉"), ("reopen", "重新打开"), ("close", "办结"), ("overdue", "逾期"), ("signoff", "确认整改"),
           ("attach", "上传材料"), ("remind", "提醒")]

APPEND_ONLY = "整改记录只能追加，不能修改或删除"


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses every change of stored rows (update, delete, bulk_update goes through update): audit records."""

    def update(self, **kwargs):
        raise PermissionDenied(APPEND_ONLY)

    def delete(self):
        raise PermissionDenied(APPEND_ONLY)

    def bulk_update(self, objs, fields, batch_size=None):
        raise PermissionDenied(APPEND_ONLY)

    def update_or_create(self, *args, **kwargs):
        raise PermissionDenied(APPEND_ONLY)

    def bulk_create(self, objs, *args, **kwargs):
        if kwargs.get("update_conflicts") or (len(args) >= 3 and args[2]):  # an upsert overwrites stored rows
            raise PermissionDenied(APPEND_ONLY)
        return super().bulk_create(objs, *args, **kwargs)


class AppendOnly:
    """save() only inserts, delete() refuses: mixed into the audit models."""

    def save(self, *args, **kwargs):
        if not self._state.adding or (self.pk is not None and type(self).objects.filter(pk=self.pk).exists()):
            raise PermissionDenied(APPEND_ONLY)
        kwargs["force_insert"] = True
        models.Model.save(self, *args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied(APPEND_ONLY)


class ItemEvent(models.Model):
    """One step of an item's history, append-only: who, when, what, from which state to which, on which evidence."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.CharField("操作人", max_length=150)
    action = models.CharField("操作", max_length=10, choices=ACTIONS)
    from_state = models.CharField("原状态", max_length=12, choices=STATES, blank=True)
    to_state = models.CharField("新状态", max_length=12, choices=STATES)
    note = models.TextField("说明", blank=True)
    evidence = models.JSONField("证据", default=dict, blank=True,
                                help_text="问题记录编号、WARC 文件和记录位置、抓取时间等")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "整改记录"
        ordering = ["at", "id"]
        base_manager_name = "objects"

    def __str__(self):
        return f"{self.item_id} {self.get_action_display()} {self.from_state}→{self.to_state}"

    save = AppendOnly.save
    delete = AppendOnly.delete


class Attachment(models.Model):
    """A file a unit sent with a claim or a dispute (screenshot, PDF, Office document): checked by content, stored in
    the data directory's storage (never under the web root), served only to those who may see its item. Append-only."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="attachments")
    event = models.ForeignKey(ItemEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments")
    at = models.DateTimeField("上传时间", auto_now_add=True)
    uploaded_by = models.CharField("上传人", max_length=150)
    name = models.CharField("文件名", max_length=200)
    content_type = models.CharField("类型", max_length=100)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    key = models.CharField("存储位置", max_length=300, help_text="数据目录中的存储键")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "整改材料"
        ordering = ["at", "id"]
        base_manager_name = "objects"

    save = AppendOnly.save
    delete = AppendOnly.delete

    def __str__(self):
        return self.name


REMINDER_KINDS = [("before", "到期前提醒"), ("due", "到期当日提醒"), ("overdue", "逾期通知")]
CHANNELS = [("email", "电子邮件"), ("webhook", "消息推送")]


class Reminder(models.Model):
    """One reminder sent (or tried) for an item: which, to whom, over which channel, whether it went. Append-only; a
    reminder of a kind for a deadline is sent once per channel (a failed one is tried again)."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="reminders")
    kind = models.CharField("提醒类型", max_length=10, choices=REMINDER_KINDS)
    channel = models.CharField("渠道", max_length=10, choices=CHANNELS)
    deadline = models.DateField("针对的整改期限")
    to = models.CharField("接收方", max_length=300, blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)
    ok = models.BooleanField("已发送", default=False)
    error = models.TextField("错误", blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "整改提醒"
        ordering = ["at", "id"]
        base_manager_name = "objects"

    save = AppendOnly.save
    delete = AppendOnly.delete

    def __str__(self):
        return f"{self.item_id} {self.get_kind_display()} {self.get_channel_display()}"


class Issuance(models.Model):
    """A round's bulletin issued: when, by whom, the bulletin date the deadlines count from, and the documents exactly
    as issued (frozen copies in the storage with their SHA-256; later changes of the round do not alter them)."""

    round = models.OneToOneField(Round, on_delete=models.PROTECT, related_name="issuance")
    issued_at = models.DateTimeField("下发时间", auto_now_add=True)
    issued_on = models.DateField("通报日期", help_text="整改期限从这一天起按工作日计算")
    issued_by = models.CharField("下发人", max_length=150)
    rectify_days = models.PositiveSmallIntegerField("整改期限（工作日）")
    items_created = models.PositiveIntegerField("新建整改事项", default=0)
    files = models.JSONField("下发的文件", default=list, blank=True,
                             help_text="[{name, key, sha256, size}]：存储中冻结的通报和附件")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "通报下发记录"
        ordering = ["-issued_at"]
        base_manager_name = "objects"

    save = AppendOnly.save
    delete = AppendOnly.delete

    def __str__(self):
        return f"{self.round} {self.issued_on}"
