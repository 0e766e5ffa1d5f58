"""Imported letters (领导信箱/网民留言), 12345 tickets and simulated test letters, with their import batches."""

from django.db import models

CHANNELS = [("mailbox", "领导信箱/网民留言"), ("hotline", "12345热线工单"), ("simulated", "模拟测评信件")]


class ImportBatch(models.Model):
    channel = models.CharField("渠道", max_length=10, choices=CHANNELS)
    file_name = models.CharField("文件", max_length=300)
    imported_at = models.DateTimeField("导入时间", auto_now_add=True)
    rows_ok = models.PositiveIntegerField("导入行数", default=0)
    rows_bad = models.PositiveIntegerField("错误行数", default=0)
    errors = models.JSONField("错误行（行号、列、原因）", default=list, blank=True)
    warnings = models.JSONField("提示", default=list, blank=True)
    mapping = models.JSONField("列对应关系", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导入批次"
        ordering = ["-imported_at"]

    def __str__(self):
        return f"{self.get_channel_display()} {self.file_name}（{self.rows_ok}行）"


class Letter(models.Model):
    batch = models.ForeignKey(ImportBatch, verbose_name="导入批次", on_delete=models.CASCADE, related_name="letters")
    channel = models.CharField("渠道", max_length=10, choices=CHANNELS, db_index=True)
    ref = models.CharField("编号", max_length=100, blank=True, db_index=True)
    unit = models.CharField("承办单位", max_length=100, blank=True, db_index=True)
    type = models.CharField("类型", max_length=10)
    title = models.CharField("标题", max_length=500, blank=True)
    content = models.TextField("内容", blank=True)
    received = models.DateTimeField("收到时间", db_index=True)
    replied = models.DateTimeField("回复/办结时间", null=True, blank=True)
    status = models.CharField("状态", max_length=50, blank=True)
    source_row = models.PositiveIntegerField("文件行号")

    class Meta:
        verbose_name = verbose_name_plural = "信件与工单"
        ordering = ["received"]
        constraints = [models.UniqueConstraint(fields=["channel", "ref"], condition=~models.Q(ref=""), name="letter_unique_ref")]

    def __str__(self):
        return f"{self.ref or self.pk} {self.title[:30]}"
