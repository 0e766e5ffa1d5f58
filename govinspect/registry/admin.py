from django.contrib import admin

from .models import Account, Column, Leader, Unit, Website, WorkdayOverride


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "parent")
    list_filter = ("kind",)
    search_fields = ("name",)


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
