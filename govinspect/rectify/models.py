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
          ("disputed", "申诉中"), ("overdue", "逾期")]
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

    class Meta:
        verbose_name = verbose_name_plural = "整改事项"
        ordering = ["deadline", "id"]
        constraints = [models.UniqueConstraint(fields=["fingerprint", "unit"], condition=Q(closed_at__isnull=True),
                                               name="rectify_one_open_item_per_problem")]
        indexes = [models.Index(fields=["unit", "state"])]

    def __str__(self):
        return f"{self.pk} {self.rule} {self.get_state_display()}"


ACTIONS = [("issue", "下发"), ("claim", "反馈已整改"), ("recheck", "复查"), ("dispute", "申诉"), ("accept", "同意申诉"),
           ("reject", "驳回申诉"), ("reopen", "重新打开"), ("close", "办结"), ("overdue", "逾期")]

APPEND_ONLY = "整改记录只能追加，不能修改或删除"


class ItemEventQuerySet(models.QuerySet):
    """Refuses every change of stored events (update, delete, bulk_update goes through update)."""

    def update(self, **kwargs):
        raise PermissionDenied(APPEND_ONLY)

    def delete(self):
        raise PermissionDenied(APPEND_ONLY)

    def bulk_update(self, objs, fields, batch_size=None):
        raise PermissionDenied(APPEND_ONLY)

    def update_or_create(self, *args, **kwargs):
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

    objects = ItemEventQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "整改记录"
        ordering = ["at", "id"]
        base_manager_name = "objects"

    def __str__(self):
        return f"{self.item_id} {self.get_action_display()} {self.from_state}→{self.to_state}"

    def save(self, *args, **kwargs):
        if not self._state.adding or (self.pk is not None and type(self).objects.filter(pk=self.pk).exists()):
            raise PermissionDenied(APPEND_ONLY)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied(APPEND_ONLY)
