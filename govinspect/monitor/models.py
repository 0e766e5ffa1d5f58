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


class ScheduleRun(models.Model):
    """One run of a schedule of govinspect/schedules.py (availability probes, the daily incremental crawl, calendar
    rounds, rectification housekeeping), by the local runner (embedded mode) or a Celery worker (cluster mode): when the
    next one is due, and what each did."""

    name = models.CharField("计划任务", max_length=50, db_index=True)
    started_at = models.DateTimeField("开始时间", db_index=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    ok = models.BooleanField("成功", null=True, help_text="空为仍在运行（或运行它的进程已结束）")
    detail = models.TextField("结果", blank=True)
    host = models.CharField("运行于", max_length=200, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "计划任务运行记录"
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"{self.name} {self.started_at:%Y-%m-%d %H:%M}"
