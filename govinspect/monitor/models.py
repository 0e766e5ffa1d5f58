"""Availability probes (WV-2): every probe of every home page, and of the reference targets."""

from django.db import models

from ..registry.models import Website


class Probe(models.Model):
    website = models.ForeignKey(Website, verbose_name="网站", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="probes", help_text="为空表示参照目标（用于判断监测网络本身是否正常）")
    url = models.URLField("地址", max_length=500)
    at = models.DateTimeField("探测时间", db_index=True)
    ok = models.BooleanField("可访问")
    status = models.PositiveSmallIntegerField("HTTP 状态", null=True, blank=True)
    error = models.CharField("错误", max_length=300, blank=True)
    elapsed_ms = models.PositiveIntegerField("响应时间（毫秒）")

    class Meta:
        verbose_name = verbose_name_plural = "可用性探测"
        ordering = ["-at"]
        indexes = [models.Index(fields=["website", "at"])]

    def __str__(self):
        return f"{self.url} {self.at:%Y-%m-%d %H:%M} {'正常' if self.ok else '失败'}"
