"""Rectification items and their trail in the admin: records, shown read-only (no add, change or delete)."""

from django.contrib import admin

from ..readonly import ReadOnly
from .models import Item, ItemEvent


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
