"""The registry in the admin (editable; every change is in the admin log), and the admin log itself (read-only)."""

from django.contrib import admin
from django.contrib.admin.models import LogEntry

from ..readonly import ReadOnly
from .models import Account, Column, Leader, Unit, Website, WorkdayOverride


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("name",)

    def get_deleted_objects(self, objs, request):
        """A unit that findings name as responsible is kept: deleting it would rewrite those findings."""
        from ..rounds.models import Finding

        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        for unit in objs:
            n = Finding.objects.filter(responsible_unit=unit).count()
            if n:
                protected.append(f"{unit}：{n} 条检查发现的问题以其为责任单位")
        return deleted, counts, perms, protected


class ColumnInline(admin.TabularInline):
    model = Column
    extra = 0
    fields = ("name", "url", "category", "responsible_unit", "window_override", "level")
    autocomplete_fields = ("responsible_unit",)


@admin.register(Website)
class WebsiteAdmin(admin.ModelAdmin):
    list_display = ("name", "home_url", "site_code", "owner", "is_portal")
    list_filter = ("is_portal", "owner__kind")
    search_fields = ("name", "home_url", "site_code")
    autocomplete_fields = ("owner",)
    inlines = [ColumnInline]


@admin.register(Column)
class ColumnAdmin(admin.ModelAdmin):
    list_display = ("name", "site", "category", "responsible_unit", "window_override", "level")
    list_filter = ("category", "site")
    search_fields = ("name", "url")
    autocomplete_fields = ("site", "responsible_unit")


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "platform", "owner", "filed")
    list_filter = ("platform", "filed")
    search_fields = ("name",)
    autocomplete_fields = ("owner",)


@admin.register(Leader)
class LeaderAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "unit", "start", "end")
    search_fields = ("name", "title")
    autocomplete_fields = ("unit",)


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnly, admin.ModelAdmin):
    """Who changed what in the admin, when: an audit trail, never edited or deleted (and, as it cannot be deleted
    here, the admin refuses to delete a user whose entries would go with it)."""

    list_display = ("action_time", "user", "content_type", "object_repr", "action_flag", "change_message")
    list_filter = ("action_flag", "content_type")
    search_fields = ("object_repr", "change_message", "user__username")
    date_hierarchy = "action_time"

