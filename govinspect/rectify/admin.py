"""Rectification items and their trail in the admin: records, shown read-only (no add, change or delete)."""

from django.contrib import admin

from ..readonly import ReadOnly
from .models import Attachment, Issuance, Item, ItemEvent, Reminder


class ItemEventInline(ReadOnly, admin.TabularInline):
    model = ItemEvent
    extra = 0
    can_delete = False
    fields = ("at", "actor", "action", "from_state", "to_state", "note", "evidence")
    readonly_fields = fields


@admin.register(Item)
class ItemAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("id", "rule", "unit", "state", "deadline", "round_issued", "closed_at")
    list_filter = ("state", "rule")
    search_fields = ("fingerprint", "unit__name")
    inlines = [ItemEventInline]


@admin.register(ItemEvent)
class ItemEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("at", "item", "actor", "action", "from_state", "to_state")
    list_filter = ("action", "to_state")
    search_fields = ("actor", "note")


@admin.register(Attachment)
class AttachmentAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("at", "item", "uploaded_by", "name", "content_type", "size")
    search_fields = ("name", "uploaded_by", "sha256")


@admin.register(Reminder)
class ReminderAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("at", "item", "kind", "channel", "to", "ok")
    list_filter = ("kind", "channel", "ok")


@admin.register(Issuance)
class IssuanceAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("round", "issued_on", "issued_by", "rectify_days", "items_created", "issued_at")
