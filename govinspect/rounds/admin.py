from django.contrib import admin

from .models import ColumnCheck, Finding, Round, RoundSite


class RoundSiteInline(admin.TabularInline):
    model = RoundSite
    extra = 0
    fields = ("website", "status", "verdict", "pages_fetched", "home_newest", "reason")
    readonly_fields = fields
    can_delete = False


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ("name", "as_of", "status", "created_at", "finished_at")
    list_filter = ("status",)
    inlines = [RoundSiteInline]


@admin.register(RoundSite)
class RoundSiteAdmin(admin.ModelAdmin):
    list_display = ("website", "round", "status", "verdict", "pages_fetched", "home_newest")
    list_filter = ("round", "status", "verdict")


@admin.register(ColumnCheck)
class ColumnCheckAdmin(admin.ModelAdmin):
    list_display = ("name", "round_site", "category", "status", "newest_date", "item_count")
    list_filter = ("status", "category", "round_site__round")


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("rule", "round_site", "column_name", "detail", "responsible_unit")
    list_filter = ("rule", "round")
    search_fields = ("detail", "url")
