from django.contrib import admin

from .models import Probe


@admin.register(Probe)
class ProbeAdmin(admin.ModelAdmin):
    list_display = ("url", "website", "at", "ok", "status", "elapsed_ms", "error")
    list_filter = ("ok", "website")
    date_hierarchy = "at"
