from django.contrib import admin

from .models import ColumnCheck, Finding, Ignore, Round, RoundSite


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
    list_display = ("rule", "round_site", "column_name", "detail", "responsible_unit", "ignored_by")
    list_filter = ("rule", "round", ("ignored_by", admin.EmptyFieldListFilter))
    search_fields = ("detail", "url")


@admin.register(Ignore)
class IgnoreAdmin(admin.ModelAdmin):
    """Audited: the operator is the logged-in user, nothing is deleted, revoking is recorded."""

    list_display = ("rule", "scope", "website", "text", "url", "reason", "created_by", "created_at", "revoked_at")
    list_filter = ("rule", "scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("text", "url", "reason")
    fields = ("rule", "scope", "website", "url", "text", "reason", "source_finding", "created_by", "created_at",
              "revoked_by", "revoked_at")
    readonly_fields = ("created_by", "created_at", "revoked_by", "revoked_at")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # a recorded decision is not edited; it is revoked and made anew
            return [f for f in self.fields]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        from .ignores import apply_ignores

        if not change:
            obj.created_by = request.user.get_username()
        super().save_model(request, obj, form, change)
        for rs in RoundSite.objects.filter(website=obj.website):
            apply_ignores(rs)

    @admin.action(description="撤销所选忽略（记录撤销人和时间）")
    def revoke(self, request, queryset):
        from .ignores import revoke_ignore

        for ig in queryset:
            revoke_ignore(ig, request.user.get_username())
