from django.contrib import admin

from .models import Probe, ScheduleRun


@admin.register(Probe)
class ProbeAdmin(admin.ModelAdmin):
    list_display = ("url", "website", "at", "ok", "status", "elapsed_ms", "error")
    list_filter = ("ok", "website")
    date_hierarchy = "at"


@admin.register(ScheduleRun)
class ScheduleRunAdmin(admin.ModelAdmin):
    list_display = ("name", "started_at", "finished_at", "ok", "host", "detail")
    list_filter = ("name", "ok")
    date_hierarchy = "started_at"
    readonly_fields = ("name", "started_at", "finished_at", "ok", "detail", "host")
