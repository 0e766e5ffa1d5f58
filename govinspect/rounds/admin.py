"""Round results in the admin: read-only records.

What a round found (sites, columns, accounts, findings with their evidence, re-check results, the round's own
lifecycle) is evidence: it is shown, never added, changed or deleted here, and a round cannot be deleted (that
would delete its findings). What the admin does allow is audited in Django's admin log (LogEntry): the
bulletin fields of a round (name, region, office, 主送, 文号) and revoking an ignore. The log itself is
read-only too (registry/admin.py).
"""

from django.contrib import admin

from ..readonly import ReadOnly

from .models import ColumnCheck, Finding, Ignore, RecheckResult, Round, RoundAccount, RoundEvent, RoundJob, RoundSite


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    """Shown, never added, changed or deleted (the change page is a read-only view; POSTs are refused)."""


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


class RoundSiteInline(ReadOnlyInline):
    model = RoundSite
    fields = ("website", "status", "verdict", "pages_fetched", "home_newest", "reason")
    readonly_fields = fields


class RoundEventInline(ReadOnlyInline):
    model = RoundEvent
    fields = ("at", "kind", "detail")
    readonly_fields = fields
    show_change_link = False


class RoundJobInline(ReadOnlyInline):
    model = RoundJob
    fields = ("kind", "label", "state", "attempts", "started_at", "finished_at", "reason")
    readonly_fields = fields


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    """Only the bulletin's header fields can be edited (audited); the run itself is a record."""

    list_display = ("name", "as_of", "status", "created_at", "finished_at")
    list_filter = ("status",)
    inlines = [RoundEventInline, RoundJobInline, RoundSiteInline]
    editable = ("name", "region", "office", "recipients", "doc_number")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Round._meta.concrete_fields if f.name not in self.editable and f.name != "id"]

    def has_add_permission(self, request):
        return False  # rounds are run by `govinspect round`

    def has_delete_permission(self, request, obj=None):
        return False  # deleting a round would delete its findings and evidence


@admin.register(RoundEvent)
class RoundEventAdmin(ReadOnlyAdmin):
    list_display = ("round", "at", "kind", "detail")
    list_filter = ("kind",)


@admin.register(RoundJob)
class RoundJobAdmin(ReadOnlyAdmin):
    list_display = ("round", "kind", "label", "state", "attempts", "heartbeat", "started_at", "finished_at")
    list_filter = ("round", "kind", "state")


@admin.register(RoundSite)
class RoundSiteAdmin(ReadOnlyAdmin):
    list_display = ("website", "round", "status", "verdict", "pages_fetched", "home_newest")
    list_filter = ("round", "status", "verdict")


@admin.register(ColumnCheck)
class ColumnCheckAdmin(ReadOnlyAdmin):
    list_display = ("name", "round_site", "category", "status", "newest_date", "item_count")
    list_filter = ("status", "category", "round_site__round")


@admin.register(RoundAccount)
class RoundAccountAdmin(ReadOnlyAdmin):
    list_display = ("account", "round", "status", "verdict", "last_post", "posts_in_window", "score")
    list_filter = ("round", "status", "verdict")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("rule", "round_site", "column_name", "detail", "severity", "responsible_unit", "ignored_by")
    list_filter = ("rule", "round", "severity", "veto", ("ignored_by", admin.EmptyFieldListFilter))
    search_fields = ("detail", "url", "file", "fingerprint", "match")


@admin.register(RecheckResult)
class RecheckResultAdmin(ReadOnlyAdmin):
    list_display = ("finding", "round", "state", "reason")
    list_filter = ("round", "state")


@admin.register(Ignore)
class IgnoreAdmin(ReadOnlyAdmin):
    """A recorded decision: made with `govinspect ignore` (which shows what it hides first), never edited or
    deleted; revoking records who and when, and is written to the admin log."""

    list_display = ("rule", "scope", "website", "text", "url", "reason", "created_by", "created_at", "revoked_at")
    list_filter = ("rule", "scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("text", "url", "reason")
    fields = ("rule", "scope", "website", "url", "text", "reason", "source_finding", "created_by", "created_at",
              "revoked_by", "revoked_at")
    actions = ["revoke"]

    @admin.action(description="撤销所选忽略（记录撤销人和时间）", permissions=["view"])
    def revoke(self, request, queryset):
        from .ignores import revoke_ignore

        n = 0
        for ig in queryset.filter(revoked_at__isnull=True):
            revoke_ignore(ig, request.user.get_username())
            self.log_change(request, ig, [{"changed": {"fields": ["撤销人", "撤销时间"]}}])
            n += 1
        self.message_user(request, f"已撤销 {n} 条忽略")
